"""python manage.py backup_diagnostic SLUG [--output FICHIER]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from diagnostics.backup import write_backup
from diagnostics.models import Diagnostic


class Command(BaseCommand):
    help = (
        "Sauvegarde tout un diagnostic dans un fichier (JSON Lines, écrit au fil de l'eau) : "
        "sa structure (piliers, thèmes, sous-thèmes), ses difficultés et indicateurs, leur "
        "provenance (imports, cellules sources), les mesures des indicateurs et tout "
        "l'historique des modifications. La commande restore_diagnostic le restaure dans une "
        "base qui ne le contient pas."
    )

    def add_arguments(self, parser):
        parser.add_argument("diagnostic", metavar="SLUG", help="identifiant court du diagnostic")
        parser.add_argument(
            "--output",
            "-o",
            metavar="FICHIER",
            help="fichier à écrire (par défaut : sauvegarde-SLUG-AAAA-MM-JJ.jsonl) ; - pour la "
            "sortie standard",
        )

    def handle(self, *args, diagnostic, output, **options):
        found = Diagnostic.objects.filter(slug=diagnostic).first()
        if found is None:
            known = ", ".join(Diagnostic.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(
                f"Aucun diagnostic « {diagnostic} ». Diagnostics existants : {known or 'aucun'}."
            )
        if output == "-":
            write_backup(found, self.stdout)
            return
        path = Path(output or f"sauvegarde-{found.slug}-{timezone.localdate().isoformat()}.jsonl")
        partial = path.with_name(path.name + ".partiel")
        try:
            with partial.open("w", encoding="utf-8") as out:
                summary = write_backup(found, out)
            partial.replace(path)  # never a cut file under the final name
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise CommandError(f"Écriture impossible de {path} : {error.strerror}.") from error
        self.stdout.write(
            f"Diagnostic « {found.titre} » sauvegardé dans {path} "
            f"({summary['objets']} objets, {summary['comptes']} comptes cités, "
            f"{summary['quartiers']} quartiers)."
        )
