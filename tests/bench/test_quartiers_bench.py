"""The benchmark of the référentiel's import (bench/quartiers.py), at a tiny size on
SQLite: the generated file is a référentiel the importer accepts (outlines of 30 to 200
vertices, multipolygons, quartiers of two communes, overseas ones), and the part times an
import and a re-import that changes nothing. It checks the benchmark, not the speed."""

import json

from bench import quartiers
from diagnostics.quartiers.referentiel import read_referentiel


def test_the_generated_referentiel_is_realistic_and_accepted():
    data = quartiers.referentiel_geojson(200)

    features = data["features"]
    assert len({f["properties"]["code_qp"] for f in features}) == 200
    kinds = [f["geometry"]["type"] for f in features]
    assert 15 < kinds.count("MultiPolygon") < 40
    sizes = [
        len(f["geometry"]["coordinates"][0]) for f in features if f["geometry"]["type"] == "Polygon"
    ]
    assert min(sizes) >= 31 and max(sizes) <= 201
    assert any("," in f["properties"]["insee_com"] for f in features)
    regions = {f["properties"]["insee_reg"] for f in features}
    assert "04" in regions and "11" in regions  # La Réunion, and mainland France
    lecture = read_referentiel("qpv.geojson", json.dumps(data).encode())
    assert len(lecture.quartiers) == 200


def test_the_part_times_an_import_and_a_reimport_that_changes_nothing(migrated_sqlite):
    result = quartiers.run(None, quiet=True, quartiers=40)["referentiel"]

    assert result["base"] == "sqlite" and result["quartiers"] == 40
    first, again = result["imports"]
    assert (first["crees"], first["modifies"]) == (40, 0)
    assert (again["crees"], again["modifies"], again["inchanges"]) == (0, 0, 40)
    assert first["requetes"] < 40  # in bulk, not a query per quartier
    assert result["sommets_par_quartier"] > 20
    assert "chargé : 40 quartiers lus" in result["commande_sortie"][0]
    assert [target["atteint"] for target in result["objectifs"]] == [True, True]
    assert "Référentiel des quartiers" in quartiers.format_table({"referentiel": result})
