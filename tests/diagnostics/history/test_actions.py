"""The "Dernières modifications" page says what happened: one line per user action (a move,
not each renumbered sibling; an import, not its hundreds of rows), readable natures, the
values of the indicators included, filters, a fixed number of queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from diagnostics import editing
from diagnostics.history.actions import action
from diagnostics.imports import undo
from diagnostics.models import Difficulte, Import, SousTheme, Theme
from indicateurs import entry
from indicateurs.models import Mesure
from tests.factories import DiagnosticFactory, DifficulteFactory, PilierFactory
from tests.indicateurs_data import mesure, qpv, quantitatif

URL = reverse("diagnostics:modifications", args=["montlucon"])


def text(response):
    return " ".join(response.content.decode().split()).replace("&#x27;", "'")


def lines(client, **params):
    """The lines of the page's first page, and its total."""
    response = client.get(URL, params)
    assert response.status_code == 200
    page = response.context["page_obj"]
    return page.object_list, page.paginator.count


def sous_theme_with_items(diagnostic, count=3):
    """A sous-thème of the diagnostic holding at least `count` difficultés."""
    for sous_theme in SousTheme.objects.filter(theme__pilier__diagnostic=diagnostic):
        if sous_theme.difficultes.count() >= count:
            return sous_theme
    raise AssertionError("no such sous-thème in the seed")


def test_the_seed_import_is_one_line_named_by_its_file(equipe, montlucon):
    written = sum(
        model.history.filter(import_source__isnull=False).count()
        for model in (Theme, SousTheme, Difficulte)
    )
    assert written > 50

    found, total = lines(equipe)

    assert total == 1
    (line,) = found
    assert (line.nature, line.nature_label) == ("import", "Import")
    assert line.import_record == Import.objects.get(diagnostic=montlucon)
    assert "éléments créés" in line.import_resultat
    page = text(equipe.get(URL))
    assert '<strong class="nature-action">Import</strong>' in page
    assert 'Fichier « diagnostic-montlucon.tsv » <span class="detail">: ' in page
    # Marie (Équipe ville) does not see the imports' pages: no link to it.
    assert reverse("diagnostics:import_detail", args=[line.import_record.pk]) not in page


def test_an_import_and_its_undo_are_one_line_each_linked_for_an_administrator(
    client, montlucon, paul
):
    record = Import.objects.get(diagnostic=montlucon)
    undo.undo(record, paul)
    client.force_login(paul)

    found, total = lines(client)

    assert total == 2
    assert [line.nature_label for line in found] == ["Annulation", "Import"]
    assert all(line.import_record == record for line in found)
    assert found[0].auteur == "Paul Martin"
    link = reverse("diagnostics:import_detail", args=[record.pk])
    assert found[0].import_link == link
    assert f'<a href="{link}">Voir l’import' in text(client.get(URL))

    assert lines(client, nature="annulation")[1] == 1
    assert lines(client, nature="import")[0][0].nature == "import"


def test_a_move_up_in_the_site_is_one_line_naming_the_item_moved(equipe, montlucon, marie):
    sous_theme = sous_theme_with_items(montlucon)
    items = list(sous_theme.difficultes.order_by("position"))
    moved = items[-1]
    url = reverse("diagnostics:element_ordre", args=["montlucon", "difficultes", moved.pk])

    response = equipe.post(url, {"sens": "haut"})

    assert response.status_code == 302
    assert Difficulte.history.filter(history_user=marie).count() == 2  # moved and swapped
    found, total = lines(equipe)
    assert total == 2  # the move, the import
    line = found[0]
    assert (line.nature_label, line.libelle, line.auteur) == (
        "Déplacement",
        moved.libelle,
        "Marie Dupont",
    )
    assert line.motif == "Déplacement vers le haut"
    assert line.autres == 0  # the renumbered sibling is not mentioned
    page = text(equipe.get(URL))
    assert "Ordre modifié" not in page


