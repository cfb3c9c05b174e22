"""The Django admin stays usable, with the site's rules: the version checked, a libellé
unique at its level, deletions and changes in the history with the admin user. It is the
national administrator's (an active superuser) only: a contract's Administrateur works in
the site."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from comptes.roles import Role
from diagnostics.models import Difficulte, Theme
from tests.factories import DifficulteFactory, IndicateurFactory, SousThemeFactory, UserFactory


@pytest.fixture
def admin_client(client):
    """Paul Martin, the national administrator, signed in."""
    user = UserFactory(
        username="paul", first_name="Paul", last_name="Martin", is_staff=True, is_superuser=True
    )
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def sous_theme():
    sous_theme = SousThemeFactory(libelle="Accès aux soins")
    DifficulteFactory(sous_theme=sous_theme, libelle="Manque de médecins", position=1)
    DifficulteFactory(sous_theme=sous_theme, libelle="Renoncement aux soins", position=2)
    return sous_theme


def change_url(obj):
    return reverse(f"admin:diagnostics_{obj._meta.model_name}_change", args=[obj.pk])


def form_data(item, **changes):
    return {
        "libelle": item.libelle,
        "sous_theme": item.sous_theme_id or "",
        "theme": item.theme_id or "",
        "position": item.position,
        "source": "",
        "version_lue": item.version,
        **changes,
    }


def test_a_contracts_administrator_is_sent_to_the_admin_login_and_changes_nothing(
    client, sous_theme
):
    user = UserFactory(
        role=Role.ADMINISTRATEUR, contrat=sous_theme.diagnostic.contrat, is_staff=True
    )
    client.force_login(user)
    item = sous_theme.difficultes.get(libelle="Manque de médecins")
    url = change_url(item)

    for response in (client.get(url), client.post(url, form_data(item, libelle="Changé"))):
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('admin:login')}?next={url}"
    # Signed in, but not the national administrator: the admin's login refuses them.
    assert client.get(f"{reverse('admin:login')}?next={url}").status_code == 403
    item.refresh_from_db()
    assert (item.libelle, item.version) == ("Manque de médecins", 1)


def test_an_admin_change_is_versioned_and_in_the_history(admin_client, sous_theme):
    item = sous_theme.difficultes.get(libelle="Manque de médecins")
    assertContains(admin_client.get(change_url(item)), 'name="version_lue" value="1"')

    response = admin_client.post(
        change_url(item), form_data(item, libelle="Manque de généralistes")
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.libelle, item.version) == ("Manque de généralistes", 2)
    record = item.history.order_by("-history_id").first()
    assert (record.history_user.username, record.history_change_reason) == ("paul", "Modification")
    history = admin_client.get(reverse("admin:diagnostics_difficulte_history", args=[item.pk]))
    assert history.status_code == 200


def test_an_admin_save_on_a_stale_version_is_refused(admin_client, sous_theme):
    item = sous_theme.difficultes.get(libelle="Manque de médecins")
    Difficulte.objects.filter(pk=item.pk).update(version=2, libelle="Changé sur le site")

    response = admin_client.post(change_url(item), form_data(item, libelle="Version de l'admin"))

    assertContains(response, "Quelqu&#x27;un a modifié cet élément pendant que vous le modifiiez")
    item.refresh_from_db()
    assert item.libelle == "Changé sur le site"


def test_a_duplicate_libelle_is_a_form_error_in_the_admin_not_a_crash(admin_client, sous_theme):
    item = sous_theme.difficultes.get(libelle="Manque de médecins")
    response = admin_client.post(change_url(item), form_data(item, libelle="RENONCEMENT aux soins"))
    assertContains(response, "existe déjà dans le sous-thème « Accès aux soins »")


def test_an_admin_deletion_records_what_went_with_it(admin_client, sous_theme):
    theme = sous_theme.theme
    url = reverse("admin:diagnostics_theme_delete", args=[theme.pk])
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Theme.objects.filter(pk=theme.pk).exists()
    deletion = Theme.history.get(id=theme.pk, history_type="-")
    assert deletion.history_user.username == "paul"
    assert (
        Difficulte.history.filter(
            history_type="-",
            history_change_reason__startswith=f"Suppression avec le thème n° {theme.pk}",
        ).count()
        == 2
    )


def test_the_admin_pages_of_the_hierarchy_still_open(admin_client, sous_theme):
    for obj in (sous_theme, sous_theme.theme, sous_theme.theme.pilier):
        assert admin_client.get(change_url(obj)).status_code == 200
    indicateur = IndicateurFactory(sous_theme=sous_theme)
    url = reverse("admin:indicateurs_indicateur_change", args=[indicateur.pk])
    assertContains(admin_client.get(url), 'name="version_lue" value="1"')
    add = reverse("admin:diagnostics_difficulte_add")
    assert admin_client.get(add).status_code == 200
    response = admin_client.post(
        add,
        {
            "libelle": "Ajoutée dans l'admin",
            "sous_theme": sous_theme.pk,
            "theme": "",
            "position": 0,
            "source": "",
        },
    )
    assert response.status_code == 302
    added = Difficulte.objects.get(libelle="Ajoutée dans l'admin")
    assert added.position == 3  # last, as on the site
    assert added.history.get().history_change_reason == "Création"
