"""Synthetic data at national scale, for the benchmarks (see bench/scale_data.py).

    python -m bench.generate_scale_data --scale 0.1   # 44 diagnostics, 160 quartiers
    python -m bench.generate_scale_data --retirer     # removes every synthetic row

A command of the benchmarks, not of the site: it runs on the site's settings
(DJANGO_SETTINGS_MODULE, contrat_ville.settings by default) and database (DATABASE_URL),
from the project's folder. Tests call it with `call_command(Command(), ...)`.

Refused when DEBUG is off, like `demo`: it writes test data. `--retirer` is allowed
everywhere: it removes only synthetic data.
"""

import argparse
import os
import sys

import django

if __name__ == "__main__":  # run as a script: Django first, then what reads its models
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contrat_ville.settings")
    django.setup()

from django.conf import settings  # noqa: E402
from django.core.management.base import BaseCommand, CommandError  # noqa: E402
from django.db import DatabaseError  # noqa: E402

from bench import scale_data  # noqa: E402


def _number(value):
    """12345 -> "12 345" (French thousands separator)."""
    return f"{round(value):,}".replace(",", "\u202f")


def _count(value, singular, plural=None):
    """The number and its noun, agreed in French: 1 quartier, 0 créé, 12 345 mesures."""
    return f"{_number(value)} {singular if value < 2 else plural or singular + 's'}"


def _decimal(value, digits=1):
    """0.25 -> "0,25"."""
    return f"{value:.{digits}f}".replace(".", ",")


def _scale(text):
    """An échelle as typed: 0.1 or 0,1."""
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"échelle invalide : « {text} »") from None


class Command(BaseCommand):
    help = (
        "Remplit la base de données synthétiques à l'échelle nationale (435 diagnostics, "
        "1 584 quartiers et environ deux millions de mesures à l'échelle 1), clairement "
        "signalées comme telles ; --retirer les supprime."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            "--echelle",
            dest="scale",
            type=_scale,
            default=None,
            help=(
                "Échelle (1 : 435 diagnostics et 1 584 quartiers ; 0,1 : 44 diagnostics). "
                "Complète ce qui existe déjà et retire les diagnostics au-delà."
            ),
        )
        parser.add_argument(
            "--graine",
            type=int,
            default=scale_data.GRAINE,
            help=f"Graine du tirage aléatoire (par défaut : {scale_data.GRAINE}).",
        )
        parser.add_argument(
            "--sans-historique-mesures",
            dest="measures_history",
            action="store_false",
            help=(
                "N'écrit pas l'historique des mesures (la moitié des lignes) : une base de "
                "banc d'essai plus vite prête. Les autres historiques sont toujours écrits."
            ),
        )
        parser.add_argument(
            "--retirer",
            action="store_true",
            help="Supprime toutes les données synthétiques (et elles seules).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Autorise la génération même lorsque DEBUG est désactivé (déconseillé).",
        )

    def handle(
        self,
        *args,
        scale=None,
        graine,
        measures_history=True,
        retirer=False,
        force=False,
        **options,
    ):
        self.verbosity = options["verbosity"]
        if retirer:
            if scale is not None:
                raise CommandError("Choisissez --scale ou --retirer, pas les deux.")
            self.remove()
            return
        if scale is None:
            raise CommandError("Indiquez l'échelle, par exemple --scale 0.1 (ou --retirer).")
        if not settings.DEBUG and not force:
            raise CommandError(
                "Les données synthétiques sont réservées au développement et aux bancs "
                "d'essai (DEBUG activé) : elles ne sont jamais chargées en production."
            )
        if not 0 < scale <= scale_data.MAX_SCALE:
            raise CommandError(
                f"L'échelle doit être supérieure à 0 et au plus {scale_data.MAX_SCALE}."
            )
        expected = scale_data.expected_counts(scale)
        self.say(
            f"Données synthétiques à l'échelle {str(scale).replace('.', ',')} : "
            f"{_count(expected['diagnostics'], 'diagnostic')}, "
            f"{_count(expected['quartiers'], 'quartier')}, {_count(expected['mesures'], 'mesure')}."
        )
        try:
            bilan = scale_data.generate(
                scale, graine=graine, progress=self.progress, measures_history=measures_history
            )
        except (DatabaseError, scale_data.ScaleDataError) as error:
            raise CommandError(
                "La génération a échoué ; le lot en cours n'a rien écrit, relancez la commande "
                f"pour compléter : {error}"
            ) from error
        if bilan.retires:
            self.say(f"Diagnostics au-delà de l'échelle, retirés : {_number(bilan.retires)}.")
        self.say(
            self.style.SUCCESS(
                f"Données synthétiques prêtes : {_count(bilan.diagnostics, 'diagnostic')} "
                f"({_count(bilan.crees, 'créé')}), {_count(bilan.quartiers, 'quartier')}, "
                f"{_count(bilan.mesures, 'mesure écrite', 'mesures écrites')}, "
                f"{_count(bilan.lignes, 'ligne')} en {_decimal(bilan.secondes)} s "
                f"({_number(bilan.lignes_par_seconde)} lignes/s)."
            )
        )

    def progress(self, bilan, done, total):
        self.say(
            f"  Diagnostics : {_number(done)}/{_number(total)} — mesures écrites : "
            f"{_number(bilan.mesures)} — {_number(bilan.lignes_par_seconde)} lignes/s"
        )

    def remove(self):
        try:
            counts = scale_data.remove()
        except DatabaseError as error:
            raise CommandError(f"La suppression a échoué, rien n'a été retiré : {error}") from error
        self.say(
            self.style.SUCCESS(
                f"Données synthétiques retirées : {_count(counts['diagnostics'], 'diagnostic')}, "
                f"{_count(counts['quartiers'], 'quartier')}, "
                f"{_count(counts['mesures'], 'mesure')}."
            )
        )
        if counts["quartiers_conserves"]:
            self.say(
                f"{counts['quartiers_conserves']} quartier(s) synthétique(s) conservé(s) : "
                "encore rattaché(s) à un autre diagnostic, un élément ou une mesure."
            )

    def say(self, message):
        if self.verbosity > 0:
            self.stdout.write(message)


if __name__ == "__main__":
    Command().run_from_argv([sys.argv[0], "generate_scale_data", *sys.argv[1:]])
