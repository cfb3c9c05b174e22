"""What the consultation pages show, to whom; the layout, accounts and error pages."""

import re
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from comptes.roles import Role
from diagnostics.models import CelluleSource
from tests.factories import (
    PASSWORD,
    CelluleSourceFactory,
    ContratFactory,
    DiagnosticFactory,
    DifficulteFactory,
    ImportFactory,
    IndicateurFactory,
    PilierFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)


class _Outline(HTMLParser):
    """The headings of a page, in order, and the <link> and <nav> tags."""

    def __init__(self):
        super().__init__()
        self.headings, self.links, self.navs, self._open = [], [], [], None

    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            self._open = [int(tag[1]), ""]
        elif tag == "link":
            self.links.append(dict(attrs))
        elif tag == "nav":
            self.navs.append(dict(attrs).get("aria-label") or dict(attrs).get("aria-labelledby"))

    def handle_data(self, data):
        if self._open:
            self._open[1] += data

    def handle_endtag(self, tag):
        if self._open and tag == f"h{self._open[0]}":
            self.headings.append((self._open[0], " ".join(self._open[1].split())))
            self._open = None


def outline(response):
    parser = _Outline()
    parser.feed(response.content.decode())
    return parser


def text(response):
    """The page's HTML with white space collapsed, to search sentences in it."""
    return " ".join(response.content.decode().split())


@pytest.fixture
def contrat():
    """The contract of the diagnostics of these pages, on which the partner holds its role."""
    return ContratFactory()


@pytest.fixture
def partenaire(client, partenaire):
    """The test client, signed in as a Partenaire of `contrat`."""
    client.force_login(partenaire)
    return client


@pytest.fixture
def pilier_page(contrat):
    """A pilier of two thèmes: the first with a theme-level difficulté, tagged and sourced."""
    fontbouillant = QuartierFactory(code="QN00305M", nom="Fontbouillant")
    pilier = PilierFactory(numero=1, libelle="Cohésion sociale", diagnostic__contrat=contrat)
    jeunesse = ThemeFactory(pilier=pilier, libelle="Jeunesse", position=0)
    cellule = CelluleSourceFactory(
        import_source=ImportFactory(diagnostic=pilier.diagnostic), ligne=13
    )
    DifficulteFactory(
        au_niveau_du_theme=True,
        theme=jeunesse,
        libelle="Déficit de prévention pour les pré-ados",
        quartiers=[fontbouillant],
        source=cellule,
    )
    SousThemeFactory(theme=jeunesse, libelle="Soutenir l'initiative associative", position=0)
    sante = ThemeFactory(pilier=pilier, libelle="Santé", position=1)
    acces = SousThemeFactory(theme=sante, libelle="Accès aux soins", position=0)
    IndicateurFactory(sous_theme=acces, libelle="Nombre de médecins généralistes")
    return pilier


def pilier_url(pilier):
    return reverse("diagnostics:pilier", args=[pilier.diagnostic.slug, pilier.numero])


# Pilier page ----------------------------------------------------------------------------


def test_a_partner_reads_every_theme_of_a_pilier_with_a_table_of_contents(partenaire, pilier_page):
    response = partenaire.get(pilier_url(pilier_page))

    page = text(response)
    jeunesse, sante = pilier_page.themes.order_by("position")
    assert page.index(">Jeunesse<") < page.index(">Santé<")
    assertContains(response, f'href="#theme-{jeunesse.pk}"')
    assertContains(response, f'href="#sous-theme-{sante.sous_themes.get().pk}"')
    assertContains(response, f'id="theme-{sante.pk}"')
    assertContains(response, "Nombre de médecins généralistes")
    assert "Sommaire" in [title for _, title in outline(response).headings]


def test_theme_level_difficultes_appear_at_their_theme_before_its_sous_themes(
    partenaire, pilier_page
):
    page = text(partenaire.get(pilier_url(pilier_page)))

    theme = page.index('<h2 id="theme-')
    au_niveau_du_theme = page.index("Au niveau du thème")
    difficulte = page.index("Déficit de prévention pour les pré-ados")
    sous_theme = page.index("Soutenir l&#x27;initiative associative</a></h3>")
    assert theme < au_niveau_du_theme < difficulte < sous_theme


def test_items_show_their_quartiers_and_a_link_to_their_source(partenaire, pilier_page):
    response = partenaire.get(pilier_url(pilier_page))

    cellule = CelluleSource.objects.get()
    source_url = reverse("diagnostics:source", args=[pilier_page.diagnostic.slug, cellule.pk])
    fiche = reverse("fiche_quartier", args=[pilier_page.diagnostic.slug, "QN00305M"])
    assertContains(
        response,
        f'<li class="badge badge-quartier"><a href="{fiche}">Fontbouillant</a></li>',
        html=True,
    )
    assertContains(response, f'<a class="lien-source" href="{source_url}">Source : ligne 13</a>')


