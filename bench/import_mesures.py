"""Benchmark of the import of indicator values (measures), long format, 100,000 rows.

    .venv/bin/python bench/import_mesures.py [--rows 100000] [--sample 5000]
                                             [--database-url postgres://postgres@127.0.0.1:5432/x]

It runs against a throwaway database, never the development one: a temporary SQLite file
by default, or, given a PostgreSQL URL, a database `bench_mesures_<pid>` created on that
server (the URL's own database is only used to connect) and dropped at the end.

It builds a diagnostic with 100 indicators and 3 quartiers, writes the rows as CSV
(Windows-1252, `;`, French numbers) and XLSX, then measures each case in its own
subprocess, so that peak memories (ru_maxrss) do not mix:

- ours: `import_measures` on the CSV and the XLSX (first import: every row created), a
  second import of the CSV (every row unchanged) and a CSV with every value changed
  (every row updated), each with its history rows;
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
import contextlib
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
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
INDICATORS = 100
QUARTIERS = [("QN00304M", "Rive Gauche"), ("QN00305M", "Fontbouillant"), ("QN00306M", "Bien-Assis")]
# Where each row is: a quartier by code, by name, or the whole territory.
PLACES = ["QN00304M", "Fontbouillant", "Bien-Assis", "Ensemble du territoire"]
HEADER = ["Indicateur", "Quartier", "Période", "Valeur", "Source", "Commentaire"]


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
        with throwaway_database(args.database_url, workdir) as url:
            return run_all(url, workdir, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def throwaway_database(url, workdir):
    if not url or url.startswith("sqlite"):
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(url)
    name = f"bench_mesures_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_all(url, workdir, args):
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "contrat_ville.settings"}
    env["DEBUG"] = "1"
    engine = "postgresql" if url.startswith("postgres") else "sqlite"
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
    sys.path.insert(0, str(ROOT))
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
    from diagnostics.models import Diagnostic, Pilier, Quartier, SousTheme, Theme
    from indicateurs.models import Indicateur

    quartiers = [Quartier.objects.create(code=code, nom=nom) for code, nom in QUARTIERS]
    diagnostic = Diagnostic.objects.create(
        titre="Banc d'essai",
        slug="banc",
        territoire="Montluçon Communauté",
        annee_debut=2024,
        annee_fin=2030,
    )
    diagnostic.quartiers.set(quartiers)
    pilier = Pilier.objects.create(diagnostic=diagnostic, numero=1, libelle="Cohésion sociale")
    theme = Theme.objects.create(pilier=pilier, libelle="Éducation")
    indicators = []
    for number in range(INDICATORS):
        if number % 10 == 0:
            sous_theme = SousTheme.objects.create(theme=theme, libelle=f"Sous-thème n° {number}")
        indicators.append(
            Indicateur.objects.create(
                sous_theme=sous_theme,
                libelle=f"Nombre de jeunes accompagnés vers l'emploi, action n° {number}",
                type=Indicateur.Type.QUANTITATIF,
            )
        )
    pk_of_place = {"QN00304M": quartiers[0].pk, "Fontbouillant": quartiers[1].pk}
    pk_of_place |= {"Bien-Assis": quartiers[2].pk, "Ensemble du territoire": None}
    long_rows, id_rows, changed_rows = [], [], []
    combinations = INDICATORS * len(PLACES)
    for index in range(rows):
        indicator = indicators[index % INDICATORS]
        place = PLACES[(index // INDICATORS) % len(PLACES)]
        period = index // combinations  # one month after another from January 2000
        annee, mois = 2000 + period // 12, period % 12 + 1
        value = Decimal(index % 99_991) + Decimal(index % 7) / 4
        french = f"{value:,.2f}".replace(",", " ").replace(".", ",")
        long_rows.append([indicator.libelle, place, f"{mois:02d}/{annee}", french, "Insee", ""])
        changed = f"{value + 1:,.2f}".replace(",", " ").replace(".", ",")
        changed_rows.append([indicator.libelle, place, f"{annee}-{mois:02d}", changed, "Insee", ""])
        id_rows.append(
            (indicator.pk, pk_of_place[place], annee, "mois", mois, f"{value:.2f}", "Insee")
        )
    _write_csv(workdir / "mesures.csv", long_rows)
    _write_csv(workdir / "mesures-modifiees.csv", changed_rows)
    _write_csv(workdir / "echantillon.csv", long_rows[:sample])
    _write_xlsx(workdir / "mesures.xlsx", long_rows)
    with (workdir / "ids.tsv").open("w") as file:
        for row in id_rows:
            file.write("\t".join("\\N" if cell is None else str(cell) for cell in row) + "\n")
    (workdir / "diagnostic").write_text(str(diagnostic.pk))


def _write_csv(path, rows):
    lines = [";".join(HEADER)] + [";".join(row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def _write_xlsx(path, rows):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Mesures")
    sheet.append(HEADER)
    for indicator, place, period, value, source, comment in rows:
        number = float(value.replace(" ", "").replace(",", "."))
        sheet.append([indicator, place, period, number, source, comment])
    workbook.save(path)


def _diagnostic(workdir):
    from diagnostics.models import Diagnostic

    return Diagnostic.objects.get(pk=int((workdir / "diagnostic").read_text()))


def _reset_measures():
    """No measure, no history, no import of measures: the state of a first import."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM indicateurs_historicalmesure")
        cursor.execute("DELETE FROM indicateurs_mesure")
        cursor.execute("DELETE FROM diagnostics_import WHERE nature = 'mesures'")


