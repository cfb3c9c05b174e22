"""The data and the verdicts of bench/imports.py: a generated source table reads as a real one
(merged cells included), and the targets follow the ratios measured in the run."""

from bench import imports
from diagnostics.imports import read_table


def test_the_generated_source_table_reads_the_same_as_text_and_as_a_merged_workbook(tmp_path):
    rows = imports.source_table_rows(1_100)
    text = "\n".join("\t".join(row) for row in [imports.SOURCE_HEADER, *rows]).encode()
    path = tmp_path / "diagnostic.xlsx"
    imports.write_source_table(path, rows)

    from_text = read_table("diagnostic.tsv", text)
    from_workbook = read_table("diagnostic.xlsx", path.read_bytes())

    assert not from_text.errors and not from_workbook.errors
    # The only warnings: the lead-ins of the seed's cells the rows are made of, the same
    # from both files (the workbook's rows start lower: its lines differ).
    assert [m for _, m in from_text.warnings] == [m for _, m in from_workbook.warnings]
    assert all("phrase d'introduction" in message for _, message in from_workbook.warnings)
    # The same rows (their cells differ: a merged cell is read on each row of its range).
    assert [_content(row) for row in from_text.rows] == [
        _content(row) for row in from_workbook.rows
    ]
    assert len(from_workbook.rows) == 1_100
    assert {row.pilier.numero for row in from_workbook.rows} == {1, 2, 3}
    assert any(row.sous_theme is None and row.difficultes for row in from_workbook.rows)
    assert sum(len(row.difficultes) + len(row.indicateurs) for row in from_workbook.rows) > 1_100


def _content(row):
    return (row.pilier, row.theme, row.sous_theme, row.difficultes, row.indicateurs)


def _case(case, rows, seconds, peak_mb=150):
    return {
        "case": case,
        "label": imports.LABELS[case],
        "rows": rows,
        "seconds": seconds,
        "rows_per_second": round(rows / seconds),
        "cpu_seconds": seconds / 2,
        "peak_mb": peak_mb,
        "load_average": [0.5],
    }


def test_the_targets_follow_the_ratios_of_the_run():
    result = {
        "base": "postgresql",
        "repeats": 3,
        "parametres": {"rows": 100_000, "diagnostic_rows": 20_000, "sample": 1_000},
        "cases": [
            _case("diagnostic_xlsx", 20_000, 12.0),
            _case("mesures_csv", 100_000, 4.0),
            _case("mesures_xlsx", 100_000, 5.0, peak_mb=320),
            _case("pair", 1_000, 5.0),
            _case("copy_table_nue", 100_000, 0.1),
            _case("copy_table_mesures", 100_000, 1.0),
        ],
    }

    imports._add_ratios(result)
    checks = {check["objectif"]: check for check in imports.targets(result)}

    csv = imports._case(result, "mesures_csv")
    assert (csv["ratio_pair"], csv["ratio_copy_nue"], csv["ratio_copy_mesures"]) == (125, 40, 4)
    met = {objectif: check["atteint"] for objectif, check in checks.items()}
    assert met == {
        "Import de 100 000 mesures (CSV) : au moins 10 × plus rapide que le ModelResource "
        "par défaut": True,
        "Import de 100 000 mesures (CSV) : à moins de 5 × COPY dans une table nue": False,
        "Import de 100 000 mesures (CSV) : à moins de 5 × COPY dans la table des mesures": True,
        "Import de 100 000 mesures (XLSX) : au moins 10 × plus rapide que le ModelResource "
        "par défaut": True,
        "Import de 100 000 mesures (XLSX) : à moins de 5 × COPY dans une table nue": False,
        "Import de 100 000 mesures (XLSX) : à moins de 5 × COPY dans la table des mesures": True,
        "Import de 100 000 mesures (XLSX) : moins de 300 Mo": False,
    }
    result["objectifs"] = list(checks.values())
    table = imports.format_table(result)
    assert "extrapolé à 100000" in table
    assert "[NON ATTEINT] Import de 100 000 mesures (XLSX) : moins de 300 Mo — 320 Mo" in table
