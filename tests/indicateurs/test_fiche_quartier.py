"""The fiche quartier: a page per quartier of an edition (indicateurs.fiche), as each role
sees it, with the secret statistique; and the links to it from every quartier badge."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comptes.roles import Role
from diagnostics.models import Diagnostic, Quartier, SousTheme
from indicateurs.models import Mesure, TerritoireComparaison
from tests.factories import (
    ContratFactory,
    DiagnosticFactory,
    DifficulteFactory,
    MembreFactory,
    PilierFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)
from tests.indicateurs_data import (
    BIEN_ASSIS,
    FONTBOUILLANT,
    RIVE_GAUCHE,
    mesure,
    qpv,
    quantitatif,
    repere,
    serie,
)

D = Decimal


def fiche(client, diagnostic, code, status=200, **params):
    url = reverse("fiche_quartier", args=[diagnostic.slug, code])
    response = client.get(url, params)
    assert response.status_code == status, response.status_code
    return response.content.decode() if status == 200 else response


def text_of(html):
    """The words a reader sees (tags removed, spaces collapsed), SVG left out."""
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


@pytest.fixture
def edition():
    """A public edition with Montluçon's three QPV, a difficulté tagged with Rive Gauche,
    one with Fontbouillant, one of the whole territory, and an indicator counting young
    people: 12 in the territory in 2024, of which 3 (under the threshold) in Rive
    Gauche."""
    diagnostic = DiagnosticFactory(public=True, titre="Contrat de Montluçon — diagnostic")
    pilier = PilierFactory(diagnostic=diagnostic, numero=1, libelle="Cohésion sociale")
    quartiers = qpv(diagnostic)
    sous_theme = SousThemeFactory(
        theme=ThemeFactory(pilier=pilier, libelle="Éducation"), libelle="Réussite éducative"
    )
    DifficulteFactory(
        sous_theme=sous_theme,
        libelle="Décrochage scolaire au collège",
        quartiers=[quartiers[RIVE_GAUCHE]],
    )
    DifficulteFactory(
        sous_theme=sous_theme,
        libelle="Manque de places en crèche",
        quartiers=[quartiers[FONTBOUILLANT]],
    )
    DifficulteFactory(sous_theme=sous_theme, libelle="Isolement des familles monoparentales")
    jeunes = quantitatif(
        diagnostic,
        pilier=pilier,
        libelle="Jeunes accompagnés par la mission locale",
        unite="jeunes",
        compte_des_personnes=True,
        sens_souhaite="hausse",
    )
    serie(jeunes, {2023: 10, 2024: 12})
    serie(jeunes, {2023: 6, 2024: 3}, quartiers[RIVE_GAUCHE])
    serie(jeunes, {2023: 4, 2024: 9}, quartiers[FONTBOUILLANT])
    repere(jeunes, Mesure.Nature.CIBLE, 2030, 8, quartiers[RIVE_GAUCHE])
    chomage = quantitatif(
        diagnostic,
        pilier=pilier,
        libelle="Taux de chômage des 15-64 ans",
        sens_souhaite="baisse",
    )
    serie(chomage, {2022: "30.5", 2023: "28.25"}, quartiers[RIVE_GAUCHE])
    repere(chomage, Mesure.Nature.REFERENCE, 2022, "30.5", quartiers[RIVE_GAUCHE])
    repere(chomage, Mesure.Nature.CIBLE, 2030, 25, quartiers[RIVE_GAUCHE])
    commune = TerritoireComparaison.objects.create(
        code="03185", nom="Montluçon (commune)", echelon="commune"
    )
    mesure(chomage, 2023, "18.25", territoire=commune)
    return diagnostic


# Access --------------------------------------------------------------------------------


def test_anyone_reads_the_fiche_of_a_public_edition(client, edition):
    content = fiche(client, edition, RIVE_GAUCHE)

    assert '<h1>Rive Gauche <span class="code">QN00304M</span></h1>' in content
    assert 'Montluçon <span class="code">(code INSEE 03185)</span>' in content


def test_the_fiche_names_the_region_of_the_quartier(client, edition):
    Quartier.objects.filter(code=RIVE_GAUCHE).update(region="84")

    content = fiche(client, edition, RIVE_GAUCHE)

    assert "<dt>Région</dt><dd>Auvergne-Rhône-Alpes (84)</dd>" in content


def test_an_anonymous_visitor_signs_in_to_read_a_fiche_of_a_non_public_edition(client, edition):
    Diagnostic.objects.filter(pk=edition.pk).update(est_public=False)
    url = reverse("fiche_quartier", args=[edition.slug, RIVE_GAUCHE])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("role", [Role.PARTENAIRE, Role.EQUIPE_VILLE, Role.ADMINISTRATEUR])
def test_the_members_of_the_contract_read_a_fiche_of_a_non_public_edition(client, edition, role):
    Diagnostic.objects.filter(pk=edition.pk).update(est_public=False)
    client.force_login(UserFactory(role=role, contrat=edition.contrat))

    assert "Jeunes accompagnés par la mission locale" in fiche(client, edition, RIVE_GAUCHE)


def test_a_user_of_another_contract_gets_a_404_on_a_non_public_edition(client, edition):
    Diagnostic.objects.filter(pk=edition.pk).update(est_public=False)
    other = DiagnosticFactory()
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=other.contrat))

    fiche(client, edition, RIVE_GAUCHE, status=404)


def test_a_partner_does_not_read_the_fiche_of_a_draft(client, edition):
    Diagnostic.objects.filter(pk=edition.pk).update(statut=Diagnostic.Statut.BROUILLON)
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=edition.contrat))

    fiche(client, edition, RIVE_GAUCHE, status=404)


@pytest.mark.parametrize("code", ["QN09999M", "qn00304m", "QN00304", "rive-gauche", "QN00304M\x00"])
def test_a_quartier_that_is_not_of_the_edition_is_a_404(client, edition, code):
    QuartierFactory(code="QN09999M", nom="Quartier d'ailleurs")

    response = client.get(f"/diagnostics/{edition.slug}/quartiers/{code}/")

    assert response.status_code == 404


def test_a_quartier_tagged_on_an_item_of_the_edition_has_its_fiche(client, edition):
    """An item may keep a quartier the contract no longer names: its badge leads here."""
    ailleurs = QuartierFactory(code="QN09999M", nom="Quartier d'ailleurs")
    difficulte = DifficulteFactory(
        sous_theme=SousTheme.objects.get(libelle="Réussite éducative"), quartiers=[ailleurs]
    )

    content = fiche(client, edition, "QN09999M")

    assert difficulte.libelle in content


# What it shows --------------------------------------------------------------------------


def test_the_fiche_lists_the_difficultes_of_the_quartier_and_counts_the_territorys(client, edition):
    content = text_of(fiche(client, edition, RIVE_GAUCHE))

    assert "1 difficulté rattachée à ce quartier" in content
    assert "Pilier 1 : Cohésion sociale Éducation Réussite éducative Décrochage scolaire" in content
    assert "Manque de places en crèche" not in content  # Fontbouillant's
    assert "Isolement des familles monoparentales" not in content
    assert "1 difficulté concerne l’ensemble du territoire, ce quartier compris" in content


def test_the_link_to_the_territorys_difficultes_lists_them_with_the_quartiers(client, edition):
    html = fiche(client, edition, RIVE_GAUCHE)
    link = re.search(r'<a href="([^"]*)">voir la liste des difficultés', html).group(1)

    listed = text_of(client.get(link.replace("&amp;", "&")).content.decode())

    assert "Décrochage scolaire au collège" in listed
    assert "Isolement des familles monoparentales" in listed
    assert "Manque de places en crèche" not in listed


def row(html, libelle):
    return text_of(
        re.search(rf"<tr>\s*<th scope=\"row\">\s*<a [^>]*>{libelle}.*?</tr>", html, re.S).group()
    )


def test_each_indicator_shows_the_quartiers_latest_value_change_target_and_gap(client, edition):
    html = fiche(client, edition, RIVE_GAUCHE)

    chomage = row(html, "Taux de chômage des 15-64 ans")
    assert "28,25 % 2023" in chomage
    assert "-2,25 depuis 2022" in chomage
    assert "30,5 % 2022" in chomage  # the quartier's reference
    assert "25 % 2030" in chomage  # the quartier's target
    assert "18,25 % écart +10" in chomage  # the commune, chosen by default
    assert "En progrès" in chomage


def test_no_comparison_territory_when_asked_and_a_french_message_for_an_unknown_one(
    client, edition
):
    sans = fiche(client, edition, RIVE_GAUCHE, comparaison="")
    assert "écart" not in row(sans, "Taux de chômage des 15-64 ans")

    inconnu = fiche(client, edition, RIVE_GAUCHE, comparaison="<script>")
    assert "Ce territoire de comparaison n’est pas proposé ici." in inconnu
    assert "<script>" not in inconnu.split("<main", 1)[1]


def test_the_series_of_the_quartier_comes_as_a_chart_and_a_table(client, edition):
    html = fiche(client, edition, RIVE_GAUCHE)

    serie_html = re.search(
        r'<details class="fiche-serie">\s*<summary>Taux de chômage.*?</details>', html, re.S
    ).group()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="graphique" role="img"' in serie_html
    assert "Référence du quartier (2022) : 30,5" in serie_html
    assert "Cible du quartier 2030 : 25" in serie_html
    table = text_of(re.search(r"<table.*?</table>", serie_html, re.S).group())
    assert "2022 30,5" in table and "2023 28,25" in table
    assert "Ensemble du territoire" not in serie_html


def test_an_indicator_with_nothing_for_the_quartier_is_only_counted(client, edition):
    quantitatif(edition, libelle="Nombre de médecins généralistes")

    html = fiche(client, edition, RIVE_GAUCHE)

    assert "Nombre de médecins généralistes" not in html
    assert "1 autre indicateur du diagnostic n’a rien pour ce quartier" in text_of(html)


# Secret statistique ---------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, Role.PARTENAIRE])
def test_a_small_count_is_never_shown_nor_derivable_on_the_fiche(client, edition, role):
    if role:
        client.force_login(UserFactory(role=role, contrat=edition.contrat))
    html = fiche(client, edition, RIVE_GAUCHE)

    jeunes = row(html, "Jeunes accompagnés par la mission locale")
    assert "secret 2024" in jeunes
    assert "Valeur couverte par le secret statistique." in jeunes
    assert "-3" not in jeunes and " 3 " not in jeunes  # neither the value nor the change
    serie_html = re.search(r"<summary>Jeunes accompagnés.*?</details>", html, re.S).group()
    assert 'data-valeur="3"' not in serie_html
    assert "2024 secret" in text_of(serie_html)
    assert "2023 6" in text_of(serie_html)
    assert "1 valeur couverte par le secret statistique n’est pas représentée" in text_of(
        serie_html
    )


def test_the_territory_hidden_with_the_quartier_stays_hidden_on_another_fiche(client, edition):
    """Secondary secrecy: 12 - 9 would give Rive Gauche's 3; the territory is hidden, and
    Fontbouillant's own value is shown on its fiche."""
    html = fiche(client, edition, FONTBOUILLANT)

    jeunes = row(html, "Jeunes accompagnés par la mission locale")
    assert "9 jeunes 2024" in jeunes
    # Neither the territory's 12 nor anything else after the quartier's value (the
    # row begins with its place in the diagnostic, whose names hold numbers).
    assert not re.search(r"(?<![\d,])12(?![\d,])", jeunes.split("9 jeunes 2024", 1)[1])
    tableau = client.get(reverse("indicateurs:tableau_de_bord", args=[edition.slug])).content
    assert "secret 2024" in row(tableau.decode(), "Jeunes accompagnés par la mission locale")


