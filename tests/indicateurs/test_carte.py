"""The map of an indicator by quartier (indicateurs/carte.py) on the indicator's page: the
latest period holding values for the quartiers, classes computed from the values shown,
a value hidden by the secret statistique hatched and not derivable from the legend, and
a fixed number of queries."""

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comptes.roles import Role
from indicateurs import carte, secret
from indicateurs.models import Indicateur, Mesure, series
from tests.diagnostics.quartiers.test_carte import MONTLUCON, SVG, carre
from tests.factories import (
    DiagnosticFactory,
    MembreFactory,
    PilierFactory,
    QuartierFactory,
    UserFactory,
)
from tests.indicateurs_data import (
    BIEN_ASSIS,
    FONTBOUILLANT,
    RIVE_GAUCHE,
    mesure,
    qpv,
    quantitatif,
)

D = Decimal


@pytest.fixture
def diagnostic():
    diagnostic = DiagnosticFactory(public=True)
    PilierFactory(diagnostic=diagnostic)
    return diagnostic


@pytest.fixture
def quartiers(diagnostic):
    """Montluçon's three QPV in the edition, drawn side by side."""
    found = qpv(diagnostic)
    for index, quartier in enumerate(found.values()):
        quartier.contour = carre(MONTLUCON, cote=700, decalage=(1000 * index, 0))
        quartier.save()
    return found


def the_map(indicateur, user):
    mesures = series([indicateur], reperes=True)[indicateur.pk]
    hidden = secret.Secret(indicateur, mesures, user)
    quartiers = carte.quartiers_of(indicateur.diagnostic)
    return carte.choroplethe(indicateur, mesures, hidden, quartiers, indicateur.diagnostic)


def fills(found):
    """{quartier code: fill of its shape}."""
    root = ET.fromstring(str(found.svg))
    return {
        a.get("data-code"): a.find(f"{SVG}path").get("fill")
        for a in root.iter(f"{SVG}a")
        if a.get("data-code")
    }


def test_each_quartier_has_the_colour_of_its_class_in_the_latest_period(diagnostic, quartiers):
    indicateur = quantitatif(diagnostic, libelle="Taux de chômage")
    rive, font, bien = quartiers[RIVE_GAUCHE], quartiers[FONTBOUILLANT], quartiers[BIEN_ASSIS]
    mesure(indicateur, 2023, 50, rive)
    mesure(indicateur, 2023, 50, bien)
    mesure(indicateur, 2024, 12, rive)
    mesure(indicateur, 2024, 31, font)
    mesure(indicateur, 2025, 99)  # the whole territory's: not a quartier's value
    staff = UserFactory(role=Role.EQUIPE_VILLE, contrat=diagnostic.contrat)

    found = the_map(indicateur, staff)

    assert found.titre == "Taux de chômage par quartier — 2024"
    assert found.legende.note.startswith("Valeurs de 2024, la dernière période renseignée")
    labels = [libelle for _, libelle in found.legende.classes]
    assert labels == ["de 0 à moins de 20\u00a0%", "de 20 à 40\u00a0%"]
    colours = dict(found.legende.classes)
    assert set(colours) == set(carte.couleurs_of(len(labels)))
    by_code = fills(found)
    assert by_code[RIVE_GAUCHE] == found.legende.classes[0][0]
    assert by_code[FONTBOUILLANT] == found.legende.classes[-1][0]
    assert by_code[BIEN_ASSIS] == f"url(#carte-{indicateur.pk}-absent)"
    assert [(z.quartier.code, z.texte_valeur) for z in found.zones] == [
        (RIVE_GAUCHE, "12\u00a0%"),
        (FONTBOUILLANT, "31\u00a0%"),
        (BIEN_ASSIS, "pas de valeur"),
    ]
    assert "Bien-Assis (Montluçon) : pas de valeur" in found.description
    assert found.legende.motifs == [(f"carte-{indicateur.pk}-absent", "pas de valeur")]


def test_classes_are_round_and_at_most_five():
    valeurs = [D(v) for v in (1, 7, 13, 22, 38, 41, 56, 63, 77, 94)]
    classes = carte.classes_of(valeurs)
    assert 2 <= len(classes) <= 6
    assert classes[0][0] <= min(valeurs) and classes[-1][1] >= max(valeurs)
    for (_, haut), (bas, _) in zip(classes, classes[1:], strict=False):
        assert haut == bas
    assert len(carte.classes_of([D(3), D(4)])) == 2
    assert carte.classes_of([D(3), D(3)]) == [(D(3), D(3))]
    assert carte.classes_of([]) == []


@pytest.fixture
def compte(diagnostic, quartiers):
    return quantitatif(
        diagnostic, libelle="Jeunes accompagnés", unite="jeunes", compte_des_personnes=True
    )


def values_2024(compte, quartiers, rive):
    Mesure.objects.filter(indicateur=compte).delete()
    mesure(compte, 2024, 20 + rive + 40)
    mesure(compte, 2024, rive, quartiers[RIVE_GAUCHE])
    mesure(compte, 2024, 20, quartiers[FONTBOUILLANT])
    mesure(compte, 2024, 40, quartiers[BIEN_ASSIS])


