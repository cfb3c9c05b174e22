"""A contract picks its quartiers from the référentiel (issue 18, point 2): the rule
(`diagnostics.quartiers.contrat`) and the page /contrats/<slug>/quartiers/ as each role."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comptes.roles import Role
from diagnostics.editions.states import journal
from diagnostics.models import Commune, Diagnostic, Quartier
from diagnostics.quartiers.contrat import (
    STALE_MESSAGE,
    chercher_quartiers,
    choisir_quartiers,
    etat_des_quartiers,
    quartiers_du_contrat,
)
from tests.factories import (
    ContratFactory,
    DiagnosticFactory,
    DifficulteFactory,
    IndicateurFactory,
    MesureFactory,
    QuartierFactory,
    UserFactory,
)

Statut = Diagnostic.Statut


# The référentiel and a contract of three editions ----------------------------------------


@pytest.fixture
def ref():
    """Montluçon's three QPV, Saint-Étienne's Montreynaud (accents in both names) and a
    Grand Paris quartier spanning two communes."""
    return {
        "rive": QuartierFactory(code="QN00304M", nom="Rive Gauche", communes=["03185"]),
        "fontbouillant": QuartierFactory(
            code="QN00305M", nom="Fontbouillant", communes=["03185", "03211"]
        ),
        "bien_assis": QuartierFactory(
            code="QN00306M", nom="Bien-Assis", communes=["03185", "03101"]
        ),
        "montreynaud": QuartierFactory(
            code="QN04201M",
            nom="Montreynaud Éole",
            communes=[Commune.objects.create(code="42218", nom="Saint-Étienne")],
        ),
        "coeur": QuartierFactory(code="QN02801M", nom="Cœur de Ville", communes=["28085"]),
        "bosquets": QuartierFactory(
            code="QN09310M",
            nom="Les Bosquets",
            communes=[
                Commune.objects.create(code="93047", nom="Montfermeil"),
                Commune.objects.create(code="93014", nom="Clichy-sous-Bois"),
            ],
        ),
    }


@pytest.fixture
def contrat():
    """Montluçon's contract (the personas of tests/conftest.py hold their roles on it)."""
    return ContratFactory(nom="Contrat de ville de Montluçon", slug="montlucon")


@pytest.fixture
def editions(contrat, ref):
    """A frozen 2024 edition, a published 2025 one and a 2027 draft, all on Rive Gauche
    and Fontbouillant."""
    found = {
        "figee": DiagnosticFactory(
            contrat=contrat,
            statut=Statut.FIGE,
            nom_edition="Diagnostic initial",
            date_edition=datetime.date(2024, 3, 1),
        ),
        "publiee": DiagnosticFactory(
            contrat=contrat,
            statut=Statut.PUBLIE,
            nom_edition="Actualisation 2025",
            date_edition=datetime.date(2025, 3, 1),
        ),
        "brouillon": DiagnosticFactory(
            contrat=contrat,
            brouillon=True,
            nom_edition="Révision à mi-parcours",
            date_edition=datetime.date(2027, 3, 1),
        ),
    }
    for edition in found.values():
        edition.quartiers.set([ref["rive"], ref["fontbouillant"]])
    return found


def codes(edition):
    return sorted(edition.quartiers.values_list("code", flat=True))


def page(contrat):
    return reverse("diagnostics:quartiers_contrat", args=[contrat.slug])


# The rule -------------------------------------------------------------------------------------


def test_the_quartiers_of_a_contract_are_those_of_its_latest_edition(contrat, editions, ref):
    editions["figee"].quartiers.add(ref["bosquets"])
    editions["brouillon"].quartiers.remove(ref["rive"])

    assert [q.code for q in quartiers_du_contrat(contrat)] == ["QN00305M"]
    assert list(quartiers_du_contrat(ContratFactory())) == []