def test_a_split_renumbering_its_siblings_is_one_line(equipe, montlucon, marie):
    sous_theme = sous_theme_with_items(montlucon)
    first = sous_theme.difficultes.order_by("position").first()
    with action():
        editing.split_element(first, ["Première partie", "Seconde partie"], marie, first.version)

    found, total = lines(equipe)

    assert total == 2
    line = found[0]
    assert line.nature_label == "Modification"
    assert line.libelle == "Première partie"
    assert line.motif.startswith("Scission de « ")
    assert line.autres >= 2  # the new part, the siblings moved down


def test_the_natures_of_the_changes_made_in_the_site(equipe, montlucon, marie):
    theme = Theme.objects.filter(pilier__diagnostic=montlucon).first()
    sous_theme = sous_theme_with_items(montlucon)
    created = editing.create(
        Difficulte(sous_theme=sous_theme, libelle="Nouvelle difficulté"), marie
    )
    created.libelle = "Difficulté reformulée"
    editing.save_versioned(created, 1, marie, fields=["libelle"])
    destination = theme.sous_themes.exclude(pk=sous_theme.pk).first() or theme
    editing.move_element(created, destination, marie, 2)
    deleted = Theme.objects.get(pk=theme.pk)
    # What the confirmation lists: the sous-thèmes, items and values under the thème.
    hanging = sum(number for number, _ in editing.delete_summary(deleted).parts)
    assert hanging > 1
    editing.delete(deleted, marie)

    found, total = lines(equipe)

    assert total == 5
    assert [(line.nature_label, line.libelle) for line in found[:4]] == [
        ("Suppression", theme.libelle),
        ("Déplacement", "Difficulté reformulée"),
        ("Modification", "Difficulté reformulée"),
        ("Ajout", "Nouvelle difficulté"),
    ]
    assert found[4].nature_label == "Import"
    suppression = found[0]
    assert suppression.autres == hanging
    assert suppression.restore_link
    assert f"et {hanging} autres éléments concernés" in text(equipe.get(URL))
    # The reason is not repeated when it only says the nature ("Création — Création").
    assert found[3].motif == "" and found[2].motif == ""
    assert found[1].motif.startswith("Déplacement vers « ")

    by_nature = {key: lines(equipe, nature=key)[1] for key in ("ajout", "modification")}
    assert by_nature == {"ajout": 1, "modification": 1}
    assert [line.nature for line in lines(equipe, nature="deplacement")[0]] == ["deplacement"]
    # The addresses of the former filter keep working ("~": modifications).
    assert lines(equipe, nature="~")[1] == 1
    response = equipe.get(URL, {"nature": "renommage"})
    assert "Corrigez les filtres pour afficher les modifications." in text(response)


@pytest.fixture
def indicateur(montlucon):
    qpv(montlucon)
    return quantitatif(montlucon, libelle="Taux de chômage", source_donnees="Insee")


def saisie(annee="2024", valeurs=("", "", "", "")):
    """The POST of the saisie form: territory, then Rive Gauche, Fontbouillant, Bien-Assis."""
    data = {
        "annee": annee,
        "type_periode": "annee",
        "numero_periode": "",
        "source": "Insee",
        "commentaire": "",
        "valeurs-TOTAL_FORMS": "4",
        "valeurs-INITIAL_FORMS": "0",
    }
    for index, value in enumerate(valeurs):
        data[f"valeurs-{index}-valeur"] = value
    return data


