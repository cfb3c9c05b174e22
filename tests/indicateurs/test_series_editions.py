"""The values of an indicator across the editions of its contract: a new edition copies
its indicators without their measured values, and reads those of their whole lineage
(`indicateurs.models.series`) on every page, chart and export; a value entered in the new
edition is its own and wins for its period and place; references and targets are each
edition's; the secret statistique applies to the series as merged."""

import csv
import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from diagnostics.editions import states
from diagnostics.editions.copy import start_edition
from diagnostics.models import Diagnostic
from indicateurs.imports import import_measures
from indicateurs.imports.measures import NOTHING_NEW
from indicateurs.imports.resource import MesureResource
from indicateurs.models import Indicateur, Mesure, TerritoireComparaison, series
from indicateurs.tableau import Statut, attach_latest_mesures
from tests.factories import DiagnosticFactory, PilierFactory
from tests.indicateurs_data import FONTBOUILLANT, RIVE_GAUCHE, mesure, qpv, quantitatif, serie

D = Decimal
INITIAL = "Diagnostic initial — mars 2024"
REVISION = "Révision à mi-parcours — 2027"


class Contrat:
    """A published first edition with a taux de chômage (2021–2023, a reference and a
    target) and a count of people with small quartier values; then a draft revision
    (`start`)."""

    def __init__(self):
        self.initiale = DiagnosticFactory(
            public=True, nom_edition=INITIAL, date_edition=datetime.date(2024, 3, 1)
        )
        pilier = PilierFactory(diagnostic=self.initiale)
        self.quartiers = qpv(self.initiale)
        self.chomage = quantitatif(
            self.initiale,
            pilier=pilier,
            libelle="Taux de chômage",
            periodicite="annuelle",
            sens_souhaite=Indicateur.Sens.BAISSE,
            reference=(2020, 30),
            cible=(2030, 20),
        )
        self.anciennes = serie(self.chomage, {2021: 30, 2022: 28, 2023: 26})
        self.jeunes = quantitatif(
            self.initiale,
            pilier=pilier,
            libelle="Jeunes accompagnés",
            unite="jeunes",
            periodicite="annuelle",
            sens_souhaite=Indicateur.Sens.HAUSSE,
            compte_des_personnes=True,
        )
        # 2023: the territory 20 = Rive Gauche 3 (under the threshold) + Fontbouillant 17.
        mesure(self.jeunes, 2023, 20)
        mesure(self.jeunes, 2023, 3, self.quartiers[RIVE_GAUCHE])
        mesure(self.jeunes, 2023, 17, self.quartiers[FONTBOUILLANT])

    def start(self, user, nom=REVISION, date=datetime.date(2027, 3, 15)):
        self.revision = start_edition(self.initiale.contrat, nom=nom, date=date, user=user)
        return self.revision

    def copy_of(self, indicateur, edition=None):
        return Indicateur.objects.get(diagnostic=edition or self.revision, lignee=indicateur.lignee)


@pytest.fixture
def premiere():
    """The contract with its first edition only."""
    return Contrat()


@pytest.fixture
def contrat(premiere):
    """The personas (marie, partenaire) hold their roles on this contract."""
    return premiere.initiale.contrat


@pytest.fixture
def built(premiere, marie):
    """The contract with its draft revision, started by Marie."""
    premiere.start(marie)
    return premiere


def url(name, edition, *args):
    return reverse(f"indicateurs:{name}", args=[edition.slug, *args])


def dashboard(client, edition, **params):
    response = client.get(url("tableau_de_bord", edition), params)
    assert response.status_code == 200
    return {row.indicateur.libelle: row for row in response.context["lignes"]}


def enter(client, indicateur, edition, annee, valeur):
    """The Équipe ville enters the territory's value of a year in `edition`."""
    response = client.post(
        url("saisie", edition, indicateur.pk),
        {
            "annee": str(annee),
            "type_periode": "annee",
            "numero_periode": "",
            "source": "Insee",
            "commentaire": "",
            "valeurs-TOTAL_FORMS": "4",
            "valeurs-INITIAL_FORMS": "0",
            "valeurs-0-valeur": valeur,
        },
    )
    assert response.status_code == 302, response.context["form"].error_summary()


def as_stored(mesures):
    return [(m.pk, m.indicateur_id, m.annee, m.valeur, m.version) for m in mesures]


# The series -------------------------------------------------------------------------------


