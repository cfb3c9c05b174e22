"""The kinds of a diagnostic are declared once (diagnostics.kinds), each application
registering its own; everything that lists kinds reads the registry."""

import pytest
from django.urls import reverse

from diagnostics import kinds
from diagnostics.converters import ModeleConverter, NatureConverter, NiveauConverter
from diagnostics.imports import natures
from diagnostics.models import Difficulte, Import, Pilier, SousTheme, Theme
from indicateurs.models import Indicateur, Mesure, periode_libelle
from tests.factories import IndicateurFactory, MesureFactory, QuartierFactory


def keys(found):
    return [kind.key for kind in found]


def test_the_levels_then_the_items_then_their_values_in_the_order_of_their_apps():
    assert keys(kinds.all_kinds()) == [
        "pilier",
        "theme",
        "sous_theme",
        "difficulte",
        "indicateur",
        "mesure",
    ]
    assert keys(kinds.items()) == ["difficulte", "indicateur"]
    assert [kind.model for kind in kinds.structure()] == [
        Pilier,
        Theme,
        SousTheme,
        Difficulte,
        Indicateur,
    ]


def test_what_hangs_from_each_kind_and_goes_with_it():
    assert [(k.key, attname) for k, attname in kinds.children(kinds.get("theme"))] == [
        ("sous_theme", "theme_id"),
        ("difficulte", "theme_id"),
        ("indicateur", "theme_id"),
    ]
    assert keys(kinds.below(kinds.get("theme"))) == [
        "sous_theme",
        "difficulte",
        "indicateur",
        "mesure",
    ]
    assert keys(kinds.below(kinds.get("indicateur"))) == ["mesure"]
    assert kinds.below(kinds.get("difficulte")) == []


def test_a_kind_is_found_from_its_model_its_objects_its_history_and_its_urls():
    indicateur = IndicateurFactory()

    assert kinds.of(Indicateur).key == "indicateur"
    assert kinds.of(indicateur).key == "indicateur"
    assert kinds.of(indicateur.history.first()).key == "indicateur"
    assert kinds.by_nature("difficultes").model is Difficulte
    assert kinds.by_slug("sous-theme").model is SousTheme
    assert kinds.by_nature("mesures") is None


def test_the_french_words_of_each_kind():
    difficulte, indicateur = kinds.get("difficulte"), kinds.get("indicateur")

    assert difficulte.titre == "Difficultés prégnantes"
    assert indicateur.titre == "Indicateurs"
    assert difficulte.aucun == "Aucune difficulté renseignée."
    assert indicateur.aucun == "Aucun indicateur renseigné."
    assert kinds.get("mesure").titre == "Valeurs d'indicateurs"
    assert difficulte.nom.compte(1) == "1 difficulté"
    assert indicateur.nom.compte(3) == "3 indicateurs"


def test_a_kind_is_declared_only_once():
    with pytest.raises(ValueError, match="already"):
        kinds.register(
            kinds.Kind(
                key="objectif",
                model=Difficulte,
                nom=kinds.get("difficulte").nom,
                category=kinds.ITEM,
                slug="objectif",
                nature="objectifs",
            )
        )
    with pytest.raises(ValueError, match="register its item"):
        kinds.register(
            kinds.Kind(
                key="cible",
                model=object,
                nom=kinds.get("mesure").nom,
                category=kinds.VALUE,
                slug="cible",
                parent="objectif",
            )
        )
    assert "objectif" not in keys(kinds.all_kinds())


def test_urls_name_kinds_and_give_the_views_the_kind():
    assert NatureConverter().regex == "difficultes|indicateurs"
    assert ModeleConverter().regex == "pilier|theme|sous\\-theme|difficulte|indicateur"
    assert NiveauConverter().regex == "themes|sous\\-themes"
    assert NatureConverter().to_python("indicateurs") is kinds.get("indicateur")
    with pytest.raises(ValueError):
        NatureConverter().to_python("mesures")
    assert reverse(
        "diagnostics:element_modifier", args=["montlucon", kinds.get("difficulte"), 4]
    ) == reverse("diagnostics:element_modifier", args=["montlucon", "difficultes", 4])


def test_each_nature_of_import_has_its_importer():
    assert [nature.key for nature in natures.all_natures()] == [
        Import.Nature.DIAGNOSTIC,
        Import.Nature.MESURES,
    ]
    assert natures.get(Import.Nature.DIAGNOSTIC).creates_diagnostic
    assert not natures.get(Import.Nature.MESURES).creates_diagnostic
    assert natures.get("inconnue") is None


@pytest.mark.parametrize(
    ("type_periode", "numero"),
    [("annee", 0), ("trimestre", 2), ("mois", 3), ("mois", 11)],
)
def test_the_database_names_a_value_as_the_site_does(type_periode, numero):
    quartier = QuartierFactory(nom="Fontbouillant")
    for lieu in (quartier, None):
        MesureFactory(
            annee=2025, type_periode=type_periode, numero_periode=numero, quartier=lieu, valeur=1
        )

    details = sorted(
        Mesure.objects.annotate(detail=kinds.get("mesure").detail()).values_list(
            "detail", flat=True
        )
    )

    periode = periode_libelle(2025, type_periode, numero)
    assert details == sorted([f"{periode} — Fontbouillant", f"{periode} — ensemble du territoire"])