def test_values_entered_changed_and_deleted_in_the_site_name_their_indicator(
    equipe, montlucon, marie, indicateur
):
    saisie_url = reverse("indicateurs:saisie", args=["montlucon", indicateur.pk])
    response = equipe.post(saisie_url, saisie(valeurs=("", "27,5", "", "12")))
    assert response.status_code == 302
    rive_gauche = indicateur.mesures.get(quartier__nom="Rive Gauche")
    rive_gauche.valeur = 30
    with action():
        entry.update_mesure(rive_gauche, 1, marie)
    bien_assis = indicateur.mesures.get(quartier__nom="Bien-Assis")
    with action():
        entry.delete_mesure(bien_assis, 1, marie)

    found, total = lines(equipe)

    values = [line for line in found if line.kind.is_value]
    assert [(line.nature_label, line.libelle, line.detail) for line in values] == [
        ("Suppression", "Taux de chômage", "2024 — Bien-Assis"),
        ("Modification", "Taux de chômage", "2024 — Rive Gauche"),
        ("Ajout", "Taux de chômage", "2024 — Rive Gauche"),
    ]
    assert values[2].autres >= 1  # the two values of one saisie: one line
    history = reverse("indicateurs:historique", args=["montlucon", indicateur.pk])
    assert {line.history_link for line in values} == {history}
    assert not any(line.restore_link for line in values)
    page = text(equipe.get(URL))
    assert (
        'Valeur d\'indicateur</span> Taux de chômage <span class="detail">(2024 — Rive Gauche)'
        in page
    )
    assert "autres valeurs" in page
    # Values are filtered like the rest.
    assert lines(equipe, nature="suppression")[0][0].detail == "2024 — Bien-Assis"


def test_the_values_of_another_diagnostic_are_not_listed(equipe, montlucon, indicateur):
    other = DiagnosticFactory()
    elsewhere = quantitatif(other, PilierFactory(diagnostic=other), libelle="Taux d'ailleurs")
    mesure(elsewhere, 2024, 10)
    mesure(indicateur, 2024, 12)

    found, _ = lines(equipe)

    assert [line.libelle for line in found if line.kind.is_value] == ["Taux de chômage"]


def test_rows_written_before_actions_are_grouped_by_author_and_second(
    equipe, montlucon, marie, paul
):
    sous_theme = sous_theme_with_items(montlucon)
    last = sous_theme.difficultes.order_by("position").last()
    with action():
        editing.move_up(last, marie)
    other = DifficulteFactory(sous_theme=sous_theme, libelle="Ajoutée par Paul")
    at = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)
    # As written before the migration: no action; the move's two rows in one second, Paul's
    # row in the same second, and one row of Marie's a minute later.
    Difficulte.history.filter(history_user=marie).update(action=None, history_date=at)
    Difficulte.history.filter(id=other.pk).update(
        action=None, history_user=paul, history_date=at + datetime.timedelta(milliseconds=300)
    )
    later = DifficulteFactory(sous_theme=sous_theme, libelle="Un peu plus tard")
    Difficulte.history.filter(id=later.pk).update(
        action=None, history_user=marie, history_date=at + datetime.timedelta(minutes=1)
    )

    found, total = lines(equipe)

    assert total == 4
    found = [line for line in found if line.nature != "import"]
    assert [(line.nature_label, line.auteur) for line in found] == [
        ("Ajout", "Marie Dupont"),
        ("Ajout", "Paul Martin"),
        ("Déplacement", "Marie Dupont"),
    ]
    assert found[2].libelle == last.libelle
    assert found[2].date == at