def test_empty_sous_themes_say_so(partenaire, pilier_page):
    response = partenaire.get(pilier_url(pilier_page))

    # "Soutenir l'initiative associative" has no item; "Accès aux soins" no difficulté.
    assertContains(response, "Aucune difficulté renseignée.", count=2)
    assertContains(response, "Aucun indicateur renseigné.", count=2)


def test_the_pilier_page_links_the_print_stylesheet_for_print_only(partenaire, pilier_page):
    links = outline(partenaire.get(pilier_url(pilier_page))).links

    stylesheets = {link["href"]: link.get("media") for link in links if link["rel"] == "stylesheet"}
    assert stylesheets == {"/static/css/site.css": None, "/static/css/print.css": "print"}


def test_an_unknown_pilier_number_is_a_french_404(partenaire, pilier_page):
    response = partenaire.get(reverse("diagnostics:pilier", args=[pilier_page.diagnostic.slug, 9]))

    assert response.status_code == 404
    assertContains(response, "<h1>Page introuvable</h1>", status_code=404)
    assertContains(response, '<html lang="fr">', status_code=404)


def test_the_real_seed_shows_jeunesse_theme_level_difficultes_on_pilier_1(client, montlucon):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))
    response = client.get(reverse("diagnostics:pilier", args=[montlucon.slug, 1]))

    page = text(response)
    assert "Pilier 1 : COHESION SOCIALE" in page
    jeunesse = page.index(">Jeunesse</h2>")
    assert jeunesse < page.index("Au niveau du thème") < page.index("Déficit des besoins")
    sous_theme = page.index("Soutenir l&#x27;initiative associative</a></h3>")
    assert page.index("Déficit des besoins") < sous_theme


# Drafts ---------------------------------------------------------------------------------


def test_a_partner_sees_nothing_of_a_draft(partenaire, contrat):
    # Both editions of the partner's own contract.
    draft = DiagnosticFactory(
        brouillon=True, contrat=contrat, nom_edition="Révision", titre="Diagnostic en préparation"
    )
    sous_theme = SousThemeFactory(theme__pilier__diagnostic=draft, theme__pilier__numero=1)
    published = DiagnosticFactory(contrat=contrat, titre="Diagnostic publié")

    home = partenaire.get(reverse("home"))
    assertContains(home, published.get_absolute_url())
    assertNotContains(home, "Diagnostic en préparation")
    assertNotContains(home, "Révision")
    for url in (
        reverse("diagnostics:diagnostic", args=[draft.slug]),
        reverse("diagnostics:pilier", args=[draft.slug, 1]),
        reverse("diagnostics:sous_theme", args=[draft.slug, sous_theme.pk]),
        # The draft's sous-thème under the published diagnostic's address.
        reverse("diagnostics:sous_theme", args=[published.slug, sous_theme.pk]),
    ):
        response = partenaire.get(url)
        assert response.status_code == 404, url
        assertNotContains(response, "Diagnostic en préparation", status_code=404)


def test_the_city_team_sees_drafts_marked_as_such(client):
    draft = DiagnosticFactory(brouillon=True, titre="Diagnostic en préparation")
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=draft.contrat))

    response = client.get(reverse("home"))

    assertContains(response, "Diagnostic en préparation")
    assertContains(response, '<span class="badge badge-brouillon">Brouillon</span>', html=True)


# Home -----------------------------------------------------------------------------------


def test_anonymous_visitors_without_a_public_diagnostic_read_an_introduction(client):
    DiagnosticFactory(titre="Diagnostic réservé aux partenaires")  # published, not public

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assertContains(response, "Aucun diagnostic n’est encore consultable sans compte.")
    assertContains(response, f'href="{reverse("login")}"')
    assertNotContains(response, "Diagnostic réservé aux partenaires")


def test_anonymous_visitors_read_the_public_diagnostics(client):
    public = DiagnosticFactory(
        public=True, titre="Diagnostic public", annee_debut=2024, nom_edition="Édition 2024"
    )
    PilierFactory(diagnostic=public, numero=2, libelle="Emploi")
    DiagnosticFactory(titre="Diagnostic réservé aux partenaires")

    response = client.get(reverse("home"))

    assertContains(response, "Diagnostic public")  # the name of its contract
    assertContains(response, "Édition 2024")
    assertContains(response, public.get_absolute_url())
    assertContains(response, "2024–2030")
    assertContains(response, "Montluçon Communauté")
    assertContains(response, '<span class="badge badge-publie">Publiée</span>', html=True)
    assertContains(response, "<div><dt>Piliers</dt><dd>1</dd></div>", html=True)
    assertContains(response, "Pilier 2 : Emploi")
    assertNotContains(response, "Diagnostic réservé aux partenaires")
    assertContains(response, f'href="{reverse("login")}"')


