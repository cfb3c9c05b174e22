"""Benchmark of the import of indicator values (measures), long format, 100,000 rows.

    .venv/bin/python bench/import_mesures.py [--rows 100000] [--sample 5000]
                                             [--database-url postgres://postgres@127.0.0.1:5432/x]

It runs against a throwaway database, never the development one: a temporary SQLite file
by default, or, given a PostgreSQL URL, a database `bench_mesures_<pid>` created on that
server (the URL's own database is only used to connect) and dropped at the end.

It builds a diagnostic with 100 indicators and 3 quartiers, writes the rows as CSV
(Windows-1252, `;`, French numbers) and XLSX (bench/imports.py's files, whose cases of the
peer and of COPY it shares), then measures each case in its own subprocess, so that peak
memories (ru_maxrss) do not mix:

- ours: `import_measures` on the CSV and the XLSX (first import: every row created), a
  second import of the CSV (every row unchanged) and a CSV with every value changed
  (every row updated), each with its history rows (the copy path on PostgreSQL, the bulk
  path elsewhere);
- ours through the MesureResource alone (the path small files take), on the sample;
- the peer: a plain django-import-export `ModelResource` with default settings, on the
  sample (`--sample` rows: at its speed 100,000 rows take minutes); its rows/s are
  extrapolated to the full file;
- readers only: the XLSX read by python-calamine (our path), openpyxl read-only and openpyxl
  normal mode (what the source-table importer uses, for merged cells);
- PostgreSQL only: COPY of the same rows, foreign keys already resolved, into a bare table
  (no constraint, no index) and into the measures table itself (its constraints and
  indexes, no history).

Prints a table and writes JSON to bench/results/. Besides wall-clock time, each case
records this process's CPU time (user + system) and the load average when it started: on
a shared machine, wall-clock rates drop with the load, CPU rates much less (the database
server's own work, on PostgreSQL, is only in the wall-clock time).
"""

import argparse
import datetime
import io
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common, imports  # noqa: E402

RESULTS = common.RESULTS


