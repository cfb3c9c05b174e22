"""The members of a contract, managed in the site by its Administrateurs: invitations by
e-mail (a link that expires and serves once), roles changed and removed with history, a
partner organisation as a whole; never a contract without an Administrateur, never a
member of another contract reached."""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comptes.models import Organisation
from comptes.roles import Role
from diagnostics.access import can_edit, can_view
from diagnostics.models import Invitation, Membre
from tests.factories import DiagnosticFactory, MembreFactory, OrganisationFactory, UserFactory


@pytest.fixture
def diagnostic():
    return DiagnosticFactory(titre="Contrat de ville de Vierzon — diagnostic")


@pytest.fixture
def contrat(diagnostic):
    return diagnostic.contrat


@pytest.fixture
def administrateur(client, contrat):
    user = UserFactory(
        username="nadia",
        first_name="Nadia",
        last_name="Benali",
        role=Role.ADMINISTRATEUR,
        contrat=contrat,
    )
    client.force_login(user)
    return user


def text(response):
    """What the page says, entities decoded."""
    return html.unescape(response.content.decode())


def members_page(contrat):
    return reverse("diagnostics:membres", kwargs={"slug": contrat.slug})


def invite(client, contrat, email="lea.roux@caf.fr", role=Role.PARTENAIRE):
    response = client.post(members_page(contrat), {"email": email, "role": role.value})
    assert response.status_code == 302, response.content.decode()
    return re.search(r"http://testserver(/invitations/[^/\s]+/)", mail.outbox[-1].body)[1]


def test_the_administrator_sees_the_members_and_their_roles(client, contrat, administrateur):
    marc = UserFactory(
        first_name="Marc", last_name="Petit", role=Role.EQUIPE_VILLE, contrat=contrat
    )
    MembreFactory(contrat=contrat, organisation=OrganisationFactory(nom="CAF de l'Allier"))

    page = client.get(members_page(contrat)).content.decode()

    assert "Marc Petit" in page and "Nadia Benali" in page
    assert "CAF de l'Allier" in html.unescape(page) and "Tous les comptes de l’organisation" in page
    assert marc.email in page


def test_other_roles_may_not_manage_members(client, contrat, diagnostic):
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=contrat))
    assert client.get(members_page(contrat)).status_code == 403
    assert (
        client.post(members_page(contrat), {"email": "x@y.fr", "role": "Partenaire"}).status_code
        == 403
    )
    assert not Invitation.objects.exists()


def test_an_administrator_of_another_contract_learns_nothing_of_this_one(client, contrat):
    autre = DiagnosticFactory().contrat
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=autre))

    response = client.get(members_page(contrat))

    assert response.status_code == 404
    assert contrat.nom not in response.content.decode()
    assert (
        client.post(members_page(contrat), {"email": "x@y.fr", "role": "Partenaire"}).status_code
        == 404
    )
    assert not Invitation.objects.exists()


def test_an_invitation_sends_a_link_whose_secret_is_not_kept(client, contrat, administrateur):
    link = invite(client, contrat)

    message = mail.outbox[0]
    assert message.to == ["lea.roux@caf.fr"]
    assert contrat.nom in message.subject
    assert "Partenaire" in message.body and "14 jours" in message.body
    token = link.split("/")[2]
    invitation = Invitation.objects.get()
    assert token not in invitation.empreinte and invitation.invite_par == administrateur
    assert "lea.roux@caf.fr" in client.get(members_page(contrat)).content.decode()


def test_an_invalid_invitation_form_says_why_and_sends_nothing(client, contrat, administrateur):
    response = client.post(members_page(contrat), {"email": "pas une adresse", "role": "Chef"})

    assert response.status_code == 400
    assert "Cette adresse électronique n'est pas valide." in text(response)
    assert not mail.outbox and not Invitation.objects.exists()


def test_a_signed_in_person_accepts_once(client, contrat, diagnostic, administrateur):
    link = invite(client, contrat, email="lea.roux@caf.fr", role=Role.EQUIPE_VILLE)
    lea = UserFactory(username="lea", email="lea.roux@caf.fr")
    client.force_login(lea)

    page = client.get(link).content.decode()
    assert "Rejoindre le contrat" in page and "Équipe ville" in page
    response = client.post(link)

    assert response.status_code == 302 and response["Location"] == contrat.get_absolute_url()
    assert Membre.objects.get(contrat=contrat, compte=lea).role == Role.EQUIPE_VILLE.value
    lea = get_user_model().objects.get(pk=lea.pk)
    assert can_edit(lea, diagnostic)
    assert client.get(link).status_code == 410
    assert client.post(link).status_code == 410


def test_an_expired_link_is_refused_and_changes_nothing(client, contrat, administrateur):
    link = invite(client, contrat)
    Invitation.objects.update(expire_le=timezone.now() - timedelta(seconds=1))
    client.force_login(UserFactory(email="lea.roux@caf.fr"))

    response = client.post(link)

    assert response.status_code == 410
    assert "n'est plus valable" in text(response)
    assert Membre.objects.filter(contrat=contrat).count() == 1  # the administrator only


