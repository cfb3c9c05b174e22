"""Benchmark of the "Dernières modifications" page of a diagnostic with a long history.

    .venv/bin/python bench/historique.py                       # SQLite, small sizes
    .venv/bin/python bench/historique.py --complet --database-url postgres://postgres@127.0.0.1:5432/postgres

In a throwaway database (`common.throwaway_run`: a SQLite file in a temporary folder, or a
PostgreSQL database `bench_historique_<pid>` created on the URL's server and dropped at the
end), a child process builds one diagnostic with a long history, the way the site writes
it:

- a source table of `lignes` rows (bench/imports.py's, 20,000 with `--complet`) through the
  real importer (`import_source_table`), by an Équipe ville account of the contract;
- 100 indicators reworded (`editing.save_versioned`, one action each), then a file of
  `mesures` measures of these indicators (100,000 with `--complet`: 100 indicators, 3 QPV
  and the whole territory, one month after another) through `import_measures`;
- `modifications` edits of the site's domain functions (`diagnostics.editing`), each
  inside `diagnostics.history.actions.action()` when the code has it: rewordings of
  difficultés, moves up and down, moves to another sous-thème, deletions of difficultés
  and of sous-thèmes (with their items).

A second child process then fetches the page (`/diagnostics/<slug>/modifications/`,
Django's test client, signed in as that Équipe ville account): page 1, page 10, and
filtered by nature ("-": the deletions, "~": the changes; the old and the new code both
read these values). Each case: one request to warm up, one request counting the SQL
queries (and, on PostgreSQL, EXPLAIN ANALYZE of its slowest queries), then `tours`
requests timed one after the other: median and p95.
"""

import argparse
import contextlib
import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

FULL = {"lignes": 20_000, "mesures": 100_000, "modifications": 400, "tours": 20}
QUICK = {"lignes": 2_000, "mesures": 10_000, "modifications": 80, "tours": 5}
SLUG = "banc-historique"
USERNAME = "equipe-historique"
REWORDED_INDICATORS = 100
# The cases: (key, French label, query string).
CASES = [
    ("page-1", "Page 1", ""),
    ("page-10", "Page 10", "?page=10"),
    ("nature-suppression", "Nature : suppressions, page 1", "?nature=-"),
    ("nature-modification", "Nature : modifications, page 1", "?nature=~"),
]
TARGET_P95_MS = 500
EXPLAINED_QUERIES = 2


# The run (parent process) ---------------------------------------------------------------------


def run(database_url, quiet=False, **options):
    """Build the history and time the page in a throwaway database; a JSON-serialisable dict."""
    params = {**FULL, **{key: value for key, value in options.items() if value}}
    say = (lambda text: None) if quiet else (lambda text: print(text, flush=True))
    started = time.monotonic()
    with common.throwaway_run(database_url, "historique") as (url, workdir):
        engine = common.engine_of(url)
        common.manage(url, "migrate", "--no-input", "-v", "0")
        say(f"Base jetable {engine} migrée ; construction de l'historique…")
        prepared = _child(url, workdir, "preparation", params)
        say(_preparation_line(prepared))
        measured = _child(url, workdir, "pages", params)
    result = {
        "base": engine,
        "code": _commit(),
        "parametres": params,
        "machine": common.machine(),
        "preparation": prepared,
        "cases": measured["cases"],
        "duree_s": round(time.monotonic() - started, 1),
    }
    result["objectifs"] = targets(result)
    return result


def _commit():
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "?"


def _child(url, workdir, case, params):
    # DEBUG on: the templates' static files without collectstatic (as bench/queries.py).
    return common.run_child(url, workdir, __file__, case, params, debug=True)


def _preparation_line(prepared):
    rows = ", ".join(f"{count} {table}" for table, count in prepared["historique"].items())
    return (
        f"Historique construit en {prepared['secondes']:.0f} s (import du tableau "
        f"{prepared['import_tableau_s']:.1f} s, des mesures {prepared['import_mesures_s']:.1f} s, "
        f"{prepared['modifications']} modifications {prepared['modifications_s']:.1f} s) ; "
        f"lignes d'historique : {rows}"
    )