def test_every_edition_but_the_frozen_ones_gets_the_list(contrat, editions, ref):
    user = UserFactory(role=Role.ADMINISTRATEUR, contrat=contrat)

    choix = choisir_quartiers(contrat, [ref["rive"], ref["bien_assis"]], user)

    assert codes(editions["brouillon"]) == ["QN00304M", "QN00306M"]
    assert codes(editions["publiee"]) == ["QN00304M", "QN00306M"]
    assert codes(editions["figee"]) == ["QN00304M", "QN00305M"]
    assert [q.code for q in choix.ajoutes] == ["QN00306M"]
    assert [q.code for q in choix.retires] == ["QN00305M"]
    assert [e.nom_edition for e in choix.figees] == ["Diagnostic initial"]
    # The contract's journal of editions says it, once per edition that followed.
    actions = [(e.edition, e.action, e.par) for e in journal(contrat)]
    trace = "Quartiers : ajout de QN00306M ; retrait de QN00305M"
    assert ("Révision à mi-parcours", trace, user) in actions
    assert ("Actualisation 2025", trace, user) in actions
    assert not any(
        edition == "Diagnostic initial" and "Quartiers" in action for edition, action, _ in actions
    )


def test_a_quartier_held_by_values_and_items_cannot_be_removed(contrat, editions, ref):
    fontbouillant = ref["fontbouillant"]
    indicateur = IndicateurFactory(sous_theme__theme__pilier__diagnostic=editions["publiee"])
    for annee in (2022, 2023, 2024):
        MesureFactory(indicateur=indicateur, quartier=fontbouillant, annee=annee, valeur=12)
    difficulte = DifficulteFactory(
        sous_theme__theme__pilier__diagnostic=editions["publiee"], quartiers=[fontbouillant]
    )
    # Its copy in the draft (same lineage) is the same difficulty: counted once.
    DifficulteFactory(
        sous_theme__theme__pilier__diagnostic=editions["brouillon"],
        quartiers=[fontbouillant],
        lignee=difficulte.lignee,
    )
    DifficulteFactory(
        sous_theme__theme__pilier__diagnostic=editions["brouillon"], quartiers=[fontbouillant]
    )
    before = journal(contrat)

    with pytest.raises(ValidationError) as refused:
        choisir_quartiers(contrat, [ref["rive"]], None)

    (message,) = refused.value.messages
    assert message.startswith("Le quartier Fontbouillant (QN00305M) ne peut pas être retiré")
    assert "3 valeurs d'indicateurs et 2 difficultés" in message
    assert "Retirez-les d'abord" in message
    assert codes(editions["brouillon"]) == ["QN00304M", "QN00305M"]
    assert codes(editions["publiee"]) == ["QN00304M", "QN00305M"]
    assert len(journal(contrat)) == len(before)


def test_what_a_frozen_edition_holds_does_not_keep_the_quartier(contrat, editions, ref):
    indicateur = IndicateurFactory(sous_theme__theme__pilier__diagnostic=editions["figee"])
    MesureFactory(indicateur=indicateur, quartier=ref["fontbouillant"], valeur=3)
    DifficulteFactory(
        sous_theme__theme__pilier__diagnostic=editions["figee"], quartiers=[ref["fontbouillant"]]
    )

    choisir_quartiers(contrat, [ref["rive"]], None)

    assert codes(editions["brouillon"]) == ["QN00304M"]
    assert codes(editions["figee"]) == ["QN00304M", "QN00305M"]


def test_adding_is_never_held_back(contrat, editions, ref):
    DifficulteFactory(
        sous_theme__theme__pilier__diagnostic=editions["brouillon"], quartiers=[ref["rive"]]
    )

    choisir_quartiers(contrat, [ref["rive"], ref["fontbouillant"], ref["bosquets"]], None)

    assert codes(editions["brouillon"]) == ["QN00304M", "QN00305M", "QN09310M"]


def test_a_stale_list_is_refused(contrat, editions, ref):
    etat = etat_des_quartiers(contrat)
    choisir_quartiers(contrat, [ref["rive"]], None, etat=etat)  # someone else, first

    with pytest.raises(ValidationError) as refused:
        choisir_quartiers(contrat, [ref["rive"], ref["bosquets"]], None, etat=etat)

    assert refused.value.messages == [STALE_MESSAGE]
    assert codes(editions["brouillon"]) == ["QN00304M"]


def test_the_state_token_follows_the_editions_too(contrat, editions):
    etat = etat_des_quartiers(contrat)
    editions["publiee"].statut = Statut.FIGE
    editions["publiee"].save()

    assert etat_des_quartiers(contrat) != etat


