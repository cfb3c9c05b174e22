"""The pilier and sous-thème pages put reading first: each source cell is linked once,
after the run of items made from it (diagnostics.queries.mark_source_runs), and the
Équipe ville finds every action of an item, a sous-thème or a thème in one "Actions"
disclosure, which works without JavaScript."""

import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comptes.roles import Role
from diagnostics import kinds
from diagnostics.models import Difficulte
from tests.factories import (
    CelluleSourceFactory,
    ContratFactory,
    DifficulteFactory,
    ImportFactory,
    IndicateurFactory,
    PilierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)


@pytest.fixture
def contrat():
    return ContratFactory()


@pytest.fixture
def place(contrat):
    """A pilier, its thème « Santé » and its sous-thème « Accès aux soins », and an import."""
    pilier = PilierFactory(numero=1, libelle="Cohésion sociale", diagnostic__contrat=contrat)
    sante = ThemeFactory(pilier=pilier, libelle="Santé", position=0)
    acces = SousThemeFactory(theme=sante, libelle="Accès aux soins", position=0)
    ImportFactory(diagnostic=pilier.diagnostic)
    return pilier, sante, acces


def cellule(pilier, ligne):
    return CelluleSourceFactory(import_source=pilier.diagnostic.imports.get(), ligne=ligne)


def difficultes(sous_theme, *sources, theme=None):
    """One difficulté per source cell given (None: typed, without a cell), in this order."""
    start = Difficulte.objects.count()
    return [
        DifficulteFactory(
            sous_theme=None if theme else sous_theme,
            theme=theme,
            libelle=f"Difficulté {start + index}",
            source=source,
        )
        for index, source in enumerate(sources)
    ]


def pilier_url(pilier):
    return reverse("diagnostics:pilier", args=[pilier.diagnostic.slug, pilier.numero])


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Page(HTMLParser):
    """The items of a page (`<li class="element ...">`: id, text of its source link, href)
    and its "Actions" menus (summary text; links, forms and buttons inside)."""

    def __init__(self):
        super().__init__()
        self.items, self.menus, self._stack = [], [], []
        self._in_source = self._in_summary = self._in_action = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "li" and "element" in classes:
            self.items.append({"id": attrs["id"], "source": None, "href": None})
        elif tag == "a" and "lien-source" in classes:
            self.items[-1].update(source="", href=attrs["href"])
            self._in_source = True
        elif tag == "details" and "menu-actions" in classes:
            self.menus.append({"summary": "", "links": [], "forms": [], "item": None})
            if self.items and self._stack.count("li-element"):
                self.menus[-1]["item"] = self.items[-1]["id"]
        elif tag == "summary" and self.menus:
            self._in_summary = True
        elif self.menus and tag == "a" and self._in_open_menu():
            self.menus[-1]["links"].append([attrs["href"], ""])
            self._in_action = "link"
        elif self.menus and tag == "form" and self._in_open_menu():
            self.menus[-1]["forms"].append({"action": attrs["action"], "method": attrs["method"]})
            self.menus[-1]["forms"][-1]["fields"] = {}
            self.menus[-1]["forms"][-1]["buttons"] = []
        elif self.menus and tag == "input" and self._in_open_menu():
            self.menus[-1]["forms"][-1]["fields"][attrs["name"]] = attrs["value"]
        elif self.menus and tag == "button" and self._in_open_menu():
            self.menus[-1]["forms"][-1]["buttons"].append([attrs["name"], attrs["value"], ""])
            self._in_action = "button"
        if tag not in VOID:
            self._stack.append(
                "li-element"
                if tag == "li" and "element" in classes
                else "details"
                if tag == "details"
                else tag
            )

    def _in_open_menu(self):
        return "details" in self._stack

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self._stack:
            self._stack.pop()
        if tag == "a":
            self._in_source = False
            if self._in_action == "link":
                self._in_action = False
        elif tag == "summary":
            self._in_summary = False
        elif tag == "button":
            self._in_action = False

    def handle_data(self, data):
        if self._in_source:
            self.items[-1]["source"] += data
        if self._in_summary:
            self.menus[-1]["summary"] += data
        if self._in_action == "link":
            self.menus[-1]["links"][-1][1] += data
        elif self._in_action == "button":
            self.menus[-1]["forms"][-1]["buttons"][-1][2] += data


def parse(response):
    assert response.status_code == 200
    page = _Page()
    page.feed(response.content.decode())
    return page


# The source link, once per run of items of a cell ------------------------------------


def test_a_cell_of_many_items_is_linked_once_after_its_last_item(client, place, partenaire):
    pilier, sante, acces = place
    cell = cellule(pilier, 11)
    items = difficultes(acces, *[cell] * 13)
    assert Difficulte.objects.filter(source=cell).count() == 13
    client.force_login(partenaire)

    page = parse(client.get(pilier_url(pilier)))

    sources = [item for item in page.items if item["source"] is not None]
    url = reverse("diagnostics:source", args=[pilier.diagnostic.slug, cell.pk])
    assert sources == [
        {
            "id": f"difficulte-{items[-1].pk}",
            "source": "Source des 13 difficultés ci-dessus : ligne 11",
            "href": url,
        }
    ]


