"""What changed between two editions (diagnostics.editions.diff and its page): items are
matched by lineage; each change is listed once, with every aspect of it; the page and
its XLSX keep a fixed number of queries; a draft is never shown to whom may not read it."""

import datetime
from collections import Counter
from decimal import Decimal
from html import unescape
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from comptes.roles import Role
from diagnostics import editing, kinds
from diagnostics.editions import states
from diagnostics.editions.copy import start_edition
from diagnostics.editions.diff import (
    AJOUTE,
    DEFINITION,
    DELETED,
    DEPLACE,
    EQUAL,
    EXPORT_HEADERS,
    INSERTED,
    REFORMULE,
    REPERES,
    SUPPRIME,
    Segment,
    compare,
    texte_de,
    word_diff,
)
from diagnostics.models import Difficulte, Pilier, SousTheme, Theme
from diagnostics.views.comparaison import ONE_EDITION, SAME_EDITION
from indicateurs.models import Indicateur, Mesure
from tests.factories import (
    DiagnosticFactory,
    DifficulteFactory,
    IndicateurFactory,
    MembreFactory,
    MesureFactory,
    PilierFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)
from tests.scale import build_diagnostic

REVISION = "Révision à mi-parcours — 2027"
MARS_2027 = datetime.date(2027, 3, 15)


def copy_of(model, edition, original):
    """The copy of `original` in `edition` (same lineage; the first one, by number)."""
    return model.objects.filter(diagnostic=edition, lignee=original.lignee).order_by("pk").first()


@pytest.fixture
def initiale():
    """A published edition of two piliers, with difficultés and indicateurs to change."""
    diagnostic = DiagnosticFactory(
        nom_edition="Diagnostic initial — mars 2024", date_edition=datetime.date(2024, 3, 1)
    )
    emploi = PilierFactory(diagnostic=diagnostic, numero=1, libelle="Emploi et insertion")
    cadre = PilierFactory(diagnostic=diagnostic, numero=2, libelle="Cadre de vie")
    acces = ThemeFactory(pilier=emploi, libelle="Accès à l'emploi")
    jeunes = SousThemeFactory(theme=acces, libelle="Jeunes")
    seniors = SousThemeFactory(theme=acces, libelle="Seniors")
    logement = ThemeFactory(pilier=cadre, libelle="Logement")
    habitat = SousThemeFactory(theme=logement, libelle="Habitat")
    for sous_theme, libelle in [
        (jeunes, "Peu d'accès aux offres d'emploi"),
        (jeunes, "Mobilité réduite"),
        (jeunes, "Manque de qualification"),
        (seniors, "Isolement des demandeurs d'emploi"),
        (seniors, "Difficulté inchangée"),
        (habitat, "Logements dégradés et vacants"),
        (habitat, "Charges élevées"),
        (habitat, "Impayés de loyer"),
    ]:
        DifficulteFactory(sous_theme=sous_theme, libelle=libelle)
    IndicateurFactory(
        sous_theme=jeunes,
        libelle="Taux de chômage des jeunes",
        definition="Part des jeunes sans emploi",
        unite="%",
    )
    reperes = IndicateurFactory(sous_theme=habitat, libelle="Nombre de logements vacants")
    MesureFactory(indicateur=reperes, annee=2022, valeur=Decimal("10"), nature="reference")
    MesureFactory(indicateur=reperes, annee=2030, valeur=Decimal("5"), nature="cible")
    MesureFactory(indicateur=reperes, annee=2023, valeur=Decimal("11"))  # measured: not compared
    inchange = IndicateurFactory(sous_theme=habitat, libelle="Indicateur inchangé")
    MesureFactory(indicateur=inchange, annee=2022, valeur=Decimal("3"), nature="reference")
    return diagnostic


@pytest.fixture
def contrat(initiale):
    """The personas hold their roles on the contract of `initiale`."""
    return initiale.contrat


def set_libelle(obj, libelle, user):
    obj.libelle = libelle
    return editing.save_versioned(obj, obj.version, user, fields=["libelle"])