def test_an_unknown_quartier_is_refused(contrat, editions, ref):
    with pytest.raises(ValidationError, match="n'existe pas dans le référentiel"):
        choisir_quartiers(contrat, [ref["rive"].pk, 987654], None)
    assert codes(editions["brouillon"]) == ["QN00304M", "QN00305M"]


def test_a_contract_whose_latest_edition_is_frozen_keeps_its_quartiers(contrat, editions, ref):
    editions["brouillon"].delete()
    editions["publiee"].statut = Statut.FIGE
    editions["publiee"].save()

    with pytest.raises(ValidationError, match="commencez une nouvelle édition"):
        choisir_quartiers(contrat, [ref["rive"]], None)
    assert codes(editions["publiee"]) == ["QN00304M", "QN00305M"]


# The search -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("QN00305M", ["QN00305M"]),
        ("qn0030", ["QN00306M", "QN00305M", "QN00304M"]),  # by name: Bien-Assis first
        ("fontbouillant", ["QN00305M"]),
        ("RIVE gauche", ["QN00304M"]),
        ("eole", ["QN04201M"]),  # "Éole"
        ("ÉOLE", ["QN04201M"]),
        ("saint etienne", ["QN04201M"]),  # a commune's name, accents left out
        ("Saint-Étienne", ["QN04201M"]),
        ("42218", ["QN04201M"]),  # a commune's code INSEE
        ("03211", ["QN00305M"]),  # Fontbouillant also covers Prémilhat
        ("premilhat", ["QN00305M"]),
        ("clichy", ["QN09310M"]),  # the second commune of a quartier
        ("montluçon bien", ["QN00306M"]),  # every word must match somewhere
        ("bosquets montluçon", []),
        ("coeur", ["QN02801M"]),  # "Cœur": the ligature spelt out, as unaccent does
        ("CŒUR de", ["QN02801M"]),
        ("%", []),
        ("", []),
    ],
)
def test_search_by_code_name_or_commune(ref, query, expected):
    found, plus = chercher_quartiers(query)

    assert [q.code for q in found] == expected
    assert plus is False


def test_search_is_capped(ref):
    Quartier.objects.bulk_create(
        Quartier(code=f"QN7{n:04d}M", nom=f"Quartier du Moulin {n}") for n in range(60)
    )

    found, plus = chercher_quartiers("moulin", limit=50)

    assert len(found) == 50
    assert plus is True


# The page as each role ------------------------------------------------------------------------


def test_an_administrator_sees_the_list_and_the_search(client, admin, contrat, editions, ref):
    response = client.get(page(contrat), {"recherche": "montlucon"})

    assert response.status_code == 200
    text = response.content.decode()
    assert "Quartiers du contrat" in text
    assert "Fontbouillant" in text and "Prémilhat (03211)" in text
    assert "Résultats pour « montlucon »" in text
    assert "3 quartiers trouvés" in text
    assert "Déjà dans le contrat" in text  # Rive Gauche and Fontbouillant
    assert f'name="ajouter" value="{ref["bien_assis"].pk}"' in text
    assert "« Diagnostic initial »" in text and "garde ses quartiers" in text


@pytest.mark.parametrize("persona", ["marie", "partenaire"])
def test_the_other_roles_of_the_contract_are_refused(client, contrat, editions, persona, request):
    client.force_login(request.getfixturevalue(persona))

    for response in (client.get(page(contrat)), client.post(page(contrat), {"ajouter": "1"})):
        assert response.status_code == 403
        assert "Seuls les administrateurs du contrat choisissent ses quartiers." in (
            response.content.decode()
        )
    assert codes(editions["brouillon"]) == ["QN00304M", "QN00305M"]


def test_another_contracts_administrator_gets_a_404(client, contrat, editions, ref):
    other = DiagnosticFactory().contrat
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=other))

    assert client.get(page(contrat)).status_code == 404
    response = client.post(page(contrat), {"etat": etat_des_quartiers(contrat)})
    assert response.status_code == 404
    assert codes(editions["brouillon"]) == ["QN00304M", "QN00305M"]


