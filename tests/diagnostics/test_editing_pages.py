"""The edit pages: what the Équipe ville does in the browser's forms, and what it sees.

Every action by role: allowed for Équipe ville and Administrateur, 403 for a partner who
reads the edition (404 on a draft they may not read), the login page for an anonymous
visitor (and tests/test_access_matrix.py for every URL).
"""

import re

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from comptes.roles import Role
from diagnostics.models import Diagnostic, Difficulte, SousTheme, Theme
from indicateurs.models import Indicateur
from tests.factories import (
    DiagnosticFactory,
    DifficulteFactory,
    IndicateurFactory,
    PilierFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)


def text(response):
    return " ".join(response.content.decode().split())


@pytest.fixture
def diagnostic():
    """Two quartiers; pilier 1 with thème « Santé » (sous-thème « Accès aux soins », 3
    difficultés, 1 indicateur) and thème « Jeunesse » (sous-thème « Loisirs »)."""
    rive_gauche = QuartierFactory(code="QN00304M", nom="Rive Gauche")
    bien_assis = QuartierFactory(code="QN00306M", nom="Bien-Assis")
    QuartierFactory(code="QN09999M", nom="Quartier d'une autre ville")
    diagnostic = DiagnosticFactory(slug="montlucon", brouillon=True)
    diagnostic.quartiers.set([rive_gauche, bien_assis])
    pilier = PilierFactory(diagnostic=diagnostic, numero=1, libelle="Cohésion sociale")
    sante = ThemeFactory(pilier=pilier, libelle="Santé", position=1)
    acces = SousThemeFactory(theme=sante, libelle="Accès aux soins", position=1)
    for position, libelle in enumerate(
        ["Manque de médecins", "Renoncement aux soins", "Peu de prévention"], 1
    ):
        DifficulteFactory(sous_theme=acces, libelle=libelle, position=position)
    IndicateurFactory(sous_theme=acces, libelle="Nombre de médecins", position=1)
    jeunesse = ThemeFactory(pilier=pilier, libelle="Jeunesse", position=2)
    SousThemeFactory(theme=jeunesse, libelle="Loisirs", position=1)
    return diagnostic


@pytest.fixture
def contrat(diagnostic):
    """The personas hold their roles on this module's diagnostic."""
    return diagnostic.contrat


def difficulte(libelle):
    return Difficulte.objects.get(libelle=libelle)


def element_url(name, element, nature="difficultes", slug="montlucon"):
    return reverse(f"diagnostics:{name}", args=[slug, nature, element.pk])


# Who ------------------------------------------------------------------------------------


# The diagnostic is a draft, which a Partenaire may not read: a 404, as for the forms of
# the indicators; on a published edition, which they read, a 403.
@pytest.mark.parametrize(
    ("role", "published", "expected"),
    [
        (Role.EQUIPE_VILLE, False, 200),
        (Role.ADMINISTRATEUR, False, 200),
        (Role.PARTENAIRE, False, 404),
        (Role.PARTENAIRE, True, 403),
    ],
)
def test_editing_is_for_the_equipe_ville_and_administrators(
    client, diagnostic, role, published, expected
):
    if published:
        Diagnostic.objects.filter(pk=diagnostic.pk).update(statut=Diagnostic.Statut.PUBLIE)
    client.force_login(UserFactory(role=role, contrat=diagnostic.contrat))
    url = element_url("element_modifier", difficulte("Manque de médecins"))
    assert client.get(url).status_code == expected
    response = client.post(url, {"libelle": "Changé", "version": 1})
    assert response.status_code == (302 if expected == 200 else expected)
    assert difficulte("Changé" if expected == 200 else "Manque de médecins")


def test_anonymous_visitors_are_sent_to_the_login_page_and_change_nothing(client, diagnostic):
    url = element_url("element_supprimer", difficulte("Manque de médecins"))
    response = client.post(url, {"version": 1})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert Difficulte.objects.count() == 3


