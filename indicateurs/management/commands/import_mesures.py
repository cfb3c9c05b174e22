"""python manage.py import_mesures FICHIER --diagnostic SLUG [--dry-run] [--utilisateur NOM]"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from diagnostics.imports.report import database_failure, read_command_file, write_report
from diagnostics.models import Diagnostic
from indicateurs.imports import import_measures


class Command(BaseCommand):
    help = (
        "Importe les valeurs des indicateurs d'un diagnostic depuis un tableau (.xlsx, .ods, .csv, "
        ".tsv ou .txt), au format long (colonnes Indicateur, Quartier, Période, Valeur) ou "
        "large (une colonne par année ou par trimestre). Tout ou rien : à la moindre erreur, "
        "rien n'est enregistré et la commande se termine en échec ; réimporter le même "
        "fichier ne change rien."
    )

    def add_arguments(self, parser):
        parser.add_argument("fichier", help="le tableau des valeurs à importer")
        parser.add_argument(
            "--diagnostic",
            required=True,
            metavar="SLUG",
            help="identifiant court du diagnostic dont les indicateurs reçoivent les valeurs",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="simule l'import et affiche le compte rendu sans rien enregistrer",
        )
        parser.add_argument(
            "--utilisateur",
            metavar="NOM",
            help="nom du compte inscrit comme auteur de l'import dans l'historique",
        )

    def handle(self, *args, fichier, diagnostic, dry_run, utilisateur=None, **options):
        with database_failure():
            self.import_file(fichier, diagnostic, dry_run, utilisateur)

    def import_file(self, fichier, diagnostic, dry_run, utilisateur):
        target = Diagnostic.objects.filter(slug=diagnostic).first()
        if target is None:
            raise CommandError(f"Aucun diagnostic ne porte l'identifiant court « {diagnostic} ».")
        user = None
        if utilisateur:
            user = get_user_model().objects.filter(username=utilisateur).first()
            if user is None:
                raise CommandError(f"Aucun compte ne porte le nom « {utilisateur} ».")
        content = read_command_file(fichier, settings.IMPORT_MESURES_MAX_FILE_SIZE)
        report = import_measures(target, Path(fichier).name, content, user=user, dry_run=dry_run)
        write_report(self, report)
