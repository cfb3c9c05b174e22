"""The roles carry their permissions: one declaration (comptes.roles.ROLES), from which the
groups' Django permissions are derived after every migrate, for every model."""

import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from comptes.roles import ROLES, Role, managed_apps, sync_roles
from tests.factories import DiagnosticFactory, QuartierFactory, UserFactory


def codenames(role):
    return set(
        Group.objects.get(name=role.value).permissions.values_list(
            "content_type__app_label", "codename"
        )
    )


def test_the_administrateur_holds_every_permission_of_every_model_of_the_project():
    held = codenames(Role.ADMINISTRATEUR)

    for label in managed_apps():
        for model in apps.get_app_config(label).get_models():
            for action in ("view", "add", "change", "delete"):
                assert (label, f"{action}_{model._meta.model_name}") in held


def test_models_added_after_the_roles_were_created_are_given_to_the_administrateur():
    # Measures, pending imports and failed logins came after the roles' migration.
    held = codenames(Role.ADMINISTRATEUR)

    assert ("indicateurs", "change_mesure") in held
    assert ("diagnostics", "view_importenattente") in held
    assert ("comptes", "delete_echecconnexion") in held


def test_partners_only_read_and_the_city_team_edits_the_hierarchy():
    partenaire, equipe = codenames(Role.PARTENAIRE), codenames(Role.EQUIPE_VILLE)

    assert {codename.split("_")[0] for _, codename in partenaire} == {"view"}
    assert ("indicateurs", "view_mesure") in partenaire
    assert ("diagnostics", "change_difficulte") in equipe
    assert ("indicateurs", "add_mesure") in equipe
    assert ("diagnostics", "add_import") not in equipe
    assert not any(app == "auth" for app, _ in equipe | partenaire)


def test_permissions_are_derived_again_from_the_declaration_after_migrate():
    administrateur = Group.objects.get(name=Role.ADMINISTRATEUR.value)
    administrateur.permissions.clear()
    Group.objects.filter(name=Role.PARTENAIRE.value).delete()
    stray = Permission.objects.get(codename="delete_user")
    Group.objects.get(name=Role.EQUIPE_VILLE.value).permissions.add(stray)

    call_command("migrate", verbosity=0)

    assert ("indicateurs", "change_mesure") in codenames(Role.ADMINISTRATEUR)
    assert ("diagnostics", "view_difficulte") in codenames(Role.PARTENAIRE)
    assert ("auth", "delete_user") not in codenames(Role.EQUIPE_VILLE)


def test_a_model_that_appears_later_gets_its_permissions_without_a_migration():
    # A new model of a project application: its content type and permissions are created
    # and granted by the next sync, as `post_migrate` does after the migration adding it.
    objectif = ContentType.objects.create(app_label="indicateurs", model="objectif")
    Permission.objects.create(codename="view_objectif", name="x", content_type=objectif)

    sync_roles()

    assert ("indicateurs", "view_objectif") in codenames(Role.ADMINISTRATEUR)
    assert ("indicateurs", "view_objectif") not in codenames(Role.PARTENAIRE)


def test_every_role_is_declared_with_its_group():
    assert set(ROLES) == set(Role)
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}


# The admin, as each role ----------------------------------------------------------------

ADMIN_LINK = re.compile(r'href="(/admin/[^"#?]*)"')


def admin_pages(client, start="/admin/"):
    """Every page of the admin linked from its index and its application indexes:
    the application indexes, the lists and the add pages."""
    seen, to_visit = {}, [start]
    while to_visit:
        url = to_visit.pop()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if url == start or re.fullmatch(r"/admin/\w+/", url):
            for link in ADMIN_LINK.findall(response.content.decode()):
                if re.fullmatch(r"/admin/(\w+/|\w+/\w+/|\w+/\w+/add/)", link):
                    to_visit.append(link)
    return seen


def test_a_non_superuser_administrateur_opens_every_admin_page_it_is_shown(client):
    DiagnosticFactory()
    QuartierFactory()
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, is_superuser=False))

    pages = admin_pages(client)

    assert {url: status for url, status in pages.items() if status != 200} == {}
    for expected in (
        "/admin/indicateurs/mesure/",
        "/admin/comptes/echecconnexion/",
        "/admin/diagnostics/difficulte/add/",
        "/admin/auth/user/add/",
    ):
        assert expected in pages, f"{expected} is not shown on the admin's index"


@pytest.mark.parametrize("role", [Role.EQUIPE_VILLE, Role.PARTENAIRE])
def test_the_city_team_and_partners_are_refused_by_the_admin_as_before(client, role):
    client.force_login(UserFactory(role=role, is_staff=True))

    for url in ("/admin/", "/admin/indicateurs/mesure/", "/admin/diagnostics/difficulte/add/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