def test_a_partner_gets_the_same_404_on_an_unknown_diagnostic_as_on_a_draft(client, diagnostic):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=diagnostic.contrat))
    unknown = client.get(reverse("diagnostics:modifications", args=["n-existe-pas"]))
    draft = client.get(reverse("diagnostics:modifications", args=[diagnostic.slug]))
    assert unknown.status_code == draft.status_code == 404
    token = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    # Nothing tells a draft from nothing (but the logout form's token, new each page).
    assert token.sub(b"", unknown.content) == token.sub(b"", draft.content)


def test_the_edit_controls_are_shown_to_the_equipe_ville_only(client, diagnostic, marie):
    pilier_url = reverse("diagnostics:pilier", args=["montlucon", 1])
    client.force_login(marie)
    response = client.get(pilier_url)
    assertContains(response, "Renommer le pilier")
    assertContains(response, element_url("element_modifier", difficulte("Peu de prévention")))
    assertContains(response, 'class="actions-edition"')
    assertContains(response, "css/edition.css")

    diagnostic.statut = "publie"
    diagnostic.save()
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=diagnostic.contrat))
    response = client.get(pilier_url)
    assert response.status_code == 200
    assertNotContains(response, "actions-edition")
    assertNotContains(response, element_url("element_modifier", difficulte("Peu de prévention")))
    assertNotContains(response, "edition.css")


# Editing an item ------------------------------------------------------------------------


