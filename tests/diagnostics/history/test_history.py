"""The change history: each item's versions, restoring one, restoring a deleted item, the
"Dernières modifications" page of a diagnostic, and the history written by an import."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from comptes.roles import Role
from diagnostics import editing
from diagnostics.history import reading as history
from diagnostics.imports import import_source_table
from diagnostics.models import Difficulte, Pilier, SousTheme, Theme, import_change_reason
from indicateurs.models import Indicateur
from tests.conftest import SEED
from tests.factories import (
    ContratFactory,
    DiagnosticFactory,
    DifficulteFactory,
    PilierFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)


def text(response):
    return " ".join(response.content.decode().split()).replace("&#x27;", "'")


@pytest.fixture
def contrat():
    """The contract of the "montlucon" diagnostic, on which the personas hold their roles."""
    return ContratFactory(slug="montlucon")


@pytest.fixture
def acces(contrat):
    diagnostic = DiagnosticFactory(slug="montlucon", contrat=contrat)
    pilier = PilierFactory(diagnostic=diagnostic, numero=1, libelle="Cohésion sociale")
    sante = ThemeFactory(pilier=pilier, libelle="Santé")
    return SousThemeFactory(theme=sante, libelle="Accès aux soins")


def history_url(element):
    nature = "indicateurs" if isinstance(element, Indicateur) else "difficultes"
    return reverse("diagnostics:element_historique", args=["montlucon", nature, element.pk])


# The history of an item -----------------------------------------------------------------


def test_an_items_page_shows_who_changed_what_when_and_why(equipe, acces, marie, paul):
    rive_gauche = QuartierFactory(nom="Rive Gauche")
    item = DifficulteFactory(sous_theme=acces, libelle="Renoncement aux soins")
    item.libelle = "Renoncement aux soins pour raisons financières"
    editing.save_versioned(item, 1, paul, fields=["libelle"], quartiers=[rive_gauche])
    editing.move_element(item, acces.theme, marie, 2)

    response = equipe.get(history_url(item))

    page = text(response)
    assert "<h1>Renoncement aux soins pour raisons financières</h1>" in page
    assert "3 versions, de la plus récente à la plus ancienne." in page
    titles = [line for line in page.split("<h2") if "version-titre" in line]
    assert [t.split(">")[1].split(" du ")[0] for t in titles] == [
        "Modification",
        "Modification",
        "Création",
    ]
    assert "<dt>Par</dt><dd>Marie Dupont</dd>" in page
    assert "<dt>Motif</dt><dd>Déplacement vers « Santé »</dd>" in page
    assert (
        '<th scope="row">Rattachement</th><td class="avant">Santé › Accès aux soins</td>'
        '<td class="apres">Santé (niveau du thème)</td>'
    ) in page
    assert "<dt>Par</dt><dd>Paul Martin</dd>" in page
    assert (
        '<th scope="row">Libellé</th><td class="avant">Renoncement aux soins</td>'
        '<td class="apres">Renoncement aux soins pour raisons financières</td>'
    ) in page
    assert (
        '<th scope="row">Quartiers concernés</th><td class="avant">aucun (tout le territoire)</td>'
        '<td class="apres">Rive Gauche</td>'
    ) in page
    # Two earlier versions can be restored, not the current one.
    assert page.count("Restaurer cette version") == 2


def test_restoring_an_earlier_version_asks_then_changes_it_back(equipe, acces, paul):
    item = DifficulteFactory(sous_theme=acces, libelle="Renoncement aux soins")
    item.libelle = "Texte remplacé par erreur"
    editing.save_versioned(item, 1, paul, fields=["libelle"])
    first = Difficulte.history.filter(id=item.pk).order_by("history_id").first()
    url = reverse("diagnostics:restaurer", args=["montlucon", "difficulte", first.history_id])

    page = text(equipe.get(url))
    assert "Restaurer une version de la difficulté" in page
    assert (
        '<th scope="row">Libellé</th><td class="avant">Texte remplacé par erreur</td>'
        '<td class="apres">Renoncement aux soins</td>'
    ) in page
    item.refresh_from_db()
    assert item.libelle == "Texte remplacé par erreur"

    response = equipe.post(url, {"version": 2})

    assert response.status_code == 302
    assert response["Location"] == history_url(item)
    item.refresh_from_db()
    assert (item.libelle, item.version) == ("Renoncement aux soins", 3)
    page = text(equipe.get(response["Location"]))
    assert "La difficulté a retrouvé sa version du" in page
    assert "Restauration de la version du" in page


def test_a_restoration_on_a_stale_page_is_confirmed_again(equipe, acces, paul):
    item = DifficulteFactory(sous_theme=acces, libelle="Version 1")
    item.libelle = "Version 2"
    editing.save_versioned(item, 1, paul, fields=["libelle"])
    first = Difficulte.history.filter(id=item.pk).order_by("history_id").first()
    url = reverse("diagnostics:restaurer", args=["montlucon", "difficulte", first.history_id])
    item.libelle = "Version 3, de Paul, pendant que Marie lisait"
    editing.save_versioned(item, 2, paul, fields=["libelle"])

    response = equipe.post(url, {"version": 2})

    assert response.status_code == 200
    page = text(response)
    assert "a été modifiée depuis l'affichage de cette page" in page
    assert "Version 3, de Paul, pendant que Marie lisait" in page
    assert 'name="version" value="3"' in page
    item.refresh_from_db()
    assert item.libelle == "Version 3, de Paul, pendant que Marie lisait"


def test_a_deleted_item_is_listed_with_a_restore_action_and_comes_back(equipe, acces, paul):
    quartier = QuartierFactory(nom="Fontbouillant")
    item = DifficulteFactory(
        sous_theme=acces, libelle="Isolement des familles", quartiers=[quartier]
    )
    pk = item.pk
    editing.delete(item, paul)
    deletion = Difficulte.history.get(id=pk, history_type="-")
    item.pk = pk

    page = text(equipe.get(reverse("diagnostics:modifications", args=["montlucon"])))
    restore_url = reverse(
        "diagnostics:restaurer", args=["montlucon", "difficulte", deletion.history_id]
    )
    assert f'<a href="{restore_url}">Restaurer' in page
    assert '<strong class="nature-action">Suppression</strong>' in page
    assert "Suppression</strong> — Suppression" not in page

    page = text(equipe.get(history_url(item)))
    assert "Cette difficulté a été supprimée." in page
    page = text(equipe.get(restore_url))
    assert "Restaurer la difficulté supprimée" in page
    assert '<td class="apres">Fontbouillant</td>' in page

    response = equipe.post(restore_url)

    assert response.status_code == 302
    restored = Difficulte.objects.get(pk=item.pk)
    assert restored.libelle == "Isolement des familles"
    assert list(restored.quartiers.all()) == [quartier]
    page = text(equipe.get(reverse("diagnostics:modifications", args=["montlucon"])))
    assert f'<a href="{restore_url}">' not in page


def test_a_deleted_theme_says_what_comes_back_with_it(equipe, acces, paul):
    DifficulteFactory(sous_theme=acces)
    DifficulteFactory(sous_theme=acces)
    theme = acces.theme
    editing.delete(Theme.objects.get(pk=theme.pk), paul)
    deletion = Theme.history.get(id=theme.pk, history_type="-")
    url = reverse("diagnostics:restaurer", args=["montlucon", "theme", deletion.history_id])
    assertContains(
        equipe.get(url),
        "Reviendront aussi, supprimés en même temps : 1 sous-thème et 2 difficultés.",
    )
    equipe.post(url)
    assert SousTheme.objects.get(pk=acces.pk).difficultes.count() == 2


def test_the_history_of_the_levels(equipe, acces, paul):
    pilier = acces.theme.pilier
    pilier.libelle = "COHESION SOCIALE"
    editing.save_versioned(pilier, 1, paul, fields=["libelle"])
    page = text(equipe.get(reverse("diagnostics:pilier_historique", args=["montlucon", 1])))
    assert "Historique du pilier" in page
    assert '<td class="avant">Cohésion sociale</td><td class="apres">COHESION SOCIALE</td>' in page
    page = text(
        equipe.get(reverse("diagnostics:sous_theme_historique", args=["montlucon", acces.pk]))
    )
    assert '<th scope="row">Thème</th><td class="apres">Santé</td>' in page
    assert (
        equipe.get(
            reverse("diagnostics:theme_historique", args=["montlucon", acces.theme.pk])
        ).status_code
        == 200
    )


def test_a_history_of_another_diagnostic_is_404(equipe, acces):
    other = DifficulteFactory()
    assert equipe.get(history_url(other)).status_code == 404
    record = Difficulte.history.get(id=other.pk)
    url = reverse("diagnostics:restaurer", args=["montlucon", "difficulte", record.history_id])
    assert equipe.get(url).status_code == 404


# The latest changes ---------------------------------------------------------------------


def test_the_latest_changes_filter_by_person_date_and_nature(equipe, acces, marie, paul):
    a = DifficulteFactory(sous_theme=acces, libelle="Difficulté de Paul")
    b = DifficulteFactory(sous_theme=acces, libelle="Difficulté de Marie")
    a.libelle = "Difficulté revue par Paul"
    editing.save_versioned(a, 1, paul, fields=["libelle"])
    b.libelle = "Difficulté revue par Marie"
    editing.save_versioned(b, 1, marie, fields=["libelle"])
    Difficulte.history.filter(id=a.pk, history_type="~").update(
        history_date=timezone.now() - datetime.timedelta(days=10)
    )
    url = reverse("diagnostics:modifications", args=["montlucon"])

    page = text(equipe.get(url))
    assert "Difficulté revue par Paul" in page and "Difficulté revue par Marie" in page
    assert '<option value="' in page and ">Paul Martin</option>" in page

    page = text(equipe.get(url, {"personne": paul.pk}))
    assert "Difficulté revue par Paul" in page
    assert "Difficulté revue par Marie" not in page
    assert "1 modification." in page

    since = (timezone.localdate() - datetime.timedelta(days=2)).isoformat()
    page = text(equipe.get(url, {"du": since, "nature": "~"}))
    assert "Difficulté revue par Marie" in page
    assert "Difficulté revue par Paul" not in page

    response = equipe.get(url, {"du": "2025-03-10", "au": "2025-03-01"})
    assertContains(response, "Cette date précède la date de début.")
    assertContains(response, "Corrigez les filtres pour afficher les modifications.")


def test_the_person_filter_lists_only_the_editors_of_this_contract(
    equipe, acces, marie, paul, partenaire
):
    """Équipe ville and Administrateurs of this contract, and the national administrators;
    never a partner, nor the editors of another contract."""
    partenaire.first_name, partenaire.last_name = "Pierre", "Partenaire"
    partenaire.save()
    UserFactory(
        first_name="Odile",
        last_name="Ailleurs",
        role=Role.ADMINISTRATEUR,
        contrat=DiagnosticFactory().contrat,
    )
    UserFactory(first_name="Nadia", last_name="Nationale", is_superuser=True)
    page = text(equipe.get(reverse("diagnostics:modifications", args=["montlucon"])))
    options = page.split('name="personne"')[1].split("</select>")[0]

    for name in ("Marie Dupont", "Paul Martin", "Nadia Nationale"):
        assert f">{name}</option>" in options
    assert "Odile Ailleurs" not in options
    assert "Pierre Partenaire" not in options


def test_the_latest_changes_are_paginated(equipe, acces, marie):
    for n in range(60):
        editing.create(Difficulte(sous_theme=acces, libelle=f"Difficulté {n}"), marie)
    url = reverse("diagnostics:modifications", args=["montlucon"])
    page = text(equipe.get(url))
    assert "63 modifications." in page  # 60 items, the pilier, the thème, the sous-thème
    assert "Page 1 sur 2" in page
    assert "Difficulté 59" in page
    page = text(equipe.get(url, {"page": 2}))
    assert "Cohésion sociale" in page


def test_each_kind_of_object_links_to_its_own_history(equipe, acces, marie):
    url = reverse("diagnostics:modifications", args=["montlucon"])
    page = text(equipe.get(url))
    for link in (
        reverse("diagnostics:pilier_historique", args=["montlucon", 1]),
        reverse("diagnostics:theme_historique", args=["montlucon", acces.theme.pk]),
        reverse("diagnostics:sous_theme_historique", args=["montlucon", acces.pk]),
    ):
        assert f'<a href="{link}">Historique' in page


# What an import writes ------------------------------------------------------------------


def test_an_import_writes_its_history_attributed_to_the_importing_user(equipe, paul, contrat):
    diagnostic = DiagnosticFactory.build(slug="montlucon", titre="Montluçon", contrat=contrat)
    report = import_source_table(diagnostic, SEED.name, SEED.read_bytes(), user=paul)
    assert report.ok
    reason = import_change_reason(report.import_record)

    for model in (Pilier, Theme, SousTheme, Difficulte, Indicateur):
        records = history.records_in_diagnostic(model, diagnostic)
        assert records.exists()
        assert set(records.values_list("history_user", "history_change_reason")) == {
            (paul.pk, reason)
        }
    assert set(diagnostic.history.values_list("history_user", "history_change_reason")) == {
        (paul.pk, reason)
    }

    page = text(equipe.get(reverse("diagnostics:modifications", args=["montlucon"])))
    assert "Paul Martin" in page
    assert '<strong class="nature-action">Import</strong>' in page
    assert "Fichier « diagnostic-montlucon.tsv »" in page
    assert "1 modification." in page  # hundreds of rows, one import


def test_the_import_is_named_in_an_items_history(client, montlucon):
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=montlucon.contrat))
    item = Difficulte.objects.du_diagnostic(montlucon).first()
    url = reverse("diagnostics:element_historique", args=[montlucon.slug, "difficultes", item.pk])
    page = text(client.get(url))
    assert "<dt>Motif</dt><dd>Import du fichier « diagnostic-montlucon.tsv »</dd>" in page
    assert '<th scope="row">Provenance</th><td class="apres">ligne' in page
    assertNotContains(client.get(url), "Restaurer cette version")


def test_a_moved_and_renamed_sous_theme_is_restored_to_its_earlier_version(equipe, acces, paul):
    item = DifficulteFactory(sous_theme=acces)
    jeunesse = ThemeFactory(pilier=acces.theme.pilier, libelle="Jeunesse")
    editing.move_sous_theme(acces, jeunesse, paul, 1)
    acces.refresh_from_db()
    acces.libelle = "Accès aux droits"
    editing.save_versioned(acces, 2, paul, fields=["libelle"])
    first = SousTheme.history.filter(id=acces.pk).earliest()
    url = reverse("diagnostics:restaurer", args=["montlucon", "sous-theme", first.history_id])
    page = text(equipe.get(url))
    assert '<td class="avant">Jeunesse</td><td class="apres">Santé</td>' in page
    assert '<td class="avant">Accès aux droits</td><td class="apres">Accès aux soins</td>' in page

    assert equipe.post(url, {"version": 3}).status_code == 302

    acces.refresh_from_db()
    assert (acces.libelle, acces.theme.libelle) == ("Accès aux soins", "Santé")
    assert acces.difficultes.get() == item