def test_each_run_of_consecutive_items_of_one_level_and_kind_gets_its_own_link(
    client, place, partenaire
):
    pilier, sante, acces = place
    a, b = cellule(pilier, 4), cellule(pilier, 5)
    # A, A, A, B, typed, A, A: four runs (the typed item links nothing and cuts the run).
    items = difficultes(acces, a, a, a, b, None, a, a)
    # The same cell at another level (the thème's own) and for another kind: their own runs.
    theme_level = difficultes(None, a, a, theme=sante)
    indicateur = IndicateurFactory(sous_theme=acces, libelle="Nombre de médecins", source=a)
    # Another sous-thème of the same cell: its own run too.
    autre = SousThemeFactory(theme=sante, libelle="Prévention", position=1)
    other_level = difficultes(autre, a)
    client.force_login(partenaire)

    page = parse(client.get(pilier_url(pilier)))

    linked = {item["id"]: item["source"] for item in page.items if item["source"] is not None}
    assert linked == {
        f"difficulte-{theme_level[1].pk}": "Source des 2 difficultés ci-dessus : ligne 4",
        f"difficulte-{items[2].pk}": "Source des 3 difficultés ci-dessus : ligne 4",
        f"difficulte-{items[3].pk}": "Source : ligne 5",
        f"difficulte-{items[6].pk}": "Source des 2 difficultés ci-dessus : ligne 4",
        f"indicateur-{indicateur.pk}": "Source : ligne 4",
        f"difficulte-{other_level[0].pk}": "Source : ligne 4",
    }


def test_the_runs_follow_the_order_of_the_page_not_of_creation(client, place, partenaire):
    pilier, sante, acces = place
    a, b = cellule(pilier, 4), cellule(pilier, 5)
    first, second, third = difficultes(acces, a, b, a)
    # Staff move the third one up: A, A, B.
    third.position, second.position = second.position, third.position
    Difficulte.objects.bulk_update([second, third], ["position"])
    client.force_login(partenaire)

    page = parse(client.get(pilier_url(pilier)))

    linked = {item["id"]: item["source"] for item in page.items if item["source"] is not None}
    assert linked == {
        f"difficulte-{third.pk}": "Source des 2 difficultés ci-dessus : ligne 4",
        f"difficulte-{second.pk}": "Source : ligne 5",
    }


def test_the_sous_theme_page_links_each_cell_once_too(client, place, partenaire):
    pilier, sante, acces = place
    a = cellule(pilier, 7)
    items = difficultes(acces, a, a, a)
    client.force_login(partenaire)

    page = parse(client.get(acces.get_absolute_url()))

    linked = [(item["id"], item["source"]) for item in page.items if item["source"] is not None]
    assert linked == [(f"difficulte-{items[2].pk}", "Source des 3 difficultés ci-dessus : ligne 7")]


def queries_of(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_grouping_the_links_costs_no_query(client, place, contrat):
    pilier, sante, acces = place
    a = cellule(pilier, 4)
    difficultes(acces, a, a)
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=contrat))
    few = queries_of(client, pilier_url(pilier))
    # Thirty runs of two items each, over three sous-thèmes and the thème's own level.
    others = [SousThemeFactory(theme=sante, position=n) for n in range(1, 4)]
    for number, sous_theme in enumerate([acces, *others] * 2 + [None] * 2):
        for ligne in range(number * 5, number * 5 + 3):
            cell = cellule(pilier, 100 + ligne)
            difficultes(sous_theme, cell, cell, theme=None if sous_theme else sante)

    assert queries_of(client, pilier_url(pilier)) == few


# The actions of the Équipe ville, one disclosure each ----------------------------------


@pytest.fixture
def equipe(client, contrat):
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=contrat))
    return client


def menu_of(page, item_id):
    [menu] = [menu for menu in page.menus if menu["item"] == item_id]
    return menu


def test_every_action_of_an_item_is_in_its_one_menu_named_after_it(equipe, place):
    pilier, sante, acces = place
    first, middle, last = difficultes(acces, None, None, None)
    slug = pilier.diagnostic.slug

    page = parse(equipe.get(pilier_url(pilier)))

    for item, sens in ((first, ["bas"]), (middle, ["haut", "bas"]), (last, ["haut"])):
        menu = menu_of(page, f"difficulte-{item.pk}")
        assert menu["summary"] == f"Actions pour « {item.libelle} »"

        def url(action, item=item):
            return reverse(f"diagnostics:element_{action}", args=[slug, "difficultes", item.pk])

        # On the pilier page, the way back after a change is the views' default.
        assert menu["links"] == [
            [url("modifier"), "Modifier"],
            [url("deplacer"), "Déplacer"],
            [url("scinder"), "Scinder en plusieurs"],
            [url("fusionner"), "Fusionner avec d’autres"],
            [url("historique"), "Historique"],
            [url("supprimer"), "Supprimer"],
        ]
        [form] = menu["forms"]
        assert form["action"] == url("ordre") and form["method"] == "post"
        assert set(form["fields"]) == {"csrfmiddlewaretoken"}
        words = {"haut": "Monter", "bas": "Descendre"}
        assert form["buttons"] == [["sens", value, words[value]] for value in sens]


