"""python manage.py import_diagnostic FICHIER --diagnostic SLUG [--dry-run] …"""

from pathlib import Path

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.base import BaseCommand, CommandError

from diagnostics.history.actions import action
from diagnostics.imports import import_source_table
from diagnostics.imports.report import database_failure, read_command_file, write_report
from diagnostics.models import Diagnostic

# The current generation of contrats de ville ("Quartiers 2030") runs from 2024 to 2030.
DEFAULT_YEARS = (2024, 2030)
CREATION_OPTIONS = ("titre", "territoire", "annee_debut", "annee_fin")


class Command(BaseCommand):
    help = (
        "Importe un tableau de diagnostic (.xlsx, .ods, .csv, .tsv ou .txt : colonnes Pilier, "
        "Thème, Sous-thème, Difficultés prégnantes, Indicateur) dans un diagnostic, créé "
        "s'il n'existe pas encore. L'import ne fait qu'ajouter : ce qui existe déjà reste "
        "tel quel, et réimporter le même fichier ne change rien. Tout ou rien : à la "
        "moindre erreur, rien n'est enregistré et la commande se termine en échec."
    )

    def add_arguments(self, parser):
        parser.add_argument("fichier", help="le tableau à importer")
        parser.add_argument(
            "--diagnostic",
            required=True,
            metavar="SLUG",
            help="identifiant court du diagnostic ; il est créé s'il n'existe pas",
        )
        parser.add_argument(
            "--title",
            "--titre",
            dest="titre",
            help="titre du diagnostic créé (par défaut : « Diagnostic SLUG »)",
        )
        parser.add_argument(
            "--territoire",
            help="commune ou EPCI du diagnostic créé (obligatoire pour créer un diagnostic)",
        )
        parser.add_argument(
            "--annee-debut",
            type=int,
            help=f"première année du diagnostic créé (par défaut : {DEFAULT_YEARS[0]})",
        )
        parser.add_argument(
            "--annee-fin",
            type=int,
            help=f"dernière année du diagnostic créé (par défaut : {DEFAULT_YEARS[1]})",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="simule l'import et affiche le compte rendu sans rien enregistrer",
        )

    def handle(self, *args, fichier, diagnostic, dry_run, **options):
        # One action in the history (`diagnostics.history.actions`), as from the site.
        with database_failure(), action():
            self.import_file(fichier, diagnostic, dry_run, options)

    def import_file(self, fichier, diagnostic, dry_run, options):
        content = read_command_file(fichier)
        existing = Diagnostic.objects.filter(slug=diagnostic).first()
        if existing is None:
            target = new_diagnostic(diagnostic, options)
        else:
            target = existing
            ignored = [name for name in CREATION_OPTIONS if options[name] is not None]
            if ignored:
                names = ", ".join("--" + name.replace("_", "-") for name in ignored)
                self.stdout.write(
                    f"Le diagnostic « {diagnostic} » existe déjà ; "
                    f"options de création ignorées : {names}."
                )
        report = import_source_table(target, Path(fichier).name, content, dry_run=dry_run)
        if report.ok and existing is None and report.import_record is not None:
            self.stdout.write(f"Diagnostic « {target.titre} » ({target.slug}) créé.")
        write_report(self, report)


def new_diagnostic(slug, options):
    """An unsaved, validated diagnostic: the import saves it with its first rows."""
    if options["territoire"] is None:
        raise CommandError(
            f"Le diagnostic « {slug} » n'existe pas encore : précisez son territoire "
            "(--territoire) pour le créer."
        )
    start, end = DEFAULT_YEARS
    diagnostic = Diagnostic(
        slug=slug,
        titre=options["titre"] or f"Diagnostic {slug}",
        territoire=options["territoire"],
        annee_debut=start if options["annee_debut"] is None else options["annee_debut"],
        annee_fin=end if options["annee_fin"] is None else options["annee_fin"],
    )
    try:
        diagnostic.full_clean()
    except ValidationError as error:
        problems = [
            message if name == NON_FIELD_ERRORS else f"{_verbose_name(name)} : {message}"
            for name, messages in error.message_dict.items()
            for message in messages
        ]
        raise CommandError("Impossible de créer le diagnostic : " + " ".join(problems)) from error
    return diagnostic


def _verbose_name(name):
    return str(Diagnostic._meta.get_field(name).verbose_name)