def test_the_equipe_ville_sees_the_small_count(client, edition):
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=edition.contrat))

    html = fiche(client, edition, RIVE_GAUCHE)

    assert "3 jeunes 2024" in row(html, "Jeunes accompagnés par la mission locale")
    assert "L’équipe ville voit les nombres." in html.replace("'", "’")


# Other contracts -------------------------------------------------------------------------


def other_contract(code, *, public, nom):
    diagnostic = DiagnosticFactory(public=public, contrat=ContratFactory(nom=nom))
    diagnostic.quartiers.add(QuartierFactory(code=code))
    return diagnostic


def test_other_contracts_are_listed_only_when_the_user_may_read_them(client, edition):
    public = other_contract(RIVE_GAUCHE, public=True, nom="Contrat de l'agglomération")
    prive = other_contract(RIVE_GAUCHE, public=False, nom="Contrat confidentiel")
    other_contract(BIEN_ASSIS, public=True, nom="Contrat de Bien-Assis seulement")

    html = fiche(client, edition, RIVE_GAUCHE)

    assert "Autres contrats" in html
    assert f'href="/diagnostics/{public.slug}/quartiers/{RIVE_GAUCHE}/"' in html
    assert "Contrat confidentiel" not in html and prive.slug not in html
    assert "Contrat de Bien-Assis seulement" not in html

    membre = UserFactory()
    MembreFactory(contrat=prive.contrat, compte=membre, role=Role.PARTENAIRE)
    client.force_login(membre)
    assert f'href="/diagnostics/{prive.slug}/quartiers/{RIVE_GAUCHE}/"' in fiche(
        client, edition, RIVE_GAUCHE
    )