@pytest.fixture
def revision(initiale, paul):
    """The revision of `initiale`, where every kind of change was made once."""
    edition = start_edition(initiale.contrat, nom=REVISION, date=MARS_2027, user=paul)

    def item(libelle, model=Difficulte):
        return copy_of(model, edition, model.objects.get(diagnostic=initiale, libelle=libelle))

    def level(model, libelle):
        return model.objects.get(diagnostic=edition, libelle=libelle)

    habitat = level(SousTheme, "Habitat")
    set_libelle(
        item("Peu d'accès aux offres d'emploi"), "Peu d'accès aux offres d'emploi durables", paul
    )
    moved = item("Mobilité réduite")
    editing.move_element(moved, habitat, paul, moved.version)
    both = set_libelle(item("Manque de qualification"), "Manque de qualification reconnue", paul)
    editing.move_element(both, habitat, paul, both.version)
    editing.delete(item("Isolement des demandeurs d'emploi"), paul)
    editing.create(
        Difficulte(sous_theme=level(SousTheme, "Seniors"), libelle="Fracture numérique"), paul
    )
    split = item("Logements dégradés et vacants")
    editing.split_element(split, ["Logements dégradés", "Logements vacants"], paul, split.version)
    kept, merged = item("Charges élevées"), item("Impayés de loyer")
    editing.merge_elements(
        kept, kept.version, {merged.pk: merged.version}, "Charges et impayés de loyer", paul
    )
    definition = item("Taux de chômage des jeunes", Indicateur)
    definition.definition = "Part des jeunes de 16 à 25 ans sans emploi"
    definition.unite = "% des 16-25 ans"
    editing.save_versioned(definition, definition.version, paul, fields=["definition", "unite"])
    reperes = item("Nombre de logements vacants", Indicateur)
    Mesure.objects.filter(indicateur=reperes, nature="reference").update(valeur=Decimal("12"))
    Mesure.objects.filter(indicateur=reperes, nature="cible").delete()
    set_libelle(level(Theme, "Logement"), "Logement et habitat", paul)
    set_libelle(level(Pilier, "Cadre de vie"), "Cadre de vie et renouvellement urbain", paul)
    editing.create(Pilier(diagnostic=edition, numero=3, libelle="Santé"), paul)
    seniors = level(SousTheme, "Seniors")
    editing.move_sous_theme(seniors, level(Theme, "Logement et habitat"), paul, seniors.version)
    return edition


EXPECTED = {
    # (kind, libellé after, or before when removed): natures
    ("difficulte", "Peu d'accès aux offres d'emploi durables"): (REFORMULE,),
    ("difficulte", "Mobilité réduite"): (DEPLACE,),
    ("difficulte", "Manque de qualification reconnue"): (REFORMULE, DEPLACE),
    ("difficulte", "Isolement des demandeurs d'emploi"): (SUPPRIME,),
    ("difficulte", "Fracture numérique"): (AJOUTE,),
    ("difficulte", "Logements dégradés"): (REFORMULE,),
    ("difficulte", "Logements vacants"): (AJOUTE,),
    ("difficulte", "Charges et impayés de loyer"): (REFORMULE,),
    ("difficulte", "Impayés de loyer"): (SUPPRIME,),
    ("indicateur", "Taux de chômage des jeunes"): (DEFINITION,),
    ("indicateur", "Nombre de logements vacants"): (REPERES,),
    ("theme", "Logement et habitat"): (REFORMULE,),
    ("sous_theme", "Seniors"): (DEPLACE,),
    ("pilier", "Cadre de vie et renouvellement urbain"): (REFORMULE,),
    ("pilier", "Santé"): (AJOUTE,),
}


def by_libelle(comparaison):
    return {(c.kind.key, c.libelle): c for c in comparaison.changements}


def test_each_change_is_listed_once_with_its_natures(initiale, revision):
    comparaison = compare(initiale, revision)

    keys = [(c.kind.key, c.libelle) for c in comparaison.changements]
    assert Counter(keys).most_common(1)[0][1] == 1
    assert {key: c.natures for key, c in by_libelle(comparaison).items()} == EXPECTED
    assert comparaison.nombre == len(EXPECTED)


def test_nothing_changed_between_an_edition_and_its_untouched_copy(initiale, paul):
    copie = start_edition(initiale.contrat, nom=REVISION, date=MARS_2027, user=paul)

    comparaison = compare(initiale, copie)

    assert comparaison.nombre == 0
    assert [p.titre for p in comparaison.piliers] == [
        "Pilier 1 : Emploi et insertion",
        "Pilier 2 : Cadre de vie",
    ]


