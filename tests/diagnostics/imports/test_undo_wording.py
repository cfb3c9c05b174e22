"""The undo of an import names what it counts (diagnostics.imports.undo.counted): values
are "valeurs d'indicateurs", difficulties "difficultés"…, never "éléments"."""

import pytest
from django.urls import reverse

from diagnostics.imports import undo
from indicateurs.models import Indicateur
from tests.diagnostics.imports.test_undo import SEED_SIZE, import_seed, import_values
from tests.factories import (
    ContratFactory,
    DiagnosticFactory,
    IndicateurFactory,
    QuartierFactory,
    SousThemeFactory,
)


@pytest.fixture
def contrat():
    """The contract Sophie (`admin`) administers, of its own."""
    return ContratFactory()


@pytest.fixture
def indicateur(contrat):
    diagnostic = DiagnosticFactory(contrat=contrat)
    diagnostic.quartiers.set([QuartierFactory(code="QN00304M", nom="Rive Gauche")])
    return IndicateurFactory(
        sous_theme=SousThemeFactory(theme__pilier__diagnostic=diagnostic),
        libelle="Taux de chômage des 15-64 ans",
        type=Indicateur.Type.QUANTITATIF,
        periodicite=Indicateur.Periodicite.ANNUELLE,
    )


def test_the_refusal_counts_values_as_values(client, admin, indicateur):
    first = import_values(
        indicateur,
        (indicateur.libelle, "QN00304M", "2022", "22,5"),
        (indicateur.libelle, "QN00304M", "2023", "21"),
    )
    import_values(indicateur, (indicateur.libelle, "QN00304M", "2022", "23"))

    page = client.get(reverse("diagnostics:import_annuler", args=[first.pk])).content.decode()
    with pytest.raises(undo.UndoRefused) as refused:
        undo.undo(first, admin)

    expected = (
        "depuis cet import, ce qu’il a écrit a été modifié ou complété (1 valeur d’indicateur)"
    )
    assert expected in page.replace("&#x27;", "’")
    assert "(1 valeur d'indicateur)" in refused.value.message
    assert "élément" not in refused.value.message
    assert "élément" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_the_undo_page_counts_each_kind(client, admin, indicateur):
    record = import_values(
        indicateur,
        (indicateur.libelle, "QN00304M", "2022", "22,5"),
        (indicateur.libelle, "QN00304M", "2023", "21"),
    )

    page = client.get(reverse("diagnostics:import_annuler", args=[record.pk])).content.decode()

    assert (
        "L’annulation supprimera ce que l&#x27;import a créé (2 valeurs d&#x27;indicateurs)."
        in page
    )


@pytest.mark.django_db
def test_a_source_table_is_counted_by_level_and_kind():
    record = import_seed(DiagnosticFactory())
    piliers, themes, sous_themes, difficultes, indicateurs = SEED_SIZE

    assert undo.plan(record).what_undo_does() == (
        f"supprimera ce que l'import a créé ({piliers} piliers, {themes} thèmes, "
        f"{sous_themes} sous-thèmes, {difficultes} difficultés et {indicateurs} indicateurs)"
    )


def test_counted_joins_in_french():
    item = undo.Item
    assert undo.counted([]) == ""
    assert undo.counted([item("difficulte", 1, "", None)]) == "1 difficulté"
    assert (
        undo.counted([item("mesure", 1, "", None), item("indicateur", 2, "", None)])
        == "1 indicateur et 1 valeur d'indicateur"
    )