def targets(result):
    checks = []
    for case in result["cases"]:
        if case["case"] == "page-1":
            checks.append(
                {
                    "objectif": f"Dernières modifications, page 1 : p95 < {TARGET_P95_MS} ms",
                    "mesure": f"{case['p95_ms']:.0f} ms",
                    "atteint": case["p95_ms"] < TARGET_P95_MS,
                }
            )
    return checks


def format_table(result):
    """The results as a French plain-text table."""
    prepared = result["preparation"]
    total = sum(prepared["historique"].values())
    lines = [
        f"Dernières modifications — base {result['base']}, code {result['code']}, "
        f"{result['parametres']['tours']} requêtes par cas (client de test de Django)",
        f"  Diagnostic : {prepared['elements']} éléments, {prepared['mesures']} mesures, "
        f"{total} lignes d'historique en tout ({prepared['modifications']} modifications)",
        f"{'cas':<34} {'médiane ms':>10} {'p95 ms':>8} {'max ms':>8} {'requêtes':>9} {'SQL ms':>8}",
    ]
    for case in result["cases"]:
        lines.append(
            f"{case['label']:<34} {case['median_ms']:>10.1f} {case['p95_ms']:>8.1f} "
            f"{case['max_ms']:>8.1f} {case['requetes']:>9} {case['sql_ms']:>8.1f}"
        )
    for check in result.get("objectifs", []):
        mark = "atteint" if check["atteint"] else "NON ATTEINT"
        lines.append(f"  [{mark}] {check['objectif']} — {check['mesure']}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Banc d'essai de la page « Dernières modifications » d'un diagnostic "
        "à l'historique long."
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="serveur PostgreSQL sur lequel créer la base jetable (défaut : SQLite)",
    )
    parser.add_argument(
        "--complet",
        action="store_true",
        help=f"tailles de l'issue : tableau de {FULL['lignes']} lignes, {FULL['mesures']} "
        f"mesures, {FULL['modifications']} modifications, {FULL['tours']} requêtes par cas",
    )
    for name in FULL:
        parser.add_argument(f"--{name}", type=int)
    parser.add_argument("--json", help="écrire aussi les résultats dans ce fichier JSON")
    parser.add_argument("--enfant", help=argparse.SUPPRESS)
    parser.add_argument("--dossier", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    params = {name: getattr(args, name) for name in FULL}
    if args.enfant:
        return run_child(args.enfant, Path(args.dossier), params)
    sizes = FULL if args.complet else QUICK
    params = {name: value or sizes[name] for name, value in params.items()}
    result = run(args.database_url, **params)
    print()
    print(format_table(result))
    path = Path(args.json) if args.json else _results_path(result)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"\nRésultats : {path}")
    return 0


def _results_path(result):
    import datetime

    common.RESULTS.mkdir(exist_ok=True)
    name = (
        f"{datetime.date.today().isoformat()}-{result['base']}-historique-"
        f"{result['parametres']['lignes']}-{result['code']}"
    )
    path, n = common.RESULTS / f"{name}.json", 1
    while path.exists():
        n += 1
        path = common.RESULTS / f"{name}-{n}.json"
    return path


# The children ---------------------------------------------------------------------------------


def run_child(case, workdir, params):
    import django

    django.setup()
    result = {"preparation": prepare, "pages": measure_pages}[case](workdir, params)
    print(json.dumps(result, default=str))
    return 0


def _action():
    """`diagnostics.history.actions.action()` where the code has it (not before issue 17)."""
    try:
        from diagnostics.history.actions import action
    except ImportError:
        return contextlib.nullcontext()
    return action()


