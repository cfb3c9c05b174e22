"""python manage.py restore_diagnostic FICHIER"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from diagnostics.backup import BackupError, loads, restore


class Command(BaseCommand):
    help = (
        "Restaure un diagnostic sauvegardé par backup_diagnostic, avec ses numéros, textes, "
        "dates et historique, dans une base qui ne le contient pas (une base vide, ou la même "
        "après sa suppression). Tout ou rien : à la moindre erreur, rien n'est écrit."
    )

    def add_arguments(self, parser):
        parser.add_argument("fichier", help="la sauvegarde (.json)")

    def handle(self, *args, fichier, **options):
        path = Path(fichier)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as error:
            raise CommandError(f"Fichier introuvable : {path}") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{path} n'est pas un fichier texte UTF-8.") from error
        except OSError as error:
            raise CommandError(f"Lecture impossible de {path} : {error.strerror}.") from error
        try:
            report = restore(loads(text))
        except BackupError as error:
            raise CommandError(error.message) from error
        for line in report.as_lines():
            self.stdout.write(line)