def _ours(filename, reset=False, expect=None, engine=None, count_rows=None):
    def case(workdir, rows, sample):
        from indicateurs.importers import import_measures

        if reset:
            _reset_measures()
        content = (workdir / filename).read_bytes()
        diagnostic = _diagnostic(workdir)
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
        from diagnostics.importers.formats import read_xlsx
        from indicateurs.importers import read_measures

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


def peer_sample(workdir, rows, sample):
    """A plain ModelResource, default settings, on the same rows (foreign keys as ids)."""
    import tablib
    from import_export import resources

    from indicateurs.models import Mesure

    _reset_measures()

    class PlainMesureResource(resources.ModelResource):
        class Meta:
            model = Mesure
            fields = (
                "indicateur",
                "quartier",
                "annee",
                "type_periode",
                "numero_periode",
                "valeur",
                "source",
            )
            import_id_fields = ("indicateur", "quartier", "annee", "type_periode", "numero_periode")

    headers = list(PlainMesureResource._meta.fields)
    lines = (workdir / "ids.tsv").read_text().splitlines()[:sample]
    data = [[None if cell == "\\N" else cell for cell in line.split("\t")] for line in lines]

    def run():
        dataset = tablib.Dataset(*data, headers=headers)
        return PlainMesureResource().import_data(dataset)

    seconds, result = _timed(run)
    assert not result.has_errors() and not result.has_validation_errors(), result.totals
    assert result.totals["new"] == sample, result.totals
    return seconds, sample, f"échantillon de {sample} lignes, lignes/s extrapolées"


def copy_case(target):
    def case(workdir, rows, sample):
        from django.db import connection, transaction

        _reset_measures()
        data = (workdir / "ids.tsv").read_text()
        columns = "indicateur_id, quartier_id, annee, type_periode, numero_periode, valeur, source"
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS bench_mesure_nue (indicateur_id bigint, quartier_id "
                "bigint, annee smallint, type_periode varchar(10), numero_periode smallint, "
                "valeur numeric(16, 4), source varchar(200))"
            )
            cursor.execute("TRUNCATE bench_mesure_nue")
        if target == "bare":
            table, sql_columns = "bench_mesure_nue", columns
            lines = data
        else:
            table = "indicateurs_mesure"
            sql_columns = f"{columns}, texte, commentaire, version, fictive, created_at, updated_at"
            now = datetime.datetime.now(datetime.UTC).isoformat()
            suffix = f"\t\t\t1\tf\t{now}\t{now}\n"
            lines = "".join(line + suffix for line in data.splitlines())

        def run():
            with (
                transaction.atomic(),
                connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({sql_columns}) FROM STDIN") as copy,
            ):
                copy.write(lines)

        seconds, _ = _timed(run)
        note = (
            "table nue, sans contrainte"
            if target == "bare"
            else "table des mesures, sans historique"
        )
        return seconds, rows, note

    return case


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
    "copy_bare_table": copy_case("bare"),
    "copy_measures_table": copy_case("measures"),
}


if __name__ == "__main__":
    sys.exit(main())
