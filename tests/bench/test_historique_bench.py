"""The benchmark of the "Dernières modifications" page (bench/historique.py), at a tiny size
on SQLite: it builds a history the way the site writes it (an import of a source table, an
import of values, edits each in its own action) in a throwaway database, then loads each
case of the page. It checks the benchmark, not the speed (speed is measured in bench/)."""

from bench import historique


def test_the_part_builds_a_history_and_loads_every_case_of_the_page(migrated_sqlite):
    result = historique.run(None, quiet=True, lignes=60, mesures=300, modifications=12, tours=1)

    assert result["base"] == "sqlite"
    prepared = result["preparation"]
    assert prepared["mesures"] == 300
    assert prepared["historique"]["mesure"] >= 300
    assert prepared["historique"]["difficulte"] > 0
    cases = {case["case"]: case for case in result["cases"]}
    assert set(cases) == {key for key, _, _ in historique.CASES}
    for case in cases.values():
        assert len(case["runs_ms"]) == 1
        assert case["octets"] > 0
    # (Page 10 is past the end of so short a history: the last page is shown instead.)
    for key in ("page-1", "nature-suppression", "nature-modification"):
        assert cases[key]["requetes"] <= 8
    assert [target["objectif"] for target in result["objectifs"]]
