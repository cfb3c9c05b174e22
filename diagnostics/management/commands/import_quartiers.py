"""python manage.py import_quartiers FICHIER [--forcer]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from diagnostics.imports.report import read_command_file
from diagnostics.quartiers.referentiel import (
    GARDE_MINIMUM,
    ReferentielRefuse,
    import_referentiel,
    max_file_size,
)


class Command(BaseCommand):
    help = (
        "Charge le référentiel national des quartiers prioritaires (QPV) publié par l'ANCT : "
        "un GeoJSON en WGS 84 (propriétés code_qp, lib_qp, insee_com, et lib_com, insee_reg "
        "s'il les a), ou un CSV des mêmes colonnes, sans contours. Crée et met à jour les "
        "quartiers par leur code ; les quartiers absents du fichier restent tels quels. "
        "Réimporter le même fichier ne change rien. Tout ou rien : à la moindre erreur, rien "
        "n'est enregistré et la commande se termine en échec."
    )

    def add_arguments(self, parser):
        parser.add_argument("fichier", help="le fichier du référentiel (.geojson ou .csv)")
        parser.add_argument(
            "--forcer",
            action="store_true",
            help=f"charger un fichier qui décrit moins de la moitié des quartiers déjà connus "
            f"(quand il y en a au moins {GARDE_MINIMUM}) : un extrait, par exemple",
        )

    def handle(self, *args, **options):
        path = Path(options["fichier"])
        content = read_command_file(path, max_file_size())
        try:
            rapport = import_referentiel(path.name, content, forcer=options["forcer"])
        except ReferentielRefuse as refus:
            raise CommandError("\n".join(refus.messages)) from refus
        for line in rapport.lignes():
            self.stdout.write(line)
