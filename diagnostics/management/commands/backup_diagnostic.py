"""python manage.py backup_diagnostic SLUG [--output FICHIER]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from diagnostics.backup import backup, dumps
from diagnostics.models import Diagnostic


class Command(BaseCommand):
    help = (
        "Sauvegarde tout un diagnostic dans un fichier JSON : sa structure (piliers, thèmes, "
        "sous-thèmes), ses difficultés et indicateurs, leur provenance (imports, cellules "
        "sources), les mesures des indicateurs et tout l'historique des modifications. "
        "La commande restore_diagnostic le restaure dans une base qui ne le contient pas."
    )

    def add_arguments(self, parser):
        parser.add_argument("diagnostic", metavar="SLUG", help="identifiant court du diagnostic")
        parser.add_argument(
            "--output",
            "-o",
            metavar="FICHIER",
            help="fichier à écrire (par défaut : sauvegarde-SLUG-AAAA-MM-JJ.json) ; - pour la "
            "sortie standard",
        )

    def handle(self, *args, diagnostic, output, **options):
        found = Diagnostic.objects.filter(slug=diagnostic).first()
        if found is None:
            known = ", ".join(Diagnostic.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(
                f"Aucun diagnostic « {diagnostic} ». Diagnostics existants : {known or 'aucun'}."
            )
        document = backup(found)
        text = dumps(document)
        if output == "-":
            self.stdout.write(text)
            return
        path = Path(output or f"sauvegarde-{found.slug}-{document['date'][:10]}.json")
        try:
            path.write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Écriture impossible de {path} : {error.strerror}.") from error
        self.stdout.write(
            f"Diagnostic « {found.titre} » sauvegardé dans {path} "
            f"({len(document['objets'])} objets, {len(document['comptes'])} comptes cités, "
            f"{len(document['quartiers'])} quartiers)."
        )
