"""The benchmark of the editions (bench/editions.py), at a tiny scale on SQLite: it copies
the largest synthetic diagnostic, counts what the copy wrote, compares the two editions,
deletes the copies and leaves the database as it found it. It checks the benchmark, not
the speed (speed is measured in bench/, never here)."""

import datetime

from bench import editions, run, scale_data
from diagnostics.models import Contrat, Diagnostic

SCALE = 0.005  # 2 diagnostics


def test_the_part_copies_the_largest_diagnostic_and_leaves_nothing_behind():
    scale_data.generate(SCALE)
    largest = scale_data.largest_diagnostic(SCALE)
    plan = scale_data.plan_diagnostic(largest)
    editions_before = set(Diagnostic.objects.values_list("pk", flat=True))

    result = editions.measure(tours=2, taille=SCALE)

    assert result["diagnostic"] == {"numero": largest, "plus_grand_de_l_echelle": SCALE}
    copy = result["copie"]
    # What the copy wrote is what the generator planned to copy.
    assert copy["lignes_copiees"] == sum(scale_data.edition_rows(plan).values())
    assert copy["lignes"]["difficulte"] == len(plan.difficultes)
    assert copy["lignes"]["indicateur"] == 100
    assert copy["lignes"]["mesure"] == scale_data.edition_rows(plan)["references_et_cibles"]
    assert copy["lignes_historique"] >= copy["lignes"]["indicateur"]
    assert len(copy["secondes"]) == result["tours"] == 2
    assert 0 < copy["mediane_s"] <= copy["max_s"]
    assert copy["requetes"] > 0
    comparison = result["comparaison"]
    assert comparison is not None and comparison["changements"] > 0
    assert comparison["modifications_faites"]["difficulte"] > 0
    # The copies are gone: the tables are as before the first copy.
    assert result["base_intacte"] is True
    assert set(Diagnostic.objects.values_list("pk", flat=True)) == editions_before
    assert not Diagnostic.objects.filter(precedente__isnull=False).exists()

    result["base"] = "sqlite"
    table = editions.format_table(result)
    assert "Nouvelle édition (start_edition, commit compris)" in table
    assert "Comparaison des deux éditions (compare)" in table
    assert "Base laissée intacte : oui." in table
    assert "Copie d'une édition à l'échelle nationale" in table
    label, _, met = editions.target(result)
    checks = run.targets({"editions": result})
    assert [(check["objectif"], check["atteint"]) for check in checks] == [(label, met)]


def test_the_part_runs_alone_in_a_throwaway_database(migrated_sqlite):
    """`python bench/editions.py` as `make bench --parties editions` runs it: a SQLite file
    migrated and filled by the generator (subprocesses), the measure in a child process."""
    result = editions.run(None, echelle=0.003, tours=1, taille=0.003, quiet=True)

    assert result["base"] == "sqlite" and result["echelle"] == 0.003
    assert result["diagnostic"]["numero"] == 1
    assert result["copie"]["lignes_copiees"] == sum(
        scale_data.edition_rows(scale_data.plan_diagnostic(1)).values()
    )
    assert result["base_intacte"] is True
    assert "Éditions — base sqlite" in editions.format_table(result)


def test_a_draft_is_published_first_and_a_missing_diagnostic_is_added(monkeypatch):
    scale_data.generate(0.002)  # diagnostic 1 only
    scale_data.add([3])  # a draft (one in ten), above the scale
    draft = Diagnostic.objects.get(slug="synthetique-0003")
    assert draft.statut == Diagnostic.Statut.BROUILLON
    assert scale_data.add([1, 3]).crees == 0  # both there already

    result = editions.measure(tours=1, taille=0.002)  # the largest of 1 diagnostic: n° 1
    assert result["diagnostic"]["numero"] == 1

    monkeypatch.setattr(scale_data, "largest_diagnostic", lambda scale: 3)
    result = editions.measure(tours=1, taille=0.002)
    assert result["diagnostic"]["numero"] == 3
    draft.refresh_from_db()
    assert draft.statut == Diagnostic.Statut.PUBLIE
    assert Contrat.objects.get(slug="synthetique-0003").editions.count() == 1


def test_the_results_file_names_the_parts_and_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.setattr(run.common, "RESULTS", tmp_path)
    today = datetime.date(2026, 12, 6)

    everything = run.results_path("postgresql", 1.0, run.PARTS, today)
    first = run.results_path("postgresql", 1.0, ["editions"], today)
    first.write_text("{}")
    second = run.results_path("postgresql", 1.0, ["editions"], today)

    assert everything.name == "2026-12-06-postgresql-echelle-1.json"
    assert first.name == "2026-12-06-postgresql-echelle-1-editions.json"
    assert second.name == "2026-12-06-postgresql-echelle-1-editions-2.json"
    assert run.results_path("sqlite", 0.25, ["pages", "editions"], today).name == (
        "2026-12-06-sqlite-echelle-0.25-pages-editions.json"
    )
