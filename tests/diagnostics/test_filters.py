"""Filtered lists of difficultés and indicateurs: the FilterSets, then the pages."""

from types import SimpleNamespace

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from diagnostics.filters import DifficulteFilterSet, FastSelect
from diagnostics.models import Difficulte
from indicateurs.filters import IndicateurFilterSet
from indicateurs.models import Indicateur
from tests.factories import (
    DiagnosticFactory,
    DifficulteFactory,
    IndicateurFactory,
    PilierFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
)

LISTE = reverse("diagnostics:difficultes")
LISTE_INDICATEURS = reverse("indicateurs:liste")


@pytest.fixture
def monde():
    """A published diagnostic with items at both levels, and a draft edition of the same
    contract with its secret."""
    rive_gauche = QuartierFactory(code="QN00304M", nom="Rive Gauche")
    fontbouillant = QuartierFactory(code="QN00305M", nom="Fontbouillant")
    diagnostic = DiagnosticFactory(
        slug="montlucon-2024", titre="Contrat de ville de Montluçon — diagnostic 2024"
    )
    cohesion = PilierFactory(diagnostic=diagnostic, numero=1, libelle="Cohésion sociale")
    emploi = PilierFactory(diagnostic=diagnostic, numero=2, libelle="Emploi")
    sante = ThemeFactory(pilier=cohesion, libelle="Santé")
    soins = SousThemeFactory(theme=sante, libelle="Accès aux soins")
    jeunesse = ThemeFactory(pilier=cohesion, libelle="Jeunesse")
    insertion_theme = ThemeFactory(pilier=emploi, libelle="Insertion")
    insertion = SousThemeFactory(theme=insertion_theme, libelle="Accompagnement vers l'emploi")
    mobilite = SousThemeFactory(theme=insertion_theme, libelle="Mobilité")

    brouillon = DiagnosticFactory(
        brouillon=True,
        contrat=diagnostic.contrat,
        nom_edition="Révision 2027",
        slug="revision-2027",
        titre="Révision 2027",
    )
    theme_secret = ThemeFactory(
        pilier=PilierFactory(diagnostic=brouillon, numero=1, libelle="Pilier en révision"),
        libelle="Santé en révision",
    )
    sous_theme_secret = SousThemeFactory(theme=theme_secret, libelle="Soins en révision")
    return SimpleNamespace(
        rive_gauche=rive_gauche,
        fontbouillant=fontbouillant,
        diagnostic=diagnostic,
        cohesion=cohesion,
        emploi=emploi,
        sante=sante,
        soins=soins,
        jeunesse=jeunesse,
        insertion_theme=insertion_theme,
        insertion=insertion,
        brouillon=brouillon,
        theme_secret=theme_secret,
        sous_theme_secret=sous_theme_secret,
        medecins=DifficulteFactory(
            sous_theme=soins,
            libelle="Éloignement des médecins généralistes",
            quartiers=[rive_gauche],
        ),
        renoncement=DifficulteFactory(
            au_niveau_du_theme=True, theme=sante, libelle="Renoncement aux soins"
        ),
        engagement=DifficulteFactory(
            au_niveau_du_theme=True,
            theme=jeunesse,
            libelle="Désengagement des jeunes sur la citoyenneté",
            quartiers=[fontbouillant],
        ),
        sante_mentale=DifficulteFactory(
            sous_theme=insertion,
            libelle="SANTÉ MENTALE : un frein à l'emploi",
            quartiers=[rive_gauche, fontbouillant],
        ),
        secret=DifficulteFactory(
            sous_theme=sous_theme_secret,
            libelle="Santé : constat confidentiel du brouillon",
            quartiers=[rive_gauche],
        ),
        nb_medecins=IndicateurFactory(sous_theme=soins, libelle="Nombre de médecins"),
        nb_engages=IndicateurFactory(
            au_niveau_du_theme=True, theme=jeunesse, libelle="Nombre de jeunes engagés"
        ),
        sans_permis=IndicateurFactory(sous_theme=mobilite, libelle="Part des adultes sans permis"),
        indicateur_secret=IndicateurFactory(
            sous_theme=sous_theme_secret, libelle="Indicateur confidentiel du brouillon"
        ),
    )