def test_no_other_contracts_section_when_there_is_none(client, edition):
    assert "Autres contrats" not in fiche(client, edition, RIVE_GAUCHE)


# Query counts ---------------------------------------------------------------------------


def add_indicators(diagnostic, number):
    quartiers = {q.code: q for q in diagnostic.quartiers.all()}
    commune = TerritoireComparaison.objects.get(code="03185")
    pilier = diagnostic.piliers.get()
    for n in range(number):
        indicateur = quantitatif(
            diagnostic,
            pilier=pilier,
            libelle=f"Indicateur ajouté {n}",
            compte_des_personnes=n % 2 == 0,
            unite="personnes",
        )
        serie(indicateur, {2023: 40 + n, 2024: 50 + n})
        serie(indicateur, {2023: 10 + n, 2024: 2 + n}, quartiers[RIVE_GAUCHE])
        repere(indicateur, Mesure.Nature.CIBLE, 2030, 9, quartiers[RIVE_GAUCHE])
        mesure(indicateur, 2024, 100 + n, territoire=commune)
        DifficulteFactory(
            sous_theme=indicateur.sous_theme,
            libelle=f"Difficulté ajoutée {n}",
            quartiers=[quartiers[RIVE_GAUCHE]],
        )


def count_queries(client, diagnostic):
    with CaptureQueriesContext(connection) as queries:
        fiche(client, diagnostic, RIVE_GAUCHE)
    return len(queries)