def test_staff_edit_a_difficulty_its_quartiers_limited_to_the_diagnostics(equipe, diagnostic):
    item = difficulte("Renoncement aux soins")
    url = element_url("element_modifier", item)
    response = equipe.get(url, {"retour": "/diagnostics/montlucon/sous-themes/1/"})
    assertContains(response, "<h1>Modifier la difficulté</h1>", html=True)
    assertContains(response, "Rive Gauche")
    assertNotContains(response, "Quartier d'une autre ville")
    assertContains(response, 'name="version" value="1"')

    rive_gauche = diagnostic.quartiers.get(nom="Rive Gauche")
    response = equipe.post(
        url,
        {
            "libelle": "Renoncement aux soins pour raisons financières",
            "quartiers": [rive_gauche.pk],
            "version": 1,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"/diagnostics/montlucon/piliers/1/#difficulte-{item.pk}"
    item.refresh_from_db()
    assert item.libelle == "Renoncement aux soins pour raisons financières"
    assert list(item.quartiers.all()) == [rive_gauche]
    page = equipe.get(response["Location"])
    assertContains(page, "La difficulté a été modifiée.")
    assertContains(page, "Renoncement aux soins pour raisons financières")


def test_errors_are_in_french_beside_the_field_and_in_a_summary(equipe, diagnostic):
    item = difficulte("Peu de prévention")
    response = equipe.post(
        element_url("element_modifier", item), {"libelle": "renoncement AUX soins", "version": 1}
    )
    assert response.status_code == 200
    page = text(response)
    assert "Le formulaire contient une erreur" in page
    message = (
        "Une difficulté portant ce libellé existe déjà dans le sous-thème « Accès aux soins » "
        "(majuscules et accents ne comptent pas)."
    )
    assert f'<a href="#id_libelle">Libellé : {message}</a>' in page.replace("&#x27;", "'")
    assert 'aria-invalid="true"' in page
    item.refresh_from_db()
    assert item.libelle == "Peu de prévention"

    response = equipe.post(element_url("element_modifier", item), {"libelle": "   ", "version": 1})
    assertContains(response, "Ce champ est obligatoire.")


def test_a_form_without_its_version_changes_nothing(equipe, diagnostic):
    item = difficulte("Peu de prévention")
    response = equipe.post(element_url("element_modifier", item), {"libelle": "Changé"})
    assertContains(response, "Ce formulaire est incomplet (numéro de version absent)")
    item.refresh_from_db()
    assert item.libelle == "Peu de prévention"


def test_a_forged_return_address_is_ignored(equipe, diagnostic):
    item = difficulte("Peu de prévention")
    response = equipe.post(
        element_url("element_modifier", item),
        {"libelle": "Autre", "version": 1, "retour": "https://exemple.org/"},
    )
    assert response["Location"].startswith("/diagnostics/montlucon/piliers/1/")


# No lost update -------------------------------------------------------------------------


def test_a_stale_form_is_shown_again_with_both_versions_and_a_second_submit_wins(
    client, diagnostic, marie, paul
):
    item = difficulte("Renoncement aux soins")
    url = element_url("element_modifier", item)
    client.force_login(paul)
    client.post(url, {"libelle": "Renoncement aux soins (version de Paul)", "version": 1})

    client.force_login(marie)
    response = client.post(
        url, {"libelle": "Renoncement aux soins (version de Marie)", "version": 1}
    )

    assert response.status_code == 200
    page = text(response)
    assert "Quelqu’un a modifié cet élément pendant que vous le modifiiez" in page
    assert "Paul Martin l’a enregistré le" in page
    # Marie's input is kept in the field, Paul's saved value is shown beside it.
    assert "Renoncement aux soins (version de Marie)</textarea>" in page
    assert "Version enregistrée par Paul Martin :" in page
    assert "Renoncement aux soins (version de Paul)" in page
    assert 'name="version" value="2"' in page
    item.refresh_from_db()
    assert item.libelle == "Renoncement aux soins (version de Paul)"

    response = client.post(
        url, {"libelle": "Renoncement aux soins (version de Marie)", "version": 2}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.libelle, item.version) == ("Renoncement aux soins (version de Marie)", 3)


def test_an_edit_of_an_item_deleted_meanwhile_says_so(client, diagnostic, marie, paul):
    item = difficulte("Renoncement aux soins")
    client.force_login(marie)
    response = client.get(element_url("element_modifier", item))
    client.force_login(paul)
    client.post(element_url("element_supprimer", item), {"version": 1})
    client.force_login(marie)
    response = client.post(element_url("element_modifier", item), {"libelle": "X", "version": 1})
    # The form again, with the typed text and who deleted it (no bare 404).
    assertContains(response, "Cet élément a été supprimé pendant que vous le modifiiez")


# Adding, moving, ordering ---------------------------------------------------------------


def test_staff_add_a_difficulty_and_an_indicator_at_the_end(equipe, diagnostic):
    acces = SousTheme.objects.get(libelle="Accès aux soins")
    url = reverse(
        "diagnostics:element_ajouter", args=["montlucon", "sous-themes", acces.pk, "difficultes"]
    )
    assertContains(equipe.get(url), "Ajouter une difficulté au sous-thème « Accès aux soins »")
    response = equipe.post(url, {"libelle": "Délais de rendez-vous trop longs"})
    assert response.status_code == 302
    assert list(acces.difficultes.values_list("libelle", flat=True))[-1] == (
        "Délais de rendez-vous trop longs"
    )

    sante = Theme.objects.get(libelle="Santé")
    url = reverse(
        "diagnostics:element_ajouter", args=["montlucon", "themes", sante.pk, "indicateurs"]
    )
    assert (
        equipe.post(url, {"libelle": "Part des habitants sans médecin traitant"}).status_code == 302
    )
    assert sante.indicateurs.get().libelle == "Part des habitants sans médecin traitant"


def test_the_order_buttons_work_without_javascript(equipe, diagnostic):
    item = difficulte("Peu de prévention")
    url = element_url("element_ordre", item)
    response = equipe.post(url, {"sens": "haut", "retour": "/diagnostics/montlucon/piliers/1/"})
    assert response.status_code == 302
    assert response["Location"] == f"/diagnostics/montlucon/piliers/1/#difficulte-{item.pk}"
    acces = item.sous_theme
    assert list(acces.difficultes.order_by("position").values_list("libelle", flat=True)) == [
        "Manque de médecins",
        "Peu de prévention",
        "Renoncement aux soins",
    ]
    assertContains(equipe.get(response["Location"]), "« Peu de prévention » a été montée.")
    assert equipe.get(url).status_code == 405
    assert equipe.post(url, {"sens": "ailleurs"}).status_code == 400


def test_reorder_sous_themes_and_themes(equipe, diagnostic):
    jeunesse = Theme.objects.get(libelle="Jeunesse")
    equipe.post(
        reverse("diagnostics:theme_ordre", args=["montlucon", jeunesse.pk]), {"sens": "haut"}
    )
    assert list(Theme.objects.order_by("position").values_list("libelle", flat=True)) == [
        "Jeunesse",
        "Santé",
    ]
    autre = SousThemeFactory(theme=jeunesse, libelle="Sport", position=2)
    equipe.post(
        reverse("diagnostics:sous_theme_ordre", args=["montlucon", autre.pk]), {"sens": "haut"}
    )
    assert list(jeunesse.sous_themes.order_by("position").values_list("libelle", flat=True)) == [
        "Sport",
        "Loisirs",
    ]


def test_staff_move_a_sous_theme_to_another_theme(equipe, diagnostic):
    acces = SousTheme.objects.get(libelle="Accès aux soins")
    jeunesse = Theme.objects.get(libelle="Jeunesse")
    url = reverse("diagnostics:sous_theme_deplacer", args=["montlucon", acces.pk])
    page = text(equipe.get(url))
    assert '<optgroup label="Pilier 1 : Cohésion sociale">' in page
    assert "Ses éléments (4) le suivent" in page

    response = equipe.post(url, {"theme": jeunesse.pk, "version": 1})

    assert response.status_code == 302
    acces.refresh_from_db()
    assert acces.theme == jeunesse
    response = equipe.post(url, {"theme": jeunesse.pk, "version": 2})
    assertContains(response, "C&#x27;est le thème actuel : choisissez-en un autre.")


def test_staff_move_an_item_to_its_themes_level_and_a_clash_is_a_french_error(equipe, diagnostic):
    item = difficulte("Peu de prévention")
    sante = Theme.objects.get(libelle="Santé")
    url = element_url("element_deplacer", item)
    page = text(equipe.get(url))
    assert f'<option value="theme-{sante.pk}">Santé — au niveau du thème</option>' in page
    assert equipe.post(url, {"destination": f"theme-{sante.pk}", "version": 1}).status_code == 302
    item.refresh_from_db()
    assert (item.theme, item.sous_theme) == (sante, None)

    acces = SousTheme.objects.get(libelle="Accès aux soins")
    DifficulteFactory(sous_theme=acces, libelle="PEU de prévention")
    response = equipe.post(url, {"destination": f"sous_theme-{acces.pk}", "version": 2})
    assert response.status_code == 200
    assertContains(response, "existe déjà dans le sous-thème « Accès aux soins »")


def test_choices_never_offer_another_diagnostics_places(equipe, diagnostic):
    other = ThemeFactory(libelle="Thème d'un autre diagnostic")
    item = difficulte("Peu de prévention")
    url = element_url("element_deplacer", item)
    assertNotContains(equipe.get(url), "Thème d&#x27;un autre diagnostic")
    response = equipe.post(url, {"destination": f"theme-{other.pk}", "version": 1})
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.theme_id is None


# Split, merge, delete -------------------------------------------------------------------


def test_staff_split_a_difficulty_and_merge_it_back(equipe, diagnostic):
    item = difficulte("Manque de médecins")
    item.libelle = "Manque de médecins - Départs en retraite"
    item.save()
    response = equipe.get(element_url("element_scinder", item))
    assertContains(response, "Manque de médecins\nDéparts en retraite</textarea>")

    response = equipe.post(
        element_url("element_scinder", item),
        {
            "libelles": "Manque de médecins\nDéparts en retraite non remplacés",
            "version": item.version,
        },
    )
    assert response.status_code == 302
    nouvelle = difficulte("Départs en retraite non remplacés")

    item.refresh_from_db()
    page = text(equipe.get(element_url("element_fusionner", item)))
    assert f'value="{nouvelle.pk}:1"' in page
    response = equipe.post(
        element_url("element_fusionner", item),
        {"autres": [f"{nouvelle.pk}:1"], "libelle": "", "version": item.version},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    # The texts are joined as sentences.
    assert item.libelle == "Manque de médecins. Départs en retraite non remplacés."
    assert not Difficulte.objects.filter(pk=nouvelle.pk).exists()


def test_a_merge_with_an_item_changed_meanwhile_unchecks_it_and_says_why(
    client, diagnostic, marie, paul
):
    manque, renoncement = difficulte("Manque de médecins"), difficulte("Renoncement aux soins")
    client.force_login(paul)
    client.post(
        element_url("element_modifier", renoncement),
        {"libelle": "Renoncement aux soins dentaires", "version": 1},
    )
    client.force_login(marie)
    response = client.post(
        element_url("element_fusionner", manque),
        {"autres": [f"{renoncement.pk}:1"], "libelle": "", "version": 1},
    )
    assertContains(
        response,
        "« Renoncement aux soins dentaires » a été modifié entre-temps par Paul Martin",
        status_code=200,
    )
    assert f'value="{renoncement.pk}:2"' in text(response)
    assert "checked" not in text(response)
    assert Difficulte.objects.count() == 3


def test_a_deletion_asks_for_confirmation_and_says_what_goes_with_it(equipe, diagnostic):
    acces = SousTheme.objects.get(libelle="Accès aux soins")
    url = reverse("diagnostics:sous_theme_supprimer", args=["montlucon", acces.pk])
    response = equipe.get(url)
    assertContains(response, "Seront aussi supprimés : 3 difficultés et 1 indicateur.")
    assert SousTheme.objects.filter(pk=acces.pk).exists()

    response = equipe.post(url, {"version": 1, "retour": acces.get_absolute_url()})
    assert response.status_code == 302
    assert response["Location"] == f"/diagnostics/montlucon/piliers/1/#theme-{acces.theme_id}"
    assert not SousTheme.objects.filter(pk=acces.pk).exists()
    assert Difficulte.objects.count() == 0
    assert Indicateur.objects.count() == 0


def test_renaming_the_levels(equipe, diagnostic):
    url = reverse("diagnostics:pilier_modifier", args=["montlucon", 1])
    assertContains(equipe.get(url), "Modifier le libellé du pilier")
    assert equipe.post(url, {"libelle": "  COHESION   SOCIALE ", "version": 1}).status_code == 302
    assert diagnostic.piliers.get().libelle == "COHESION SOCIALE"

    sante = Theme.objects.get(libelle="Santé")
    response = equipe.post(
        reverse("diagnostics:theme_modifier", args=["montlucon", sante.pk]),
        {"libelle": "jeunesse", "version": 1},
    )
    assertContains(response, "Un thème portant ce libellé existe déjà dans le pilier")

    url = reverse("diagnostics:theme_ajouter", args=["montlucon", 1])
    assert equipe.post(url, {"libelle": "Culture"}).status_code == 302
    culture = Theme.objects.get(libelle="Culture")
    url = reverse("diagnostics:sous_theme_ajouter", args=["montlucon", culture.pk])
    assert equipe.post(url, {"libelle": "Pratiques artistiques"}).status_code == 302
    assert culture.sous_themes.get().libelle == "Pratiques artistiques"


def test_another_diagnostics_objects_are_404(equipe, diagnostic):
    other = DifficulteFactory()
    assert equipe.get(element_url("element_modifier", other)).status_code == 404
    assert (
        equipe.get(
            re.sub(
                "montlucon",
                "inconnu",
                element_url("element_modifier", difficulte("Peu de prévention")),
            )
        ).status_code
        == 404
    )


def test_a_change_without_the_csrf_token_is_refused(diagnostic, marie):
    client = Client(enforce_csrf_checks=True)
    client.force_login(marie)
    item = difficulte("Peu de prévention")
    response = client.post(element_url("element_supprimer", item), {"version": 1})
    assert response.status_code == 403
    assert Difficulte.objects.filter(pk=item.pk).exists()
