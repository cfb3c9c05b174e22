"""Benchmark of the imports: a diagnostic table of 20,000 rows and 100,000 measures, beside
the peer (a plain django-import-export `ModelResource`) and PostgreSQL's COPY (the limit).

    .venv/bin/python bench/imports.py                          # SQLite, small sizes
    .venv/bin/python bench/imports.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/imports.py --complet --database-url …   # the issue's sizes

It runs in a throwaway database (`common.throwaway_database`): a SQLite file in a temporary
folder, or a PostgreSQL database `bench_imports_<pid>` created on the URL's server and
dropped at the end. Each run of each case is a subprocess of its own, so that its peak
memory (ru_maxrss, Django included) is its own; the runs of the cases alternate (case 1,
case 2, …, then again), so that a change of load on a shared machine spreads over all.

Cases (each figure is the median of `repeats` runs):

- `diagnostic_xlsx`: a source table shaped like Montluçon's (fixtures/diagnostic-montlucon.tsv,
  its cells repeated: piliers, thèmes and sous-thèmes numbered, pasted HTML lists, the pilier
  and thème cells merged down their rows, as in the real documents) through
  `import_source_table` into a new diagnostic: rows of the table per second;
- `mesures_csv`, `mesures_xlsx`: a file of measures in the long layout (Indicateur,
  Quartier, Période, Valeur, Source, Commentaire; French numbers; CSV in Windows-1252 with
  `;`) through `import_measures`, first import (every measure created, with its history);
- `pair`: the peer, a plain `ModelResource` for Mesure with default settings, on the same
  rows (foreign keys as ids, the easiest input it can get), on a sample (`sample` rows: at
  its speed, 100,000 rows take about ten minutes): its rows/s are extrapolated as they are,
  the per-row cost of a ModelResource not falling with the file's size;
- PostgreSQL only: COPY of the same rows, foreign keys resolved, into a bare table (no
  constraint, no index: the machine's limit) and into the measures table itself (its
  constraints and indexes; no history rows).

Ratios are computed from the medians of this run: ours / peer (rows per second) and
ours / COPY (time). The dict returned also lists the issue's targets (`objectifs`).
"""

import argparse
import datetime
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

# The issue's sizes (`run`'s defaults, what `make bench` measures) and the quick ones
# (the command line's defaults).
FULL = {"rows": 100_000, "diagnostic_rows": 20_000, "sample": 1_000, "repeats": 3}
QUICK = {"rows": 10_000, "diagnostic_rows": 2_000, "sample": 300, "repeats": 3}
MEMORY_TARGET_MB = 300

# The measures' diagnostic: 100 indicators, 3 QPV; rows name a quartier by its code, by its
# name, or the whole territory.
INDICATORS = 100
QUARTIERS = [("QN00304M", "Rive Gauche"), ("QN00305M", "Fontbouillant"), ("QN00306M", "Bien-Assis")]
PLACES = ["QN00304M", "Fontbouillant", "Bien-Assis", "Ensemble du territoire"]
MEASURES_HEADER = ["Indicateur", "Quartier", "Période", "Valeur", "Source", "Commentaire"]

# The source table: piliers of THEMES_PER_PILIER thèmes of ROWS_PER_THEME rows.
SOURCE_HEADER = ["Pilier", "Thème", "Sous-thème", "Difficultés prégnantes", "Indicateur"]
THEMES_PER_PILIER = 20
ROWS_PER_THEME = 25
SEED = ROOT / "fixtures" / "diagnostic-montlucon.tsv"

LABELS = {
    "diagnostic_xlsx": "Tableau du diagnostic (XLSX, cellules fusionnées)",
    "mesures_csv": "Mesures, CSV (premier import)",
    "mesures_xlsx": "Mesures, XLSX (premier import)",
    "pair": "Pair : ModelResource par défaut (échantillon)",
    "copy_table_nue": "COPY dans une table nue (la limite)",
    "copy_table_mesures": "COPY dans la table des mesures (sans historique)",
}


# The run (parent process) ---------------------------------------------------------------------


