"""Benchmark of the editions: a new edition of the largest synthetic diagnostic of the whole
of France (`diagnostics.editions.copy.start_edition`), and the comparison of two editions
(`diagnostics.editions.diff.compare`). Target: the copy in under 2 s on PostgreSQL.

    .venv/bin/python bench/editions.py                        # SQLite, background at 0.01
    .venv/bin/python bench/editions.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/editions.py --database-url … --echelle 1 --tours 7

The diagnostic copied is the synthetic diagnostic of scale 1 (435 diagnostics) whose copy
writes the most rows (`scale_data.largest_diagnostic`: number 25 for the default graine,
4 piliers, 11 thèmes, 26 sous-thèmes, 65 difficultés, 100 indicators, 91 quartier tags,
188 references and targets), whatever the scale of the other data: the background (the
tables the copy reads and writes into) is the synthetic data at `--echelle`.

- `run(url)`: a throwaway database (`bench_editions_<pid>` on PostgreSQL, a SQLite file
  otherwise), migrated, filled with `generate_scale_data --scale <echelle>` (a
  subprocess, as `make bench` does), then measured; `run_on(url)` measures a database
  already filled (bench/run.py's bench database, when it built one).
- The measure runs in a child process (Django on that database, DEBUG off): it adds the
  largest diagnostic when the scale left it out (`scale_data.add`), publishes it if it is
  a draft (a contract holds one draft at most, and the copy is one; it stays published),
  then `tours` times:
  `start_edition` on its contract, timed from the call to its return (its own
  transaction, commit and deferred foreign key checks included), the rows of the copy
  counted and checked against the original's; then, when `diagnostics.editions.diff`
  exists, a tenth of the copy's items reworded and a tenth of its references and targets
  changed, and `compare(original, copy)` timed; then the copy deleted (raw deletes,
  `scale_data.remove_editions`, not timed). The copies leave nothing behind (checked:
  the row count of every table, before the first copy and after the last).

Each figure is the median (and the maximum) of the runs; the first run of the process is
included (it pays for Django's first queries).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

TOURS = 7
ECHELLE = 0.01  # the background, alone (bench/run.py passes its own scale)
TAILLE = 1  # the diagnostic copied: the largest of this scale (1: the whole of France)
TARGET_S = 2.0
USERNAME = "banc-editions"


def run(database_url, echelle=ECHELLE, tours=TOURS, taille=TAILLE, quiet=False):
    """Measure in a throwaway database filled at `echelle`; the results as a dict."""
    say = _say(quiet)
    with common.throwaway_run(database_url, "editions") as (url, _):
        started = time.monotonic()
        common.manage(url, "migrate", "--no-input", "-v", "0")
        common.generate_scale_data(url, "--scale", str(echelle), "-v", "0")
        say(
            f"Base migrée et données synthétiques à l'échelle {echelle:g} : "
            f"{time.monotonic() - started:.1f} s"
        )
        result = run_on(url, tours=tours, taille=taille, quiet=quiet)
        result["echelle"] = echelle
        return result


def run_on(url, tours=TOURS, taille=TAILLE, quiet=False):
    """Measure on the database `url`, already migrated and filled (see the module)."""
    command = [
        common.PYTHON,
        str(Path(__file__).resolve()),
        "--enfant",
        f"--tours={tours}",
        f"--taille={taille}",
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=common.django_env(url, debug=False), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"Le banc des éditions a échoué :\n{done.stdout}\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    for line in lines[:-1]:
        _say(quiet)(line)
    result = json.loads(lines[-1])
    result["base"] = common.engine_of(url)
    result["machine"] = common.machine()
    return result


def _say(quiet):
    return (lambda *args: None) if quiet else (lambda text: print(text, flush=True))


# The measure (in the child process, or in a test's database) -----------------------------


def measure(tours=TOURS, taille=TAILLE, say=None):
    """Copy the largest synthetic diagnostic of scale `taille` `tours` times (see the
    module) on the default database; returns the figures as a JSON-serialisable dict."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench import scale_data
    from diagnostics.editions import states
    from diagnostics.editions.copy import start_edition
    from diagnostics.models import Diagnostic

    say = say or (lambda text: None)
    compare = _compare_function()
    numero = scale_data.largest_diagnostic(taille)
    added = scale_data.add([numero]).crees
    source = Diagnostic.objects.get(slug=scale_data.slug_of(numero))
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    was_draft = source.statut == Diagnostic.Statut.BROUILLON
    if was_draft:  # left published: a contract holds one draft, and the copy is one
        source = states.publish(source, user)
    say(
        f"Diagnostic copié : n° {numero}{' (ajouté)' if added else ''}"
        f"{' (publié pour le banc)' if was_draft else ''}, le plus grand de l'échelle "
        f"{taille:g} ; base {connection.vendor} : {_background()}"
    )
    before = _table_counts()
    expected = _contents(source)
    runs = []
    for tour in range(1, tours + 1):
        start_cpu = common.cpu_seconds()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            edition = start_edition(
                source.contrat,
                nom=f"Révision du banc d'essai n° {tour}",
                date=timezone.localdate(),
                user=user,
            )
            seconds = time.perf_counter() - start
        measured = {
            "secondes": round(seconds, 4),
            "cpu_s": round(common.cpu_seconds() - start_cpu, 4),
            "requetes": len(queries),
        }
        copied = _contents(edition)
        if copied["lignes"] != expected["lignes"]:
            raise RuntimeError(f"Copie incomplète : {copied['lignes']} ≠ {expected['lignes']}.")
        measured["historique"] = copied["historique"]
        if compare is not None:
            changes = _change(edition)
            start = time.perf_counter()
            comparison = compare(source, edition)
            measured["comparaison_s"] = round(time.perf_counter() - start, 4)
            measured["changements"] = comparison.nombre
            measured["modifications_faites"] = changes
            measured["modifications_texte"] = _changes_text(changes)
        scale_data.remove_editions(Diagnostic.objects.filter(pk=edition.pk))
        runs.append(measured)
        say(_run_line(tour, tours, measured))
    left_intact = _table_counts() == before
    return _summary(numero, taille, expected, runs, left_intact)


