"""The editions of a contract: a new edition copies the latest one; brouillon → publiée →
figée; a frozen edition never changes; a draft is deleted only while untouched."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comptes.roles import Role
from diagnostics import editing
from diagnostics.backup import backed_up_models, backup, dumps, loads, restore
from diagnostics.editions import states
from diagnostics.editions.copy import start_edition
from diagnostics.history.restore import restore_version
from diagnostics.models import Contrat, Diagnostic, Difficulte, Pilier, SousTheme, Theme
from indicateurs.imports import import_measures
from indicateurs.models import Indicateur, Mesure
from tests.factories import (
    DiagnosticFactory,
    DifficulteFactory,
    IndicateurFactory,
    MesureFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)

REVISION = "Révision à mi-parcours — 2027"
MARS_2027 = datetime.date(2027, 3, 15)


@pytest.fixture
def edition_2024():
    """A published edition: one thème with a sous-thème, a difficulty tagged with a
    quartier, an indicator with a value, a reference and a target."""
    quartier = QuartierFactory(code="QN00304M", nom="Fontbouillant")
    diagnostic = DiagnosticFactory(nom_edition="Diagnostic initial — mars 2024")
    diagnostic.quartiers.add(quartier)
    theme = ThemeFactory(pilier__diagnostic=diagnostic, libelle="Santé")
    sous_theme = SousThemeFactory(theme=theme, libelle="Accès aux soins")
    difficulte = DifficulteFactory(sous_theme=sous_theme, libelle="Peu de médecins généralistes")
    difficulte.quartiers.add(quartier)
    indicateur = IndicateurFactory(
        theme=theme, sous_theme=None, libelle="Nombre de médecins", unite="médecins"
    )
    MesureFactory(indicateur=indicateur, annee=2023, valeur=12)
    MesureFactory(indicateur=indicateur, annee=2023, valeur=10, nature=Mesure.Nature.REFERENCE)
    MesureFactory(indicateur=indicateur, annee=2030, valeur=15, nature=Mesure.Nature.CIBLE)
    return diagnostic


@pytest.fixture
def contrat(edition_2024):
    """The personas hold their roles on the contract of `edition_2024`."""
    return edition_2024.contrat


def test_a_diagnostic_created_alone_starts_its_own_contract():
    diagnostic = DiagnosticFactory(titre="Diagnostic de Vichy", slug="vichy")
    assert diagnostic.contrat.nom == "Diagnostic de Vichy"
    assert diagnostic.contrat.slug == "vichy"
    assert list(diagnostic.contrat.editions.all()) == [diagnostic]


def test_a_new_edition_copies_every_level_and_item_with_its_lineage(edition_2024, paul):
    edition = start_edition(edition_2024.contrat, nom=REVISION, date=MARS_2027, user=paul)

    assert edition.statut == Diagnostic.Statut.BROUILLON
    assert edition.precedente == edition_2024
    assert edition.contrat == edition_2024.contrat
    assert edition.nom_edition == REVISION
    assert edition.titre == f"{edition_2024.contrat.nom} — {REVISION}"
    assert list(edition.quartiers.values_list("code", flat=True)) == ["QN00304M"]
    for model in (Pilier, Theme, SousTheme, Difficulte, Indicateur):
        originals = {o.lignee: o for o in model.objects.filter(diagnostic=edition_2024)}
        copies = list(model.objects.filter(diagnostic=edition))
        assert len(copies) == len(originals) == 1
        copy = copies[0]
        original = originals[copy.lignee]
        assert copy.origine_id == original.pk
        assert copy.libelle == original.libelle
        assert copy.pk != original.pk
        history = model.history.get(id=copy.pk)
        assert (
            history.history_change_reason == "Copie de l'édition « Diagnostic initial — mars 2024 »"
        )
        assert history.history_user == paul
    difficulte = Difficulte.objects.get(diagnostic=edition)
    assert difficulte.sous_theme.diagnostic == edition
    assert list(difficulte.quartiers.values_list("code", flat=True)) == ["QN00304M"]
    indicateur = Indicateur.objects.get(diagnostic=edition)
    assert indicateur.theme.diagnostic == edition
    assert indicateur.unite == "médecins"
    # References and targets belong to the edition; measured values to the lineage.
    assert sorted(indicateur.mesures.values_list("nature", "valeur")) == [
        ("cible", 15),
        ("reference", 10),
    ]
    # The original edition is untouched.
    assert Difficulte.objects.filter(diagnostic=edition_2024).count() == 1
    assert Mesure.objects.filter(indicateur__diagnostic=edition_2024).count() == 3


def test_the_new_edition_is_started_from_the_latest_one(edition_2024, paul):
    states.freeze(edition_2024, paul)
    revision = start_edition(edition_2024.contrat, nom=REVISION, date=MARS_2027, user=paul)
    DifficulteFactory(
        sous_theme=SousTheme.objects.get(diagnostic=revision), libelle="Nouvelle difficulté"
    )
    states.publish(revision, paul)
    troisieme = start_edition(
        edition_2024.contrat, nom="Bilan 2030", date=datetime.date(2030, 1, 10), user=paul
    )
    assert troisieme.precedente == revision
    assert Difficulte.objects.filter(diagnostic=troisieme).count() == 2


def test_a_second_draft_and_a_duplicate_name_are_refused(edition_2024, paul):
    contrat = edition_2024.contrat
    revision = start_edition(contrat, nom=REVISION, date=MARS_2027, user=paul)
    with pytest.raises(ValidationError, match="déjà une édition en brouillon"):
        start_edition(contrat, nom="Autre", date=MARS_2027, user=paul)
    assert contrat.editions.count() == 2
    states.publish(revision, paul)
    with pytest.raises(ValidationError, match="déjà une édition portant ce nom"):
        start_edition(contrat, nom="Diagnostic initial — mars 2024", date=MARS_2027, user=paul)


def test_the_database_holds_one_draft_per_contract(edition_2024):
    DiagnosticFactory(contrat=edition_2024.contrat, brouillon=True, nom_edition="A")
    with pytest.raises(ValidationError, match="déjà une édition en brouillon"):
        Diagnostic(
            contrat=edition_2024.contrat, statut="brouillon", nom_edition="B", slug="b"
        ).validate_constraints()


def test_publish_freeze_and_unpublish_write_the_history(edition_2024, paul):
    states.unpublish(edition_2024, paul, "  Erreur dans le pilier 2  ")
    edition_2024.refresh_from_db()
    assert edition_2024.statut == Diagnostic.Statut.BROUILLON
    states.publish(edition_2024, paul)
    states.freeze(edition_2024, paul)
    reasons = list(
        edition_2024.history.order_by("history_id").values_list("history_change_reason", flat=True)
    )
    assert reasons[-3:] == [
        "Dépublication : Erreur dans le pilier 2",
        "Publication de l'édition",
        "Édition figée",
    ]
    with pytest.raises(ValidationError):
        states.publish(edition_2024, paul)
    with pytest.raises(ValidationError):
        states.unpublish(edition_2024, paul, "motif")
    edition_2024.refresh_from_db()
    assert edition_2024.statut == Diagnostic.Statut.FIGE


def test_unpublishing_asks_a_reason(edition_2024, paul):
    with pytest.raises(ValidationError, match="Indiquez pourquoi"):
        states.unpublish(edition_2024, paul, "   ")
    edition_2024.refresh_from_db()
    assert edition_2024.statut == Diagnostic.Statut.PUBLIE


def test_a_frozen_edition_is_read_by_partners_and_on_its_public_pages(
    edition_2024, paul, client, partenaire
):
    states.freeze(edition_2024, paul)
    client.force_login(partenaire)
    response = client.get(edition_2024.get_absolute_url())
    assert response.status_code == 200
    assert "Édition figée" in response.text


# A frozen edition never changes -----------------------------------------------------------


@pytest.fixture
def figee(edition_2024, paul):
    return states.freeze(edition_2024, paul)


def test_edit_pages_of_a_frozen_edition_are_refused_and_change_nothing(figee, equipe):
    difficulte = Difficulte.objects.get(diagnostic=figee)
    url = reverse(
        "diagnostics:element_modifier",
        kwargs={"slug": figee.slug, "nature": "difficultes", "pk": difficulte.pk},
    )
    assert equipe.get(url).status_code == 403
    response = equipe.post(url, {"libelle": "Autre texte", "version": difficulte.version})
    assert response.status_code == 403
    assert "Cette édition est figée" in response.text
    difficulte.refresh_from_db()
    assert difficulte.libelle == "Peu de médecins généralistes"


def test_pages_of_a_frozen_edition_show_no_edit_control(figee, equipe):
    pilier = Pilier.objects.get(diagnostic=figee)
    html = equipe.get(pilier.get_absolute_url()).text
    assert "Renommer le pilier" not in html
    assert "Modifier" not in html
    assert "Édition figée" in html


def test_restoring_a_version_in_a_frozen_edition_is_refused(figee, equipe, marie):
    difficulte = Difficulte.objects.get(diagnostic=figee)
    record = difficulte.history.earliest()
    url = reverse(
        "diagnostics:restaurer",
        kwargs={"slug": figee.slug, "modele": "difficulte", "history_id": record.history_id},
    )
    assert equipe.post(url, {"version": difficulte.version}).status_code == 403
    with pytest.raises(ValidationError, match="figée"):
        restore_version(record, marie, difficulte.version)


def test_the_state_of_a_frozen_edition_cannot_be_changed(figee, client, paul):
    client.force_login(paul)
    for action in ("publier", "depublier", "figer", "supprimer"):
        url = reverse("diagnostics:etat_edition", args=[figee.slug, action])
        response = client.post(url, {"motif": "essai"})
        assert response.status_code == 403, action
    figee.refresh_from_db()
    assert figee.statut == Diagnostic.Statut.FIGE


# Deleting a draft -------------------------------------------------------------------------


def test_an_untouched_draft_is_deleted_with_what_it_holds(edition_2024, paul):
    revision = start_edition(edition_2024.contrat, nom=REVISION, date=MARS_2027, user=paul)
    deletion = states.draft_deletion(revision)
    assert deletion.refusal == ""
    assert deletion.liste == [
        "1 pilier",
        "1 thème",
        "1 sous-thème",
        "1 difficulté",
        "1 indicateur",
        "2 valeurs d'indicateurs",
    ]
    states.delete_draft(revision, paul)
    assert list(edition_2024.contrat.editions.all()) == [edition_2024]
    assert Difficulte.objects.count() == 1
    assert Mesure.objects.count() == 3


def test_a_draft_edited_since_it_was_started_is_not_deleted(edition_2024, paul):
    revision = start_edition(edition_2024.contrat, nom=REVISION, date=MARS_2027, user=paul)
    difficulte = Difficulte.objects.get(diagnostic=revision)
    difficulte.libelle = "Trop peu de médecins"
    editing.save_versioned(difficulte, difficulte.version, paul, fields=["libelle"])
    assert "modifiée depuis" in states.draft_deletion(revision).refusal
    with pytest.raises(ValidationError, match="modifiée depuis"):
        states.delete_draft(revision, paul)
    assert Diagnostic.objects.filter(pk=revision.pk).exists()


def test_a_published_edition_is_not_deleted(edition_2024, paul):
    with pytest.raises(ValidationError, match="brouillon"):
        states.delete_draft(edition_2024, paul)
    assert Diagnostic.objects.filter(pk=edition_2024.pk).exists()


# The pages ---------------------------------------------------------------------------------


def test_an_administrator_starts_publishes_and_freezes_editions_in_the_site(
    edition_2024, client, paul
):
    client.force_login(paul)
    contrat = edition_2024.contrat
    page = client.get(reverse("diagnostics:contrat", args=[contrat.slug]))
    assert "Commencer une nouvelle édition" in page.text

    response = client.post(
        reverse("diagnostics:nouvelle_edition", args=[contrat.slug]),
        {"nom": REVISION, "date": "15/03/2027"},
    )
    revision = contrat.editions.get(nom_edition=REVISION)
    assert response.status_code == 302
    assert response["Location"] == revision.get_absolute_url()

    url = reverse("diagnostics:etat_edition", args=[edition_2024.slug, "figer"])
    assert "définitif" in client.get(url).text
    client.post(url)
    url = reverse("diagnostics:etat_edition", args=[revision.slug, "publier"])
    client.post(url)
    statuts = dict(contrat.editions.values_list("nom_edition", "statut"))
    assert statuts == {"Diagnostic initial — mars 2024": "fige", REVISION: "publie"}


def test_a_wrong_new_edition_form_says_why(edition_2024, client, paul):
    client.force_login(paul)
    url = reverse("diagnostics:nouvelle_edition", args=[edition_2024.contrat.slug])
    response = client.post(url, {"nom": "", "date": "31/02/2027"})
    assert response.status_code == 400
    assert "Donnez un nom à la nouvelle édition." in response.text
    assert (
        "Cette date n’est pas valide" in response.text
        or "Cette date n&#x27;est pas valide" in response.text
    )
    response = client.post(url, {"nom": "Bilan", "date": "01/01/2040"})
    assert "période du contrat" in response.text
    assert edition_2024.contrat.editions.count() == 1


def test_unpublishing_in_the_site_asks_a_reason(edition_2024, client, paul):
    client.force_login(paul)
    url = reverse("diagnostics:etat_edition", args=[edition_2024.slug, "depublier"])
    response = client.post(url, {"motif": ""})
    assert response.status_code == 400
    edition_2024.refresh_from_db()
    assert edition_2024.statut == Diagnostic.Statut.PUBLIE
    client.post(url, {"motif": "Chiffres à vérifier"})
    edition_2024.refresh_from_db()
    assert edition_2024.statut == Diagnostic.Statut.BROUILLON


def test_deleting_a_draft_in_the_site_says_what_goes_with_it(edition_2024, client, paul):
    revision = start_edition(edition_2024.contrat, nom=REVISION, date=MARS_2027, user=paul)
    client.force_login(paul)
    url = reverse("diagnostics:etat_edition", args=[revision.slug, "supprimer"])
    page = client.get(url).text
    assert "1 difficulté" in page and "1 indicateur" in page
    response = client.post(url)
    assert response["Location"] == reverse("diagnostics:contrat", args=[edition_2024.contrat.slug])
    assert not Diagnostic.objects.filter(pk=revision.pk).exists()


@pytest.mark.parametrize("action", ["publier", "figer", "supprimer", "depublier"])
def test_only_administrators_act_on_editions(edition_2024, client, marie, partenaire, action):
    url = reverse("diagnostics:etat_edition", args=[edition_2024.slug, action])
    assert client.post(url)["Location"].startswith(reverse("login"))
    for user in (marie, partenaire):
        client.force_login(user)
        assert client.post(url, {"motif": "x"}).status_code == 403
    edition_2024.refresh_from_db()
    assert edition_2024.statut == Diagnostic.Statut.PUBLIE


def test_partners_do_not_see_draft_editions_nor_their_actions(
    edition_2024, client, partenaire, paul
):
    revision = start_edition(edition_2024.contrat, nom=REVISION, date=MARS_2027, user=paul)
    client.force_login(partenaire)
    page = client.get(reverse("diagnostics:contrat", args=[edition_2024.contrat.slug])).text
    assert "Diagnostic initial — mars 2024" in page
    assert REVISION not in page
    assert "Commencer une nouvelle édition" not in page
    assert client.get(revision.get_absolute_url()).status_code == 404


def test_unknown_contracts_and_actions_are_404(edition_2024, client, paul):
    client.force_login(paul)
    assert client.get("/contrats/inconnu/").status_code == 404
    assert client.get(f"/diagnostics/{edition_2024.slug}/edition/inconnue/").status_code == 404
    assert client.get(f"/diagnostics/{edition_2024.slug}/edition/pub%00lier/").status_code == 404


def test_a_contract_with_only_draft_editions_is_hidden_from_partners(client):
    diagnostic = DiagnosticFactory(brouillon=True)
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=diagnostic.contrat))
    assert (
        client.get(reverse("diagnostics:contrat", args=[diagnostic.contrat.slug])).status_code
        == 404
    )
    assert Contrat.objects.count() == 1


def test_a_copied_edition_is_backed_up_and_restored_on_its_own(edition_2024, paul):
    revision = start_edition(edition_2024.contrat, nom=REVISION, date=MARS_2027, user=paul)
    document = loads(dumps(backup(revision)))
    contrat = edition_2024.contrat
    Diagnostic.objects.all().delete()  # an empty database
    for model in reversed(backed_up_models()):
        model.objects.all().delete()
    contrat.delete()

    report = restore(document)

    restored = report.diagnostic
    assert restored.nom_edition == REVISION
    assert restored.contrat.slug == contrat.slug
    assert restored.precedente is None  # the edition it came from is not in this database
    difficulte = Difficulte.objects.get(diagnostic=restored)
    assert difficulte.origine is None
    assert difficulte.libelle == "Peu de médecins généralistes"


def test_the_indicator_forms_of_a_frozen_edition_are_refused(figee, equipe):
    indicateur = Indicateur.objects.get(diagnostic=figee)
    for name in ("indicateurs:saisie", "indicateurs:reperes", "indicateurs:modifier"):
        url = reverse(name, args=[figee.slug, indicateur.pk])
        assert equipe.get(url).status_code == 403, name
        assert equipe.post(url, {"annee": "2025", "valeur": "3"}).status_code == 403, name
    assert Mesure.objects.filter(indicateur=indicateur).count() == 3
    page = equipe.get(reverse("indicateurs:detail", args=[figee.slug, indicateur.pk])).text
    assert "Modifier les références et les cibles" not in page
    assert (
        equipe.get(reverse("indicateurs:historique", args=[figee.slug, indicateur.pk])).status_code
        == 200
    )


def test_the_copies_creation_history_holds_their_quartiers(edition_2024, paul):
    revision = start_edition(edition_2024.contrat, nom=REVISION, date=MARS_2027, user=paul)
    difficulte = Difficulte.objects.get(diagnostic=revision)
    record = difficulte.history.get()
    assert [q.quartier.code for q in record.quartiers.all()] == ["QN00304M"]


def test_values_are_not_imported_into_a_frozen_edition(figee):
    content = "Indicateur\tAnnée\tValeur\nNombre de médecins\t2025\t14\n".encode()
    report = import_measures(figee, "valeurs.tsv", content)
    assert not report.ok
    assert any("figée" in line for line in report.as_lines())
    assert Mesure.objects.count() == 3


def test_the_contract_page_keeps_the_journal_of_its_editions(
    edition_2024, client, paul, partenaire
):
    states.unpublish(edition_2024, paul, "Chiffres du pilier 2 à revoir")
    states.publish(edition_2024, paul)
    states.freeze(edition_2024, paul)
    revision = start_edition(edition_2024.contrat, nom=REVISION, date=MARS_2027, user=paul)
    states.delete_draft(revision, paul)
    client.force_login(paul)
    page = client.get(reverse("diagnostics:contrat", args=[edition_2024.contrat.slug])).text
    journal = page[page.index("Journal des éditions") :]
    for action in (
        "Dépublication : Chiffres du pilier 2 à revoir",
        "Publication de l&#x27;édition",
        "Édition figée",
        "Édition commencée à partir de « Diagnostic initial — mars 2024 »",
        "Suppression de l&#x27;édition en brouillon",
    ):
        assert action in journal
    assert "Paul Martin" in journal
    client.force_login(partenaire)
    page = client.get(reverse("diagnostics:contrat", args=[edition_2024.contrat.slug])).text
    assert "Journal des éditions" not in page


def test_the_contract_page_costs_the_same_queries_whatever_its_editions(edition_2024, client, paul):
    client.force_login(paul)
    url = reverse("diagnostics:contrat", args=[edition_2024.contrat.slug])

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    one = count()
    for year in (2025, 2026, 2027):
        edition = start_edition(
            edition_2024.contrat, nom=f"Édition {year}", date=datetime.date(year, 1, 1), user=paul
        )
        states.publish(edition, paul)
    assert count() == one