def test_changes_are_grouped_by_pilier_matched_by_lineage(initiale, revision):
    comparaison = compare(initiale, revision)

    assert [p.titre for p in comparaison.piliers] == [
        "Pilier 1 : Emploi et insertion",
        "Pilier 2 : Cadre de vie et renouvellement urbain",
        "Pilier 3 : Santé",
    ]
    emploi, cadre, sante = comparaison.piliers
    assert emploi.changement is None
    assert emploi.resume == [
        (SUPPRIME, "suppression", 1),
        (REFORMULE, "reformulation", 1),
        (DEFINITION, "définition modifiée", 1),
    ]
    assert cadre.changement.natures == (REFORMULE,)
    assert [s.texte for s in cadre.changement.libelle_diff if s.inserted] == [
        "et renouvellement urbain"
    ]
    assert sante.changement.natures == (AJOUTE,) and sante.changements == []
    # An item is listed where it is now; a removed one where it was.
    libelles = {p.numero: {c.libelle for c in p.changements} for p in comparaison.piliers}
    assert "Mobilité réduite" in libelles[2]  # moved from pilier 1 to pilier 2
    assert "Seniors" in libelles[2]
    assert "Isolement des demandeurs d'emploi" in libelles[1]
    assert "Peu d'accès aux offres d'emploi durables" in libelles[1]
    # Within a pilier: added first, then removed, reworded, moved…
    natures = [c.natures[0] for c in cadre.changements]
    assert natures == sorted(
        natures, key=[AJOUTE, SUPPRIME, REFORMULE, DEPLACE, DEFINITION, REPERES].index
    )


def test_a_removed_pilier_comes_last_with_what_it_held(initiale, paul):
    edition = start_edition(initiale.contrat, nom=REVISION, date=MARS_2027, user=paul)
    editing.delete(Pilier.objects.get(diagnostic=edition, numero=1), paul)

    comparaison = compare(initiale, edition)

    cadre, emploi = comparaison.piliers
    assert (cadre.numero, cadre.tous) == (2, [])
    assert emploi.titre == "Pilier 1 : Emploi et insertion"
    assert emploi.apres is None and emploi.changement.natures == (SUPPRIME,)
    assert Counter(c.kind.key for c in emploi.changements) == {
        "theme": 1,
        "sous_theme": 2,
        "difficulte": 5,
        "indicateur": 1,
    }
    assert {c.natures for c in emploi.changements} == {(SUPPRIME,)}


def test_a_move_says_from_where_to_where(initiale, revision):
    changes = by_libelle(compare(initiale, revision))

    moved = changes["difficulte", "Mobilité réduite"]
    assert moved.emplacement_avant == "1. Emploi et insertion › Accès à l'emploi › Jeunes"
    assert (
        moved.emplacement_apres
        == "2. Cadre de vie et renouvellement urbain › Logement et habitat › Habitat"
    )
    both = changes["difficulte", "Manque de qualification reconnue"]
    assert both.label == "Reformulée et déplacée"
    assert both.libelle_avant == "Manque de qualification"
    assert [(s.operation, s.texte) for s in both.libelle_diff] == [
        (EQUAL, "Manque de qualification"),
        (INSERTED, "reconnue"),
    ]
    sous_theme = changes["sous_theme", "Seniors"]
    assert sous_theme.emplacement_avant == "1. Emploi et insertion › Accès à l'emploi"
    assert (
        sous_theme.emplacement_apres
        == "2. Cadre de vie et renouvellement urbain › Logement et habitat"
    )


def test_a_renamed_parent_does_not_move_its_children(initiale, revision):
    changes = by_libelle(compare(initiale, revision))

    # "Habitat" is in the renamed thème "Logement et habitat": neither it nor the
    # indicator that stayed in it moved.
    assert ("sous_theme", "Habitat") not in changes
    assert ("indicateur", "Indicateur inchangé") not in changes


def test_the_parts_of_a_split_keep_the_original_and_add_the_others(initiale, revision):
    changes = by_libelle(compare(initiale, revision))

    original = changes["difficulte", "Logements dégradés"]
    assert original.libelle_avant == "Logements dégradés et vacants"
    assert [(s.operation, s.texte) for s in original.libelle_diff] == [
        (EQUAL, "Logements dégradés"),
        (DELETED, "et vacants"),
    ]
    part = changes["difficulte", "Logements vacants"]  # a new part starts its own lineage
    assert part.avant is None
    assert part.natures == (AJOUTE,)


