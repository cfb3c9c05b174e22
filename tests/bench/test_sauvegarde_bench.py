"""The benchmark of the backup and restoration (bench/sauvegarde.py), at a tiny scale on
SQLite: it prepares a diagnostic with more values and their history, backs it up, deletes it
through the ORM and restores it, losing nothing. It checks the benchmark, not the speed
(speed is measured in bench/, never here)."""

import io

from bench import sauvegarde, scale_data
from diagnostics.backup import restore, write_backup
from diagnostics.models import Diagnostic
from indicateurs.models import Mesure


def test_the_part_prepares_backs_up_deletes_and_restores_losing_nothing():
    scale_data.add([sauvegarde.NUMBER])
    slug = scale_data.slug_of(sauvegarde.NUMBER)
    wanted = sauvegarde.counts(slug)["valeurs"] + 600

    before = sauvegarde.prepare(valeurs=wanted)

    assert before["valeurs"] == wanted
    assert before["historique_valeurs"] == wanted + 200  # "+" each, "~" for a third of 600
    assert Mesure.history.filter(history_change_reason="Banc : revue").count() == 200
    out = io.StringIO()
    summary = write_backup(Diagnostic.objects.get(slug=slug), out)
    assert summary["objets"] > before["valeurs"] + before["historique_valeurs"]
    assert sauvegarde.delete(slug) == {"supprime": slug}
    assert sauvegarde.counts(slug)["valeurs"] == 0

    out.seek(0)
    restore(out)

    assert sauvegarde._same(before, sauvegarde.counts(slug))


def test_a_step_is_timed_with_the_peak_memory_of_its_own_process():
    step = sauvegarde._timed("sqlite:///inutile.sqlite3", ["-c", "x = bytearray(50_000_000)"])

    assert step["duree_s"] > 0
    assert step["memoire_max_mo"] >= 50


def test_the_table_and_the_targets():
    step = {"duree_s": 3.2, "memoire_max_mo": 120.0}
    result = {
        "base": "postgresql",
        "valeurs": 100_000,
        "avant": {"historique_valeurs": 133_000},
        "lignes_du_fichier": 240_000,
        "etapes": {
            "sauvegarde": {**step, "taille_mo": 60.0},
            "suppression": {"duree_s": 80.0, "memoire_max_mo": 900.0},
            "restauration_apres_suppression": step,
            "restauration_base_vide": {"duree_s": 25.0, "memoire_max_mo": 120.0},
        },
        "complet": True,
    }

    table = sauvegarde.format_table(result)

    assert "Restauration dans une base vide" in table and "Rien de perdu" in table
    assert [met for _, _, met in sauvegarde.targets(result)] == [True, True, False, True]