@pytest.fixture
def contrat(monde):
    """The personas hold their roles on the contract of both diagnostics of `monde`."""
    return monde.diagnostic.contrat


def filtrer(rf, user, data, filterset_class=DifficulteFilterSet):
    request = rf.get("/", data)
    request.user = user
    return filterset_class(
        request.GET, queryset=filterset_class._meta.model.objects.all(), request=request
    )


def libelles(elements):
    return {element.libelle for element in elements}


PUBLIEES = {
    "Éloignement des médecins généralistes",
    "Renoncement aux soins",
    "Désengagement des jeunes sur la citoyenneté",
    "SANTÉ MENTALE : un frein à l'emploi",
}


# The FilterSets -----------------------------------------------------------------------


def test_a_partner_filters_only_the_published_diagnostics(rf, monde, partenaire):
    assert libelles(filtrer(rf, partenaire, {}).qs) == PUBLIEES


def test_the_city_team_filters_the_drafts_too(rf, monde, marie):
    assert libelles(filtrer(rf, marie, {}).qs) == PUBLIEES | {monde.secret.libelle}
    assert libelles(filtrer(rf, marie, {"diagnostic": "revision-2027"}).qs) == {
        monde.secret.libelle
    }


def test_an_anonymous_visitor_filters_only_public_diagnostics(rf, monde):
    assert libelles(filtrer(rf, AnonymousUser(), {}).qs) == set()
    monde.diagnostic.est_public = True
    monde.diagnostic.save()
    assert libelles(filtrer(rf, AnonymousUser(), {}).qs) == PUBLIEES


def test_filtering_by_pilier_keeps_the_items_at_the_level_of_a_theme(rf, monde, partenaire):
    filterset = filtrer(rf, partenaire, {"pilier": monde.cohesion.pk})
    assert libelles(filterset.qs) == {
        "Éloignement des médecins généralistes",
        "Renoncement aux soins",
        "Désengagement des jeunes sur la citoyenneté",
    }


def test_filtering_by_theme_keeps_the_items_at_the_level_of_the_theme(rf, monde, partenaire):
    assert libelles(filtrer(rf, partenaire, {"theme": monde.sante.pk}).qs) == {
        "Éloignement des médecins généralistes",
        "Renoncement aux soins",
    }
    assert libelles(filtrer(rf, partenaire, {"theme": monde.jeunesse.pk}).qs) == {
        "Désengagement des jeunes sur la citoyenneté"
    }


def test_filtering_by_sous_theme(rf, monde, partenaire):
    assert libelles(filtrer(rf, partenaire, {"sous_theme": monde.soins.pk}).qs) == {
        "Éloignement des médecins généralistes"
    }


def test_filtering_by_quartier_code(rf, monde, partenaire):
    data = {"quartier": "QN00305M", "perimetre": "quartier-seulement"}
    assert libelles(filtrer(rf, partenaire, data).qs) == {
        "Désengagement des jeunes sur la citoyenneté",
        "SANTÉ MENTALE : un frein à l'emploi",
    }


@pytest.mark.parametrize("mots", ["sante", "SANTÉ", "Santé", "santé mentale"])
def test_the_text_filter_ignores_accents_and_case(rf, monde, partenaire, mots):
    assert libelles(filtrer(rf, partenaire, {"q": mots}).qs) == {
        "SANTÉ MENTALE : un frein à l'emploi"
    }


def test_the_text_filter_folds_plurals(rf, monde, partenaire):
    assert libelles(filtrer(rf, partenaire, {"q": "medecin"}).qs) == {
        "Éloignement des médecins généralistes"
    }
    assert libelles(filtrer(rf, partenaire, {"q": "jeune"}).qs) == {
        "Désengagement des jeunes sur la citoyenneté"
    }


def test_filters_combine(rf, monde, partenaire):
    data = {"diagnostic": "montlucon-2024", "pilier": monde.emploi.pk, "quartier": "QN00304M"}
    assert libelles(filtrer(rf, partenaire, data).qs) == {"SANTÉ MENTALE : un frein à l'emploi"}