def test_an_anonymous_visitor_is_sent_to_the_login(client, contrat, editions):
    editions["publiee"].est_public = True
    editions["publiee"].save()

    response = client.get(page(contrat))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_national_administrator_picks_too(client, contrat, editions, ref):
    client.force_login(UserFactory(is_superuser=True))

    response = client.post(
        page(contrat),
        {
            "etat": etat_des_quartiers(contrat),
            "quartiers": [ref["rive"].pk, ref["fontbouillant"].pk],
            "ajouter": ref["bien_assis"].pk,
            "recherche": "montlucon",
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == page(contrat) + "?recherche=montlucon"
    assert "Quartier ajouté : Bien-Assis (QN00306M)." in response.content.decode()
    assert codes(editions["brouillon"]) == ["QN00304M", "QN00305M", "QN00306M"]


def test_an_administrator_removes_a_quartier(client, admin, contrat, editions, ref):
    response = client.post(
        page(contrat),
        {
            "etat": etat_des_quartiers(contrat),
            "quartiers": [ref["rive"].pk, ref["fontbouillant"].pk],
            "retirer": [ref["rive"].pk],
        },
        follow=True,
    )

    text = response.content.decode()
    assert "Quartier retiré : Rive Gauche (QN00304M)." in text
    assert "Les éditions « Actualisation 2025 », « Révision à mi-parcours » suivent" in text
    assert codes(editions["publiee"]) == ["QN00305M"]
    assert codes(editions["figee"]) == ["QN00304M", "QN00305M"]


def test_the_page_shows_why_a_removal_is_refused(client, admin, contrat, editions, ref):
    DifficulteFactory(
        sous_theme__theme__pilier__diagnostic=editions["brouillon"], quartiers=[ref["rive"]]
    )

    response = client.post(
        page(contrat),
        {
            "etat": etat_des_quartiers(contrat),
            "quartiers": [ref["rive"].pk, ref["fontbouillant"].pk],
            "retirer": [ref["rive"].pk],
        },
    )

    assert response.status_code == 409
    text = response.content.decode()
    assert "Le quartier Rive Gauche (QN00304M) ne peut pas être retiré : 1 difficulté" in text
    assert "Retirez-la d&#x27;abord (ou rattachez-la à un autre quartier)" in text
    assert codes(editions["brouillon"]) == ["QN00304M", "QN00305M"]


def test_a_stale_page_is_refused_with_the_current_list(client, admin, contrat, editions, ref):
    etat = etat_des_quartiers(contrat)
    choisir_quartiers(contrat, [ref["rive"]], None)  # meanwhile, in another tab

    response = client.post(
        page(contrat),
        {"etat": etat, "quartiers": [ref["rive"].pk, ref["fontbouillant"].pk], "ajouter": "3"},
    )

    assert response.status_code == 409
    text = response.content.decode()
    assert STALE_MESSAGE.replace("'", "&#x27;") in text
    assert "1 quartier prioritaire du contrat" in text
    assert codes(editions["brouillon"]) == ["QN00304M"]


def test_other_contracts_are_named_only_when_readable(client, admin, contrat, editions, ref):
    readable = DiagnosticFactory(statut=Statut.PUBLIE, est_public=True)
    readable.contrat.nom = "Contrat de ville de Clichy-Montfermeil"
    readable.contrat.save()
    readable.quartiers.add(ref["bosquets"])
    hidden = DiagnosticFactory(statut=Statut.PUBLIE)  # another city, not public
    hidden.contrat.nom = "Contrat secret de Saint-Étienne"
    hidden.contrat.save()
    hidden.quartiers.add(ref["bosquets"], ref["montreynaud"])

    text = client.get(page(contrat), {"recherche": "QN0"}).content.decode()

    assert "aussi dans : Contrat de ville de Clichy-Montfermeil" in text
    assert "Contrat secret" not in text
    assert text.count("aussi dans") == 1


# Hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["mont\x00luçon", "x" * 5000, "%_%", "' OR 1=1 --", "\u202e"])
def test_hostile_queries_are_answered(client, admin, contrat, editions, ref, query):
    response = client.get(page(contrat), {"recherche": query})

    assert response.status_code == 200
    if len(query) > 100:
        assert "Votre recherche est trop longue : 100 caractères au plus." in (
            response.content.decode()
        )
    # The query is shown again in the search form, control characters dropped.
    assert (
        'id="recherche-quartier" value="montluçon"' in response.content.decode()
        or "\x00" not in query
    )


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"ajouter": "abc"}, 400, "Le formulaire envoyé est illisible"),
        ({"quartiers": "-1"}, 400, "Le formulaire envoyé est illisible"),
        ({"ajouter": "9" * 40}, 400, "Le formulaire envoyé est illisible"),
        ({"ajouter": "١٢"}, 400, "Le formulaire envoyé est illisible"),  # Arabic digits
        ({"ajouter": "987654"}, 400, "n&#x27;existe pas dans le référentiel"),
        ({"etat": "x"}, 409, "a été modifiée depuis l&#x27;affichage"),
        ({"etat": None}, 409, "a été modifiée depuis l&#x27;affichage"),
    ],
)
def test_hostile_posts_are_refused_and_write_nothing(
    client, admin, contrat, editions, ref, data, status, message
):
    posted = {"etat": etat_des_quartiers(contrat), "quartiers": [ref["rive"].pk]} | data
    posted = {name: value for name, value in posted.items() if value is not None}

    response = client.post(page(contrat), posted)

    assert response.status_code == status
    assert message in response.content.decode()
    assert codes(editions["brouillon"]) == ["QN00304M", "QN00305M"]