# Diagnostic, sous-thème and source pages ------------------------------------------------


def test_the_diagnostic_page_counts_each_themes_contents_theme_level_items_included(
    partenaire, contrat
):
    diagnostic = DiagnosticFactory(contrat=contrat)
    diagnostic.quartiers.set(
        [QuartierFactory(code="QN00306M", nom="Bien-Assis", communes=["03185", "03101"])]
    )
    theme = ThemeFactory(pilier__diagnostic=diagnostic, pilier__numero=1, libelle="Santé")
    sous_themes = SousThemeFactory.create_batch(2, theme=theme)
    DifficulteFactory.create_batch(3, sous_theme=sous_themes[0])
    DifficulteFactory(au_niveau_du_theme=True, theme=theme)
    IndicateurFactory(sous_theme=sous_themes[1])

    response = partenaire.get(diagnostic.get_absolute_url())

    page = text(response)
    assert "1 thème, 2 sous-thèmes, 4 difficultés, 1 indicateur" in page
    assert re.search(r">Santé</a></th> <td[^>]*>2</td> <td[^>]*>4</td> <td[^>]*>1</td>", page)
    # The quartier, its code and the names of its communes.
    assert re.search(
        r'Bien-Assis(</a>)?</span> <span class="code">QN00306M</span> '
        r'<span class="quartier-communes">\(Domérat, Montluçon\)</span>',
        page,
    )


def test_the_sous_theme_page_shows_its_items_quartiers_and_provenance(partenaire, contrat):
    sous_theme = SousThemeFactory(
        libelle="Accès aux soins",
        theme__libelle="Santé",
        theme__pilier__diagnostic__contrat=contrat,
    )
    diagnostic = sous_theme.theme.pilier.diagnostic
    cellule = CelluleSourceFactory(
        import_source=ImportFactory(diagnostic=diagnostic, nom_fichier="diagnostic.tsv"),
        ligne=11,
    )
    rive_gauche, bien_assis = QuartierFactory(nom="Rive Gauche"), QuartierFactory(nom="Bien-Assis")
    DifficulteFactory(sous_theme=sous_theme, libelle="Déserts médicaux", quartiers=[rive_gauche])
    IndicateurFactory(sous_theme=sous_theme, source=cellule, quartiers=[bien_assis, rive_gauche])

    response = partenaire.get(sous_theme.get_absolute_url())

    assert [title for level, title in outline(response).headings if level <= 2] == [
        "Accès aux soins",
        "Difficultés prégnantes",
        "Indicateurs",
        "Provenance",
    ]
    assertContains(response, "Déserts médicaux")
    assertContains(response, "Rive Gauche", count=3)  # two items and the page's quartiers
    assertContains(response, "diagnostic.tsv, ligne 11, colonne « Difficultés prégnantes »")
    breadcrumb = text(response).split('aria-label="Fil d’Ariane"')[1].split("</nav>")[0]
    assert re.findall(r">([^<>]+)</a>", breadcrumb) == [
        "Accueil",
        diagnostic.titre,
        f"Pilier {sous_theme.theme.pilier.numero}",
        "Santé",
        "Accès aux soins",
    ]


def test_the_source_page_shows_the_original_cell_and_what_came_from_it(partenaire, contrat):
    sous_theme = SousThemeFactory(
        libelle="Soutien à la parentalité", theme__pilier__diagnostic__contrat=contrat
    )
    diagnostic = sous_theme.theme.pilier.diagnostic
    importe_par = UserFactory(first_name="Claire", last_name="Martin")
    cellule = CelluleSourceFactory(
        import_source=ImportFactory(
            diagnostic=diagnostic,
            nom_fichier="diagnostic-montlucon.tsv",
            sha256="ab" * 32,
            importe_par=importe_par,
        ),
        ligne=7,
        colonne=CelluleSource.Colonne.DIFFICULTES,
        texte="- Investissement moyen des parents.\n- Difficulté à lire <les informations>.",
    )
    DifficulteFactory(sous_theme=sous_theme, libelle="Investissement moyen", source=cellule)

    response = partenaire.get(reverse("diagnostics:source", args=[diagnostic.slug, cellule.pk]))

    assertContains(response, "<h1>Ligne 7, colonne « Difficultés prégnantes »</h1>")
    assertContains(response, "diagnostic-montlucon.tsv")
    assertContains(response, "ab" * 32)
    assertContains(response, "Claire Martin")
    assertContains(
        response,
        '<pre class="texte-source">- Investissement moyen des parents.\n'
        "- Difficulté à lire &lt;les informations&gt;.</pre>",
    )
    assertContains(response, f'href="{sous_theme.get_absolute_url()}">Soutien à la parentalité</a>')