@pytest.mark.parametrize("role", [None, Role.PARTENAIRE, Role.EQUIPE_VILLE])
def test_the_fiche_runs_as_many_queries_with_2_or_20_indicators(client, edition, role):
    if role:
        client.force_login(UserFactory(role=role, contrat=edition.contrat))
    add_indicators(edition, 2)  # 4 indicators in all
    few = count_queries(client, edition)
    other_contract(RIVE_GAUCHE, public=True, nom="Contrat voisin")
    add_indicators(edition, 18)  # 22 indicators, 21 difficultés of the quartier

    assert count_queries(client, edition) == few
    assert few <= 20


# Links from the badges -------------------------------------------------------------------


def fiche_link(diagnostic, code):
    return f'href="/diagnostics/{diagnostic.slug}/quartiers/{code}/"'


def test_the_badges_of_the_pilier_and_sous_theme_pages_link_to_the_fiche(client, edition):
    sous_theme = SousTheme.objects.get(libelle="Réussite éducative")

    pilier_page = client.get(reverse("diagnostics:pilier", args=[edition.slug, 1]))
    sous_theme_page = client.get(
        reverse("diagnostics:sous_theme", args=[edition.slug, sous_theme.pk])
    )

    for response in (pilier_page, sous_theme_page):
        html = response.content.decode()
        assert f'<li class="badge badge-quartier"><a {fiche_link(edition, RIVE_GAUCHE)}>' in html
        assert fiche_link(edition, FONTBOUILLANT) in html