def run(database_url, rows=None, diagnostic_rows=None, sample=None, repeats=None, quiet=False):
    """Measure every case in a throwaway database; the results as a JSON-serialisable dict."""
    params = {
        "rows": rows or FULL["rows"],
        "diagnostic_rows": diagnostic_rows or FULL["diagnostic_rows"],
        "sample": sample or FULL["sample"],
        "repeats": repeats or FULL["repeats"],
    }
    params["sample"] = min(params["sample"], params["rows"])
    with common.throwaway_run(database_url, "imports") as (url, workdir):
        return _run(url, workdir, params, quiet)


def _run(url, workdir, params, quiet):
    engine = common.engine_of(url)
    say = (lambda *args: None) if quiet else (lambda text: print(text, flush=True))
    started = time.monotonic()
    common.manage(url, "migrate", "--no-input", "-v", "0")
    _child(url, workdir, "preparation", params)
    say(
        f"Préparé : {params['rows']} mesures (CSV, XLSX), tableau de diagnostic de "
        f"{params['diagnostic_rows']} lignes (XLSX), base {engine}."
    )
    cases = ["diagnostic_xlsx", "mesures_csv", "mesures_xlsx", "pair"]
    if engine == "postgresql":
        cases += ["copy_table_nue", "copy_table_mesures"]
    runs = interleaved(url, workdir, cases, params, say, _run_line)
    result = {
        "base": engine,
        "parametres": params,
        "repeats": params["repeats"],
        "machine": common.machine(),
        "cases": [_summary(case, runs[case]) for case in cases],
    }
    _add_ratios(result)
    result["objectifs"] = targets(result)
    result["duree_s"] = round(time.monotonic() - started, 1)
    return result


def interleaved(url, workdir, cases, params, say, describe, labels=LABELS, script=__file__):
    """Run each case `repeats` times, in turn (case 1, case 2, …, then again), each run a
    child process of `script`: {case: [its results]}."""
    runs = {case: [] for case in cases}
    for repeat in range(params["repeats"]):
        for case in cases:
            measured = _child(url, workdir, case, params, script)
            runs[case].append(measured)
            say(f"  {repeat + 1}/{params['repeats']} {labels[case]} : {describe(measured)}")
    return runs


def _child(url, workdir, case, params, script=__file__):
    """Run `case` in a child process of `script` (this bench or bench/exports.py)."""
    return common.run_child(url, workdir, script, case, params)


def _run_line(measured):
    return (
        f"{measured['seconds']:.2f} s, {measured['rows']} lignes, "
        f"pic {measured['peak_mb']:.0f} Mo, charge {measured['load_average']}"
    )


def _summary(case, runs):
    seconds = common.median([run["seconds"] for run in runs])
    rows = runs[0]["rows"]
    cpu = common.median([run["cpu_seconds"] for run in runs])
    summary = {
        "case": case,
        "label": LABELS[case],
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds) if seconds else None,
        "cpu_seconds": round(cpu, 3),
        "rows_per_cpu_second": round(rows / cpu) if cpu else None,
        "peak_mb": round(common.median([run["peak_mb"] for run in runs]), 1),
        "delta_mb": round(common.median([run["delta_mb"] for run in runs]), 1),
        "repeats": len(runs),
        "load_average": [run["load_average"] for run in runs],
        "note": runs[0]["note"],
        "runs_seconds": [run["seconds"] for run in runs],
    }
    if case == "pair":
        summary["extrapolated"] = True
    return summary


def _case(result, name):
    return next((case for case in result["cases"] if case["case"] == name), None)


def _add_ratios(result):
    """Same-run ratios on our measures cases: against the peer (rows/s) and COPY (time)."""
    peer = _case(result, "pair")
    for name in ("mesures_csv", "mesures_xlsx"):
        ours = _case(result, name)
        if peer and peer["rows_per_second"]:
            ours["ratio_pair"] = round(ours["rows_per_second"] / peer["rows_per_second"], 1)
        for copy_name, key in (
            ("copy_table_nue", "ratio_copy_nue"),
            ("copy_table_mesures", "ratio_copy_mesures"),
        ):
            copy = _case(result, copy_name)
            if copy and copy["seconds"]:
                ours[key] = round(ours["seconds"] / copy["seconds"], 1)