def test_a_difficulte_is_with_indicator_when_its_parent_has_one(rf, monde, partenaire):
    # The sous-thème "Accès aux soins" and the thème "Jeunesse" hold indicateurs; the thème
    # "Santé" holds none at its own level (only its sous-thème does).
    assert libelles(filtrer(rf, partenaire, {"avec_indicateur": "oui"}).qs) == {
        "Éloignement des médecins généralistes",
        "Désengagement des jeunes sur la citoyenneté",
    }
    assert libelles(filtrer(rf, partenaire, {"avec_indicateur": "non"}).qs) == {
        "Renoncement aux soins",
        "SANTÉ MENTALE : un frein à l'emploi",
    }


def test_an_indicateur_is_with_difficulte_when_its_parent_has_one(rf, monde, partenaire):
    def indicateurs(data):
        return libelles(filtrer(rf, partenaire, data, IndicateurFilterSet).qs)

    assert indicateurs({}) == {
        "Nombre de médecins",
        "Nombre de jeunes engagés",
        "Part des adultes sans permis",
    }
    assert indicateurs({"avec_difficulte": "oui"}) == {
        "Nombre de médecins",
        "Nombre de jeunes engagés",
    }
    assert indicateurs({"avec_difficulte": "non"}) == {"Part des adultes sans permis"}
    assert indicateurs({"pilier": monde.cohesion.pk, "q": "jeunes"}) == {"Nombre de jeunes engagés"}


def test_the_menus_offer_only_what_the_user_may_see(rf, monde, partenaire):
    fields = filtrer(rf, partenaire, {}).form.fields
    assert [d.slug for d in fields["diagnostic"].objects] == ["montlucon-2024"]
    assert [p.libelle for p in fields["pilier"].objects] == ["Cohésion sociale", "Emploi"]
    assert [t.libelle for t in fields["theme"].objects] == ["Santé", "Jeunesse", "Insertion"]
    assert monde.sous_theme_secret not in fields["sous_theme"].objects
    assert monde.soins in fields["sous_theme"].objects


def test_the_menus_narrow_to_the_chosen_diagnostic(rf, monde, marie):
    fields = filtrer(rf, marie, {"diagnostic": "revision-2027"}).form.fields
    assert len(fields["diagnostic"].objects) == 2
    assert [p.libelle for p in fields["pilier"].objects] == ["Pilier en révision"]
    assert [t.libelle for t in fields["theme"].objects] == ["Santé en révision"]
    assert [s.libelle for s in fields["sous_theme"].objects] == ["Soins en révision"]


def test_with_several_diagnostics_the_menus_wait_for_one_to_be_chosen(rf, monde, marie):
    fields = filtrer(rf, marie, {}).form.fields
    assert len(fields["diagnostic"].objects) == 2
    for name in ("pilier", "theme", "sous_theme", "quartier"):
        assert fields[name].objects == []
        assert fields[name].help_text == "Choisissez d'abord un diagnostic."


def test_the_quartier_menu_is_the_chosen_diagnostic_s(rf, monde, partenaire):
    QuartierFactory(code="QN00999Z", nom="Ailleurs")
    monde.diagnostic.quartiers.set([monde.rive_gauche])
    filterset = filtrer(rf, partenaire, {"diagnostic": "montlucon-2024"})
    assert [q.code for q in filterset.form.fields["quartier"].objects] == ["QN00304M"]
    # An item may be tagged with a quartier its diagnostic no longer lists: still a filter.
    filterset = filtrer(rf, partenaire, {"quartier": "QN00305M", "perimetre": "quartier-seulement"})
    assert filterset.is_valid()
    assert libelles(filterset.qs) == {
        "Désengagement des jeunes sur la citoyenneté",
        "SANTÉ MENTALE : un frein à l'emploi",
    }