def test_another_contracts_slug_in_the_url_is_a_404(client, admin, contrat, editions, ref):
    other = DiagnosticFactory(brouillon=True)

    response = client.post(
        page(other.contrat), {"etat": etat_des_quartiers(other.contrat), "ajouter": ref["rive"].pk}
    )

    assert response.status_code == 404
    assert codes(other) == []


# Query counts ---------------------------------------------------------------------------------


def _bulk_referentiel(number):
    """`number` quartiers more in the référentiel, each in one of 500 communes (bulk)."""
    communes = Commune.objects.bulk_create(
        Commune(code=f"{60000 + n:05d}", nom=f"Ville-{n}") for n in range(500)
    )
    quartiers = Quartier.objects.bulk_create(
        Quartier(code=f"QN{80000 + n:05d}M", nom=f"Quartier Moulin-Vert {n}") for n in range(number)
    )
    through = Quartier.communes.through
    through.objects.bulk_create(
        through(quartier_id=quartier.pk, commune_id=communes[n % 500].pk)
        for n, quartier in enumerate(quartiers)
    )
    return quartiers


def _queries(client, method, *args, **kwargs):
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(*args, **kwargs)
    assert response.status_code in (200, 302)
    return len(captured)


def test_the_page_costs_the_same_queries_over_1600_quartiers(client, admin, contrat, editions):
    small = [
        _queries(client, "get", page(contrat), {"recherche": query})
        for query in ("", "montlucon", "QN0")
    ]
    quartiers = _bulk_referentiel(1600)
    for quartier in quartiers[:40]:
        editions["brouillon"].quartiers.add(quartier)
        editions["publiee"].quartiers.add(quartier)
    large = [
        _queries(client, "get", page(contrat), {"recherche": query})
        for query in ("", "montlucon", "QN0")  # "QN0": the 50 first of 1 605
    ]

    assert small == large
    assert large == [8, 11, 11]


def test_a_choice_costs_the_same_queries_over_1600_quartiers(client, admin, contrat, editions, ref):
    def choose(adding, removing):
        kept = [q.pk for q in quartiers_du_contrat(contrat)]
        return _queries(
            client,
            "post",
            page(contrat),
            {
                "etat": etat_des_quartiers(contrat),
                "quartiers": kept,
                "ajouter": adding,
                "retirer": removing,
            },
        )

    small = choose([ref["bien_assis"].pk], [ref["rive"].pk])
    quartiers = _bulk_referentiel(1600)
    large = choose([q.pk for q in quartiers[:30]], [ref["fontbouillant"].pk])

    assert small == large
    assert len(codes(editions["brouillon"])) == 31


def test_a_frozen_latest_edition_shows_its_list_without_forms(client, admin, contrat, editions):
    editions["brouillon"].delete()
    editions["publiee"].statut = Statut.FIGE
    editions["publiee"].save()

    text = client.get(page(contrat), {"recherche": "montlucon"}).content.decode()

    assert "La dernière édition de ce contrat est figée" in text
    assert "Rive Gauche" in text
    assert 'name="retirer"' not in text and 'name="ajouter"' not in text
    assert "Ajouter un quartier" not in text