def test_the_badges_of_the_lists_link_to_the_fiche_in_each_items_edition(client, edition):
    other = other_contract(RIVE_GAUCHE, public=True, nom="Contrat voisin")
    DifficulteFactory(
        sous_theme=SousThemeFactory(theme=ThemeFactory(pilier=PilierFactory(diagnostic=other))),
        quartiers=list(other.quartiers.all()),
    )

    html = client.get(reverse("diagnostics:difficultes")).content.decode()

    assert fiche_link(edition, RIVE_GAUCHE) in html
    assert fiche_link(other, RIVE_GAUCHE) in html


def test_the_diagnostic_page_and_the_tableau_de_bord_link_to_the_fiches(client, edition):
    diagnostic_page = client.get(edition.get_absolute_url()).content.decode()
    for code in (RIVE_GAUCHE, FONTBOUILLANT, BIEN_ASSIS):
        assert fiche_link(edition, code) in diagnostic_page

    tableau = reverse("indicateurs:tableau_de_bord", args=[edition.slug])
    assert "Fiche du quartier" not in client.get(tableau).content.decode()
    scoped = client.get(tableau, {"quartier": RIVE_GAUCHE}).content.decode()
    assert f"<a {fiche_link(edition, RIVE_GAUCHE)}>Fiche du quartier Rive Gauche</a>" in scoped


def test_the_fiche_needs_no_user_to_be_gathered(edition):
    """The domain functions take any user: an anonymous one sees what the public sees."""
    from indicateurs import fiche as domain

    quartier = domain.quartier_of(edition, RIVE_GAUCHE)
    indicateurs = domain.indicateurs_of(edition, quartier)
    lignes, sans_valeur = domain.indicator_rows(indicateurs, quartier, AnonymousUser())

    assert [ligne.valeur for ligne in lignes] == ["secret", "28,25\u00a0%"]
    assert sans_valeur == 0


# The map ---------------------------------------------------------------------------------


def test_without_outlines_the_fiche_says_no_map_can_be_drawn(client, edition):
    html = fiche(client, edition, RIVE_GAUCHE)

    assert "la carte ne peut pas être dessinée" in html
    assert "<svg" not in html.split('id="carte-titre"', 1)[1].split("</section>", 1)[0]


def test_the_map_highlights_the_quartier_and_links_the_others_to_their_fiches(client, edition):
    call_command("loaddata", "fixtures/quartiers-montlucon.json", verbosity=0)

    html = fiche(client, edition, RIVE_GAUCHE)

    carte = html.split('id="carte-titre"', 1)[1].split("</section>", 1)[0]
    assert "<svg" in carte and "<title" in carte
    assert fiche_link(edition, FONTBOUILLANT) in carte
    assert fiche_link(edition, BIEN_ASSIS) in carte
    assert '<li class="carte-liste-active">' in carte
    assert "Tracés de démonstration" in carte