def test_a_pilier_in_the_url_is_a_filter_before_any_diagnostic_is_chosen(client, monde, marie):
    client.force_login(marie)
    response = client.get(LISTE, {"pilier": monde.emploi.pk})
    assert libelles(response.context["elements"]) == {"SANTÉ MENTALE : un frein à l'emploi"}
    page = response.content.decode()
    assert f'<option value="{monde.emploi.pk}" selected>2. Emploi</option>' in page
    assert "Choisissez d'abord un diagnostic." in page


def test_the_menus_are_written_as_django_writes_them(rf, monde, marie):
    for data in ({"theme": monde.sante.pk}, {"diagnostic": "montlucon-2024", "pilier": "x"}):
        form = filtrer(rf, marie, data).form
        form.is_valid()  # an invalid value: its menu says so (aria-invalid)
        for name in ("diagnostic", "pilier", "theme", "sous_theme", "quartier"):
            bound = form[name]
            assert isinstance(bound.field.widget, FastSelect)
            django = forms.Select(choices=bound.field.choices)
            assert bound.as_widget() == bound.as_widget(widget=django)
    choices = [
        ("", "Tous les thèmes"),
        ("Pilier « 1 » & co", [(1, "Santé <mentale>"), (2, 'Jeunesse "active"')]),
        (3, "Emploi"),
    ]
    attrs = {"id": "id_theme", "aria-describedby": "id_theme_helptext", "required": True}
    fast, django = FastSelect(choices=choices), forms.Select(choices=choices)
    for value in ("", 2, 3):
        assert fast.render("theme", value, attrs) == django.render("theme", value, attrs)


@pytest.mark.parametrize(
    "data",
    [
        {"pilier": "abc"},
        {"pilier": "999999"},
        {"diagnostic": "inconnu"},
        {"quartier": "QN99999Z"},
        {"avec_indicateur": "peut-etre"},
        {"q": "x" * 201},
    ],
)
def test_an_invalid_filter_is_an_error_and_an_empty_list(rf, monde, partenaire, data):
    filterset = filtrer(rf, partenaire, data)
    assert not filterset.is_valid()
    assert filterset.errors


@pytest.mark.parametrize(
    "data",
    [
        {"diagnostic": "revision-2027"},
        {"pilier": "PILIER_SECRET"},
        {"theme": "THEME_SECRET"},
        {"sous_theme": "SOUS_THEME_SECRET"},
    ],
)
def test_a_partner_cannot_reach_a_draft_through_a_filter(client, monde, partenaire, data):
    secrets = {
        "PILIER_SECRET": monde.theme_secret.pilier.pk,
        "THEME_SECRET": monde.theme_secret.pk,
        "SOUS_THEME_SECRET": monde.sous_theme_secret.pk,
    }
    data = {key: secrets.get(value, value) for key, value in data.items()}
    client.force_login(partenaire)
    for url in (LISTE, LISTE_INDICATEURS):
        response = client.get(url, data)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Sélectionnez un choix valide" in page
        assert "confidentiel" not in page
        assert "révision" not in page


# The pages ----------------------------------------------------------------------------


def test_the_list_shows_the_filters_the_count_and_each_item_with_its_path(
    client, monde, partenaire
):
    client.force_login(partenaire)
    response = client.get(LISTE)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<label for="id_q">' in page
    assert ">Filtrer</button>" in page
    assert f'href="{LISTE}">Réinitialiser les filtres</a>' in page
    assert "4 difficultés" in page
    soins_url = reverse("diagnostics:sous_theme", args=["montlucon-2024", monde.soins.pk])
    assert f'<a href="{soins_url}">Accès aux soins</a>' in page
    pilier_url = reverse("diagnostics:pilier", args=["montlucon-2024", 1])
    assert f'<a href="{pilier_url}#theme-{monde.jeunesse.pk}">Jeunesse</a>' in page
    fiche = reverse("fiche_quartier", args=["montlucon-2024", "QN00304M"])
    assert f'<li class="badge badge-quartier"><a href="{fiche}">Rive Gauche</a></li>' in page
    assert "confidentiel" not in page