def _compare_function():
    try:
        from diagnostics.editions.diff import compare
    except ImportError:  # not there yet
        return None
    return compare


def _background():
    from diagnostics.models import Diagnostic
    from indicateurs.models import Indicateur, Mesure

    return (
        f"{Diagnostic.objects.count()} diagnostics, {Indicateur.objects.count()} indicateurs, "
        f"{Mesure.objects.count()} mesures"
    )


def _contents(diagnostic):
    """{"lignes": {what: rows}, "historique": {what: history rows}, "detail": French text}
    of one edition: what a copy writes (levels, items, their quartiers, the values copied
    with an edition)."""
    from diagnostics import kinds

    rows, history, detail = {}, {}, []
    for kind in kinds.structure():
        model = kind.model
        own = model.objects.filter(diagnostic=diagnostic)
        rows[kind.key] = own.count()
        detail.append(kind.nom.compte(rows[kind.key]))
        history[kind.key] = model.history.model.objects.filter(diagnostic_id=diagnostic.pk).count()
        if kind.is_item:
            through = model.quartiers.through
            owner = model._meta.model_name
            rows[f"{kind.key}_quartiers"] = through.objects.filter(
                **{f"{owner}__diagnostic": diagnostic}
            ).count()
            detail.append(f"{rows[f'{kind.key}_quartiers']} quartiers des {kind.nom.pluriel}")
            for value_kind in kinds.values_of(kind):
                if value_kind.copied_with_edition is None:
                    continue
                values = value_kind.model.objects.filter(value_kind.copied_with_edition).filter(
                    **{f"{value_kind.parent}__diagnostic": diagnostic}
                )
                rows[value_kind.key] = values.count()
                detail.append(f"{values.count()} {value_kind.nom.pluriel} copiées avec l'édition")
                history[value_kind.key] = value_kind.model.history.model.objects.filter(
                    id__in=values.values("pk")
                ).count()
    return {"lignes": rows, "historique": history, "detail": ", ".join(detail)}


def _change(edition):
    """What a revision changes in the copy before the comparison: a tenth of its items
    reworded, a tenth of its references and targets changed (plain updates). Returns
    {kind key: rows changed}."""
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    from diagnostics import kinds

    changed = {}
    for kind in kinds.items():
        ids = list(
            kind.model.objects.filter(diagnostic=edition)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        changed[kind.key] = kind.model.objects.filter(pk__in=ids[::10]).update(
            libelle=Concat(F("libelle"), Value(" (révisé)"))
        )
        for value_kind in kinds.values_of(kind):
            if value_kind.copied_with_edition is None:
                continue
            values = value_kind.model.objects.filter(value_kind.copied_with_edition).filter(
                **{f"{value_kind.parent}__diagnostic": edition}, valeur__isnull=False
            )
            ids = list(values.order_by("pk").values_list("pk", flat=True))
            changed[value_kind.key] = value_kind.model.objects.filter(pk__in=ids[::10]).update(
                valeur=F("valeur") + 1
            )
    return changed


def _table_counts():
    from django.apps import apps

    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models(include_auto_created=True)
    }


def _stats(values):
    return {
        "mediane_s": round(statistics.median(values), 4),
        "max_s": round(max(values), 4),
        "min_s": round(min(values), 4),
    }