def test_an_unknown_link_is_refused(client):
    response = client.get("/invitations/inconnu/")
    assert response.status_code == 410
    assert client.get("/invitations/%00/").status_code in (404, 410)


def test_someone_without_an_account_creates_one_and_joins(
    client, contrat, diagnostic, administrateur
):
    link = invite(client, contrat, email="lea.roux@caf.fr")
    client.logout()

    response = client.post(
        link,
        {
            "first_name": "Léa",
            "last_name": "Roux",
            "organisation": "CAF de l'Allier",
            "nature": Organisation.Nature.OPERATEUR,
            "siret": "",
            "password1": "un mot de passe assez long",
            "password2": "un mot de passe assez long",
        },
    )

    assert response.status_code == 302
    lea = get_user_model().objects.get(email="lea.roux@caf.fr")
    assert lea.username == "lea.roux@caf.fr" and lea.get_full_name() == "Léa Roux"
    assert lea.profil.organisation.nom == "CAF de l'Allier"
    assert Membre.objects.get(contrat=contrat, compte=lea).role == Role.PARTENAIRE.value
    assert can_view(lea, diagnostic)
    assert (
        client.get(reverse("diagnostics:diagnostic", kwargs={"slug": diagnostic.slug})).status_code
        == 200
    )


def test_a_wrong_account_form_creates_nothing(client, contrat, administrateur):
    link = invite(client, contrat)
    client.logout()

    response = client.post(
        link,
        {
            "first_name": "Léa",
            "last_name": "Roux",
            "organisation": "CAF",
            "nature": "operateur",
            "siret": "123",
            "password1": "court",
            "password2": "autre",
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "14 chiffres" in page and "ne sont pas identiques" in page
    assert not get_user_model().objects.filter(email="lea.roux@caf.fr").exists()
    assert Invitation.objects.get().acceptee_le is None


def test_an_existing_account_signs_in_first(client, contrat, administrateur):
    link = invite(client, contrat, email="lea.roux@caf.fr")
    UserFactory(username="lea", email="lea.roux@caf.fr")
    client.logout()

    assert "connectez-vous" in client.get(link).content.decode()
    response = client.post(link, {"first_name": "X", "last_name": "Y"})

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert get_user_model().objects.filter(email="lea.roux@caf.fr").count() == 1


def test_an_invitation_never_lowers_a_role(client, contrat, administrateur):
    link = invite(client, contrat, email=administrateur.email, role=Role.PARTENAIRE)

    client.post(link)

    assert Membre.objects.get(contrat=contrat, compte=administrateur).role == "Administrateur"


def test_a_role_is_changed_and_removed_with_history(client, contrat, administrateur):
    marc = UserFactory(role=Role.EQUIPE_VILLE, contrat=contrat)
    membre = Membre.objects.get(compte=marc)

    client.post(
        reverse("diagnostics:membre_role", kwargs={"slug": contrat.slug, "pk": membre.pk}),
        {"role": "Partenaire"},
    )
    assert Membre.objects.get(pk=membre.pk).role == "Partenaire"
    client.post(
        reverse("diagnostics:membre_retirer", kwargs={"slug": contrat.slug, "pk": membre.pk})
    )

    assert not Membre.objects.filter(pk=membre.pk).exists()
    assert [h.history_type for h in Membre.history.filter(id=membre.pk).order_by("history_id")] == [
        "+",
        "~",
        "-",
    ]
    assert all(h.history_user == administrateur for h in Membre.history.filter(id=membre.pk)[:2])
    page = client.get(members_page(contrat)).content.decode()
    assert "Historique des membres" in page and "retiré" in page


def test_the_last_administrator_stays(client, contrat, administrateur):
    membre = Membre.objects.get(compte=administrateur)

    client.post(
        reverse("diagnostics:membre_role", kwargs={"slug": contrat.slug, "pk": membre.pk}),
        {"role": "Partenaire"},
    )
    response = client.post(
        reverse("diagnostics:membre_retirer", kwargs={"slug": contrat.slug, "pk": membre.pk}),
        follow=True,
    )

    assert Membre.objects.get(pk=membre.pk).role == "Administrateur"
    assert "n'aurait plus d'administrateur" in text(response)


def test_a_member_of_another_contract_is_not_reached(client, contrat, administrateur):
    autre = DiagnosticFactory().contrat
    ailleurs = MembreFactory(contrat=autre, compte=UserFactory(), role=Role.EQUIPE_VILLE)

    for name in ("membre_role", "membre_retirer"):
        url = reverse(f"diagnostics:{name}", kwargs={"slug": contrat.slug, "pk": ailleurs.pk})
        assert client.post(url, {"role": "Partenaire"}).status_code == 404
    assert Membre.objects.get(pk=ailleurs.pk).role == "Équipe ville"


def test_a_partner_organisation_reads_the_published_editions_only(
    client, contrat, diagnostic, administrateur
):
    prefecture = OrganisationFactory(
        nom="Préfecture du Cher", siret="17180001200013", nature="prefecture"
    )
    agent = UserFactory(organisation=prefecture)
    brouillon = DiagnosticFactory(contrat=contrat, brouillon=True, nom_edition="Révision 2027")

    response = client.post(
        reverse("diagnostics:membre_organisation", kwargs={"slug": contrat.slug}),
        {"organisation": "17180001200013"},
    )

    assert response.status_code == 302
    agent = get_user_model().objects.get(pk=agent.pk)
    assert can_view(agent, diagnostic) and not can_view(agent, brouillon)
    assert not can_edit(agent, diagnostic)
    assert Membre.objects.get(organisation=prefecture).role == "Partenaire"


def test_an_unknown_organisation_is_refused(client, contrat, administrateur):
    response = client.post(
        reverse("diagnostics:membre_organisation", kwargs={"slug": contrat.slug}),
        {"organisation": "Inconnue"},
    )
    assert response.status_code == 400
    assert "Aucune organisation" in response.content.decode()
    assert Membre.objects.filter(contrat=contrat).count() == 1


def test_an_invitation_is_cancelled(client, contrat, administrateur):
    link = invite(client, contrat)
    invitation = Invitation.objects.get()

    client.post(
        reverse(
            "diagnostics:invitation_annuler", kwargs={"slug": contrat.slug, "pk": invitation.pk}
        )
    )

    assert not Invitation.objects.exists()
    assert client.get(link).status_code == 410


def test_the_contract_page_leads_administrators_to_the_members(client, contrat, administrateur):
    page = client.get(contrat.get_absolute_url()).content.decode()
    assert members_page(contrat) in page


def test_an_invitation_serves_only_the_invited_address(client, contrat, administrateur):
    """A forwarded or leaked link gives nothing to another account."""
    link = invite(client, contrat, email="lea.roux@caf.fr", role=Role.ADMINISTRATEUR)
    intrus = UserFactory(email="intrus@example.org")
    client.force_login(intrus)

    response = client.post(link)

    assert response.status_code == 403
    assert "adressée à lea.roux@caf.fr" in text(response)
    assert not Membre.objects.filter(compte=intrus).exists()
    assert Invitation.objects.get().acceptee_le is None


def test_the_members_page_costs_the_same_queries_whatever_its_members(
    client, contrat, administrateur
):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(members_page(contrat)).status_code == 200
        return len(captured)

    small = queries()
    for _ in range(10):
        MembreFactory(contrat=contrat, compte=UserFactory(organisation=OrganisationFactory()))
        MembreFactory(contrat=contrat, organisation=OrganisationFactory())
    client.post(members_page(contrat), {"email": "lea.roux@caf.fr", "role": "Partenaire"})
    client.post(members_page(contrat), {"email": "marc@caf.fr", "role": "Partenaire"})

    assert queries() == small


@pytest.mark.parametrize("by", ["nom", "siret"])
def test_typing_another_organisations_name_or_siret_grants_none_of_its_roles(
    client, contrat, administrateur, by
):
    """A partner organisation of another contract: an invited newcomer who declares it as
    theirs gets a new organisation of their own, not its role."""
    autre = DiagnosticFactory(titre="Contrat de ville de Bourges — diagnostic")
    prefecture = OrganisationFactory(nom="Préfecture du Cher", siret="17180001200013")
    MembreFactory(contrat=autre.contrat, organisation=prefecture)
    link = invite(client, contrat, email="intrus@example.org")
    client.logout()

    response = client.post(
        link,
        {
            "first_name": "Ines",
            "last_name": "Trus",
            "organisation": "Préfecture du Cher",
            "nature": "prefecture",
            "siret": "17180001200013" if by == "siret" else "",
            "password1": "un mot de passe assez long",
            "password2": "un mot de passe assez long",
        },
    )

    assert response.status_code == 302
    compte = get_user_model().objects.get(email="intrus@example.org")
    assert compte.profil.organisation != prefecture
    assert compte.profil.organisation.siret == ""  # the SIRET belongs to the other one
    assert not can_view(compte, autre)
    assert client.get(autre.get_absolute_url()).status_code == 404


def test_names_are_one_line_and_a_contract_name_never_breaks_the_mail(
    client, contrat, administrateur
):
    type(contrat).objects.filter(pk=contrat.pk).update(nom="Contrat\nBcc: x@y.fr")
    link = invite(client, contrat, email="lea.roux@caf.fr")
    assert mail.outbox[-1].subject == "Invitation au contrat de ville « Contrat Bcc: x@y.fr »"
    assert mail.outbox[-1].recipients() == ["lea.roux@caf.fr"]
    client.logout()

    client.post(
        link,
        {
            "first_name": "Léa\nBcc: x@y.fr",
            "last_name": "Roux\r\nFaux lien : http://example.org",
            "organisation": "CAF",
            "nature": "operateur",
            "siret": "",
            "password1": "un mot de passe assez long",
            "password2": "un mot de passe assez long",
        },
    )

    lea = get_user_model().objects.get(email="lea.roux@caf.fr")
    assert lea.first_name == "Léa Bcc: x@y.fr"
    assert lea.last_name == "Roux Faux lien : http://example.org"
