"""The benchmark of the annual report's documents (bench/rapport_annuel.py, the part
« rapports »), at a tiny scale on SQLite: in a throwaway database it writes the report of the
largest synthetic diagnostic and draws its Document, ODT, DOCX and PDF. It checks the
benchmark, not the speed (speed is measured in bench/)."""

from bench import rapport_annuel, run


def test_the_part_draws_the_report_of_the_largest_diagnostic_in_each_format(migrated_sqlite):
    result = rapport_annuel.run(None, quiet=True, echelle=0.003, taille=0.003, tours=1)

    assert result["base"] == "sqlite"
    rapport = result["rapport"]
    assert rapport["numero"] == 1  # the one diagnostic of that scale
    assert rapport["indicateurs"] == 100 and rapport["quartiers"] >= 3
    assert rapport["tableaux"] > 100 and rapport["graphiques"] > 50
    cases = {case["case"]: case for case in result["cases"]}
    assert list(cases) == ["document", "odt", "docx", "pdf"]
    for case in cases.values():
        assert case["octets"] > 100_000 and case["max_s"] >= case["median_s"] > 0
    assert cases["document"]["requetes"] > 0
    objectifs = [target["objectif"] for target in result["objectifs"]]
    assert objectifs == [
        "Rapport annuel, ODT (odt.rendre) : < 5 s",
        "Rapport annuel, DOCX (docx.rendre) : < 5 s",
        "Rapport annuel, PDF (pdf.rendre, balisé) : < 15 s",
    ]
    assert [c["objectif"] for c in run.targets({"rapports": result})] == objectifs
    assert "PDF (pdf.rendre, balisé)" in rapport_annuel.format_table(result)