def prepare(workdir, params):
    """The diagnostic, its Équipe ville account and its history (see the module's doc)."""
    from django.contrib.auth import get_user_model

    from bench import imports
    from comptes.roles import Role
    from diagnostics.imports import import_source_table
    from diagnostics.models import Diagnostic, Membre, Quartier
    from indicateurs.imports import import_measures

    started = time.perf_counter()
    user = get_user_model().objects.create_user(
        username=USERNAME, email=f"{USERNAME}@example.org", password="banc-historique"
    )
    quartiers = [
        Quartier.objects.get_or_create(code=code, defaults={"nom": nom})[0]
        for code, nom in imports.QUARTIERS
    ]
    diagnostic = Diagnostic(
        titre="Banc d'essai de l'historique",
        slug=SLUG,
        territoire="Montluçon Communauté",
        annee_debut=2024,
        annee_fin=2030,
    )
    path = workdir / "diagnostic.xlsx"
    imports.write_source_table(path, imports.source_table_rows(params["lignes"]))
    start = time.perf_counter()
    report = import_source_table(diagnostic, path.name, path.read_bytes(), user=user)
    table_seconds = time.perf_counter() - start
    assert report.ok and report.created, report.as_lines()[:10]
    diagnostic.quartiers.set(quartiers)
    Membre.objects.create(contrat=diagnostic.contrat, compte=user, role=Role.EQUIPE_VILLE.value)

    start = time.perf_counter()
    indicators = _reword_indicators(diagnostic, user)
    edits = len(indicators)
    content = _measures_file(workdir, indicators, params["mesures"])
    edit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    report = import_measures(diagnostic, "mesures.csv", content, user=user)
    measures_seconds = time.perf_counter() - start
    assert report.ok and report.created == params["mesures"], report.as_lines()[:10]

    start = time.perf_counter()
    edits += _edit(diagnostic, user, params["modifications"], {i.pk for i in indicators})
    edit_seconds += time.perf_counter() - start
    return {
        "secondes": round(time.perf_counter() - started, 1),
        "import_tableau_s": round(table_seconds, 2),
        "import_mesures_s": round(measures_seconds, 2),
        "modifications_s": round(edit_seconds, 2),
        "modifications": edits,
        "elements": _items_count(diagnostic),
        "mesures": params["mesures"],
        "historique": _history_counts(),
    }


def _reword_indicators(diagnostic, user):
    """REWORDED_INDICATORS indicators given a libellé of their own (the measures' file names
    them), one action each."""
    from diagnostics import editing
    from indicateurs.models import Indicateur

    chosen = list(Indicateur.objects.du_diagnostic(diagnostic).order_by("pk")[::50])
    chosen = chosen[:REWORDED_INDICATORS]
    for number, indicator in enumerate(chosen, 1):
        indicator.libelle = f"Indicateur mesuré du banc n° {number}"
        with _action():
            editing.save_versioned(indicator, indicator.version, user, fields=["libelle"])
    return list(Indicateur.objects.filter(pk__in=[i.pk for i in chosen]).order_by("pk"))