def test_an_indicators_definition_and_references_are_detailed(initiale, revision):
    changes = by_libelle(compare(initiale, revision))

    definition = changes["indicateur", "Taux de chômage des jeunes"]
    assert definition.label == "Définition modifiée"
    assert [(d.libelle, d.avant, d.apres) for d in definition.definition] == [
        ("Unité", "%", "% des 16-25 ans"),
        ("Définition", "Part des jeunes sans emploi", "Part des jeunes de 16 à 25 ans sans emploi"),
    ]
    assert [s.texte for s in definition.definition[1].segments if s.inserted] == ["de 16 à 25 ans"]
    reperes = changes["indicateur", "Nombre de logements vacants"]
    assert reperes.label == "Référence ou cible modifiée"
    assert [str(d) for d in reperes.reperes] == [
        "Référence 2022 — ensemble du territoire : 10 → 12",
        "Cible 2030 — ensemble du territoire : 5 → —",
    ]


def test_a_reference_per_quartier_is_compared_on_its_own(initiale, paul):
    quartier = QuartierFactory(nom="Fontbouillant")
    indicateur = Indicateur.objects.get(diagnostic=initiale, libelle="Indicateur inchangé")
    MesureFactory(
        indicateur=indicateur,
        annee=2022,
        valeur=Decimal("7.5"),
        nature="reference",
        quartier=quartier,
    )
    edition = start_edition(initiale.contrat, nom=REVISION, date=MARS_2027, user=paul)
    copie = copy_of(Indicateur, edition, indicateur)
    Mesure.objects.filter(indicateur=copie, quartier=quartier).update(valeur=Decimal("8.25"))

    changes = by_libelle(compare(initiale, edition))

    assert [str(d) for d in changes["indicateur", "Indicateur inchangé"].reperes] == [
        "Référence 2022 — Fontbouillant : 7,5 → 8,25"
    ]


def test_a_partner_never_reads_a_hidden_small_count_through_the_comparison(initiale, paul):
    """A reference under the secret statistique (3 people, threshold 5) is "secret" for a
    partner before and after, so its change is not even listed; staff read the numbers."""
    quartier = QuartierFactory(nom="Fontbouillant")
    indicateur = Indicateur.objects.get(diagnostic=initiale, libelle="Indicateur inchangé")
    Indicateur.objects.filter(pk=indicateur.pk).update(compte_des_personnes=True)
    MesureFactory(
        indicateur=indicateur, annee=2019, valeur=3, nature="reference", quartier=quartier
    )
    edition = start_edition(initiale.contrat, nom=REVISION, date=MARS_2027, user=paul)
    copie = copy_of(Indicateur, edition, indicateur)
    Mesure.objects.filter(indicateur=copie, quartier=quartier).update(valeur=4)

    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=initiale.contrat)
    for reader in (partenaire, None):
        changes = by_libelle(compare(initiale, edition, reader))
        assert ("indicateur", "Indicateur inchangé") not in changes
        rows = [" ".join(map(str, row)) for row in compare(initiale, edition, reader).rows()]
        assert not any("→ 4" in row or "3 →" in row for row in rows)

    changes = by_libelle(compare(initiale, edition, paul))
    assert [str(d) for d in changes["indicateur", "Indicateur inchangé"].reperes] == [
        "Référence 2019 — Fontbouillant : 3 → 4"
    ]


def test_the_comparison_reads_a_fixed_number_of_queries(
    initiale, revision, django_assert_num_queries
):
    queries = len(kinds.structure()) + len(
        [v for v in kinds.values() if v.copied_with_edition is not None]
    )
    queries += 1  # which indicators fall under the secret statistique (`Kind.hidden`)
    with django_assert_num_queries(queries):
        comparaison = compare(initiale, revision)
    with django_assert_num_queries(0):  # plain data: reading it costs nothing
        list(comparaison.rows())
        [c.emplacement_apres for c in comparaison.changements]


# Word diff ------------------------------------------------------------------------------


def test_word_diff_marks_the_words_added_and_removed():
    segments = word_diff(
        "Peu d'accès aux soins de proximité", "Accès  difficile aux soins de proximité"
    )

    assert segments == [
        Segment(DELETED, "Peu d'accès"),
        Segment(INSERTED, "Accès difficile"),
        Segment(EQUAL, "aux soins de proximité"),
    ]
    assert texte_de(segments, DELETED) == "Peu d'accès aux soins de proximité"
    assert texte_de(segments, INSERTED) == "Accès difficile aux soins de proximité"


