"""The benchmark of the maps (bench/cartes.py), at a tiny size on SQLite: it builds a
contract with its quartiers and an indicator, and a national set, in a throwaway database,
then draws each map and loads each page. It checks the benchmark, not the speed (speed is
measured in bench/)."""

from bench import cartes


def test_the_part_draws_each_map_and_loads_each_page(migrated_sqlite):
    result = cartes.run(None, quiet=True, quartiers=8, sommets=40, national=12, tours=2)

    assert result["base"] == "sqlite"
    prepared = result["preparation"]
    assert prepared["sommets_contrat"] >= 8 * 30  # simplified, but not to nothing
    cases = {case["case"]: case for case in result["cases"]}
    assert set(cases) == {
        "contrat-chaud",
        "contrat-froid",
        "national-chaud",
        "national-froid",
        "choroplethe",
        "page-contrat",
        "page-contrat-vide",
        "page-indicateur",
    }
    for case in cases.values():
        assert case["octets"] > 0 and case["p95_ms"] >= case["median_ms"] > 0
    # The map adds the communes of the quartiers (a contract without any asks for its
    # quartiers too): one query.
    assert cases["page-contrat"]["requetes"] == cases["page-contrat-vide"]["requetes"] + 1
    objectifs = [target["objectif"] for target in result["objectifs"]]
    assert objectifs == [
        "Carte du contrat (dessiner, cache chaud) : p95 < 50 ms",
        "Page du contrat, entière : p95 < 50 ms",
    ]
    assert "Carte du contrat" in cartes.format_table(result)