def targets(result):
    """The issue's targets for the measures import: [{objectif, mesure, atteint}]."""
    checks = []
    rows = f"{result['parametres']['rows']:,}".replace(",", " ")
    for name, kind in (("mesures_csv", "CSV"), ("mesures_xlsx", "XLSX")):
        ours = _case(result, name)
        if "ratio_pair" in ours:
            checks.append(
                {
                    "objectif": f"Import de {rows} mesures ({kind}) : au moins 10 × plus rapide "
                    "que le ModelResource par défaut",
                    "mesure": f"{ours['ratio_pair']:.0f} ×",
                    "atteint": ours["ratio_pair"] >= 10,
                }
            )
        for key, where in (
            ("ratio_copy_nue", "COPY dans une table nue"),
            ("ratio_copy_mesures", "COPY dans la table des mesures"),
        ):
            if key in ours:
                checks.append(
                    {
                        "objectif": f"Import de {rows} mesures ({kind}) : à moins de 5 × {where}",
                        "mesure": f"{ours[key]:.1f} × le temps de COPY",
                        "atteint": ours[key] <= 5,
                    }
                )
    xlsx = _case(result, "mesures_xlsx")
    checks.append(
        {
            "objectif": f"Import de {rows} mesures (XLSX) : moins de {MEMORY_TARGET_MB} Mo",
            "mesure": f"{xlsx['peak_mb']:.0f} Mo au pic (Django compris)",
            "atteint": xlsx["peak_mb"] < MEMORY_TARGET_MB,
        }
    )
    return checks


def format_table(result):
    """The results as a French plain-text table."""
    params = result["parametres"]
    lines = [
        f"Imports — base {result['base']}, médiane de {result['repeats']} exécutions par cas "
        f"(chacune dans son processus), charge moyenne {_loads(result)}",
        f"{'cas':<52} {'lignes':>8} {'s':>8} {'lignes/s':>11} {'CPU s':>7} {'pic Mo':>7}",
    ]
    for case in result["cases"]:
        lines.append(
            f"{case['label']:<52} {case['rows']:>8} {case['seconds']:>8.2f} "
            f"{_number(case['rows_per_second']):>11} {case['cpu_seconds']:>7.2f} "
            f"{case['peak_mb']:>7.0f}"
        )
    peer = _case(result, "pair")
    if peer:
        full = params["rows"] / peer["rows_per_second"]
        lines.append(
            f"  Pair mesuré sur {peer['rows']} lignes, extrapolé à {params['rows']} : "
            f"{full:.0f} s estimées (son coût par ligne ne baisse pas avec la taille)."
        )
    for name in ("mesures_csv", "mesures_xlsx"):
        ours = _case(result, name)
        ratios = []
        if "ratio_pair" in ours:
            ratios.append(f"{ours['ratio_pair']:.0f} × le pair")
        if "ratio_copy_nue" in ours:
            ratios.append(f"{ours['ratio_copy_nue']:.1f} × le temps de COPY (table nue)")
        if "ratio_copy_mesures" in ours:
            ratios.append(f"{ours['ratio_copy_mesures']:.1f} × celui de COPY (table des mesures)")
        if ratios:
            lines.append(f"  {ours['label']} : " + ", ".join(ratios) + ".")
    for check in result.get("objectifs", []):
        mark = "atteint" if check["atteint"] else "NON ATTEINT"
        lines.append(f"  [{mark}] {check['objectif']} — {check['mesure']}")
    return "\n".join(lines)


def _number(value):
    return "—" if value is None else f"{value:,}".replace(",", " ")


def _loads(result):
    loads = [load for case in result["cases"] for load in case["load_average"]]
    return f"{min(loads):.1f} à {max(loads):.1f}" if loads else "?"


