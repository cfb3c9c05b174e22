"""The roles: declared once (comptes.roles.ROLES), held on one contract (diagnostics.Membre:
a person's own, or their organisation's for a partner), read by diagnostics.access. The
national administrator (an active superuser) may do everything and alone enters the admin.
Migration 0012 turned the former global groups into memberships of every contract."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from comptes.roles import (
    ADMINISTRE,
    LIT_LES_BROUILLONS,
    MODIFIE,
    ROLES,
    Droits,
    Role,
    holds,
    is_national_admin,
    roles_that,
)
from diagnostics import access
from diagnostics.models import Diagnostic
from tests.factories import (
    DiagnosticFactory,
    MembreFactory,
    OrganisationFactory,
    QuartierFactory,
    UserFactory,
)

User = get_user_model()


def fresh(user):
    """The account as a new request loads it (the roles are kept on the user object)."""
    return User.objects.get(pk=user.pk)


# The declaration ---------------------------------------------------------------------------


def test_every_role_is_declared_with_what_it_may_do():
    assert set(ROLES) == set(Role)
    assert [role.value for role in Role] == ["Administrateur", "Équipe ville", "Partenaire"]
    for droits in ROLES.values():
        assert droits.description


@pytest.mark.parametrize(
    ("role", "reads_drafts", "edits", "administers"),
    [
        (Role.ADMINISTRATEUR, True, True, True),
        (Role.EQUIPE_VILLE, True, True, False),
        (Role.PARTENAIRE, False, False, False),
    ],
)
def test_what_each_role_may_do_on_its_contract(role, reads_drafts, edits, administers):
    droits = ROLES[role]

    assert droits.lit_les_brouillons is reads_drafts
    assert droits.modifie is edits
    assert droits.administre is administers


def test_the_roles_holding_a_capability_are_read_from_the_declaration():
    assert roles_that(ADMINISTRE) == [Role.ADMINISTRATEUR]
    assert roles_that(MODIFIE) == [Role.ADMINISTRATEUR, Role.EQUIPE_VILLE]
    assert roles_that(LIT_LES_BROUILLONS) == [Role.ADMINISTRATEUR, Role.EQUIPE_VILLE]
    assert holds({Role.PARTENAIRE, Role.EQUIPE_VILLE}, MODIFIE)
    assert not holds({Role.PARTENAIRE}, MODIFIE)
    assert not holds({Role.EQUIPE_VILLE}, ADMINISTRE)
    assert not holds(set(), LIT_LES_BROUILLONS)


def test_access_reads_the_declaration_rather_than_the_roles_names(monkeypatch):
    diagnostic = DiagnosticFactory(brouillon=True)
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=diagnostic.contrat)
    assert not access.can_edit(partenaire, diagnostic)

    monkeypatch.setitem(
        ROLES,
        Role.PARTENAIRE,
        Droits(lit_les_brouillons=True, modifie=True, administre=False, description="essai"),
    )

    partenaire = fresh(partenaire)
    assert access.can_view(partenaire, diagnostic)
    assert access.can_edit(partenaire, diagnostic)
    assert not access.can_administer(partenaire, diagnostic)


def test_no_django_group_or_permission_carries_a_role():
    diagnostic = DiagnosticFactory()
    administrateur = UserFactory(role=Role.ADMINISTRATEUR, contrat=diagnostic.contrat)

    assert not Group.objects.filter(name__in=[role.value for role in Role]).exists()
    assert not administrateur.groups.exists()
    assert not administrateur.has_perm("diagnostics.change_difficulte")
    assert not administrateur.has_perm("indicateurs.change_mesure")


# What diagnostics.access makes of a role on a contract --------------------------------------


@pytest.fixture
def editions():
    """A contract with a published, a frozen and a draft edition (none public), and another
    contract with a published edition and a public one."""
    publiee = DiagnosticFactory(nom_edition="Diagnostic initial")
    contrat = publiee.contrat
    figee = DiagnosticFactory(
        contrat=contrat, nom_edition="Première révision", statut=Diagnostic.Statut.FIGE
    )
    brouillon = DiagnosticFactory(contrat=contrat, nom_edition="Mi-parcours", brouillon=True)
    autre = DiagnosticFactory()
    publique = DiagnosticFactory(contrat=autre.contrat, nom_edition="Publique", public=True)
    return {
        "publiee": publiee,
        "figee": figee,
        "brouillon": brouillon,
        "autre": autre,
        "publique": publique,
    }


@pytest.mark.parametrize(
    ("role", "reads_drafts", "edits", "administers"),
    [
        (Role.ADMINISTRATEUR, True, True, True),
        (Role.EQUIPE_VILLE, True, True, False),
        (Role.PARTENAIRE, False, False, False),
    ],
)
def test_a_role_acts_on_every_edition_of_its_contract_and_on_no_other(
    editions, role, reads_drafts, edits, administers
):
    contrat = editions["publiee"].contrat
    user = UserFactory(role=role, contrat=contrat)
    own = [editions["publiee"], editions["figee"], editions["brouillon"]]
    other, public = editions["autre"], editions["publique"]

    assert access.roles_on(user, contrat) == {role}
    assert access.roles_on(user, other.contrat) == frozenset()
    assert access.can_view(user, editions["publiee"])
    assert access.can_view(user, editions["figee"])
    assert access.can_view(user, editions["brouillon"]) is reads_drafts
    for diagnostic in own:
        assert access.can_edit(user, diagnostic) is edits
        assert access.edits_diagnostic(user, diagnostic.pk) is edits
        assert access.can_administer(user, diagnostic) is administers
    assert access.can_administer(user, contrat) is administers

    # Another contract: only its public published edition, and nothing to change there.
    assert not access.can_view(user, other)
    assert access.can_view(user, public)
    for diagnostic in (other, public):
        assert not access.can_edit(user, diagnostic)
        assert not access.edits_diagnostic(user, diagnostic.pk)
        assert not access.can_administer(user, diagnostic)
    assert not access.can_administer(user, other.contrat)

    expected = {editions["publiee"], editions["figee"], public}
    if reads_drafts:
        expected.add(editions["brouillon"])
    assert set(access.visible_diagnostics(user)) == expected
    assert set(access.editable_diagnostics(user)) == (set(own) if edits else set())
    assert set(access.administered_diagnostics(user)) == (set(own) if administers else set())
    assert access.edits_somewhere(user) is edits
    assert access.administers_somewhere(user) is administers


def test_roles_on_two_contracts_are_each_read_on_their_own(editions):
    contrat, other = editions["publiee"].contrat, editions["autre"].contrat
    brouillon_autre = DiagnosticFactory(contrat=other, nom_edition="Brouillon", brouillon=True)
    user = UserFactory(role=Role.EQUIPE_VILLE, contrat=contrat)
    MembreFactory(contrat=other, compte=user, role=Role.PARTENAIRE)
    user = fresh(user)

    assert access.roles_by_contract(user) == {
        contrat.pk: {Role.EQUIPE_VILLE},
        other.pk: {Role.PARTENAIRE},
    }
    assert access.can_edit(user, editions["brouillon"])
    assert access.can_view(user, editions["autre"])
    assert not access.can_edit(user, editions["autre"])
    assert not access.can_view(user, brouillon_autre)
    assert not access.can_administer(user, contrat)
    assert access.edits_somewhere(user)
    assert not access.administers_somewhere(user)
    assert set(access.visible_diagnostics(user)) == {
        editions["publiee"],
        editions["figee"],
        editions["brouillon"],
        editions["autre"],
        editions["publique"],
    }


def test_a_role_covers_an_edition_opened_after_it_was_given(editions):
    contrat = editions["autre"].contrat
    user = UserFactory(role=Role.EQUIPE_VILLE, contrat=contrat)

    nouvelle = DiagnosticFactory(contrat=contrat, nom_edition="Nouvelle", brouillon=True)

    user = fresh(user)
    assert access.can_view(user, nouvelle)
    assert access.can_edit(user, nouvelle)
    assert access.edits_diagnostic(user, nouvelle.pk)


def test_an_organisation_given_the_partner_role_gives_it_to_each_of_its_accounts(editions):
    contrat = editions["publiee"].contrat
    caf = OrganisationFactory(nom="CAF de l'Allier")
    MembreFactory(contrat=contrat, organisation=caf, role=Role.PARTENAIRE)
    agent = UserFactory(organisation=caf)
    outsider = UserFactory(organisation=OrganisationFactory())

    assert access.roles_on(agent, contrat) == {Role.PARTENAIRE}
    assert access.can_view(agent, editions["publiee"])
    assert not access.can_view(agent, editions["brouillon"])
    assert not access.can_edit(agent, editions["publiee"])
    assert access.roles_on(outsider, contrat) == frozenset()
    assert not access.can_view(outsider, editions["publiee"])


def test_a_personal_role_adds_to_the_organisations(editions):
    contrat = editions["publiee"].contrat
    ville = OrganisationFactory()
    MembreFactory(contrat=contrat, organisation=ville, role=Role.PARTENAIRE)
    agent = UserFactory(organisation=ville, role=Role.EQUIPE_VILLE, contrat=contrat)

    assert access.roles_on(agent, contrat) == {Role.PARTENAIRE, Role.EQUIPE_VILLE}
    assert access.can_view(agent, editions["brouillon"])
    assert access.can_edit(agent, editions["brouillon"])


def test_the_roles_are_read_once_per_request_and_forgotten_when_they_change(
    editions, django_assert_num_queries
):
    contrat = editions["publiee"].contrat
    user = fresh(UserFactory(role=Role.PARTENAIRE, contrat=contrat))

    with django_assert_num_queries(1):
        for diagnostic in editions.values():
            access.can_view(user, diagnostic)
            access.can_edit(user, diagnostic)
            access.edits_diagnostic(user, diagnostic.pk)
        access.administers_somewhere(user)

    MembreFactory(contrat=editions["autre"].contrat, compte=user, role=Role.EQUIPE_VILLE)
    assert not access.can_edit(user, editions["autre"])  # the request's reading
    access.forget_roles(user)
    assert access.can_edit(user, editions["autre"])


@pytest.mark.parametrize("who", ["anonyme", "sans rôle", "inactif"])
def test_without_a_role_only_the_public_published_editions_are_read(editions, who):
    brouillon_public = DiagnosticFactory(est_public=True, brouillon=True)
    if who == "anonyme":
        user = AnonymousUser()
    elif who == "sans rôle":
        user = UserFactory()
    else:
        user = UserFactory(
            role=Role.ADMINISTRATEUR, contrat=editions["publiee"].contrat, is_active=False
        )

    assert set(access.visible_diagnostics(user)) == {editions["publique"]}
    assert access.can_view(user, editions["publique"])
    for diagnostic in (*editions.values(), brouillon_public):
        assert not access.can_edit(user, diagnostic)
        assert not access.can_administer(user, diagnostic)
        if diagnostic != editions["publique"]:
            assert not access.can_view(user, diagnostic)
    assert not access.edits_somewhere(user)
    assert not access.administers_somewhere(user)
    assert access.roles_on(user, editions["publiee"].contrat) == frozenset()


def test_the_national_administrator_may_do_everything_everywhere(editions):
    national = UserFactory(is_superuser=True)  # no membership at all

    assert is_national_admin(national)
    assert set(access.visible_diagnostics(national)) == set(editions.values())
    for diagnostic in editions.values():
        assert access.can_view(national, diagnostic)
        assert access.can_edit(national, diagnostic)
        assert access.edits_diagnostic(national, diagnostic.pk)
        assert access.can_administer(national, diagnostic)
        assert access.roles_on(national, diagnostic.contrat) == set(Role)
    assert access.edits_somewhere(national)
    assert access.administers_somewhere(national)
    assert set(access.administered_diagnostics(national)) == set(editions.values())


@pytest.mark.parametrize(
    ("flags", "national"),
    [
        ({"is_superuser": True}, True),
        ({"is_superuser": True, "is_staff": True}, True),
        ({"is_superuser": True, "is_active": False}, False),
        ({"is_staff": True}, False),
    ],
)
def test_the_national_administrator_is_an_active_superuser(flags, national):
    assert is_national_admin(UserFactory(**flags)) is national


def test_a_contract_administrateur_is_not_the_national_administrator(editions):
    user = UserFactory(role=Role.ADMINISTRATEUR, contrat=editions["publiee"].contrat, is_staff=True)

    assert not is_national_admin(user)
    assert not is_national_admin(AnonymousUser())
    assert not access.can_view(user, editions["autre"])


# The admin: the national administrator's alone ---------------------------------------------

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


def test_the_national_administrator_opens_every_admin_page_it_is_shown(client):
    DiagnosticFactory()
    QuartierFactory()
    client.force_login(UserFactory(is_superuser=True, is_staff=False))

    pages = admin_pages(client)

    assert {url: status for url, status in pages.items() if status != 200} == {}
    for expected in (
        "/admin/indicateurs/mesure/",
        "/admin/comptes/echecconnexion/",
        "/admin/comptes/organisation/",
        "/admin/diagnostics/difficulte/add/",
        "/admin/auth/user/add/",
    ):
        assert expected in pages, f"{expected} is not shown on the admin's index"


@pytest.mark.parametrize("role", list(Role))
def test_every_contract_role_is_refused_by_the_admin(client, role):
    contrat = DiagnosticFactory().contrat
    client.force_login(UserFactory(role=role, contrat=contrat, is_staff=True))

    for url in ("/admin/", "/admin/indicateurs/mesure/", "/admin/diagnostics/difficulte/add/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


# Migration 0012: the former global groups become memberships ---------------------------------

BEFORE = [("diagnostics", "0011_textes_valides")]


class TestMigration0012:
    """Before it, a role was a Django group valid on every diagnostic."""

    @pytest.fixture
    def _give_every_test_the_database(self, transactional_db, django_db_serialized_rollback):
        """Overrides tests/conftest.py: migrations run outside any transaction (as in
        tests/diagnostics/test_migrations.py); the database is put back afterwards."""

    @pytest.fixture
    def executor(self):
        executor = MigrationExecutor(connection)
        latest = executor.loader.graph.leaf_nodes()
        yield executor
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    @staticmethod
    def migrate(executor, targets):
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    def test_each_member_of_a_group_holds_its_role_on_every_existing_contract(self, executor):
        apps = self.migrate(executor, BEFORE)
        OldUser = apps.get_model("auth", "User")
        OldGroup = apps.get_model("auth", "Group")
        Contrat = apps.get_model("diagnostics", "Contrat")
        groups = {name: OldGroup.objects.get_or_create(name=name)[0] for name in Role}
        other_group = OldGroup.objects.create(name="Comité de pilotage")
        contrats = [
            Contrat.objects.create(
                nom=f"Contrat {n}", slug=f"contrat-{n}", territoire="Montluçon Communauté"
            )
            for n in (1, 2)
        ]
        people = {}
        for username, names in [
            ("sophie", [Role.ADMINISTRATEUR]),
            ("marie", [Role.EQUIPE_VILLE]),
            ("paul", [Role.PARTENAIRE]),
            ("lea", [Role.PARTENAIRE, Role.EQUIPE_VILLE]),  # the strongest is kept
            ("nina", []),
        ]:
            people[username] = OldUser.objects.create(username=username)
            for name in names:
                groups[name].user_set.add(people[username])
        other_group.user_set.add(people["nina"], people["marie"])

        apps = self.migrate(executor, executor.loader.graph.leaf_nodes())

        Membre = apps.get_model("diagnostics", "Membre")
        held = set(
            Membre.objects.values_list("contrat__slug", "compte__username", "role", "organisation")
        )
        assert held == {
            (contrat.slug, username, role.value, None)
            for contrat in contrats
            for username, role in [
                ("sophie", Role.ADMINISTRATEUR),
                ("marie", Role.EQUIPE_VILLE),
                ("paul", Role.PARTENAIRE),
                ("lea", Role.EQUIPE_VILLE),
            ]
        }
        Group = apps.get_model("auth", "Group")
        assert list(Group.objects.values_list("name", flat=True)) == ["Comité de pilotage"]
        assert set(Group.objects.get().user_set.values_list("username", flat=True)) == {
            "nina",
            "marie",
        }

        # Read by the site: as before the migration, on every contract.
        diagnostics = [
            DiagnosticFactory(contrat_id=contrat.pk, brouillon=True) for contrat in contrats
        ]
        marie, paul, nina = (User.objects.get(username=n) for n in ("marie", "paul", "nina"))
        for diagnostic in diagnostics:
            assert access.can_edit(marie, diagnostic)
            assert not access.can_administer(marie, diagnostic)
            assert not access.can_view(paul, diagnostic)
            assert not access.can_view(nina, diagnostic)
        assert access.can_administer(User.objects.get(username="sophie"), diagnostics[1])

    def test_without_a_contract_the_groups_go_and_no_membership_is_made(self, executor):
        apps = self.migrate(executor, BEFORE)
        OldUser = apps.get_model("auth", "User")
        OldGroup = apps.get_model("auth", "Group")
        assert not apps.get_model("diagnostics", "Contrat").objects.exists()
        administrateur, _ = OldGroup.objects.get_or_create(name=Role.ADMINISTRATEUR.value)
        administrateur.user_set.add(OldUser.objects.create(username="sophie"))

        apps = self.migrate(executor, executor.loader.graph.leaf_nodes())

        assert not apps.get_model("diagnostics", "Membre").objects.exists()
        assert not apps.get_model("auth", "Group").objects.exists()

    def test_going_back_gives_each_person_their_strongest_role_as_a_group(self, executor):
        apps = self.migrate(executor, executor.loader.graph.leaf_nodes())
        User_ = apps.get_model("auth", "User")
        Contrat = apps.get_model("diagnostics", "Contrat")
        Membre = apps.get_model("diagnostics", "Membre")
        a, b = (
            Contrat.objects.create(nom=f"Contrat {n}", slug=f"contrat-{n}", territoire="T")
            for n in "ab"
        )
        lea, paul = User_.objects.create(username="lea"), User_.objects.create(username="paul")
        Membre.objects.create(contrat=a, compte=lea, role=Role.PARTENAIRE.value)
        Membre.objects.create(contrat=b, compte=lea, role=Role.ADMINISTRATEUR.value)
        Membre.objects.create(contrat=b, compte=paul, role=Role.PARTENAIRE.value)

        apps = self.migrate(executor, BEFORE)

        Group = apps.get_model("auth", "Group")
        held = set(Group.objects.values_list("name", "user__username"))
        assert held == {
            (Role.ADMINISTRATEUR.value, "lea"),
            (Role.PARTENAIRE.value, "paul"),
            (Role.EQUIPE_VILLE.value, None),
        }
