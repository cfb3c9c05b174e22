"""The demonstration's annual report: Montluçon's 2025 report, begun (brouillon), with
two sections written, so that `make run` shows the report, its generated parts and its
downloads. Refused when DEBUG is off. Safe to run again: a report already there is left
as it is."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from diagnostics.models import Contrat
from rapports import etats
from rapports.models import Rapport

ANNEE = 2025
TEXTES = {
    "orientations": (
        "## Les orientations du contrat\n\n"
        "Le contrat de ville « Engagements Quartiers 2030 » de Montluçon Communauté porte "
        "sur trois quartiers prioritaires : Rive Gauche, Fontbouillant et Bien-Assis. "
        "Ses trois piliers sont la **cohésion sociale**, le **développement économique et "
        "l'emploi**, le **cadre de vie et le renouvellement urbain**.\n\n"
        "- accompagner les familles et la réussite éducative ;\n"
        "- lever les freins à l'emploi (mobilité, langue) ;\n"
        "- améliorer la tranquillité et le cadre de vie."
    ),
    "perspectives": (
        "Texte de démonstration : les perspectives seront discutées avec les conseils "
        "citoyens avant la révision à mi-parcours de 2027."
    ),
}


class Command(BaseCommand):
    help = "Crée le rapport annuel de démonstration (Montluçon, 2025), en brouillon."

    def add_arguments(self, parser):
        parser.add_argument("--contrat", default="montlucon")

    def handle(self, *args, contrat, **options):
        if not settings.DEBUG:
            raise CommandError("Le rapport de démonstration est réservé au développement.")
        contrat = Contrat.objects.filter(slug=contrat).first()
        if contrat is None:
            raise CommandError("Ce contrat n'existe pas : lancez d'abord « manage.py demo ».")
        if Rapport.objects.filter(contrat=contrat, annee=ANNEE).exists():
            return
        auteur = get_user_model().objects.filter(username="equipe").first()
        with transaction.atomic():
            rapport = etats.commencer(contrat, ANNEE, auteur)
            for section in rapport.sections.filter(cle__in=TEXTES):
                etats.enregistrer_section(section, TEXTES[section.cle], section.revision, auteur)
        self.stdout.write(f"Rapport annuel {ANNEE} de démonstration commencé (brouillon).")
