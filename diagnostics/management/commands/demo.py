"""Prepare the demonstration site: Montluçon's QPV, its diagnostic and one account per role.

Safe to run again: nothing is duplicated (the import is idempotent, accounts are
created only when missing). Refused when DEBUG is off, since the demonstration
accounts have published passwords.
"""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from comptes.roles import Role
from diagnostics.imports import import_source_table
from diagnostics.models import Diagnostic, Quartier

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
SOURCE_TABLE = FIXTURES / "diagnostic-montlucon.tsv"
QUARTIERS = FIXTURES / "quartiers-montlucon.json"

DIAGNOSTIC = {
    "slug": "montlucon-2024",
    "titre": "Contrat de ville de Montluçon — diagnostic 2024",
    "territoire": "Montluçon Communauté",
    "annee_debut": 2024,
    "annee_fin": 2030,
}

DEMO_ACCOUNTS = [
    # (username, password, role, is_staff)
    ("admin", "admin-demo-2024", Role.ADMINISTRATEUR, True),
    ("equipe", "equipe-demo-2024", Role.EQUIPE_VILLE, True),
    ("partenaire", "partenaire-demo-2024", Role.PARTENAIRE, False),
]


class Command(BaseCommand):
    help = (
        "Prépare la démonstration : quartiers prioritaires de Montluçon, import du diagnostic "
        "depuis fixtures/ et comptes de démonstration (un par rôle)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Autorise la commande même lorsque DEBUG est désactivé (déconseillé).",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Les comptes de démonstration ont des mots de passe publics : "
                "cette commande est réservée au développement (DEBUG activé)."
            )
        with transaction.atomic():
            call_command("loaddata", str(QUARTIERS), verbosity=0)
            diagnostic = self.import_diagnostic()
            accounts = self.create_accounts()
        self.stdout.write(self.style.SUCCESS(f"Diagnostic prêt : {diagnostic}"))
        if settings.DEBUG:
            # Invented values so that the charts are not empty, labelled as such.
            call_command("demo_mesures", diagnostic=diagnostic.slug, stdout=self.stdout)
        self.stdout.write("\nComptes de démonstration (identifiant / mot de passe — rôle) :")
        for username, password, role, _ in accounts:
            self.stdout.write(f"  {username} / {password} — {role}")
        self.stdout.write("\nSite : http://127.0.0.1:8000/  —  administration : /admin/")

    def import_diagnostic(self):
        diagnostic = Diagnostic.objects.filter(slug=DIAGNOSTIC["slug"]).first()
        if diagnostic is None:
            diagnostic = Diagnostic(**DIAGNOSTIC, statut=Diagnostic.Statut.PUBLIE)
        report = import_source_table(
            diagnostic, SOURCE_TABLE.name, SOURCE_TABLE.read_bytes(), dry_run=False
        )
        for line in report.as_lines():
            self.stdout.write(f"  {line}")
        if not report.ok:
            raise CommandError("L'import du diagnostic de démonstration a échoué.")
        diagnostic = Diagnostic.objects.get(slug=DIAGNOSTIC["slug"])
        codes = [entry["fields"]["code"] for entry in json.loads(QUARTIERS.read_text())]
        diagnostic.quartiers.add(*Quartier.objects.filter(code__in=codes))
        return diagnostic

    def create_accounts(self):
        User = get_user_model()
        for username, password, role, is_staff in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"is_staff": is_staff, "email": f"{username}@example.org"},
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role))
        return DEMO_ACCOUNTS
