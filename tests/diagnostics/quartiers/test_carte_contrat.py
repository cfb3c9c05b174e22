"""The contract's page shows the map of the quartiers of its latest edition the visitor
may read, each linked to its fiche quartier, with the list beside it; in a fixed number
of queries."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comptes.roles import Role
from diagnostics.editions.copy import start_edition
from tests.diagnostics.quartiers.test_carte import MONTLUCON, SVG, carre
from tests.factories import DiagnosticFactory, MembreFactory, QuartierFactory, UserFactory

INITIALE = "Diagnostic initial — mars 2024"
REVISION = "Révision à mi-parcours — 2027"


@pytest.fixture
def edition():
    """A published, public edition with two quartiers drawn and one without outline."""
    diagnostic = DiagnosticFactory(nom_edition=INITIALE, public=True)
    diagnostic.quartiers.add(
        QuartierFactory(code="QN00304M", nom="Rive Gauche", contour=carre(MONTLUCON)),
        QuartierFactory(
            code="QN00305M",
            nom="Fontbouillant",
            contour=carre(MONTLUCON, decalage=(1200, 0)),
            communes=["03185", "03211"],
        ),
        QuartierFactory(code="QN00306M", nom="Bien-Assis", contour=None),
    )
    return diagnostic


def person(role, contrat):
    if role is None:
        return AnonymousUser()
    return UserFactory(role=role, contrat=contrat)


def page(client, user, contrat):
    if user.is_authenticated:
        client.force_login(user)
    response = client.get(reverse("diagnostics:contrat", args=[contrat.slug]))
    assert response.status_code == 200
    return response.content.decode()


def svg_of(html):
    start = html.index("<svg", html.index('class="carte-dessin"'))
    return ET.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])


def fiche(edition, code):
    return reverse("fiche_quartier", kwargs={"slug": edition.slug, "code": code})


@pytest.mark.parametrize(
    "role", [None, Role.PARTENAIRE, Role.EQUIPE_VILLE, Role.ADMINISTRATEUR], ids=str
)
def test_every_reader_sees_the_map_with_links_to_the_fiches(client, edition, role):
    user = person(role, edition.contrat)
    html = page(client, user, edition.contrat)

    assert '<h2 id="quartiers-titre">Quartiers prioritaires</h2>' in html
    root = svg_of(html)
    links = [a for a in root.iter(f"{SVG}a") if a.get("tabindex") != "-1"]
    assert [a.get("href") for a in links] == [
        fiche(edition, "QN00304M"),
        fiche(edition, "QN00305M"),
    ]
    assert [a.find(f"{SVG}title").text for a in links] == [
        "Rive Gauche (QN00304M)",
        "Fontbouillant (QN00305M)",
    ]
    assert "Fontbouillant (Montluçon, Prémilhat)" in root.find(f"{SVG}desc").text
    # The list beside the map: every quartier, the one without outline said so.
    assert f'<a href="{fiche(edition, "QN00306M")}">Bien-Assis</a>' in html
    assert "(contour non connu, non dessiné)" in html
    assert "css/cartes.css" in html
    choisir = reverse("diagnostics:quartiers_contrat", args=[edition.contrat.slug])
    assert (choisir in html) == (role == Role.ADMINISTRATEUR)


def test_staff_see_the_draft_quartiers_partners_the_published_ones(client, edition):
    paul = UserFactory(role=Role.ADMINISTRATEUR, contrat=edition.contrat)
    revision = start_edition(
        edition.contrat, nom=REVISION, date=datetime.date(2027, 3, 15), user=paul
    )
    revision.quartiers.add(
        QuartierFactory(code="QN00399M", nom="Les Îles", contour=carre(MONTLUCON, cote=300))
    )

    staff = page(client, paul, edition.contrat)
    assert f"Les quartiers de l’édition « {REVISION} » (brouillon)" in staff
    assert fiche(revision, "QN00399M") in staff

    client.logout()
    partenaire = person(Role.PARTENAIRE, edition.contrat)
    public = page(client, partenaire, edition.contrat)
    assert f"Les quartiers de l’édition « {INITIALE} »" in public
    assert "Les Îles" not in public and revision.slug not in public


def test_another_contract_never_shows(client, edition):
    other = DiagnosticFactory(nom_edition="Autre contrat")
    other.quartiers.add(QuartierFactory(code="QN09999M", nom="Ailleurs", contour=carre(MONTLUCON)))
    html = page(client, person(Role.EQUIPE_VILLE, edition.contrat), edition.contrat)
    assert "Ailleurs" not in html and "QN09999M" not in html
    client.force_login(person(Role.EQUIPE_VILLE, edition.contrat))
    response = client.get(reverse("diagnostics:contrat", args=[other.contrat.slug]))
    assert response.status_code == 404


def test_without_outlines_the_list_stays_and_without_quartiers_it_says_so(client):
    diagnostic = DiagnosticFactory(public=True)
    html = page(client, AnonymousUser(), diagnostic.contrat)
    assert "Aucun quartier prioritaire n’est encore rattaché à ce contrat." in html
    assert "carte-dessin" not in html

    diagnostic.quartiers.add(QuartierFactory(code="QN00304M", nom="Rive Gauche", contour=None))
    html = page(client, AnonymousUser(), diagnostic.contrat)
    assert f'<a href="{fiche(diagnostic, "QN00304M")}">Rive Gauche</a>' in html
    assert "Les contours de ces quartiers ne sont pas connus" in html
    assert "carte-dessin" not in html and "css/cartes.css" not in html


@pytest.mark.parametrize("role", [None, Role.PARTENAIRE, Role.ADMINISTRATEUR], ids=str)
def test_the_map_costs_the_same_queries_with_ten_times_more_quartiers(client, role):
    def contrat_of(nombre):
        diagnostic = DiagnosticFactory(public=True)
        diagnostic.quartiers.add(
            *(
                QuartierFactory(
                    contour=carre(MONTLUCON, cote=400, decalage=(500 * (i % 6), 500 * (i // 6))),
                    communes=["03185", f"03{100 + i:03d}"],
                )
                for i in range(nombre)
            )
        )
        return diagnostic.contrat

    small, large = contrat_of(3), contrat_of(30)
    if role is not None:
        user = UserFactory(role=role, contrat=small)
        MembreFactory(contrat=large, compte=user, role=role)
        client.force_login(user)

    def count(contrat):
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("diagnostics:contrat", args=[contrat.slug])).content
        assert b"carte-dessin" in html
        return len(queries)

    assert count(small) == count(large)