def _measures_file(workdir, indicators, rows):
    """The measures of `indicators` in bench/imports.py's long CSV layout."""
    from bench import imports

    long_rows = []
    combinations = len(indicators) * len(imports.PLACES)
    for index in range(rows):
        indicator = indicators[index % len(indicators)]
        place = imports.PLACES[(index // len(indicators)) % len(imports.PLACES)]
        period = index // combinations  # one month after another from January 2000
        annee, mois = 2000 + period // 12, period % 12 + 1
        value = Decimal(index % 99_991) + Decimal(index % 7) / 4
        french = f"{value:,.2f}".replace(",", " ").replace(".", ",")
        long_rows.append([indicator.libelle, place, f"{mois:02d}/{annee}", french, "Insee", ""])
    path = workdir / "mesures.csv"
    imports._write_measures_csv(path, long_rows)
    return path.read_bytes()


def _edit(diagnostic, user, count, measured):
    """`count` edits of the site's domain functions, one action each, on the difficultés
    and sous-thèmes (not on the measured indicators: deleting them would delete their
    measures): 40 % rewordings, 30 % moves up or down, 15 % moves to another sous-thème,
    12 % deletions of a difficulté, 3 % deletions of a sous-thème with its items."""
    from diagnostics import editing
    from diagnostics.models import Difficulte, SousTheme
    from indicateurs.models import Indicateur

    plan = ["reword"] * 40 + ["shift"] * 30 + ["move"] * 15 + ["delete"] * 12 + ["delete_st"] * 3
    busy = set(Indicateur.objects.filter(pk__in=measured).values_list("sous_theme_id", flat=True))
    sous_themes = list(
        SousTheme.objects.filter(theme__pilier__diagnostic=diagnostic)
        .exclude(pk__in=busy)
        .order_by("pk")
    )
    difficultes = Difficulte.objects.du_diagnostic(diagnostic).filter(sous_theme__isnull=False)
    done = 0
    for number in range(count):
        kind = plan[(number * 37) % len(plan)]  # spread over the run
        # Every edit on a fresh object: a stride through the diagnostic.
        item = difficultes.order_by("pk")[(number * 97) % max(1, difficultes.count())]
        with _action():
            if kind == "reword":
                item.libelle = f"{item.libelle[:150]} (reformulée {number})"
                editing.save_versioned(item, item.version, user, fields=["libelle"])
            elif kind == "shift":
                (editing.move_up if number % 2 else editing.move_down)(item, user)
            elif kind == "move":
                destination = sous_themes[(number * 13) % len(sous_themes)]
                try:
                    editing.move_element(item, destination, user, item.version)
                except Exception:  # a libellé already there: move down instead
                    editing.move_down(item, user)
            elif kind == "delete":
                editing.delete(item, user)
            else:
                editing.delete(sous_themes.pop(), user)
        done += 1
    return done


def _items_count(diagnostic):
    from diagnostics.models import Difficulte
    from indicateurs.models import Indicateur

    return (
        Difficulte.objects.du_diagnostic(diagnostic).count()
        + Indicateur.objects.du_diagnostic(diagnostic).count()
    )


def _history_counts():
    """Rows of each history table of the levels, items and values (the only diagnostic)."""
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            if "historical" in table and "quartiers" not in table:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (our tables)
                found = cursor.fetchone()[0]
                if found:
                    counts[table.split("_historical", 1)[1]] = found
    return counts


def measure_pages(workdir, params):
    """Each case: a warm-up, a request whose queries are counted (and explained), then
    `tours` timed requests."""
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=USERNAME))
    base = reverse("diagnostics:modifications", args=[SLUG])
    cases = []
    for key, label, query in CASES:
        path = base + query
        _get(client, path)
        # Each request empties the query log as it starts (`reset_queries`): empty it
        # first, so that the context's slice starts at 0.
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            size = len(_get(client, path).content)
        timings = []
        for _ in range(params["tours"]):
            start = time.perf_counter()
            _get(client, path)
            timings.append((time.perf_counter() - start) * 1000)
        slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
        cases.append(
            {
                "case": key,
                "label": label,
                "path": path,
                "median_ms": round(common.median(timings), 1),
                "p95_ms": round(common.percentile(timings, 0.95), 1),
                "max_ms": round(max(timings), 1),
                "runs_ms": [round(t, 1) for t in timings],
                "requetes": len(captured.captured_queries),
                "sql_ms": round(sum(float(q["time"]) for q in captured.captured_queries) * 1000, 1),
                "octets": size,
                "requetes_lentes": [
                    {"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"][:400]}
                    for q in slowest[:EXPLAINED_QUERIES]
                ],
                "explain": _explain(connection, slowest[:EXPLAINED_QUERIES]),
            }
        )
    return {"cases": cases}


def _get(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert b"Derni" in response.content, path
    return response


def _explain(connection, queries):
    """EXPLAIN ANALYZE of these queries (PostgreSQL: the SQL Django logged is the one run)."""
    if connection.vendor != "postgresql":
        return []
    plans = []
    with connection.cursor() as cursor:
        for query in queries:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


if __name__ == "__main__":
    sys.exit(main())
