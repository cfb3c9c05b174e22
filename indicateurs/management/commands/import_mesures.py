"""python manage.py import_mesures FICHIER --diagnostic SLUG [--dry-run] [--utilisateur NOM]"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from diagnostics.importers.formats import UnreadableFile, check_size
from diagnostics.models import Diagnostic
from indicateurs.importers import import_measures


class Command(BaseCommand):
    help = (
        "Importe les valeurs des indicateurs d'un diagnostic depuis un tableau (.xlsx, .csv, "
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
        target = Diagnostic.objects.filter(slug=diagnostic).first()
        if target is None:
            raise CommandError(f"Aucun diagnostic ne porte l'identifiant court « {diagnostic} ».")
        user = None
        if utilisateur:
            user = get_user_model().objects.filter(username=utilisateur).first()
            if user is None:
                raise CommandError(f"Aucun compte ne porte le nom « {utilisateur} ».")
        path = Path(fichier)
        content = read_file(path)
        report = import_measures(target, path.name, content, user=user, dry_run=dry_run)
        if not report.ok:
            raise CommandError("\n".join(report.as_lines()))
        for line in report.as_lines():
            self.stdout.write(line)


def read_file(path):
    """The bytes of the file, its size checked (IMPORT_MESURES_MAX_FILE_SIZE) before reading."""
    try:
        if not path.is_file():
            raise CommandError(
                f"Fichier introuvable : {path}"
                if not path.exists()
                else f"{path} n'est pas un fichier."
            )
        check_size(path.stat().st_size, settings.IMPORT_MESURES_MAX_FILE_SIZE)
        return path.read_bytes()
    except UnreadableFile as error:
        raise CommandError(error.message) from error
    except OSError as error:
        raise CommandError(f"Lecture impossible de {path} : {error.strerror}.") from error