def test_word_diff_of_empty_and_identical_texts():
    assert word_diff("", "Nouveau texte") == [Segment(INSERTED, "Nouveau texte")]
    assert word_diff("Ancien", "") == [Segment(DELETED, "Ancien")]
    assert word_diff("Même texte", "Même   texte") == [Segment(EQUAL, "Même texte")]


def test_a_change_of_white_space_only_is_not_a_rewording(initiale, paul):
    edition = start_edition(initiale.contrat, nom=REVISION, date=MARS_2027, user=paul)
    difficulte = Difficulte.objects.filter(diagnostic=edition).first()
    Difficulte.objects.filter(pk=difficulte.pk).update(libelle=f"  {difficulte.libelle}\n")

    assert compare(initiale, edition).nombre == 0


# The page -------------------------------------------------------------------------------


def page(response):
    return unescape(response.content.decode())


def get(client, contrat, export=False, **params):
    name = "diagnostics:comparaison_export" if export else "diagnostics:comparaison"
    return client.get(reverse(name, args=[contrat.slug]), params)


def test_the_page_compares_the_latest_edition_with_its_previous_one_by_default(
    equipe, initiale, revision
):
    response = get(equipe, initiale.contrat)

    assert response.status_code == 200
    assert response.context["ancienne"] == initiale
    assert response.context["nouvelle"] == revision
    html = page(response)
    assert "Pilier 2 : Cadre de vie et renouvellement urbain" in html
    assert "Reformulée et déplacée" in html
    assert (
        '<del><span class="visuellement-cache">[supprimé : </span>et vacants'
        '<span class="visuellement-cache">]</span></del>'
    ) in html
    assert '<ins><span class="visuellement-cache">[ajouté : </span>durables' in html
    assert "Référence 2022 — ensemble du territoire" in html
    assert "Logements vacants" in html
    assert f"{len(EXPECTED)} changements" in html
    assert 'Pilier 3 : Santé <span class="comparaison-etat">(ajouté)</span>' in html
    # The two selects, labelled by the editions' names and dates.
    assert '<label for="comparaison-de">' in html and '<label for="comparaison-a">' in html
    assert "Révision à mi-parcours — 2027 — 15/03/2027 (brouillon)" in html
    assert "Diagnostic initial — mars 2024 — 01/03/2024" in html


def test_the_two_editions_are_chosen_by_their_slugs(equipe, initiale, revision):
    response = get(equipe, initiale.contrat, de=revision.slug, a=initiale.slug)

    assert response.status_code == 200
    assert (response.context["ancienne"], response.context["nouvelle"]) == (revision, initiale)
    natures = {
        (c.kind.key, c.libelle): c.natures for c in response.context["comparaison"].changements
    }
    assert natures["difficulte", "Fracture numérique"] == (SUPPRIME,)