@pytest.mark.parametrize("rive", [0, 2, 4])
def test_a_hidden_value_is_hatched_and_the_legend_says_nothing_of_it(compte, quartiers, rive):
    """Rive Gauche's count is under the threshold: a partner sees it hatched, with no
    value, in no class; the legend is the same whatever it is (0, 2 or 4)."""
    values_2024(compte, quartiers, rive)
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=compte.diagnostic.contrat)

    found = the_map(compte, partenaire)

    assert fills(found)[RIVE_GAUCHE] == f"url(#carte-{compte.pk}-secret)"
    zone = found.zones[0]
    assert (zone.valeur, zone.couleur, zone.texte_valeur) == (
        "",
        None,
        "valeur non diffusée (secret statistique)",
    )
    assert found.legende.classes == [
        ("#eff3ff", "de 20 à moins de 30\u00a0jeunes"),
        ("#08519c", "de 30 à 40\u00a0jeunes"),
    ]
    assert found.legende.classes == the_legend_without(compte, quartiers, partenaire)
    assert "Rive Gauche (Montluçon) : valeur non diffusée (secret statistique)" in (
        found.description
    )
    root = ET.fromstring(str(found.svg))
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert f"Rive Gauche ({RIVE_GAUCHE}) : valeur non diffusée (secret statistique)" in titles


def the_legend_without(compte, quartiers, user):
    """The legend of the same map with Rive Gauche's value removed."""
    saved = list(Mesure.objects.filter(indicateur=compte, quartier=quartiers[RIVE_GAUCHE]))
    Mesure.objects.filter(pk__in=[m.pk for m in saved]).delete()
    try:
        return the_map(compte, user).legende.classes
    finally:
        for m in saved:
            m.pk = None
            m.save()


def test_staff_see_every_value_coloured(compte, quartiers):
    values_2024(compte, quartiers, 2)
    staff = UserFactory(role=Role.EQUIPE_VILLE, contrat=compte.diagnostic.contrat)
    found = the_map(compte, staff)
    assert not any(zone.motif for zone in found.zones)
    assert [zone.valeur for zone in found.zones] == [
        "2\u00a0jeunes",
        "20\u00a0jeunes",
        "40\u00a0jeunes",
    ]
    assert found.legende.motifs == []


def page(client, indicateur):
    return client.get(
        reverse("indicateurs:detail", args=[indicateur.diagnostic.slug, indicateur.pk])
    )


def test_the_page_shows_the_map_of_a_quantitative_indicator(client, diagnostic, quartiers):
    indicateur = quantitatif(diagnostic, libelle="Taux de chômage")
    mesure(indicateur, 2024, 12, quartiers[RIVE_GAUCHE])

    html = page(client, indicateur).content.decode()

    assert '<h2 id="carte-titre">Carte par quartier</h2>' in html
    assert "css/cartes.css" in html
    fiche = reverse("fiche_quartier", kwargs={"slug": diagnostic.slug, "code": RIVE_GAUCHE})
    assert f'href="{fiche}"' in html
    assert "Valeurs de 2024, la dernière période renseignée pour les quartiers." in html


def test_no_map_without_outlines_or_for_a_qualitative_indicator(client, diagnostic):
    qpv(diagnostic)  # no outlines
    quanti = quantitatif(diagnostic)
    assert "Carte par quartier" not in page(client, quanti).content.decode()

    quartier = diagnostic.quartiers.first()
    quartier.contour = carre(MONTLUCON)
    quartier.save()
    quali = quantitatif(diagnostic, type=Indicateur.Type.QUALITATIF, unite="")
    assert "Carte par quartier" not in page(client, quali).content.decode()
    assert "Carte par quartier" in page(client, quanti).content.decode()


def count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert "Carte par quartier" in response.content.decode()
    return len(queries)


@pytest.mark.parametrize("role", [None, Role.PARTENAIRE, Role.EQUIPE_VILLE])
def test_the_page_with_its_map_runs_as_many_queries_with_more_quartiers(client, role):
    """3 quartiers with 2 years of values, then 12 quartiers with 6 years: the same count."""

    def built(nombre, annees):
        diagnostic = DiagnosticFactory(public=True)
        PilierFactory(diagnostic=diagnostic)
        found = [
            QuartierFactory(contour=carre(MONTLUCON, cote=400, decalage=(600 * i, 0)))
            for i in range(nombre)
        ]
        diagnostic.quartiers.set(found)
        indicateur = quantitatif(diagnostic, compte_des_personnes=True)
        for annee in range(2020, 2020 + annees):
            mesure(indicateur, annee, 100)
            for index, quartier in enumerate(found):
                mesure(indicateur, annee, 3 if index == 0 else 30 + index, quartier)
        return indicateur

    small, large = built(3, 2), built(12, 6)
    if role is not None:
        user = UserFactory(role=role, contrat=small.diagnostic.contrat)
        MembreFactory(contrat=large.diagnostic.contrat, compte=user, role=role)
        client.force_login(user)

    def url(indicateur):
        return reverse("indicateurs:detail", args=[indicateur.diagnostic.slug, indicateur.pk])

    assert count(client, url(small)) == count(client, url(large))