def test_the_copy_reads_the_values_of_its_lineage_and_its_own_references(built):
    copie = built.copy_of(built.chomage)
    assert not copie.mesures.filter(nature=Mesure.Nature.VALEUR).exists()

    found = series([copie, built.chomage], reperes=True)

    values = [(m.annee, m.valeur, m.heritee) for m in found[copie.pk] if m.nature == "valeur"]
    assert sorted(values) == [(2021, 30, True), (2022, 28, True), (2023, 26, True)]
    reperes = {(m.nature, m.indicateur_id, m.heritee) for m in found[copie.pk]} - {
        ("valeur", built.chomage.pk, True)
    }
    assert reperes == {("reference", copie.pk, False), ("cible", copie.pk, False)}
    originals = found[built.chomage.pk]
    assert {m.indicateur_id for m in originals} == {built.chomage.pk}
    assert not any(m.heritee for m in originals)
    assert found[copie.pk][0].edition_nom == INITIAL


def test_the_series_of_many_indicators_is_one_query(built, django_assert_num_queries):
    copies = list(Indicateur.objects.filter(diagnostic=built.revision))
    originals = list(Indicateur.objects.filter(diagnostic=built.initiale))

    with django_assert_num_queries(1):
        found = series(copies + originals, reperes=True)

    assert {len(found[i.pk]) for i in copies} == {5, 3}  # chômage: 3 values, 2 repères
    deferred = list(Indicateur.objects.filter(diagnostic=built.revision).defer("lignee"))
    with django_assert_num_queries(2):  # the lineages, once
        again = series(deferred, reperes=True)
    assert {pk: [m.pk for m in ms] for pk, ms in again.items()} == {
        i.pk: [m.pk for m in found[i.pk]] for i in copies
    }


def test_the_dashboard_of_the_new_edition_shows_the_inherited_series(equipe, built):
    rows = dashboard(equipe, built.revision)

    row = rows["Taux de chômage"]
    assert (row.derniere.annee, row.derniere.valeur) == (2023, 26)
    assert (row.precedente.annee, row.precedente.valeur) == (2022, 28)
    assert row.derniere.pk == built.anciennes[-1].pk
    assert row.statut == Statut.EN_PROGRES
    assert row.portee.cible.indicateur_id == built.copy_of(built.chomage).pk


def test_the_page_of_the_copy_shows_the_series_as_entered_in_the_earlier_edition(equipe, built):
    copie = built.copy_of(built.chomage)

    response = equipe.get(url("detail", built.revision, copie.pk))

    assert response.status_code == 200
    donnees = response.context["donnees"]
    assert [periode for periode, _ in donnees.rangees()] == ["2021", "2022", "2023"]
    assert [points[0].texte for _, points in donnees.rangees()] == ["30", "28", "26"]
    assert [(m.annee, m.heritee) for m in response.context["mesures"]] == [
        (2021, True),
        (2022, True),
        (2023, True),
    ]
    content = response.content.decode()
    assert f"Saisie dans l’édition « {INITIAL} »" in content
    for old in built.anciennes:  # changed only from the edition that holds it
        assert url("mesure_modifier", built.revision, old.pk) not in content
        assert url("mesure_supprimer", built.revision, old.pk) not in content
    saisie = equipe.get(url("saisie", built.revision, copie.pk))
    assert len(saisie.context["mesures"]) == 3
    assert saisie.context["form"].periode["annee"].value() == 2024


def test_a_measure_of_an_earlier_edition_is_not_found_under_the_new_one(equipe, built):
    old = built.anciennes[-1]

    for name in ("mesure_modifier", "mesure_supprimer"):
        assert equipe.get(url(name, built.revision, old.pk)).status_code == 404
        response = equipe.post(url(name, built.revision, old.pk), {"version_lue": "1"})
        assert response.status_code == 404
    assert Mesure.objects.get(pk=old.pk).valeur == 26


