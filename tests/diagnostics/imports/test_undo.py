"""The import history and undo: each import recorded; undone unless edited since."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comptes.roles import Role
from diagnostics.imports import import_source_table, undo
from diagnostics.models import Difficulte, Import, Pilier, SousTheme, Theme, import_change_reason
from indicateurs.imports import import_measures
from indicateurs.models import Indicateur, Mesure
from tests.conftest import SEED
from tests.factories import (
    ContratFactory,
    DiagnosticFactory,
    DifficulteFactory,
    IndicateurFactory,
    MembreFactory,
    QuartierFactory,
    SousThemeFactory,
    UserFactory,
)

HEADER = "Pilier\tThème\tSous-thème\tDifficultés prégnantes\tIndicateur\n"


@pytest.fixture
def contrat():
    """The contract Sophie (`admin`) administers: one of its own, empty, so that the only
    imports are the tests' (a test on Montluçon's import makes her its Administrateur too,
    `administer`)."""
    return ContratFactory()


def administer(user, diagnostic):
    MembreFactory(contrat=diagnostic.contrat, compte=user, role=Role.ADMINISTRATEUR)
    return diagnostic


def import_seed(diagnostic, user=None):
    report = import_source_table(diagnostic, SEED.name, SEED.read_bytes(), user=user)
    assert report.ok, report.as_lines()
    return report.import_record


def tree_size(diagnostic):
    return (
        Pilier.objects.filter(diagnostic=diagnostic).count(),
        Theme.objects.filter(pilier__diagnostic=diagnostic).count(),
        SousTheme.objects.filter(theme__pilier__diagnostic=diagnostic).count(),
        Difficulte.objects.du_diagnostic(diagnostic).count(),
        Indicateur.objects.du_diagnostic(diagnostic).count(),
    )


SEED_SIZE = (3, 11, 27, 45, 18)


# The record -----------------------------------------------------------------------------


def test_each_import_is_recorded_with_its_file_its_author_and_its_counts(admin):
    diagnostic = DiagnosticFactory()

    record = import_seed(diagnostic, user=admin)

    assert record.nom_fichier == SEED.name
    assert record.taille == len(SEED.read_bytes())
    assert len(record.sha256) == 64
    assert record.importe_par == admin
    assert record.created_at is not None
    assert record.compte_rendu["counts"]["pilier"] == {"created": 3, "unchanged": 0}
    assert [warning["line"] for warning in record.compte_rendu["warnings"]] == [11, 13, 14, 33]


def test_what_an_import_creates_points_to_it_and_names_its_file(montlucon):
    record = Import.objects.get(diagnostic=montlucon)
    reason = import_change_reason(record)

    assert reason == "Import du fichier « diagnostic-montlucon.tsv »"
    for model in (Pilier, Theme, SousTheme, Difficulte, Indicateur):
        rows = model.history.filter(history_type="+")
        assert rows.exists()
        assert set(rows.values_list("import_source", "history_change_reason")) == {
            (record.pk, reason)
        }


def test_the_history_page_lists_the_imports(client, admin, contrat):
    diagnostic = DiagnosticFactory(titre="Diagnostic de Montluçon", contrat=contrat)
    record = import_seed(diagnostic, user=admin)

    page = client.get(reverse("diagnostics:imports")).content.decode()

    assert reverse("diagnostics:import_detail", args=[record.pk]) in page
    assert SEED.name in page
    assert "Diagnostic de Montluçon" in page
    assert "Sophie Durand" in page
    assert "104 éléments créés" in page
    assert "En place" in page


def test_an_import_page_links_to_what_it_created(client, admin, montlucon):
    administer(admin, montlucon)
    record = Import.objects.get(diagnostic=montlucon)
    sous_theme = SousTheme.objects.get(libelle="Programme de Réussite Éducative")
    theme_level = Difficulte.objects.du_diagnostic(montlucon).filter(theme__isnull=False).first()

    page = client.get(reverse("diagnostics:import_detail", args=[record.pk])).content.decode()

    assert record.sha256 in page
    assert "Piliers (3)" in page
    assert "Sous-thèmes (27)" in page
    assert "Difficultés prégnantes (45)" in page
    assert f'<a href="{sous_theme.get_absolute_url()}">Programme de Réussite Éducative</a>' in page
    pilier_url = theme_level.theme.pilier.get_absolute_url()
    assert f'href="{pilier_url}#theme-{theme_level.theme_id}"' in page
    assert "ligne décalée d&#x27;une colonne" in page  # its warnings
    assert reverse("diagnostics:import_annuler", args=[record.pk]) in page


def test_a_large_import_lists_its_first_objects_and_counts_them_all(
    client, admin, montlucon, monkeypatch
):
    administer(admin, montlucon)
    monkeypatch.setattr(undo, "DISPLAY_LIMIT", 5)
    record = Import.objects.get(diagnostic=montlucon)

    page = client.get(reverse("diagnostics:import_detail", args=[record.pk])).content.decode()

    assert "Sous-thèmes (27)" in page
    assert "… et 22 autres, non affichés ici." in page
    assert "Difficultés prégnantes (45)" in page
    assert "… et 45 autres, non affichés ici." in page


def test_the_imports_of_another_contract_are_neither_listed_nor_shown_nor_undone(
    client, admin, contrat
):
    """Sophie administers her contract only: another contract's imports do not exist for
    her, even where she is of the Équipe ville and reads the diagnostic."""
    mine = import_seed(DiagnosticFactory(titre="Diagnostic de Montluçon", contrat=contrat))
    vichy = DiagnosticFactory(titre="Diagnostic de Vichy", public=True)
    MembreFactory(contrat=vichy.contrat, compte=admin, role=Role.EQUIPE_VILLE)
    bruno = UserFactory(
        first_name="Bruno", last_name="Vichyssois", role=Role.ADMINISTRATEUR, contrat=vichy.contrat
    )
    theirs = import_seed(vichy, user=bruno)

    page = client.get(reverse("diagnostics:imports")).content.decode()

    assert reverse("diagnostics:import_detail", args=[mine.pk]) in page
    assert "Diagnostic de Montluçon" in page
    assert reverse("diagnostics:import_detail", args=[theirs.pk]) not in page
    assert "Diagnostic de Vichy" not in page
    assert "Bruno Vichyssois" not in page
    detail = reverse("diagnostics:import_detail", args=[theirs.pk])
    annuler = reverse("diagnostics:import_annuler", args=[theirs.pk])
    assert client.get(detail).status_code == 404
    assert client.get(annuler).status_code == 404
    assert client.post(annuler).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.annule_le, theirs.annule_par) == (None, None)
    assert tree_size(vichy) == SEED_SIZE
    # Bruno, who administers Vichy, reaches them.
    client.force_login(bruno)
    assert client.get(detail).status_code == 200
    assert client.get(annuler).status_code == 200


# Undo -------------------------------------------------------------------------------------


def test_undoing_an_import_removes_what_it_created(client, admin, contrat):
    diagnostic = DiagnosticFactory(contrat=contrat)
    record = import_seed(diagnostic)
    assert tree_size(diagnostic) == SEED_SIZE

    response = client.post(reverse("diagnostics:import_annuler", args=[record.pk]))

    assert response["Location"] == reverse("diagnostics:import_detail", args=[record.pk])
    assert tree_size(diagnostic) == (0, 0, 0, 0, 0)
    record.refresh_from_db()
    assert record.annule_par == admin
    assert record.annule_le is not None
    page = client.get(response["Location"]).content.decode()
    assert (
        "Import annulé : suppression de 3 piliers, 11 thèmes, 27 sous-thèmes, 45 difficultés"
        " et 18 indicateurs." in page
    )
    assert "Annulé</span> le" in page
    assert "Annuler cet import" not in page
    # The history of the undo points to the import, and names its file.
    deleted = Pilier.history.filter(history_type="-")
    assert set(deleted.values_list("annulation_de", "history_change_reason")) == {
        (record.pk, f"Annulation de l'import du fichier « {record.nom_fichier} »")
    }
    assert set(deleted.values_list("history_user", flat=True)) == {admin.pk}


def test_an_undone_import_can_be_imported_again(admin):
    diagnostic = DiagnosticFactory()
    first = import_seed(diagnostic)
    undo.undo(first, admin)

    second = import_seed(diagnostic)

    assert second.pk != first.pk
    assert tree_size(diagnostic) == SEED_SIZE


def test_an_import_cannot_be_undone_twice(client, admin, contrat):
    diagnostic = DiagnosticFactory(contrat=contrat)
    record = import_seed(diagnostic)
    undo.undo(record, admin)
    import_seed(diagnostic)  # the same file again, after the undo

    with pytest.raises(undo.UndoRefused, match="Cet import a déjà été annulé le"):
        undo.undo(record, admin)
    response = client.post(reverse("diagnostics:import_annuler", args=[record.pk]))

    assert tree_size(diagnostic) == SEED_SIZE
    assert "Cet import a déjà été annulé le" in response.content.decode()


def test_the_undo_is_refused_while_an_item_was_edited_since(client, admin, montlucon):
    administer(admin, montlucon)
    record = Import.objects.get(diagnostic=montlucon)
    edited = Difficulte.objects.du_diagnostic(montlucon).order_by("pk").first()
    edited.libelle = "Un libellé corrigé par l'équipe"
    edited.save()

    page = client.get(reverse("diagnostics:import_annuler", args=[record.pk])).content.decode()
    response = client.post(reverse("diagnostics:import_annuler", args=[record.pk]))

    assert "Annulation impossible" in page
    assert "Un libellé corrigé par l&#x27;équipe" in page
    assert "modifié depuis" in page
    assert "Annuler l’import</button>" not in page
    assert "Annulation impossible" in response.content.decode()
    assert tree_size(montlucon) == SEED_SIZE
    record.refresh_from_db()
    assert record.annule_le is None


def test_the_undo_is_refused_while_something_was_added_under_what_it_created(admin, montlucon):
    record = Import.objects.get(diagnostic=montlucon)
    sous_theme = SousTheme.objects.get(libelle="Programme de Réussite Éducative")
    added = DifficulteFactory(sous_theme=sous_theme, libelle="Constat ajouté par l'équipe")

    plan = undo.plan(record)
    with pytest.raises(undo.UndoRefused) as refused:
        undo.undo(record, admin)

    assert [(item.kind, item.id, item.note) for item in plan.conflicts] == [
        ("difficulte", added.pk, "ajouté depuis, sous un élément de l'import")
    ]
    assert plan.conflicts[0].url == sous_theme.get_absolute_url()
    assert refused.value.message.startswith("Annulation impossible")
    assert Difficulte.objects.filter(pk=added.pk).exists()
    assert tree_size(montlucon) == (3, 11, 27, 46, 18)


def test_the_undo_is_refused_while_something_it_created_was_deleted_since(admin, montlucon):
    record = Import.objects.get(diagnostic=montlucon)
    Indicateur.objects.du_diagnostic(montlucon).order_by("pk").first().delete()

    plan = undo.plan(record)

    assert [(item.kind, item.note, item.url) for item in plan.conflicts] == [
        ("indicateur", "supprimé depuis", None)
    ]


def test_the_undo_is_refused_while_something_it_created_was_saved_without_history(admin, montlucon):
    record = Import.objects.get(diagnostic=montlucon)
    theme = Theme.objects.get(libelle="Éducation")
    Theme.objects.filter(pk=theme.pk).update(version=F("version") + 1)

    plan = undo.plan(record)

    assert [(item.kind, item.label, item.note) for item in plan.conflicts] == [
        ("theme", "Éducation", "modifié depuis")
    ]
    assert plan.conflicts[0].url == f"{theme.pilier.get_absolute_url()}#theme-{theme.pk}"


# Imports of measures ------------------------------------------------------------------------


@pytest.fixture
def indicateur(contrat):
    quartier = QuartierFactory(code="QN00304M", nom="Rive Gauche")
    diagnostic = DiagnosticFactory(contrat=contrat)
    diagnostic.quartiers.set([quartier])
    return IndicateurFactory(
        sous_theme=SousThemeFactory(theme__pilier__diagnostic=diagnostic),
        libelle="Taux de chômage des 15-64 ans",
        type=Indicateur.Type.QUANTITATIF,
        periodicite=Indicateur.Periodicite.ANNUELLE,
    )


def measures_file(*rows):
    lines = ["Indicateur;Quartier;Année;Valeur", *(";".join(row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def import_values(indicateur, *rows, user=None):
    diagnostic = indicateur.sous_theme.theme.pilier.diagnostic
    report = import_measures(diagnostic, "valeurs.csv", measures_file(*rows), user=user)
    assert report.ok, report.as_lines()
    return report.import_record


def test_undoing_an_import_of_measures_restores_what_it_changed(client, admin, indicateur):
    rive_gauche = indicateur.sous_theme.theme.pilier.diagnostic.quartiers.get()
    before = Mesure.objects.create(
        indicateur=indicateur, annee=2022, quartier=rive_gauche, valeur=Decimal("20.5")
    )
    record = import_values(
        indicateur,
        (indicateur.libelle, "QN00304M", "2022", "22,5"),
        (indicateur.libelle, "QN00304M", "2023", "19"),
    )
    before.refresh_from_db()
    assert before.valeur == Decimal("22.5")
    assert Mesure.objects.count() == 2

    page = client.get(reverse("diagnostics:import_detail", args=[record.pk])).content.decode()
    response = client.post(reverse("diagnostics:import_annuler", args=[record.pk]))

    assert "Valeurs d&#x27;indicateurs (1)" in page  # one created, one changed
    assert "Ce que l’import a modifié" in page
    assert "2022 — Rive Gauche" in page
    after = Mesure.objects.get()
    assert after.pk == before.pk
    assert after.valeur == Decimal("20.5")
    assert after.version == before.version + 1
    assert (
        "Import annulé : suppression de 1 valeur d&#x27;indicateur ; rétablissement de 1 valeur"
        " d&#x27;indicateur." in client.get(response["Location"]).content.decode()
    )


def test_a_measure_changed_by_a_later_import_blocks_the_undo(admin, indicateur):
    first = import_values(indicateur, (indicateur.libelle, "QN00304M", "2022", "22,5"))
    second = import_values(indicateur, (indicateur.libelle, "QN00304M", "2022", "23"))

    plan = undo.plan(first)

    assert [item.note for item in plan.conflicts] == [f"modifié depuis par l'import n° {second.pk}"]
    undo.undo(second, admin)
    undo.undo(first, admin)
    assert not Mesure.objects.exists()


def test_measures_recorded_under_an_indicator_an_import_created_block_its_undo(admin):
    diagnostic = DiagnosticFactory()
    record = import_seed(diagnostic)
    indicateur = Indicateur.objects.du_diagnostic(diagnostic).order_by("pk").first()
    Mesure.objects.create(indicateur=indicateur, annee=2023, texte="Constat")

    plan = undo.plan(record)

    assert [(item.kind, item.note) for item in plan.conflicts] == [
        ("mesure", "ajouté depuis, sous un élément de l'import")
    ]


# Query counts -----------------------------------------------------------------------------


def source_table(scale):
    """A table of 3 piliers, 3 × scale thèmes each, 2 sous-thèmes, 2 items of each kind."""
    rows = [HEADER]
    for pilier in range(1, 4):
        for theme in range(3 * scale):
            for sous_theme in range(2):
                rows.append(
                    f"{pilier} Pilier {pilier}\tThème {theme}\tSous-thème {sous_theme}\t"
                    f"- Difficulté {theme}-{sous_theme} a\\n- Difficulté {theme}-{sous_theme} b\t"
                    f"- Indicateur {theme}-{sous_theme} a - Indicateur {theme}-{sous_theme} b\n"
                )
    return "".join(rows).encode()


def page_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


PAGES = {
    "imports": (lambda record: reverse("diagnostics:imports"), 5),
    "import_detail": (lambda record: reverse("diagnostics:import_detail", args=[record.pk]), 6),
    "import_annuler": (lambda record: reverse("diagnostics:import_annuler", args=[record.pk]), 7),
}


def test_the_import_pages_run_as_many_queries_for_a_large_import_as_for_a_small_one(client, admin):
    counts = {}
    for scale in (1, 10):
        diagnostic = administer(admin, DiagnosticFactory())
        report = import_source_table(diagnostic, "tableau.tsv", source_table(scale))
        assert report.ok, report.as_lines()
        for _ in range(scale):  # the history holds ten times more imports
            other = administer(admin, DiagnosticFactory())
            import_source_table(other, "autre.tsv", source_table(1))
        counts[scale] = {
            name: page_queries(client, url_of(report.import_record))
            for name, (url_of, _) in PAGES.items()
        }
    expected = {name: count for name, (_, count) in PAGES.items()}
    assert max(expected.values()) <= 10
    assert counts[1] == expected
    assert counts[10] == expected
