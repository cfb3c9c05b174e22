"""The report's pages as each role sees them: the list, the report, a section's editor,
the contributions asked of partners, the state changes."""

import datetime

import pytest
from django.urls import reverse

from comptes.roles import Role
from diagnostics.models import Membre
from rapports import etats, sections
from rapports.models import Rapport, Section
from tests.factories import (
    ContratFactory,
    InstanceFactory,
    OrganisationFactory,
    UserFactory,
)

from .donnees import PERMIS, indicateurs, publier


@pytest.fixture
def rapport(montlucon, paul):
    publier(montlucon)
    indicateurs(montlucon)
    return etats.commencer(montlucon.contrat, 2025, paul)


def url(rapport, name="rapports:rapport", *extra):
    return reverse(name, args=[rapport.contrat.slug, rapport.annee, rapport.version, *extra])


def section_url(rapport, cle):
    return url(rapport, "rapports:section", rapport.sections.get(cle=cle).pk)


def test_the_team_reads_the_draft_with_every_section_and_the_indicators(client, marie, rapport):
    client.force_login(marie)
    response = client.get(url(rapport))
    assert response.status_code == 200
    page = response.content.decode()
    for du_decret in sections.sections_of(dsu=False):
        assert du_decret.titre.replace("'", "&#x27;") in page
    assert "362\u00a0personnes" in page
    assert "Projet de rapport (brouillon)" in page
    assert "Rédiger la section" in page


def test_the_dsu_section_is_there_only_when_a_commune_receives_it(client, marie, rapport):
    client.force_login(marie)
    titre = sections.PAR_CLE["dsu"].titre
    assert titre not in client.get(url(rapport)).content.decode()
    Rapport.objects.filter(pk=rapport.pk).update(dsu=True)
    assert titre in client.get(url(rapport)).content.decode()


def test_a_section_is_written_in_the_plain_syntax(client, marie, rapport):
    client.force_login(marie)
    section = rapport.sections.get(cle="perspectives")
    response = client.post(
        section_url(rapport, "perspectives"),
        {
            "texte": "## Pour 2026\n\n- renforcer **l'emploi**\n- <script>alert(1)</script>",
            "revision": 0,
        },
    )
    assert response.status_code == 302
    section.refresh_from_db()
    assert section.texte.startswith("<h3>Pour 2026</h3>")
    page = client.get(url(rapport)).content.decode()
    assert "<strong>l&#x27;emploi</strong>" in page or "<strong>l'emploi</strong>" in page
    assert "alert(1)" not in page


def test_a_stale_form_is_refused_and_changes_nothing(client, marie, paul, rapport):
    client.force_login(marie)
    section = rapport.sections.get(cle="perspectives")
    etats.enregistrer_section(section, "Version de Paul.", 0, paul)
    response = client.post(section_url(rapport, "perspectives"), {"texte": "Vieux.", "revision": 0})
    assert response.status_code == 400
    assert "modifiée par une autre personne" in response.content.decode()
    section.refresh_from_db()
    assert section.texte == "<p>Version de Paul.</p>"


def test_partners_neither_read_the_draft_nor_write_the_decree_s_sections(
    client, partenaire, rapport
):
    client.force_login(partenaire)
    assert client.get(url(rapport)).status_code == 404
    Rapport.objects.filter(pk=rapport.pk).update(statut=Rapport.Statut.CONSULTATION)
    assert client.get(url(rapport)).status_code == 200
    response = client.post(section_url(rapport, "perspectives"), {"texte": "x", "revision": 0})
    assert response.status_code == 403
    assert rapport.sections.get(cle="perspectives").texte == ""


def test_a_partner_writes_the_contribution_asked_of_their_organisation(
    client, marie, rapport, mailoutbox, django_capture_on_commit_callbacks
):
    caf = OrganisationFactory(nom="CAF de l'Allier")
    membre = Membre.objects.create(contrat=rapport.contrat, organisation=caf, role=Role.PARTENAIRE)
    agent = (
        UserFactory(organisation=caf) if "organisation" in UserFactory._meta.declarations else None
    )
    client.force_login(marie)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(rapport, "rapports:contributions"),
            {"membre": membre.pk, "titre": "Les actions de la CAF en 2025"},
        )
    assert response.status_code == 302
    contribution = Section.objects.get(rapport=rapport, cle=sections.CONTRIBUTION)
    assert contribution.auteur == "CAF de l'Allier"
    (courriel,) = mailoutbox
    assert courriel.to == [agent.email]
    assert "Les actions de la CAF en 2025" in courriel.body
    assert url(rapport, "rapports:section", contribution.pk) in courriel.body
    client.force_login(agent)
    assert client.get(url(rapport)).status_code == 200
    liste = client.get(reverse("rapports:liste", args=[rapport.contrat.slug])).content.decode()
    assert "Rapport 2025" in liste
    response = client.post(
        url(rapport, "rapports:section", contribution.pk),
        {
            "titre": "Les actions de la CAF en 2025",
            "texte": "Accueil de 1 200 familles.",
            "revision": 0,
        },
    )
    assert response.status_code == 302
    page = client.get(url(rapport)).content.decode()
    assert "Contribution de CAF de l&#x27;Allier" in page
    assert "Accueil de 1 200 familles." in page