def test_the_exports_show_the_inherited_series(equipe, built):
    copie = built.copy_of(built.chomage)

    response = equipe.get(url("tableau_de_bord_export", built.revision, "csv"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(StringIO(text), delimiter=";"))
    header = rows[0]
    chomage = next(row for row in rows if row[header.index("Indicateur")] == "Taux de chômage")
    assert chomage[header.index("Dernière période")] == "2023"
    assert chomage[header.index("Dernière valeur")] == "26"
    assert chomage[header.index("Valeur précédente")] == "28"

    dataset = MesureResource(diagnostic=built.revision).export()
    exported = {(row[0], row[3], row[4], row[5]) for row in dataset if row[1] == "Taux de chômage"}
    assert exported == {
        (str(copie.pk), "2021", "Valeur", "30"),
        (str(copie.pk), "2022", "Valeur", "28"),
        (str(copie.pk), "2023", "Valeur", "26"),
        (str(copie.pk), "2020", "Référence", "30"),
        (str(copie.pk), "2030", "Cible", "20"),
    }


# A value entered in the new edition -------------------------------------------------------


def test_a_value_entered_in_the_new_edition_wins_in_both_editions(equipe, built):
    copie = built.copy_of(built.chomage)
    before = as_stored(Mesure.objects.filter(indicateur=built.chomage).order_by("pk"))

    enter(equipe, copie, built.revision, 2023, "25")

    correction = copie.mesures.get(nature=Mesure.Nature.VALEUR)
    assert (correction.annee, correction.valeur) == (2023, 25)
    assert as_stored(Mesure.objects.filter(indicateur=built.chomage).order_by("pk")) == before
    for edition in (built.revision, built.initiale):
        row = dashboard(equipe, edition)["Taux de chômage"]
        assert (row.derniere.pk, row.derniere.valeur) == (correction.pk, 25), edition
        assert row.precedente.valeur == 28
    page = equipe.get(url("detail", built.revision, copie.pk))
    shown = [(m.annee, m.valeur, m.heritee) for m in page.context["mesures"]]
    assert shown == [(2021, 30, True), (2022, 28, True), (2023, 25, False)]
    content = page.content.decode()
    assert url("mesure_modifier", built.revision, correction.pk) in content
    old = equipe.get(url("detail", built.initiale, built.chomage.pk))
    assert [p[0].texte for _, p in old.context["donnees"].rangees()] == ["30", "28", "25"]


def test_a_frozen_edition_keeps_its_own_values(equipe, built, marie):
    states.freeze(built.initiale, marie)
    copie = built.copy_of(built.chomage)

    enter(equipe, copie, built.revision, 2023, "25")
    enter(equipe, copie, built.revision, 2024, "24")

    new = dashboard(equipe, built.revision)["Taux de chômage"]
    assert (new.derniere.annee, new.derniere.valeur, new.precedente.valeur) == (2024, 24, 25)
    frozen = dashboard(equipe, built.initiale)["Taux de chômage"]
    # Its own 2023 stays; the year measured since is a fact it reads too.
    assert (frozen.derniere.annee, frozen.derniere.valeur, frozen.precedente.valeur) == (
        2024,
        24,
        26,
    )
    page = equipe.get(url("detail", built.initiale, built.chomage.pk))
    assert [(m.annee, m.valeur) for m in page.context["mesures"]] == [
        (2021, 30),
        (2022, 28),
        (2023, 26),
        (2024, 24),
    ]


def test_references_and_targets_are_each_editions(equipe, built):
    copie = built.copy_of(built.chomage)
    Mesure.objects.filter(indicateur=copie, nature=Mesure.Nature.CIBLE).update(valeur=27)

    new = dashboard(equipe, built.revision)["Taux de chômage"]
    old = dashboard(equipe, built.initiale)["Taux de chômage"]

    assert (new.portee.cible.valeur, new.statut) == (27, Statut.ATTEINTE)
    assert (old.portee.cible.valeur, old.statut) == (20, Statut.EN_PROGRES)
    assert Mesure.objects.get(indicateur=built.chomage, nature="cible").valeur == 20
    page = equipe.get(url("detail", built.revision, copie.pk))
    (_, _, cible), *_ = page.context["reperes"]
    assert cible.valeur == 27


# Statistical secrecy ----------------------------------------------------------------------


def test_the_secret_applies_to_the_merged_series(client, built, marie, partenaire):
    states.publish(built.revision, marie)
    jeunes = built.copy_of(built.jeunes)
    # A correction of Fontbouillant in the new edition: Rive Gauche (inherited, 3) is still
    # hidden, and so is the territory (inherited, 20), which would give it away.
    Mesure.objects.create(
        indicateur=jeunes, annee=2023, valeur=18, quartier=built.quartiers[FONTBOUILLANT]
    )
    client.force_login(partenaire)

    territory = dashboard(client, built.revision)["Jeunes accompagnés"]
    rive_gauche = dashboard(client, built.revision, quartier=RIVE_GAUCHE)["Jeunes accompagnés"]
    fontbouillant = dashboard(client, built.revision, quartier=FONTBOUILLANT)

    assert (territory.valeur, territory.statut) == ("secret", Statut.SANS_DONNEE)
    assert rive_gauche.valeur == "secret"
    assert fontbouillant["Jeunes accompagnés"].valeur == "18\u00a0jeunes"
    page = client.get(url("detail", built.revision, jeunes.pk))
    shown = {(m.quartier.code if m.quartier else None): m.affichee for m in page.context["mesures"]}
    assert shown == {None: "secret", RIVE_GAUCHE: "secret", FONTBOUILLANT: "18\u00a0jeunes"}
    attach_latest_mesures([jeunes], partenaire)  # the pages of a pilier, of a sous-thème
    assert jeunes.loaded_valeurs == [
        ("Ensemble du territoire", "2023", "secret"),
        ("Rive Gauche", "2023", "secret"),
        ("Fontbouillant", "2023", "18 jeunes"),
    ]
    client.force_login(marie)
    staff = dashboard(client, built.revision)["Jeunes accompagnés"]
    assert staff.valeur == "20\u00a0jeunes"


# Import -----------------------------------------------------------------------------------


def test_an_import_into_the_new_edition_writes_its_own_measures(built, marie):
    copie = built.copy_of(built.chomage)
    before = as_stored(Mesure.objects.filter(indicateur=built.chomage).order_by("pk"))
    content = (
        "Indicateur;Quartier;Période;Valeur\r\n"
        "Taux de chômage;Ensemble du territoire;2023;25\r\n"
        "Taux de chômage;Ensemble du territoire;2024;24\r\n"
    ).encode()

    report = import_measures(built.revision, "valeurs.csv", content, user=marie)

    assert report.ok, report.as_lines()
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert sorted(copie.mesures.filter(nature="valeur").values_list("annee", "valeur")) == [
        (2023, 25),
        (2024, 24),
    ]
    assert as_stored(Mesure.objects.filter(indicateur=built.chomage).order_by("pk")) == before
    again = import_measures(built.revision, "valeurs.csv", content, user=marie)
    assert again.as_lines()[0] == NOTHING_NEW
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    values = {m.annee: m.valeur for m in series([copie])[copie.pk]}
    assert values == {2021: 30, 2022: 28, 2023: 25, 2024: 24}


# Query counts -----------------------------------------------------------------------------


def count_queries(client, address):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address)
    assert response.status_code == 200
    return len(queries)