def main(argv=None):
    return files_main(
        argv,
        description="Banc d'essai des imports : tableau de diagnostic et mesures, à côté "
        "du ModelResource par défaut de django-import-export et de COPY (PostgreSQL).",
        run=run,
        run_child=run_child,
        format_table=format_table,
        sample=True,
    )


def files_main(argv, description, run, run_child, format_table, sample=False):
    """The command line of the benches of files (this one and bench/exports.py)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--database-url",
        default=None,
        help="serveur PostgreSQL sur lequel créer la base jetable (défaut : SQLite)",
    )
    parser.add_argument(
        "--complet",
        action="store_true",
        help=f"tailles de l'issue : {FULL['rows']} mesures, tableau de "
        f"{FULL['diagnostic_rows']} lignes (défaut : {QUICK['rows']} et "
        f"{QUICK['diagnostic_rows']})",
    )
    parser.add_argument("--rows", type=int, help="lignes du fichier de mesures")
    parser.add_argument("--diagnostic-rows", type=int, help="lignes du tableau de diagnostic")
    if sample:
        parser.add_argument("--sample", type=int, help="lignes de l'échantillon du pair")
    parser.add_argument("--repeats", type=int, help="exécutions de chaque cas (médiane)")
    parser.add_argument("--json", help="écrire aussi les résultats dans ce fichier JSON")
    parser.add_argument("--enfant", help=argparse.SUPPRESS)
    parser.add_argument("--dossier", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.enfant:
        return run_child(args.enfant, Path(args.dossier), args)
    sizes = FULL if args.complet else QUICK
    options = {
        key: getattr(args, key) or sizes[key]
        for key in ("rows", "diagnostic_rows", "sample", "repeats")
        if hasattr(args, key)
    }
    result = run(args.database_url, **options)
    print()
    print(format_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


# The cases (child processes) ------------------------------------------------------------------


def run_child(case, workdir, args):
    return measure_in_child(CASES[case], case, workdir, args, lambda note: {"note": note})


def measure_in_child(function, case, workdir, args, extra):
    """In a child process: set Django up, run one case, print its measures as JSON.

    `function(workdir, args)` returns (seconds, cpu seconds, rows, last); `extra(last)`
    gives the case's own fields (this bench's note, the exports' file size)."""
    import django

    django.setup()
    baseline = common.peak_rss_mb()
    load = os.getloadavg()[0]
    seconds, cpu, rows, last = function(workdir, args)
    peak = common.peak_rss_mb()
    measured = {
        "case": case,
        "rows": rows,
        "seconds": round(seconds, 4),
        "cpu_seconds": round(cpu, 4),
        "peak_mb": round(peak, 1),
        "delta_mb": round(peak - baseline, 1),
        "load_average": round(load, 2),
    }
    print(json.dumps({**measured, **extra(last)}))
    return 0


def timed(function):
    """(wall seconds, CPU seconds of this process, value) of function()."""
    start, cpu = time.perf_counter(), common.cpu_seconds()
    value = function()
    return time.perf_counter() - start, common.cpu_seconds() - cpu, value


def prepare(workdir, args):
    """The measures' diagnostic and every file the cases read."""
    measures_diagnostic(workdir, args.rows, args.sample)
    write_source_table(workdir / "diagnostic.xlsx", source_table_rows(args.diagnostic_rows))
    return 0, 0, 0, ""