def test_the_list_filters_from_the_url(client, monde, partenaire):
    client.force_login(partenaire)
    response = client.get(LISTE, {"theme": monde.sante.pk, "q": "soins"})
    assert [e.libelle for e in response.context["elements"]] == ["Renoncement aux soins"]
    page = response.content.decode()
    assert "1 difficulté" in page
    assert f'<option value="{monde.sante.pk}" selected>Santé</option>' in page
    assert 'value="soins"' in page


def test_the_exports_of_the_list_keep_its_filters(client, monde, partenaire):
    client.force_login(partenaire)
    page = client.get(LISTE, {"q": "soins", "page": "1"}).content.decode()
    assert f'href="{reverse("diagnostics:difficultes_export", args=["xlsx"])}?q=soins"' in page
    assert f'href="{reverse("diagnostics:difficultes_export", args=["csv"])}?q=soins"' in page


def test_an_invalid_filter_shows_a_french_message_and_no_item(client, monde, partenaire):
    client.force_login(partenaire)
    response = client.get(LISTE, {"pilier": "abc", "avec_indicateur": "peut-etre"})
    assert response.status_code == 200
    assert list(response.context["elements"]) == []
    page = response.content.decode()
    assert "Des filtres ne sont pas valides" in page
    assert "Sélectionnez un choix valide" in page
    assert "Filtres à corriger" in page


@pytest.mark.parametrize("page_demandee, page_affichee", [("abc", 1), ("0", 2), ("999", 2)])
def test_a_wrong_page_number_shows_a_page_of_the_list(
    client, monde, partenaire, page_demandee, page_affichee
):
    DifficulteFactory.create_batch(50, sous_theme=monde.soins, quartiers=[monde.rive_gauche])
    client.force_login(partenaire)
    response = client.get(LISTE, {"page": page_demandee})
    assert response.status_code == 200
    assert response.context["page_obj"].number == page_affichee


def test_the_pagination_keeps_the_filters(client, monde, partenaire):
    DifficulteFactory.create_batch(55, sous_theme=monde.soins)
    client.force_login(partenaire)
    response = client.get(LISTE, {"sous_theme": monde.soins.pk})
    assert len(response.context["elements"]) == 50
    page = response.content.decode()
    assert "56 difficultés" in page
    assert "Page 1 sur 2" in page
    assert f'href="?sous_theme={monde.soins.pk}&amp;page=2" rel="next"' in page
    second = client.get(LISTE, {"sous_theme": monde.soins.pk, "page": 2})
    assert len(second.context["elements"]) == 6


def test_the_list_of_indicateurs(client, monde, partenaire):
    client.force_login(partenaire)
    response = client.get(LISTE_INDICATEURS, {"avec_difficulte": "non"})
    assert response.status_code == 200
    assert [e.libelle for e in response.context["elements"]] == ["Part des adultes sans permis"]
    page = response.content.decode()
    assert "<h1>Indicateurs</h1>" in page
    assert "1 indicateur" in page


def test_an_anonymous_visitor_without_public_diagnostic_is_asked_to_sign_in(client, monde):
    for url in (LISTE, LISTE_INDICATEURS):
        response = client.get(url, {"q": "soins"})
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}%3Fq%3Dsoins"


def test_an_anonymous_visitor_lists_the_public_diagnostics(client, monde):
    monde.diagnostic.est_public = True
    monde.diagnostic.save()
    response = client.get(LISTE)
    assert response.status_code == 200
    assert libelles(response.context["elements"]) == PUBLIEES


def test_items_are_listed_in_the_order_of_the_diagnostic(client, monde, marie):
    client.force_login(marie)
    response = client.get(LISTE)
    assert [e.libelle for e in response.context["elements"]] == [
        "Renoncement aux soins",  # thème Santé, at its own level first
        "Éloignement des médecins généralistes",  # then its sous-thème
        "Désengagement des jeunes sur la citoyenneté",
        "SANTÉ MENTALE : un frein à l'emploi",  # pilier 2
        "Santé : constat confidentiel du brouillon",  # the draft (same years, title after)
    ]
    assert Difficulte.objects.count() == 5
    assert Indicateur.objects.count() == 4