def test_the_dashboard_runs_as_many_queries_with_several_editions_as_with_one(
    client, premiere, marie, partenaire
):
    built = premiere
    fm = Mesure.objects.create(
        indicateur=built.chomage,
        annee=2023,
        valeur=7,
        territoire=TerritoireComparaison.objects.get(code="FM"),  # the référentiel's
    )

    def addresses(edition):
        return [
            url("tableau_de_bord", edition),
            url("tableau_de_bord", edition) + f"?quartier={RIVE_GAUCHE}&comparaison=FM",
            url("tableau_de_bord_export", edition, "csv"),
            reverse("diagnostics:pilier", args=[edition.slug, edition.piliers.get().numero]),
        ]

    counts = {}
    for user in (partenaire, marie):
        client.force_login(user)
        counts[user.pk] = [count_queries(client, a) for a in addresses(built.initiale)]

    latest = built.initiale
    for number in range(3):
        latest = built.start(
            marie, nom=f"Révision {number}", date=datetime.date(2025 + number, 1, 1)
        )
        for indicateur in (built.chomage, built.jeunes):
            copie = built.copy_of(indicateur)
            mesure(copie, 2023, 20 + number)
            mesure(copie, 2024 + number, 10 + number, built.quartiers[RIVE_GAUCHE])
        states.publish(latest, marie)
    assert Diagnostic.objects.filter(contrat=built.initiale.contrat).count() == 4

    for user in (partenaire, marie):
        client.force_login(user)
        assert [count_queries(client, a) for a in addresses(latest)] == counts[user.pk]
    row = dashboard(client, latest, comparaison="FM")["Taux de chômage"]
    assert (row.derniere.valeur, row.portee.comparaison.pk) == (22, fm.pk)
