"""Benchmark of the exports: a whole diagnostic of 20,000 rows to XLSX, 100,000 measures to
XLSX and CSV, each through the path the application offers.

    .venv/bin/python bench/exports.py                          # SQLite, small sizes
    .venv/bin/python bench/exports.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/exports.py --complet --database-url …   # the issue's sizes

It runs in a throwaway database (`common.throwaway_database`: `bench_exports_<pid>` on
PostgreSQL), filled once by the importers (bench/imports.py's files: the source table shaped
like Montluçon's, the measures in the long layout). Each run of each case is a subprocess of
its own (peak memory, ru_maxrss, Django included); the cases alternate from run to run.

- `diagnostic_xlsx`: the diagnostic in the layout of its source table
  (`diagnostics.imports.source_export`, the Administrateur's "tableau source" download):
  rows of the table per second;
- `mesures_csv`, `mesures_xlsx`: every measure through the admin's flat export (the one
  export of measures in bulk the application offers: "Mesures" › "Exporter", superusers),
  requested over the Django test client as a browser would and read to the last byte.

Each figure is the median of `repeats` runs.
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common, imports  # noqa: E402

FULL = {"rows": 100_000, "diagnostic_rows": 20_000, "repeats": 3}
SUPERUSER = "banc-racine"

LABELS = {
    "diagnostic_xlsx": "Diagnostic entier, tableau source (XLSX)",
    "mesures_csv": "Mesures, export de l'administration (CSV)",
    "mesures_xlsx": "Mesures, export de l'administration (XLSX)",
}


def run(database_url, rows=None, diagnostic_rows=None, repeats=None, quiet=False):
    """Measure every case in a throwaway database; the results as a JSON-serialisable dict."""
    params = {
        "rows": rows or FULL["rows"],
        "diagnostic_rows": diagnostic_rows or FULL["diagnostic_rows"],
        "repeats": repeats or FULL["repeats"],
    }
    with common.throwaway_run(database_url, "exports") as (url, workdir):
        return _run(url, workdir, params, quiet)


def _run(url, workdir, params, quiet):
    engine = common.engine_of(url)
    say = (lambda *args: None) if quiet else (lambda text: print(text, flush=True))
    started = time.monotonic()
    common.manage(url, "migrate", "--no-input", "-v", "0")
    prepared = imports._child(url, workdir, "preparation", params, script=__file__)
    say(
        f"Préparé ({prepared['seconds']:.0f} s) : {params['rows']} mesures, diagnostic de "
        f"{params['diagnostic_rows']} lignes, base {engine}."
    )
    cases = list(LABELS)
    runs = imports.interleaved(
        url, workdir, cases, params, say, _run_line, labels=LABELS, script=__file__
    )
    return {
        "base": engine,
        "parametres": params,
        "repeats": params["repeats"],
        "machine": common.machine(),
        "cases": [_summary(case, runs[case]) for case in cases],
        "duree_s": round(time.monotonic() - started, 1),
    }


def _run_line(measured):
    return (
        f"{measured['seconds']:.2f} s, {measured['size_mb']:.1f} Mo, "
        f"pic {measured['peak_mb']:.0f} Mo, charge {measured['load_average']}"
    )


def _summary(case, runs):
    seconds = common.median([run["seconds"] for run in runs])
    rows = runs[0]["rows"]
    return {
        "case": case,
        "label": LABELS[case],
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds) if seconds else None,
        "cpu_seconds": round(common.median([run["cpu_seconds"] for run in runs]), 3),
        "peak_mb": round(common.median([run["peak_mb"] for run in runs]), 1),
        "delta_mb": round(common.median([run["delta_mb"] for run in runs]), 1),
        "size_mb": runs[0]["size_mb"],
        "repeats": len(runs),
        "load_average": [run["load_average"] for run in runs],
        "runs_seconds": [run["seconds"] for run in runs],
    }


def format_table(result):
    """The results as a French plain-text table."""
    loads = [load for case in result["cases"] for load in case["load_average"]]
    lines = [
        f"Exports — base {result['base']}, médiane de {result['repeats']} exécutions par cas "
        f"(chacune dans son processus), charge moyenne {min(loads):.1f} à {max(loads):.1f}",
        f"{'cas':<46} {'lignes':>8} {'s':>8} {'lignes/s':>10} {'CPU s':>7} {'fichier Mo':>11} "
        f"{'pic Mo':>7}",
    ]
    for case in result["cases"]:
        speed = f"{case['rows_per_second']:,}".replace(",", " ")
        lines.append(
            f"{case['label']:<46} {case['rows']:>8} {case['seconds']:>8.2f} {speed:>10} "
            f"{case['cpu_seconds']:>7.2f} {case['size_mb']:>11.1f} {case['peak_mb']:>7.0f}"
        )
    return "\n".join(lines)


def main(argv=None):
    return imports.files_main(
        argv,
        description="Banc d'essai des exports : diagnostic entier en XLSX, mesures en XLSX "
        "et en CSV.",
        run=run,
        run_child=run_child,
        format_table=format_table,
    )


# The cases (child processes) ------------------------------------------------------------------


def run_child(case, workdir, args):
    return imports.measure_in_child(
        CASES[case], case, workdir, args, lambda size: {"size_mb": round(size / 2**20, 2)}
    )


def prepare(workdir, args):
    """The data exported: measures and a diagnostic, written by the importers."""
    from django.contrib.auth import get_user_model

    from diagnostics.imports import import_source_table
    from diagnostics.models import Diagnostic
    from indicateurs.imports import import_measures

    start = time.perf_counter()
    diagnostic = imports.measures_diagnostic(workdir, args.rows, 1, xlsx=False)
    report = import_measures(diagnostic, "mesures.csv", (workdir / "mesures.csv").read_bytes())
    assert report.ok and report.created == args.rows, report.as_lines()[:5]
    rows = imports.source_table_rows(args.diagnostic_rows)
    lines = ["\t".join(imports.SOURCE_HEADER)] + ["\t".join(row) for row in rows]
    table = Diagnostic(
        titre="Banc d'essai du tableau",
        slug="banc-tableau",
        territoire="Montluçon Communauté",
        annee_debut=2024,
        annee_fin=2030,
    )
    report = import_source_table(table, "diagnostic.tsv", "\n".join(lines).encode())
    assert report.ok, report.as_lines()[:5]
    get_user_model().objects.create_superuser(SUPERUSER, password=None)
    return time.perf_counter() - start, 0, 0, 0


def diagnostic_case(workdir, args):
    from diagnostics.imports import source_export as exports_source
    from diagnostics.models import Diagnostic

    diagnostic = Diagnostic.objects.get(slug="banc-tableau")
    seconds, cpu, (content, _, _) = imports.timed(lambda: exports_source.export(diagnostic, "xlsx"))
    return seconds, cpu, args.diagnostic_rows, len(content)


def measures_case(file_format):
    def case(workdir, args):
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.urls import reverse

        from diagnostics.admin.formats import ADMIN_FORMATS
        from indicateurs.admin.resources import MesureFlatResource

        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(get_user_model().objects.get(username=SUPERUSER))
        index = [format_.__name__ for format_ in ADMIN_FORMATS].index(file_format)
        data = {"format": str(index), "resource": "0"}
        fields = MesureFlatResource().get_export_order()
        data |= {f"mesureflatresource_{name}": "on" for name in fields}
        url = reverse("admin:indicateurs_mesure_export")

        def download():
            response = client.post(url, data)
            assert response.status_code == 200, response.status_code
            chunks = response.streaming_content if response.streaming else [response.content]
            return sum(len(chunk) for chunk in chunks)

        seconds, cpu, size = imports.timed(download)
        return seconds, cpu, args.rows, size

    return case


CASES = {
    "preparation": prepare,
    "diagnostic_xlsx": diagnostic_case,
    "mesures_csv": measures_case("SafeCSV"),
    "mesures_xlsx": measures_case("SafeXLSX"),
}


if __name__ == "__main__":
    sys.exit(main())