def _summary(numero, taille, expected, runs, left_intact):
    copy = {
        **_stats([run["secondes"] for run in runs]),
        "cpu_mediane_s": round(statistics.median(run["cpu_s"] for run in runs), 4),
        "requetes": runs[0]["requetes"],
        "lignes": expected["lignes"],
        "detail": expected["detail"],
        "lignes_copiees": sum(expected["lignes"].values()),
        "lignes_historique": sum(runs[0]["historique"].values()),
        "secondes": [run["secondes"] for run in runs],
    }
    result = {
        "diagnostic": {"numero": numero, "plus_grand_de_l_echelle": taille},
        "tours": len(runs),
        "copie": copy,
        "comparaison": None,
        "cible_s": TARGET_S,
        "cible_atteinte": copy["max_s"] < TARGET_S,
        "base_intacte": left_intact,
    }
    if "comparaison_s" in runs[0]:
        result["comparaison"] = {
            **_stats([run["comparaison_s"] for run in runs]),
            "changements": runs[0]["changements"],
            "modifications_faites": runs[0]["modifications_faites"],
            "modifications_texte": runs[0]["modifications_texte"],
            "secondes": [run["comparaison_s"] for run in runs],
        }
    return result


def _run_line(tour, tours, measured):
    line = (
        f"  {tour}/{tours} copie : {measured['secondes']:.3f} s "
        f"(CPU {measured['cpu_s']:.3f} s, {measured['requetes']} requêtes)"
    )
    if "comparaison_s" in measured:
        line += (
            f" ; comparaison : {measured['comparaison_s']:.3f} s "
            f"({measured['changements']} changements)"
        )
    return line


# Reporting ------------------------------------------------------------------------------


def format_table(result):
    """The results as French plain text."""
    copy = result["copie"]
    lines = [
        f"Éditions — base {result['base']}, diagnostic synthétique n° "
        f"{result['diagnostic']['numero']} (le plus grand de l'échelle "
        f"{result['diagnostic']['plus_grand_de_l_echelle']:g}), {result['tours']} tours",
        f"{'cas':<52} {'lignes':>7} {'médiane s':>10} {'max s':>8}",
        f"{'Nouvelle édition (start_edition, commit compris)':<52} "
        f"{copy['lignes_copiees']:>7} {copy['mediane_s']:>10.3f} {copy['max_s']:>8.3f}",
    ]
    comparison = result.get("comparaison")
    if comparison:
        lines.append(
            f"{'Comparaison des deux éditions (compare)':<52} {'':>7} "
            f"{comparison['mediane_s']:>10.3f} {comparison['max_s']:>8.3f}"
        )
    lines.append(
        f"  Copié : {copy['detail']} ; plus {copy['lignes_historique']} lignes d'historique ; "
        f"{copy['requetes']} requêtes SQL, CPU du processus {copy['cpu_mediane_s']:.3f} s "
        "(médiane)."
    )
    if comparison:
        lines.append(
            f"  Comparaison après modification de {comparison['modifications_texte']} : "
            f"{comparison['changements']} changements trouvés."
        )
    lines.append(f"  Base laissée intacte : {'oui' if result['base_intacte'] else 'NON'}.")
    mark = "atteint" if result["cible_atteinte"] else "NON ATTEINT"
    lines.append(
        f"  [{mark}] Copie d'une édition à l'échelle nationale : < {result['cible_s']:g} s "
        f"(chaque tour) — {copy['max_s']:.3f} s au plus"
    )
    return "\n".join(lines)


def _changes_text(changes):
    """ "7 difficultés, 10 indicateurs (libellés), 19 valeurs d'indicateurs"."""
    from diagnostics import kinds

    texts = []
    for key, number in changes.items():
        kind = kinds.get(key)
        texts.append(kind.nom.compte(number) + (" (libellés)" if kind.is_item else ""))
    return ", ".join(texts)


def target(result):
    """The target, for bench/run.py's list: (label, figure, met)."""
    copy = result["copie"]
    return (
        f"Copie d'une édition à l'échelle nationale (base {result['base']}) : "
        f"< {result['cible_s']:g} s",
        f"{copy['mediane_s']:.3f} s (médiane), {copy['max_s']:.3f} s au plus",
        result["cible_atteinte"],
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=None,
        help="serveur PostgreSQL sur lequel créer la base jetable (défaut : SQLite)",
    )
    parser.add_argument(
        "--echelle",
        type=float,
        default=ECHELLE,
        help=f"échelle des autres données synthétiques (défaut : {ECHELLE})",
    )
    parser.add_argument("--tours", type=int, default=TOURS, help=f"copies (défaut : {TOURS})")
    parser.add_argument(
        "--taille",
        type=float,
        default=TAILLE,
        help="le diagnostic copié est le plus grand de cette échelle (défaut : 1, la France)",
    )
    parser.add_argument("--json", help="écrire aussi les résultats dans ce fichier JSON")
    parser.add_argument("--enfant", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.enfant:
        import django

        django.setup()
        result = measure(args.tours, args.taille, say=_say(False))
        print(json.dumps(result, ensure_ascii=False))
        return 0
    result = run(args.database_url, echelle=args.echelle, tours=args.tours, taille=args.taille)
    print()
    print(format_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    sys.exit(main())