def _page_queries(client, **params):
    """(queries, number of lines, whether an import is on the page) of one page."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    page = response.context["page_obj"]
    on_page = any(line.import_record for line in page.object_list)
    return len(queries), page.paginator.count, on_page


def test_the_page_costs_the_same_queries_whatever_the_number_of_changes(
    equipe, montlucon, marie, indicateur
):
    """The count, the page, and the imports it names (none when it names none)."""
    sous_theme = sous_theme_with_items(montlucon)
    editing.create(Difficulte(sous_theme=sous_theme, libelle="Première"), marie)
    small, small_total, small_import = _page_queries(equipe)
    assert small_import

    for n in range(40):
        with action():
            editing.create(Difficulte(sous_theme=sous_theme, libelle=f"Difficulté {n}"), marie)
    for item in sous_theme.difficultes.order_by("-position")[:10]:
        with action():
            editing.move_up(item, marie)
    mesure(indicateur, 2024, 12)
    editing.delete(Theme.objects.filter(pilier__diagnostic=montlucon).last(), marie)

    for page in (1, 2):
        large, large_total, large_import = _page_queries(equipe, page=page)
        assert large_total > small_total + 50
        assert large == small - small_import + large_import


def test_an_action_groups_every_row_it_writes_even_in_bulk(montlucon, marie):
    """Rows written by save and by the bulk path inside one action share its identifier;
    outside any action and any request, each save is an action of its own."""
    from diagnostics.history.bulk import create_with_history

    sous_theme = sous_theme_with_items(montlucon)
    with action() as identifier:
        editing.create(Difficulte(sous_theme=sous_theme, libelle="Par save"), marie)
        create_with_history(
            Difficulte,
            [
                Difficulte(
                    sous_theme=sous_theme, diagnostic=montlucon, libelle="En bloc", position=99
                )
            ],
            user_id=marie.pk,
            reason="Création",
        )
        with action() as inner:
            assert inner == identifier
    assert set(
        Difficulte.history.filter(libelle__in=["Par save", "En bloc"]).values_list(
            "action", flat=True
        )
    ) == {identifier}
    a = editing.create(Difficulte(sous_theme=sous_theme, libelle="Seule A"), marie)
    b = editing.create(Difficulte(sous_theme=sous_theme, libelle="Seule B"), marie)
    actions = Difficulte.history.filter(id__in=[a.pk, b.pk]).values_list("action", flat=True)
    assert len(set(actions)) == 2 and None not in actions
    assert Mesure.history.model._meta.get_field("action")


@pytest.mark.parametrize("engine", ["resource", "bulk"])
def test_an_import_by_either_path_is_one_line(client, engine):
    """Row by row (each save outside a request is an action of its own, linked to the
    import) or in bulk: one line."""
    from comptes.roles import Role
    from diagnostics.imports import import_source_table
    from tests.conftest import SEED
    from tests.factories import UserFactory

    diagnostic = DiagnosticFactory(slug="seconde")
    paul = UserFactory(
        first_name="Paul", last_name="Martin", role=Role.ADMINISTRATEUR, contrat=diagnostic.contrat
    )
    report = import_source_table(diagnostic, SEED.name, SEED.read_bytes(), user=paul, engine=engine)
    assert report.ok and report.engine == engine
    client.force_login(paul)

    response = client.get(reverse("diagnostics:modifications", args=["seconde"]))

    page = response.context["page_obj"]
    assert page.paginator.count == 1
    assert page.object_list[0].nature_label == "Import"
    assert page.object_list[0].auteur == "Paul Martin"


@pytest.mark.parametrize("engine", ["resource", "bulk"])
def test_an_import_of_values_is_one_line_with_its_counts(equipe, montlucon, indicateur, engine):
    from indicateurs.imports import import_measures

    rows = [
        ["Indicateur", "Quartier", "Période", "Valeur", "Source", "Commentaire"],
        ["Taux de chômage", "Rive Gauche", "2023", "24,5", "Insee", ""],
        ["Taux de chômage", "Fontbouillant", "2023", "31,2", "Insee", ""],
        ["Taux de chômage", "Ensemble du territoire", "2023", "12,8", "Insee", ""],
    ]
    content = ("\r\n".join(";".join(row) for row in rows) + "\r\n").encode("cp1252")
    report = import_measures(montlucon, "valeurs.csv", content, engine=engine)
    assert report.ok, report.as_lines()
    assert Mesure.history.filter(import_source=report.import_record).count() == 3

    found, total = lines(equipe, nature="import")

    assert total == 2  # the seed's table, the values
    line = found[0]
    assert line.import_record == report.import_record
    assert line.import_resultat == "3 valeurs créées, 0 mise à jour"
    assert 'Fichier « valeurs.csv » <span class="detail">: 3 valeurs créées' in text(
        equipe.get(URL)
    )