# Parent: database, files, one subprocess per case ---------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=5_000, help="rows of the peer's run")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server to use")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return run_child(args.child, Path(args.workdir), args.rows, args.sample)
    workdir = Path(tempfile.mkdtemp(prefix="bench-mesures-"))
    try:
        name = f"bench_mesures_{os.getpid()}"
        with common.throwaway_database(args.database_url, workdir, name) as url:
            return run_all(url, workdir, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_all(url, workdir, args):
    env = common.django_env(url, debug=False)
    engine = common.engine_of(url)
    print(f"Base jetable : {engine} ({url.rsplit('/', 1)[-1]}) ; {args.rows} lignes.", flush=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    cases = [
        "setup",
        "readers_calamine",
        "readers_openpyxl_read_only",
        "readers_openpyxl_normal",
        "ours_csv_create",
        "ours_csv_unchanged",
        "ours_csv_update",
        "ours_xlsx_create",
        "ours_resource_sample",
        "peer_sample",
    ]
    if engine == "postgresql":
        cases += ["copy_bare_table", "copy_measures_table"]
    results = []
    for case in cases:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            case,
            "--workdir",
            str(workdir),
            "--rows",
            str(args.rows),
            "--sample",
            str(args.sample),
        ]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout, done.stderr, file=sys.stderr)
            raise SystemExit(f"Le cas {case} a échoué.")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if case != "setup":
            results.append(result)
            print(format_row(result), flush=True)
    summary = {
        "database": engine,
        "rows": args.rows,
        "sample": args.sample,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cœurs, "
        f"Python {platform.python_version()}",
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"import_mesures-{engine}-{args.rows}.json"
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(f"\nRésultats : {path.relative_to(ROOT)}")
    return 0


def format_row(result):
    note = f"  ({result['note']})" if result.get("note") else ""
    speed = f"{result['rows_per_second']:>9,}".replace(",", " ")
    cpu = f"{result['rows_per_cpu_second']:>9,}".replace(",", " ")
    return (
        f"{result['case']:<28} {result['rows']:>7} lignes {result['seconds']:>8.2f} s "
        f"{speed} lignes/s | CPU {result['cpu_seconds']:>6.2f} s {cpu} lignes/s CPU | "
        f"pic {result['peak_mb']:>5.0f} Mo (+{result['delta_mb']:.0f}) | "
        f"charge {result['load_average']}{note}"
    )


# Children: one case each ---------------------------------------------------------------------


def run_child(case, workdir, rows, sample):
    import django

    django.setup()
    baseline = _rss_mb()
    load = os.getloadavg()[0]
    measured = CASES[case](workdir, rows, sample)
    if case == "setup":
        print(json.dumps({"case": case}))
        return 0
    seconds, count = measured[:2]
    note = measured[2] if len(measured) > 2 else ""
    peak = _rss_mb()
    print(
        json.dumps(
            {
                "case": case,
                "rows": count,
                "seconds": round(seconds, 3),
                "rows_per_second": round(count / seconds) if seconds else None,
                "cpu_seconds": round(CPU["seconds"], 3),
                "rows_per_cpu_second": round(count / CPU["seconds"]) if CPU["seconds"] else None,
                "load_average": round(load, 1),
                "peak_mb": round(peak, 1),
                "delta_mb": round(peak - baseline, 1),
                "note": note,
            }
        )
    )
    return 0


def _rss_mb():
    # Linux gives ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


CPU = {}  # CPU time of this process during the last timed call


def _timed(function):
    start, cpu = time.perf_counter(), _cpu_seconds()
    value = function()
    CPU["seconds"] = _cpu_seconds() - cpu
    return time.perf_counter() - start, value


def _cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def setup(workdir, rows, sample):
    """The diagnostic, its indicators and quartiers; the files of every case."""
    imports.measures_diagnostic(workdir, rows, sample)


def _ours(filename, reset=False, expect=None, engine=None, count_rows=None):
    def case(workdir, rows, sample):
        from indicateurs.imports import import_measures

        if reset:
            imports.reset_measures()
        content = (workdir / filename).read_bytes()
        diagnostic = imports.measures_diagnostic_of(workdir)
        seconds, report = _timed(
            lambda: import_measures(diagnostic, filename, content, engine=engine)
        )
        assert report.ok, report.as_lines()[:10]
        counts = (report.created, report.updated, report.unchanged)
        total = sum(counts)
        if expect is not None:
            assert counts == expect(total), (counts, report.as_lines()[:5])
        note = (
            f"{report.engine} : {counts[0]} créées, {counts[1]} mises à jour, "
            f"{counts[2]} inchangées"
        )
        return seconds, total, note

    return case


def readers(mode):
    def case(workdir, rows, sample):
        from diagnostics.imports.formats import read_xlsx
        from indicateurs.imports import read_measures

        content = (workdir / "mesures.xlsx").read_bytes()
        if mode == "calamine":
            seconds, table = _timed(lambda: read_measures("mesures.xlsx", content))
            return seconds, len(table.rows), "read_measures : lecture et mise en lignes"
        if mode == "openpyxl_normal":
            seconds, tables = _timed(
                lambda: [list(table) for table in read_xlsx(content, max_rows=rows + 1)]
            )
            return seconds, len(tables[0]) - 1, "formats.read_xlsx (cellules fusionnées)"
        import openpyxl

        def read_only():
            workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]

        seconds, table = _timed(read_only)
        return seconds, len(table) - 1, "openpyxl read_only=True, valeurs seules"

    return case


def _shared(case):
    """A case of bench/imports.py (the peer, COPY), run as this script's cases are."""

    def run(workdir, rows, sample):
        seconds, cpu, count, note = case(workdir, argparse.Namespace(rows=rows, sample=sample))
        CPU["seconds"] = cpu
        return seconds, count, note

    return run


peer_sample = _shared(imports.peer_case)


CASES = {
    "setup": setup,
    "readers_calamine": readers("calamine"),
    "readers_openpyxl_read_only": readers("openpyxl_read_only"),
    "readers_openpyxl_normal": readers("openpyxl_normal"),
    "ours_csv_create": _ours("mesures.csv", reset=True, expect=lambda n: (n, 0, 0)),
    "ours_csv_unchanged": _ours("mesures.csv", expect=lambda n: (0, 0, n)),
    "ours_csv_update": _ours("mesures-modifiees.csv", expect=lambda n: (0, n, 0)),
    "ours_xlsx_create": _ours("mesures.xlsx", reset=True, expect=lambda n: (n, 0, 0)),
    "ours_resource_sample": _ours(
        "echantillon.csv", reset=True, engine="resource", expect=lambda n: (n, 0, 0)
    ),
    "peer_sample": peer_sample,
    "copy_bare_table": _shared(imports.copy_case("bare")),
    "copy_measures_table": _shared(imports.copy_case("measures")),
}


if __name__ == "__main__":
    sys.exit(main())
