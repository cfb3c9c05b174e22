"""python manage.py restore_diagnostic FICHIER"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from diagnostics.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restaure un diagnostic sauvegardé par backup_diagnostic, avec ses numéros, textes, "
        "dates et historique, dans une base qui ne le contient pas (une base vide, ou la même "
        "après sa suppression). Tout ou rien : à la moindre erreur, rien n'est écrit. Le "
        "fichier est lu ligne à ligne (les sauvegardes au format 1, un seul objet JSON, sont "
        "encore lues)."
    )

    def add_arguments(self, parser):
        parser.add_argument("fichier", help="la sauvegarde (.jsonl, ou .json au format 1)")

    def handle(self, *args, fichier, **options):
        path = Path(fichier)
        try:
            with path.open(encoding="utf-8") as lines:
                report = restore(lines)
        except FileNotFoundError as error:
            raise CommandError(f"Fichier introuvable : {path}") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{path} n'est pas un fichier texte UTF-8.") from error
        except OSError as error:
            raise CommandError(f"Lecture impossible de {path} : {error.strerror}.") from error
        except BackupError as error:
            raise CommandError(error.message) from error
        for line in report.as_lines():
            self.stdout.write(line)