def test_the_export_has_one_row_per_change(equipe, initiale, revision):
    response = get(equipe, initiale.contrat, export=True, de=initiale.slug, a=revision.slug)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"comparaison-{initiale.slug}-{revision.slug}.xlsx" in response["Content-Disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == EXPORT_HEADERS
    assert len(rows) == 1 + len(EXPECTED)
    both = next(row for row in rows if row[4] == "Manque de qualification reconnue")
    assert both[:6] == (
        "Pilier 2 : Cadre de vie et renouvellement urbain",
        "Reformulée et déplacée",
        "Difficulté",
        "Manque de qualification",
        "Manque de qualification reconnue",
        "1. Emploi et insertion › Accès à l'emploi › Jeunes",
    )
    reperes = next(row for row in rows if row[4] == "Nombre de logements vacants")
    assert reperes[7] == (
        "Référence 2022 — ensemble du territoire : 10 → 12 ; "
        "Cible 2030 — ensemble du territoire : 5 → —"
    )


def test_a_libelle_like_a_formula_stays_text_in_the_export(equipe, initiale, paul):
    edition = start_edition(initiale.contrat, nom=REVISION, date=MARS_2027, user=paul)
    editing.create(
        Difficulte(
            sous_theme=SousTheme.objects.get(diagnostic=edition, libelle="Jeunes"), libelle="=1+1"
        ),
        paul,
    )

    response = get(equipe, initiale.contrat, export=True)

    sheet = load_workbook(BytesIO(response.content)).active
    cell = next(row[4] for row in sheet.iter_rows() if row[4].value == "=1+1")
    assert cell.data_type == "s"


def test_the_page_and_its_export_keep_a_fixed_number_of_queries(
    equipe, marie, paul, django_assert_num_queries
):
    def two_editions(scale):
        built = build_diagnostic(scale)
        MembreFactory(contrat=built.diagnostic.contrat, compte=marie, role=Role.EQUIPE_VILLE)
        edition = start_edition(built.diagnostic.contrat, nom=REVISION, date=MARS_2027, user=paul)
        for item in Difficulte.objects.filter(diagnostic=edition)[: 2 * scale]:
            set_libelle(item, f"{item.libelle} reformulée", paul)
        for item in Indicateur.objects.filter(diagnostic=edition)[:scale]:
            MesureFactory(indicateur=item, annee=2030, valeur=Decimal(scale), nature="cible")
        return built.diagnostic.contrat

    small, large = two_editions(1), two_editions(10)
    for export in (False, True):
        get(equipe, small, export=export)  # the session, once
        with CaptureQueriesContext(connection) as small_queries:
            response = get(equipe, small, export=export)
        assert response.status_code == 200
        with django_assert_num_queries(len(small_queries)):
            response = get(equipe, large, export=export)
        assert response.status_code == 200
    assert response.content  # the large export is not empty


# Access and bad parameters --------------------------------------------------------------


def test_a_partner_never_sees_a_draft_edition(client, partenaire, initiale, revision):
    client.force_login(partenaire)

    response = get(client, initiale.contrat)
    assert response.status_code == 200
    assert response.context["comparaison"] is None
    assert ONE_EDITION in page(response)
    assert REVISION not in page(response)

    for export in (False, True):
        response = get(client, initiale.contrat, export=export, de=initiale.slug, a=revision.slug)
        assert response.status_code == 404
    assert get(client, initiale.contrat, de=revision.slug).status_code == 404


def test_a_partner_compares_once_the_revision_is_published(
    client, partenaire, paul, initiale, revision
):
    states.publish(revision, paul)
    client.force_login(partenaire)

    response = get(client, initiale.contrat)

    assert response.status_code == 200
    assert response.context["comparaison"].nombre == len(EXPECTED)


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, initiale, revision):
    response = get(client, initiale.contrat, de=initiale.slug, a=revision.slug)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_anonymous_visitor_of_a_public_contract_may_not_ask_for_its_draft(
    client, initiale, revision
):
    initiale.est_public = True
    initiale.save()

    assert get(client, initiale.contrat).status_code == 200  # one public edition
    response = get(client, initiale.contrat, de=initiale.slug, a=revision.slug)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_unknown_contract_is_a_404(equipe):
    response = equipe.get(reverse("diagnostics:comparaison", args=["inconnu"]))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"de": "inconnue"},
        {"a": "inconnue"},
        {"de": "autre-contrat"},
        {"de": "nul\x00octet"},
        {"a": "x" * 5000},
    ],
)
def test_a_bad_edition_is_a_404_never_a_500(equipe, initiale, revision, params):
    DiagnosticFactory(slug="autre-contrat")
    for export in (False, True):
        response = get(equipe, initiale.contrat, export=export, **params)
        assert response.status_code == 404


def test_the_same_edition_twice_is_refused_with_a_message(equipe, initiale, revision):
    response = get(equipe, initiale.contrat, de=revision.slug, a=revision.slug)

    assert response.status_code == 400
    assert SAME_EDITION in page(response)
    assert response.context["comparaison"] is None
    assert (
        get(equipe, initiale.contrat, export=True, de=revision.slug, a=revision.slug).status_code
        == 404
    )


def test_a_contract_of_one_edition_has_nothing_to_compare(equipe, initiale):
    response = get(equipe, initiale.contrat)

    assert response.status_code == 200
    assert ONE_EDITION in page(response)
    assert get(equipe, initiale.contrat, export=True).status_code == 404


def test_the_page_only_answers_get(equipe, initiale, revision):
    response = equipe.post(reverse("diagnostics:comparaison", args=[initiale.contrat.slug]))
    assert response.status_code == 405
