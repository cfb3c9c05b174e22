"""Prepare the demonstration site: Montluçon's QPV, its contrat de ville and the first
edition of its diagnostic, and one account per role.

Safe to run again, after any edit made in the site: nothing is duplicated. The contract
and its edition are created only when missing; the table of fixtures/ is imported again
into the edition, which reconciles it with what was edited since (`diagnostics.imports.
reconcile`: what was reworded, split, merged, moved or deleted keeps the site's version,
nothing is created again); a frozen edition is left alone; accounts are created only when
missing. Refused when DEBUG is off, since the demonstration accounts have published
passwords.
"""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from comptes.models import Organisation, Profil
from comptes.roles import Role
from diagnostics.imports import import_source_table
from diagnostics.membres import add_member
from diagnostics.models import Contrat, Diagnostic, Quartier

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
SOURCE_TABLE = FIXTURES / "diagnostic-montlucon.tsv"
QUARTIERS = FIXTURES / "quartiers-montlucon.json"

CONTRAT = {
    "nom": "Contrat de ville de Montluçon Communauté",
    "slug": "montlucon",
    "territoire": "Montluçon Communauté",
    "annee_debut": 2024,
    "annee_fin": 2030,
    "signataires": (
        "Montluçon Communauté, Ville de Montluçon, Préfecture de l'Allier, Conseil "
        "départemental de l'Allier, Région Auvergne-Rhône-Alpes, Caisse d'allocations "
        "familiales de l'Allier, Agence régionale de santé Auvergne-Rhône-Alpes, France "
        "Travail, Direction des services départementaux de l'Éducation nationale de "
        "l'Allier, Banque des Territoires, bailleurs sociaux du territoire"
    ),
}

EDITION = "Diagnostic initial — 2024"

# The first edition keeps the slug of the diagnostic of earlier versions (its URLs).
DIAGNOSTIC = {
    "slug": "montlucon-2024",
    "titre": "Contrat de ville de Montluçon — diagnostic 2024",
    "territoire": "Montluçon Communauté",
    "annee_debut": 2024,
    "annee_fin": 2030,
}

# The organisations of the demo accounts: (name, nature), without a SIRET.
DEMO_ORGANISATIONS = {
    "epci": ("Montluçon Communauté", Organisation.Nature.EPCI),
    "prefecture": ("Préfecture de l'Allier", Organisation.Nature.PREFECTURE),
}
DEMO_ACCOUNTS = [
    # (username, password, role on the demo contract, organisation, national administrator)
    ("admin", "admin-demo-2024", Role.ADMINISTRATEUR, "epci", False),
    ("equipe", "equipe-demo-2024", Role.EQUIPE_VILLE, "epci", False),
    ("partenaire", "partenaire-demo-2024", Role.PARTENAIRE, "prefecture", False),
    ("national", "national-demo-2024", None, None, True),
]


class Command(BaseCommand):
    help = (
        "Prépare la démonstration : quartiers prioritaires de Montluçon, import du diagnostic "
        "depuis fixtures/ et comptes de démonstration (un par rôle)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--adresse",
            default="http://127.0.0.1:8000/",
            help="L'adresse du site, affichée à la fin (make run : celle de HOST et PORT).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Autorise la commande même lorsque DEBUG est désactivé (déconseillé).",
        )

    def handle(self, *args, force=False, adresse="http://127.0.0.1:8000/", **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Les comptes de démonstration ont des mots de passe publics : "
                "cette commande est réservée au développement (DEBUG activé)."
            )
        with transaction.atomic():
            codes = [entry["fields"]["code"] for entry in json.loads(QUARTIERS.read_text())]
            if Quartier.objects.filter(code__in=codes).count() < len(codes):
                # Only when some are missing: a quartier edited in the site stays as it is.
                call_command("loaddata", str(QUARTIERS), verbosity=0)
            diagnostic = self.import_diagnostic()
            accounts = self.create_accounts(diagnostic.contrat)
        self.stdout.write(self.style.SUCCESS(f"Diagnostic prêt : {diagnostic}"))
        if settings.DEBUG:
            # Invented values so that the charts are not empty, labelled as such.
            call_command("demo_mesures", diagnostic=diagnostic.slug, stdout=self.stdout)
            # The annual report of 2025, begun (rapports.management.commands.demo_rapport).
            call_command("demo_rapport", contrat=diagnostic.contrat.slug, stdout=self.stdout)
        self.stdout.write("\nComptes de démonstration (identifiant / mot de passe — rôle) :")
        for username, password, role, _, national in accounts:
            quoi = "administration nationale (/admin/)" if national else role
            self.stdout.write(f"  {username} / {password} — {quoi}")
        self.stdout.write(
            "Les administrateurs (admin, national) confirment leur connexion par un second "
            "facteur : une application d'authentification (TOTP), activée à la première "
            "connexion."
        )
        self.stdout.write(f"\nSite : {adresse}  —  administration : {adresse.rstrip('/')}/admin/")

    def import_diagnostic(self):
        diagnostic = Diagnostic.objects.filter(slug=DIAGNOSTIC["slug"]).first()
        if diagnostic is None:
            # A database of an earlier version holds the edition already, with the
            # contract its migration gave it: only a new one gets this contract.
            contrat = Contrat.objects.filter(slug=CONTRAT["slug"]).first()
            if contrat is None:
                contrat = Contrat(**CONTRAT)
                contrat._change_reason = "Démonstration"
                contrat.save()
            diagnostic = Diagnostic(
                **DIAGNOSTIC,
                contrat=contrat,
                nom_edition=EDITION,
                statut=Diagnostic.Statut.PUBLIE,
            )
        is_new = diagnostic.pk is None
        if diagnostic.est_figee:
            self.stdout.write(
                f"  L'édition « {diagnostic.nom_edition} » est figée : le tableau de "
                "démonstration n'y est pas importé de nouveau."
            )
        else:
            report = import_source_table(
                diagnostic, SOURCE_TABLE.name, SOURCE_TABLE.read_bytes(), dry_run=False
            )
            for line in report.as_lines():
                self.stdout.write(f"  {line}")
            if not report.ok:
                raise CommandError("L'import du diagnostic de démonstration a échoué.")
        diagnostic = Diagnostic.objects.get(slug=DIAGNOSTIC["slug"])
        if is_new:  # later, its quartiers are what the site made of them
            codes = [entry["fields"]["code"] for entry in json.loads(QUARTIERS.read_text())]
            diagnostic.quartiers.add(*Quartier.objects.filter(code__in=codes))
        return diagnostic

    def create_accounts(self, contrat):
        """The demo accounts, each in its organisation with its role on the contract; an
        account that exists keeps its password and gets its role back."""
        User = get_user_model()
        organisations = {}
        for key, (nom, nature) in DEMO_ORGANISATIONS.items():
            organisations[key], _ = Organisation.objects.get_or_create(
                nom=nom, siret="", defaults={"nature": nature}
            )
        for username, password, role, organisation, national in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "is_staff": national,
                    "is_superuser": national,
                    "email": f"{username}@example.org",
                },
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
                if organisation:
                    Profil.objects.filter(compte=user).update(
                        organisation=organisations[organisation]
                    )
            if role is not None:
                add_member(contrat, role=role, compte=user)
        return DEMO_ACCOUNTS