def test_the_whole_life_of_a_report_through_its_pages(client, paul, rapport):
    client.force_login(paul)
    etat = url(rapport, "rapports:etat")
    response = client.post(etat, {"action": "consultation"}, follow=True)
    assert "Indiquez d&#x27;abord les instances consultées" in response.content.decode()
    InstanceFactory(rapport=rapport, date_envoi=datetime.date(2026, 9, 1))
    client.post(etat, {"action": "consultation"})
    rapport.refresh_from_db()
    assert rapport.statut == Rapport.Statut.CONSULTATION
    client.post(etat, {"action": "adopter", "date_deliberation": "2026-10-20"})
    rapport.refresh_from_db()
    assert rapport.statut == Rapport.Statut.ADOPTE
    client.post(etat, {"action": "publier"})
    rapport.refresh_from_db()
    assert rapport.statut == Rapport.Statut.PUBLIE
    client.logout()
    page = client.get(url(rapport)).content.decode()
    assert "362\u00a0personnes" in page
    assert "Adopté le 20/10/2026" in page
    assert "Rédiger" not in page


def test_the_adoption_is_refused_while_a_body_may_still_answer(client, paul, rapport):
    client.force_login(paul)
    InstanceFactory(
        rapport=rapport, nom="Conseil citoyen de Fontbouillant", date_envoi=datetime.date.today()
    )
    etats.mettre_en_consultation(rapport, paul)
    response = client.post(
        url(rapport, "rapports:etat"),
        {"action": "adopter", "date_deliberation": datetime.date.today().isoformat()},
        follow=True,
    )
    assert "ne peut pas être adopté avant la fin de la consultation" in response.content.decode()
    rapport.refresh_from_db()
    assert rapport.statut == Rapport.Statut.CONSULTATION


def test_the_team_does_not_change_the_state(client, marie, rapport):
    client.force_login(marie)
    InstanceFactory(rapport=rapport)
    assert client.post(url(rapport, "rapports:etat"), {"action": "consultation"}).status_code == 403
    rapport.refresh_from_db()
    assert rapport.statut == Rapport.Statut.BROUILLON


def test_another_contract_s_staff_find_nothing(client, rapport):
    ailleurs = UserFactory(role=Role.ADMINISTRATEUR, contrat=ContratFactory())
    client.force_login(ailleurs)
    assert client.get(url(rapport)).status_code == 404
    assert client.post(url(rapport, "rapports:etat"), {"action": "consultation"}).status_code == 404
    assert client.get(section_url(rapport, "perspectives")).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_until_the_report_is_published(client, rapport):
    response = client.get(url(rapport))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_list_offers_to_start_a_year_to_administrators(client, paul, rapport):
    client.force_login(paul)
    liste = reverse("rapports:liste", args=[rapport.contrat.slug])
    page = client.get(liste).content.decode()
    assert "Rapport 2025" in page
    assert "Commencer le rapport" in page
    response = client.post(liste, {"annee": "2025"})
    assert response.status_code == 400
    assert "existe déjà" in response.content.decode()
    response = client.post(liste, {"annee": "2024", "dsu": "on"})
    assert response.status_code == 302
    assert Rapport.objects.get(annee=2024).dsu


@pytest.mark.parametrize(
    "path", ["0000/v1/", "2025/v999/", "2025/v1/sections/999999/", "2025%00/v1/"]
)
def test_unknown_or_hostile_urls_are_404(client, paul, rapport, path):
    client.force_login(paul)
    base = reverse("rapports:liste", args=[rapport.contrat.slug])
    assert client.get(base + path).status_code == 404


def test_the_report_page_reads_a_fixed_number_of_queries(
    client, paul, rapport, django_assert_max_num_queries
):
    from tests.indicateurs_data import quantitatif, serie

    client.force_login(paul)
    with django_assert_max_num_queries(80) as first:
        client.get(url(rapport))
    diagnostic = rapport.contrat.editions.get()
    for n in range(8):
        serie(quantitatif(diagnostic, libelle=f"Indicateur {n}"), {2023: n, 2024: n + 1})
        InstanceFactory(rapport=rapport)
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(url(rapport))


def test_the_page_names_the_known_figure_as_its_table_says(client, marie, rapport):
    client.force_login(marie)
    assert PERMIS in client.get(url(rapport)).content.decode()


def test_the_list_reads_a_fixed_number_of_queries(
    client, paul, rapport, django_assert_max_num_queries
):
    client.force_login(paul)
    liste = reverse("rapports:liste", args=[rapport.contrat.slug])
    with django_assert_max_num_queries(20) as first:
        client.get(liste)
    for annee in (2024, 2026):
        etats.commencer(rapport.contrat, annee, paul)
    with django_assert_max_num_queries(len(first.captured_queries)):
        page = client.get(liste).content.decode()
    assert "Rapport 2026" in page and "Rapport 2024" in page


def test_the_national_administrator_reads_the_reports_in_the_admin_without_changing_them(
    client, rapport
):
    national = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(national)
    InstanceFactory(rapport=rapport, nom="Conseil citoyen de Bien-Assis")
    liste = client.get(reverse("admin:rapports_rapport_changelist"))
    assert liste.status_code == 200
    assert "Rapport annuel 2025" in liste.content.decode()
    fiche = client.get(reverse("admin:rapports_rapport_change", args=[rapport.pk]))
    assert fiche.status_code == 200
    assert "Conseil citoyen de Bien-Assis" in fiche.content.decode()
    assert client.get(reverse("admin:rapports_rapport_add")).status_code == 403
    response = client.post(
        reverse("admin:rapports_rapport_delete", args=[rapport.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Rapport.objects.filter(pk=rapport.pk).exists()