def test_an_only_item_has_no_order_buttons(equipe, place):
    pilier, sante, acces = place
    [seul] = difficultes(acces, None)

    menu = menu_of(parse(equipe.get(pilier_url(pilier))), f"difficulte-{seul.pk}")

    assert menu["forms"] == []
    assert len(menu["links"]) == 6


def test_the_menus_of_a_theme_and_a_sous_theme_hold_their_actions_and_the_additions(equipe, place):
    pilier, sante, acces = place
    slug = pilier.diagnostic.slug
    SousThemeFactory(theme=sante, libelle="Prévention", position=1)

    page = parse(equipe.get(pilier_url(pilier)))

    [theme_menu] = [menu for menu in page.menus if menu["summary"].startswith("Actions du thème")]
    assert theme_menu["summary"] == "Actions du thème « Santé »"
    ajouts = [
        [
            reverse("diagnostics:element_ajouter", args=[slug, "themes", sante.pk, kind.nature]),
            f"Ajouter {kind.nom.un} au niveau du thème",
        ]
        for kind in kinds.items()
    ]
    assert theme_menu["links"] == [
        [reverse("diagnostics:theme_modifier", args=[slug, sante.pk]), "Renommer le thème"],
        [reverse("diagnostics:sous_theme_ajouter", args=[slug, sante.pk]), "Ajouter un sous-thème"],
        *ajouts,
        [reverse("diagnostics:theme_historique", args=[slug, sante.pk]), "Historique du thème"],
        [reverse("diagnostics:theme_supprimer", args=[slug, sante.pk]), "Supprimer le thème"],
    ]
    assert theme_menu["forms"] == []  # its only thème

    [menu] = [menu for menu in page.menus if menu["summary"].endswith("« Accès aux soins »")]
    assert menu["summary"] == "Actions du sous-thème « Accès aux soins »"
    assert [text for _, text in menu["links"]] == [
        *(f"Ajouter {kind.nom.un}" for kind in kinds.items()),
        "Renommer le sous-thème",
        "Déplacer le sous-thème",
        "Historique du sous-thème",
        "Supprimer le sous-thème",
    ]
    assert menu["links"][0][0] == reverse(
        "diagnostics:element_ajouter",
        args=[slug, "sous-themes", acces.pk, kinds.items()[0].nature],
    )
    [form] = menu["forms"]
    assert form["action"] == reverse("diagnostics:sous_theme_ordre", args=[slug, acces.pk])
    assert [button[2] for button in form["buttons"]] == ["Descendre"]


def test_the_buttons_of_a_menu_move_the_item_with_a_plain_post(equipe, place):
    pilier, sante, acces = place
    first, second = difficultes(acces, None, None)
    form = menu_of(parse(equipe.get(pilier_url(pilier))), f"difficulte-{first.pk}")["forms"][0]
    [[name, value, _]] = form["buttons"]

    response = equipe.post(form["action"], {**form["fields"], name: value})

    assert response.status_code == 302
    assert response["Location"] == f"{pilier_url(pilier)}#difficulte-{first.pk}"
    order = list(acces.difficultes.order_by("position", "pk"))
    assert order == [second, first]


def test_on_the_sous_theme_page_the_actions_come_back_to_it(equipe, place):
    pilier, sante, acces = place
    first, second = difficultes(acces, None, None)
    slug = pilier.diagnostic.slug
    here = acces.get_absolute_url()

    page = parse(equipe.get(here))

    menu = menu_of(page, f"difficulte-{second.pk}")
    modifier = reverse("diagnostics:element_modifier", args=[slug, "difficultes", second.pk])
    assert menu["links"][0] == [f"{modifier}?retour={here}", "Modifier"]
    [form] = menu["forms"]
    assert form["fields"]["retour"] == here
    response = equipe.post(form["action"], {**form["fields"], "sens": "haut"})
    assert response["Location"] == f"{here}#difficulte-{second.pk}"
    # The sous-thème's own menu, in the page's heading: no order buttons there.
    [own] = [menu for menu in page.menus if menu["summary"].startswith("Actions du sous-thème")]
    assert own["forms"] == []
    changes = [href for href, text in own["links"] if not text.startswith("Historique")]
    assert changes and all(href.endswith(f"?retour={here}") for href in changes)


def test_partners_get_neither_menus_nor_the_edit_stylesheet(client, place, partenaire):
    pilier, sante, acces = place
    difficultes(acces, None, None)
    client.force_login(partenaire)

    response = client.get(pilier_url(pilier))

    assert parse(response).menus == []
    html = response.content.decode()
    assert "menus_actions.js" not in html and "edition.css" not in html
    assert not re.search(r"<details|<form method=\"post\"", html.split("<main", 1)[1])