def test_a_source_cell_of_another_diagnostic_is_not_found(partenaire, contrat):
    # Two editions of the partner's contract: it reads both.
    cellule = CelluleSourceFactory(import_source__diagnostic__contrat=contrat)
    other = DiagnosticFactory(contrat=contrat, nom_edition="Révision")

    response = partenaire.get(reverse("diagnostics:source", args=[other.slug, cellule.pk]))

    assert response.status_code == 404


# Structure of every page ----------------------------------------------------------------


def page_urls(diagnostic, sous_theme, cellule):
    return [
        reverse("home"),
        diagnostic.get_absolute_url(),
        reverse("diagnostics:pilier", args=[diagnostic.slug, 1]),
        sous_theme.get_absolute_url(),
        reverse("diagnostics:source", args=[diagnostic.slug, cellule.pk]),
        reverse("accessibilite"),
        reverse("password_change"),
        "/page-qui-n-existe-pas/",
    ]


def test_every_page_has_one_h1_and_headings_that_never_skip_a_level(partenaire, contrat):
    sous_theme = SousThemeFactory(
        theme__pilier__numero=1, theme__pilier__diagnostic__contrat=contrat
    )
    diagnostic = sous_theme.theme.pilier.diagnostic
    cellule = CelluleSourceFactory(import_source__diagnostic=diagnostic)
    DifficulteFactory(au_niveau_du_theme=True, theme=sous_theme.theme, source=cellule)
    DifficulteFactory(sous_theme=sous_theme, source=cellule)

    for url in page_urls(diagnostic, sous_theme, cellule):
        levels = [level for level, _ in outline(partenaire.get(url)).headings]
        assert levels.count(1) == 1, url
        assert levels[0] == 1, url
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), (url, levels)


def test_the_layout_has_a_skip_link_named_landmarks_and_the_current_page_marked(
    partenaire, contrat
):
    DiagnosticFactory(contrat=contrat)

    response = partenaire.get(reverse("home"))

    assertContains(response, '<a class="lien-evitement" href="#contenu">Aller au contenu</a>')
    assertContains(response, '<main id="contenu"')
    assert outline(response).navs == ["Navigation principale"]
    assertContains(response, '<a href="/" aria-current="page">Accueil</a>', html=True)
    assertContains(response, "Accessibilité : non conforme")
    assertContains(response, '<label for="recherche-q">Rechercher dans les diagnostics</label>')
    # The signed-in user, their role, and a logout button (a POST form).
    assertContains(response, "Partenaire</span>")
    assertContains(response, f'<form method="post" action="{reverse("logout")}">')


# Error pages ----------------------------------------------------------------------------


def test_the_500_page_renders_in_french_without_any_context():
    html = render_to_string("500.html")

    assert '<html lang="fr">' in html
    assert "<h1>Erreur du serveur</h1>" in html
    assert "Se connecter" in html  # the layout degrades to an anonymous visitor's


def test_the_403_page_is_in_french():
    html = render_to_string("403.html")

    assert "<h1>Accès refusé</h1>" in html


def test_an_unknown_address_is_a_french_404_for_anonymous_visitors_too(client):
    response = client.get("/nulle-part/")

    assertContains(response, "Page introuvable", status_code=404)


# Accounts -------------------------------------------------------------------------------


def test_signing_in_brings_back_to_the_page_asked_for(client):
    diagnostic = DiagnosticFactory()
    user = UserFactory(role=Role.PARTENAIRE, contrat=diagnostic.contrat)

    response = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD, "next": diagnostic.get_absolute_url()},
    )

    assert response.status_code == 302
    assert response["Location"] == diagnostic.get_absolute_url()


def test_a_wrong_password_gets_a_french_message(client):
    user = UserFactory()

    response = client.post(reverse("login"), {"username": user.username, "password": "faux"})

    assertContains(response, "<title>Erreur — Connexion")
    assertContains(response, "Saisissez un nom d’utilisateur et un mot de passe valides")


def test_signing_out_is_a_post_and_returns_home(partenaire):
    response = partenaire.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert partenaire.get(reverse("password_change")).status_code == 302


def test_a_forgotten_password_is_reset_through_a_french_email(client):
    user = UserFactory(email="claire.martin@montlucon.example")

    client.post(reverse("password_reset"), {"email": "claire.martin@montlucon.example"})

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Votre nouveau mot de passe — Contrat de ville, diagnostic partagé"
    assert "Pour choisir votre nouveau mot de passe, ouvrez ce lien" in message.body
    link = re.search(r"http://testserver(/mot-de-passe/nouveau/\S+)", message.body).group(1)
    form_url = client.get(link)["Location"]  # Django hides the token behind a redirect
    response = client.post(
        form_url,
        {"new_password1": "Quartiers-2030-Montlucon", "new_password2": "Quartiers-2030-Montlucon"},
    )
    assert response["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("Quartiers-2030-Montlucon")