def measures_diagnostic(workdir, rows, sample, xlsx=True):
    """A diagnostic of INDICATORS indicators and 3 QPV, and its files of `rows` measures:
    mesures.csv, mesures.xlsx (unless told), mesures-modifiees.csv (every value changed),
    echantillon.csv (the first `sample` rows) and ids.tsv (the rows with their foreign keys
    resolved, for COPY and the peer)."""
    from diagnostics.models import Diagnostic, Pilier, Quartier, SousTheme, Theme
    from indicateurs.models import Indicateur

    quartiers = [Quartier.objects.create(code=code, nom=nom) for code, nom in QUARTIERS]
    diagnostic = Diagnostic.objects.create(
        titre="Banc d'essai des mesures",
        slug="banc-mesures",
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
    long_rows, changed_rows, id_rows = [], [], []
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
    _write_measures_csv(workdir / "mesures.csv", long_rows)
    _write_measures_csv(workdir / "mesures-modifiees.csv", changed_rows)
    _write_measures_csv(workdir / "echantillon.csv", long_rows[:sample])
    if xlsx:
        _write_measures_xlsx(workdir / "mesures.xlsx", long_rows)
    with (workdir / "ids.tsv").open("w") as file:
        for row in id_rows:
            file.write("\t".join("\\N" if cell is None else str(cell) for cell in row) + "\n")
    (workdir / "diagnostic-mesures").write_text(str(diagnostic.pk))
    return diagnostic


def _write_measures_csv(path, rows):
    lines = [";".join(MEASURES_HEADER)] + [";".join(row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def _write_measures_xlsx(path, rows):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Mesures")
    sheet.append(MEASURES_HEADER)
    for indicator, place, period, value, source, comment in rows:
        number = float(value.replace(" ", "").replace(",", "."))
        sheet.append([indicator, place, period, number, source, comment])
    workbook.save(path)


def source_table_rows(count):
    """`count` rows of a source table made of the seed's cells (its piliers, thèmes,
    sous-thèmes, difficultés and indicateurs, HTML lists included), numbered so that each
    name is new within its parent; one thème in five has items at its own level. The pilier
    and thème cells are empty below their first row (merged in the XLSX)."""
    import csv

    piliers, themes, items = [], [], []
    with SEED.open(newline="") as file:
        for cells in csv.reader(file, delimiter="\t"):
            cells = (cells + [""] * 5)[:5]
            if cells[0] == "Pilier" or not any(cells):
                continue
            if cells[0]:
                piliers.append(cells[0].split(" ", 1)[1])
            if cells[1] and cells[1] not in themes:
                themes.append(cells[1])
            # The seed's two rows shifted one column are left out: one warning each.
            if cells[2] and cells[2] != "Jeunesse":
                items.append(cells[2:])
    per_pilier = THEMES_PER_PILIER * ROWS_PER_THEME
    rows = []
    for index in range(count):
        numero = index // per_pilier + 1
        theme = (index // ROWS_PER_THEME) % THEMES_PER_PILIER
        position = index % ROWS_PER_THEME
        sous_theme, difficultes, indicateurs = items[index % len(items)]
        pilier = f"{numero} {piliers[numero % len(piliers)]} {numero}"
        rows.append(
            [
                pilier if index % per_pilier == 0 else "",
                f"{themes[(numero + theme) % len(themes)]} ({theme + 1})" if position == 0 else "",
                "" if position == 0 and theme % 5 == 4 else f"{sous_theme} ({position + 1})",
                difficultes,
                indicateurs,
            ]
        )
    return rows


def write_source_table(path, rows):
    """The rows as a workbook laid out like the real documents: two blank rows, the header,
    the pilier and thème cells merged down their rows, wrapped text (written row by row in
    openpyxl's write-only mode, the merged ranges beside)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment
    from openpyxl.worksheet.cell_range import CellRange

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Diagnostic")
    wrapped = Alignment(wrap_text=True, vertical="top")

    def cell(value):
        written = WriteOnlyCell(sheet, value=value or None)
        written.alignment = wrapped
        return written

    sheet.append([])
    sheet.append([])
    sheet.append(SOURCE_HEADER)
    first = 4  # the line of the first row
    for row in rows:
        sheet.append([cell(value) for value in row])
    for column in (1, 2):
        starts = [first + index for index, row in enumerate(rows) if row[column - 1]]
        for start, end in zip(starts, [*starts[1:], first + len(rows)], strict=True):
            if end - 1 > start:
                sheet.merged_cells.add(
                    CellRange(min_col=column, min_row=start, max_col=column, max_row=end - 1)
                )
    workbook.save(path)


def diagnostic_case(workdir, args):
    from diagnostics.imports import import_source_table
    from diagnostics.models import Diagnostic

    content = (workdir / "diagnostic.xlsx").read_bytes()
    diagnostic = Diagnostic(
        titre="Banc d'essai du tableau",
        slug=f"banc-tableau-{os.getpid()}",
        territoire="Montluçon Communauté",
        annee_debut=2024,
        annee_fin=2030,
    )
    seconds, cpu, report = timed(
        lambda: import_source_table(diagnostic, "diagnostic.xlsx", content)
    )
    assert report.ok and report.created, report.as_lines()[:10]
    objects = sum(count.created for count in report.counts.values())
    note = f"{report.engine} : {objects} objets créés"
    return seconds, cpu, args.diagnostic_rows, note


def reset_measures():
    """No measure, no history, no import of measures: the state of a first import."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE indicateurs_historicalmesure, indicateurs_mesure")
        else:
            cursor.execute("DELETE FROM indicateurs_historicalmesure")
            cursor.execute("DELETE FROM indicateurs_mesure")
        cursor.execute("DELETE FROM diagnostics_import WHERE nature = 'mesures'")


def measures_diagnostic_of(workdir):
    from diagnostics.models import Diagnostic

    return Diagnostic.objects.get(pk=int((workdir / "diagnostic-mesures").read_text()))


def measures_case(filename):
    def case(workdir, args):
        from indicateurs.imports import import_measures

        reset_measures()
        content = (workdir / filename).read_bytes()
        diagnostic = measures_diagnostic_of(workdir)
        seconds, cpu, report = timed(lambda: import_measures(diagnostic, filename, content))
        assert report.ok and report.created == args.rows, report.as_lines()[:10]
        return seconds, cpu, args.rows, f"{report.engine} : {report.created} mesures créées"

    return case


def peer_case(workdir, args):
    """A plain ModelResource, default settings, on the sample's rows (foreign keys as ids)."""
    import tablib
    from import_export import resources

    from indicateurs.models import Mesure

    reset_measures()

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
    lines = (workdir / "ids.tsv").read_text().splitlines()[: args.sample]
    data = [[None if cell == "\\N" else cell for cell in line.split("\t")] for line in lines]

    def peer():
        return PlainMesureResource().import_data(tablib.Dataset(*data, headers=headers))

    seconds, cpu, result = timed(peer)
    assert not result.has_errors() and not result.has_validation_errors(), result.totals
    assert result.totals["new"] == args.sample, result.totals
    note = f"échantillon de {args.sample} lignes, extrapolé à {args.rows}"
    return seconds, cpu, args.sample, note


BARE_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_mesure_nue (indicateur_id bigint, quartier_id bigint, "
    "annee smallint, type_periode varchar(10), numero_periode smallint, valeur numeric(16, 4), "
    "source varchar(200))"
)


def copy_case(target):
    def case(workdir, args):
        from django.db import connection, transaction

        reset_measures()
        data = (workdir / "ids.tsv").read_text()
        columns = "indicateur_id, quartier_id, annee, type_periode, numero_periode, valeur, source"
        with connection.cursor() as cursor:
            cursor.execute(BARE_TABLE)
            cursor.execute("TRUNCATE bench_mesure_nue")
        if target == "bare":
            table, lines = "bench_mesure_nue", data
        else:
            table = "indicateurs_mesure"
            columns += ", texte, commentaire, version, fictive, created_at, updated_at"
            now = datetime.datetime.now(datetime.UTC).isoformat()
            suffix = f"\t\t\t1\tf\t{now}\t{now}\n"
            lines = "".join(line + suffix for line in data.splitlines())

        def copy():
            with (
                transaction.atomic(),
                connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as stream,
            ):
                stream.write(lines)

        seconds, cpu, _ = timed(copy)
        note = "sans contrainte ni index" if target == "bare" else "contraintes et index"
        return seconds, cpu, args.rows, note

    return case


CASES = {
    "preparation": prepare,
    "diagnostic_xlsx": diagnostic_case,
    "mesures_csv": measures_case("mesures.csv"),
    "mesures_xlsx": measures_case("mesures.xlsx"),
    "pair": peer_case,
    "copy_table_nue": copy_case("bare"),
    "copy_table_mesures": copy_case("measures"),
}


if __name__ == "__main__":
    sys.exit(main())
