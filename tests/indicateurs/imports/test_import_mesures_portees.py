"""Importing references, targets, rates and comparison territories into Montluçon's
diagnostic: the Nature, Numérateur and Dénominateur columns, comparison territories in the
Quartier column, one kind of period per indicator, and every path writing the same."""

from decimal import Decimal

import pytest
from django.db import transaction

from diagnostics.imports import undo
from diagnostics.models import Import, import_change_reason
from indicateurs.admin.resources import MesureFlatResource
from indicateurs.imports import import_measures
from indicateurs.imports.measures import NOTHING_NEW
from indicateurs.imports.resource import MesureResource
from indicateurs.models import (
    Indicateur,
    Mesure,
    TerritoireComparaison,
    period_mismatch_message,
)
from tests.indicateurs.imports.test_import_mesures import ENGINES, csv, lines, xlsx
from tests.indicateurs_data import BIEN_ASSIS, FONTBOUILLANT, RIVE_GAUCHE, qpv

# Seed indicators of Montluçon (fixtures/diagnostic-montlucon.tsv), completed by staff.
SANS_PERMIS = "Nombre de personne sans permis de conduire"  # made a rate (a share, in %)
ELOIGNEES = "Nombre de personne très éloignées de l'emploi"  # yearly
FLE = "Nombre de dispositif FLE"  # no periodicity yet
ISOLEMENT = "Sentiment d'isolement"  # qualitative, no periodicity yet
PARTICIPANTS = "Nombre de participants"  # "ponctuelle": any period


def complete(diagnostic, libelle, **fields):
    """An indicator completed by staff (saved: its history has the change)."""
    indicateur = Indicateur.objects.du_diagnostic(diagnostic).get(libelle=libelle)
    for name, value in fields.items():
        setattr(indicateur, name, value)
    indicateur.save()
    return indicateur


class Montlucon:
    def __init__(self, diagnostic):
        self.diagnostic = diagnostic
        self.quartiers = qpv(diagnostic)
        quantitatif = Indicateur.Type.QUANTITATIF
        self.sans_permis = complete(
            diagnostic, SANS_PERMIS, type=quantitatif, taux=True, unite="%", periodicite="annuelle"
        )
        self.eloignees = complete(diagnostic, ELOIGNEES, type=quantitatif, periodicite="annuelle")
        self.fle = complete(diagnostic, FLE, type=quantitatif)
        self.isolement = complete(diagnostic, ISOLEMENT, type=Indicateur.Type.QUALITATIF)
        self.participants = complete(
            diagnostic, PARTICIPANTS, type=quantitatif, periodicite="ponctuelle"
        )
        self.fm = TerritoireComparaison.objects.get(code="FM")
        self.qpv_france = TerritoireComparaison.objects.get(code="QPV")

    def quartier(self, code):
        return self.quartiers[code]


@pytest.fixture
def site(montlucon):
    return Montlucon(montlucon)


def rows_of(indicateur):
    """(nature, place, period, valeur, numerateur, denominateur) of its measures."""
    return sorted(
        (
            m.nature,
            m.quartier.code if m.quartier_id else m.territoire.code if m.territoire_id else "",
            m.periode_libelle,
            m.valeur,
            m.numerateur,
            m.denominateur,
        )
        for m in indicateur.mesures.select_related("quartier", "territoire")
    )


def refused(report):
    assert not report.ok
    assert not Mesure.objects.exists()
    return dict(report.errors)


# Nature --------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_one_file_carries_values_references_and_targets_of_each_scope(site, engine):
    content = csv(
        [
            ["Indicateur", "Quartier", "Nature", "Période", "Valeur"],
            [ELOIGNEES, "", "", "2023", "412"],
            [ELOIGNEES, "", "Référence", "2023", "412"],
            [ELOIGNEES, "", "CIBLE", "2030", "300"],
            [ELOIGNEES, "Rive Gauche", "valeur", "2023", "120"],
            [ELOIGNEES, "Rive Gauche", "reference", "2022", "130"],
            [ELOIGNEES, "QN00305M", "réf.", "2022", "80"],
            [ELOIGNEES, "QN00305M", "Objectif", "2030", "60"],
        ]
    )

    report = import_measures(site.diagnostic, "portees.csv", content, engine=engine)

    assert report.ok, lines(report)
    assert report.created == 7
    assert rows_of(site.eloignees) == sorted(
        [
            ("cible", "", "2030", Decimal(300), None, None),
            ("cible", FONTBOUILLANT, "2030", Decimal(60), None, None),
            ("reference", "", "2023", Decimal(412), None, None),
            ("reference", FONTBOUILLANT, "2022", Decimal(80), None, None),
            ("reference", RIVE_GAUCHE, "2022", Decimal(130), None, None),
            ("valeur", "", "2023", Decimal(412), None, None),
            ("valeur", RIVE_GAUCHE, "2023", Decimal(120), None, None),
        ]
    )
    for measure in Mesure.objects.all():
        measure.full_clean()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_wide_table_takes_the_nature_of_each_row(site, engine):
    content = xlsx(
        [
            ["Indicateur", "Quartier", "Nature", "2022", "2023", "2030"],
            [ELOIGNEES, "Bien-Assis", "", 51, 49, ""],
            [ELOIGNEES, "Bien-Assis", "Référence", 51, "", ""],
            [ELOIGNEES, "Bien-Assis", "Cible", "", "", 40],
        ]
    )

    report = import_measures(site.diagnostic, "large.xlsx", content, engine=engine)

    assert report.ok, lines(report)
    assert rows_of(site.eloignees) == [
        ("cible", BIEN_ASSIS, "2030", Decimal(40), None, None),
        ("reference", BIEN_ASSIS, "2022", Decimal(51), None, None),
        ("valeur", BIEN_ASSIS, "2022", Decimal(51), None, None),
        ("valeur", BIEN_ASSIS, "2023", Decimal(49), None, None),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_unknown_nature_is_refused_with_its_line(site, engine):
    content = csv(
        [
            ["Indicateur", "Quartier", "Nature", "Période", "Valeur"],
            [ELOIGNEES, "", "", "2023", "412"],
            [ELOIGNEES, "", "Prévision", "2024", "400"],
            [ELOIGNEES, "", "référence 2024", "2024", "400"],
        ]
    )

    errors = refused(import_measures(site.diagnostic, "n.csv", content, engine=engine))

    assert errors == {
        3: "Nature « Prévision » inconnue : écrivez valeur, référence ou cible (une case "
        "vide est une valeur).",
        4: "Nature « référence 2024 » inconnue : écrivez valeur, référence ou cible (une "
        "case vide est une valeur).",
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_a_reference_and_a_value_of_the_same_period_are_two_measures_but_not_two_references(
    site, engine
):
    content = csv(
        [
            ["Indicateur", "Quartier", "Nature", "Période", "Valeur"],
            [ELOIGNEES, "QN00304M", "", "2023", "120"],
            [ELOIGNEES, "QN00304M", "Référence", "2023", "120"],
            [ELOIGNEES, "QN00304M", "ref", "2023", "121"],
            [ELOIGNEES, "FM", "", "2023", "5"],
            [ELOIGNEES, "France métropolitaine", "", "2023", "6"],
        ]
    )

    errors = refused(import_measures(site.diagnostic, "d.csv", content, engine=engine))

    assert errors == {
        4: "Même indicateur, même quartier et même référence (même période) qu'à la ligne 3.",
        6: "Même indicateur, même territoire de comparaison et même période qu'à la ligne 5.",
    }


# Rates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rate_is_given_by_its_terms_and_its_value_computed(site, engine):
    content = csv(
        [
            ["Indicateur", "Quartier", "Nature", "Période", "Valeur", "Numérateur", "Dénominateur"],
            [SANS_PERMIS, "", "", "2023", "", "312", "1 248"],
            [SANS_PERMIS, "Rive Gauche", "", "2023", "33,37", "143", "428"],  # 33,4112
            [SANS_PERMIS, "", "Référence", "2022", "26,5", "", ""],
            [SANS_PERMIS, "", "Cible", "2030", "20 %", "", ""],
            [SANS_PERMIS, "QPV", "", "2023", "31,2", "", ""],
            [SANS_PERMIS, "FM", "", "2023", "", "9", "100"],
        ]
    )

    report = import_measures(site.diagnostic, "taux.csv", content, engine=engine)

    assert report.ok, lines(report)
    assert rows_of(site.sans_permis) == sorted(
        [
            ("cible", "", "2030", Decimal(20), None, None),
            ("reference", "", "2022", Decimal("26.5"), None, None),
            ("valeur", "", "2023", Decimal(25), Decimal(312), Decimal(1248)),
            ("valeur", "FM", "2023", Decimal(9), Decimal(9), Decimal(100)),
            ("valeur", "QPV", "2023", Decimal("31.2"), None, None),
            ("valeur", RIVE_GAUCHE, "2023", Decimal("33.4112"), Decimal(143), Decimal(428)),
        ]
    )
    for measure in Mesure.objects.all():
        measure.full_clean()


@pytest.mark.parametrize("engine", ENGINES)
def test_the_terms_of_a_rate_are_checked(site, engine):
    header = ["Indicateur", "Quartier", "Période", "Valeur", "Numérateur", "Dénominateur"]
    content = csv(
        [
            header,
            [SANS_PERMIS, "", "2023", "25,1", "312", "1248"],  # 25 computed
            [SANS_PERMIS, "QN00304M", "2023", "33", "", ""],
            [SANS_PERMIS, "QN00305M", "2023", "", "12", ""],
            [SANS_PERMIS, "QN00306M", "2023", "", "12", "0"],
            [SANS_PERMIS, "QN00306M", "2022", "", "douze", "40"],
            [ELOIGNEES, "", "2023", "412", "412", "1000"],
        ]
    )

    errors = refused(import_measures(site.diagnostic, "taux.csv", content, engine=engine))

    assert errors == {
        2: "Valeur « 25,1 » (2023) : le numérateur et le dénominateur donnent un taux de "
        "25 % (312 / 1248), écart de plus de 0,05 point ; corrigez la valeur ou laissez-la "
        "vide.",
        3: f"L'indicateur « {SANS_PERMIS} » est un taux : donnez le numérateur et le "
        "dénominateur de sa valeur (2023), dans des colonnes Numérateur et Dénominateur ; le "
        "taux en est calculé.",
        4: "Un taux se donne par son numérateur et son dénominateur : le dénominateur manque "
        "(2023).",
        5: "Dénominateur « 0 » (2023) : un dénominateur est un nombre positif.",
        6: "Numérateur « douze » (2022) : ce doit être un nombre (par exemple 1 234 ou 12,5).",
        7: f"L'indicateur « {ELOIGNEES} » n'est pas un taux : laissez vides son numérateur "
        "et son dénominateur.",
    }


def test_a_value_within_five_hundredths_of_a_point_of_its_terms_is_taken(site):
    content = csv(
        [
            ["Indicateur", "Période", "Valeur", "Numérateur", "Dénominateur"],
            [SANS_PERMIS, "2023", "25,05", "312", "1248"],
        ]
    )

    report = import_measures(site.diagnostic, "taux.csv", content)

    assert report.ok, lines(report)
    assert site.sans_permis.mesures.get().valeur == Decimal(25)  # the terms' rate


def test_terms_go_with_one_value_per_row_only(site):
    content = csv([["Indicateur", "Numérateur", "Dénominateur", "2023"], [SANS_PERMIS, 1, 2, 3]])

    report = import_measures(site.diagnostic, "large.csv", content)

    assert report.errors == [
        (
            1,
            "les colonnes Numérateur et Dénominateur demandent une ligne par valeur (colonnes "
            "Période et Valeur), pas une colonne par période.",
        )
    ]


# Comparison territories -----------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_the_quartier_column_names_comparison_territories_by_code_or_name(site, engine):
    TerritoireComparaison.objects.create(code="03185", nom="Montluçon", echelon="commune")
    content = csv(
        [
            ["Indicateur", "Quartier", "Période", "Valeur"],
            [ELOIGNEES, "fm", "2021", "7"],
            [ELOIGNEES, "France metropolitaine", "2022", "8"],
            [ELOIGNEES, "ensemble des QPV de France", "2022", "15"],
            [ELOIGNEES, "MONTLUCON", "2022", "10"],
            [ELOIGNEES, "Bien Assis", "2022", "20"],
            [ELOIGNEES, "Montluçon Communauté", "2022", "12"],  # the diagnostic's territory
        ]
    )

    report = import_measures(site.diagnostic, "comparaisons.csv", content, engine=engine)

    assert report.ok, lines(report)
    assert sorted(
        Mesure.objects.values_list("annee", "quartier__code", "territoire__code", "valeur"),
        key=str,
    ) == sorted(
        [
            (2021, None, "FM", Decimal(7)),
            (2022, None, "FM", Decimal(8)),
            (2022, None, "QPV", Decimal(15)),
            (2022, None, "03185", Decimal(10)),
            (2022, BIEN_ASSIS, None, Decimal(20)),
            (2022, None, None, Decimal(12)),
        ],
        key=str,
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_a_comparison_territory_has_no_reference_nor_target(site, engine):
    content = csv(
        [
            ["Indicateur", "Quartier", "Nature", "Période", "Valeur"],
            [ELOIGNEES, "FM", "Référence", "2022", "8"],
            [ELOIGNEES, "QPV", "Cible", "2030", "8"],
        ]
    )

    errors = refused(import_measures(site.diagnostic, "c.csv", content, engine=engine))

    assert errors == {
        2: "« FM » est un territoire de comparaison : il n'a que des valeurs observées, ni "
        "référence ni cible.",
        3: "« QPV » est un territoire de comparaison : il n'a que des valeurs observées, ni "
        "référence ni cible.",
    }


# Comparable periods ---------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_value_of_another_kind_of_period_than_its_series_is_refused(site, engine):
    content = csv(
        [
            ["Indicateur", "Quartier", "Nature", "Période", "Valeur"],
            [ELOIGNEES, "", "", "T1 2024", "100"],
            [ELOIGNEES, "FM", "", "S1 2024", "5"],
            [ELOIGNEES, "", "Cible", "S2 2030", "90"],  # a target may be of any period
            [PARTICIPANTS, "", "", "T1 2024", "10"],  # "ponctuelle": any period
            [PARTICIPANTS, "", "", "2024", "40"],
        ]
    )

    errors = refused(import_measures(site.diagnostic, "p.csv", content, engine=engine))

    assert errors == {
        2: "C" + period_mismatch_message(site.eloignees, "trimestre")[1:],
        3: "C" + period_mismatch_message(site.eloignees, "semestre")[1:],
    }
    assert errors[2] == (
        "Cet indicateur est suivi par année (périodicité annuelle) : une valeur par trimestre "
        "ne se compare pas à sa série."
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_the_first_value_gives_its_kind_of_period_to_an_indicator_without_one(site, engine):
    content = csv(
        [
            ["Indicateur", "Quartier", "Nature", "Période", "Valeur"],
            [FLE, "", "Référence", "2023", "4"],  # a reference does not set it
            [FLE, "Rive Gauche", "", "T3 2024", "2"],
            [FLE, "", "", "T4 2024", "5"],
            [FLE, "", "", "2024", "9"],
            [FLE, "", "", "10/2024", "1"],
        ]
    )

    errors = refused(import_measures(site.diagnostic, "p.csv", content, engine=engine))

    tail = (
        " Sa périodicité, encore vide, est celle de sa première valeur dans ce fichier (ligne 3)."
    )
    assert errors == {
        5: "Cet indicateur est suivi par trimestre (périodicité trimestrielle) : une valeur "
        "par année ne se compare pas à sa série." + tail,
        6: "Cet indicateur est suivi par trimestre (périodicité trimestrielle) : une valeur "
        "par mois ne se compare pas à sa série." + tail,
    }
    site.fle.refresh_from_db()
    assert site.fle.periodicite == ""


@pytest.mark.parametrize("engine", ENGINES)
def test_the_new_periodicity_is_written_with_the_measures_and_undone_with_them(site, engine, paul):
    content = csv(
        [
            ["Indicateur", "Quartier", "Période", "Valeur"],
            [FLE, "Fontbouillant", "S1 2024", "2"],
            [FLE, "", "2024-S2", "5"],
            [FLE, "", "1er semestre 2025", "6"],
            [FLE, "", "2e semestre 2025", "7"],
            [ISOLEMENT, "", "T1 2024", "Fort chez les seniors"],
        ]
    )
    before = site.fle.history.count()

    simulated = import_measures(site.diagnostic, "s.csv", content, user=paul, dry_run=True)

    assert simulated.ok, lines(simulated)
    assert (
        "Périodicité donnée par leur première valeur du fichier : « Nombre de dispositif FLE » "
        ": semestrielle ; « Sentiment d'isolement » : trimestrielle." in simulated.as_lines()
    )
    site.fle.refresh_from_db()
    assert (site.fle.periodicite, site.fle.history.count()) == ("", before)

    report = import_measures(site.diagnostic, "s.csv", content, user=paul, engine=engine)

    assert report.ok, lines(report)
    assert [m.periode_libelle for m in site.fle.mesures.order_by("annee", "numero_periode")] == [
        "S1 2024",
        "S2 2024",
        "S1 2025",
        "S2 2025",
    ]
    record = report.import_record
    for indicateur, periodicite in ((site.fle, "semestrielle"), (site.isolement, "trimestrielle")):
        indicateur.refresh_from_db()
        assert indicateur.periodicite == periodicite
        last = indicateur.history.order_by("-history_id").first()
        assert (last.periodicite, last.history_type, last.history_user) == (periodicite, "~", paul)
        assert last.history_change_reason == import_change_reason(record)
        assert last.import_source_id == record.pk
        assert last.version == indicateur.version
    assert record.compte_rendu["periodicities"][0] == {
        "indicateur": FLE,
        "periodicite": "semestrielle",
    }

    undo.undo(record, paul)

    site.fle.refresh_from_db()
    site.isolement.refresh_from_db()
    assert (site.fle.periodicite, site.isolement.periodicite) == ("", "")
    assert site.fle.type == Indicateur.Type.QUANTITATIF  # staff's completion kept
    assert not Mesure.objects.exists()


# Every path writes the same -------------------------------------------------------------------


def _state():
    measures = sorted(
        Mesure.objects.values_list(
            "indicateur_id",
            "nature",
            "quartier_id",
            "territoire_id",
            "annee",
            "type_periode",
            "numero_periode",
            "valeur",
            "numerateur",
            "denominateur",
            "texte",
            "source",
            "commentaire",
            "version",
            "saisi_par_id",
            "fictive",
        ),
        key=str,
    )
    history = sorted(
        Mesure.history.values_list(
            "indicateur_id",
            "nature",
            "territoire_id",
            "annee",
            "valeur",
            "numerateur",
            "denominateur",
            "history_type",
            "history_user_id",
        ),
        key=str,
    )
    indicators = sorted(
        Indicateur.history.values_list("id", "periodicite", "version", "history_type"), key=str
    )
    return measures, history, indicators


def _every_way(diagnostic, content, user):
    results = {}
    for engine in ENGINES:
        with transaction.atomic():
            report = import_measures(diagnostic, "v.csv", content, user=user, engine=engine)
            results[engine] = (
                (report.created, report.updated, report.unchanged),
                report.errors,
                report.as_lines(),
                _state(),
            )
            transaction.set_rollback(True)
    return results


def test_every_path_writes_natures_terms_and_comparisons_alike(site, paul):
    Mesure.objects.create(
        indicateur=site.sans_permis, annee=2022, numerateur=10, denominateur=40, source="Ville"
    )
    Mesure.objects.create(
        indicateur=site.sans_permis, annee=2022, nature="reference", valeur=Decimal("25")
    )
    Mesure.objects.create(
        indicateur=site.sans_permis, annee=2022, territoire=site.fm, valeur=Decimal(9)
    )
    content = csv(
        [
            ["Indicateur", "Quartier", "Nature", "Période", "Valeur", "Numérateur", "Dénominateur"],
            [SANS_PERMIS, "", "", "2022", "", "11", "40"],  # changed terms
            [SANS_PERMIS, "", "Référence", "2022", "25", "", ""],  # unchanged
            [SANS_PERMIS, "FM", "", "2022", "9", "", ""],  # unchanged
            [SANS_PERMIS, "QPV", "", "2022", "", "3", "10"],
            [SANS_PERMIS, "QN00304M", "Cible", "2030", "20", "", ""],
            [FLE, "", "", "T1 2024", "3", "", ""],
            [FLE, "FM", "", "T2 2024", "4", "", ""],
        ]
    )

    results = _every_way(site.diagnostic, content, paul)

    assert all(result == results["resource"] for result in results.values())
    assert results["bulk"][0] == (4, 1, 2)


def test_every_path_reports_the_same_errors(site, paul):
    content = csv(
        [
            ["Indicateur", "Quartier", "Nature", "Période", "Valeur", "Numérateur", "Dénominateur"],
            [SANS_PERMIS, "", "", "2022", "30", "11", "40"],
            [SANS_PERMIS, "FM", "Cible", "T1 2022", "x", "", ""],
            [FLE, "", "", "T1 2024", "3", "", ""],
            [FLE, "", "", "2024", "3", "1", "2"],
            [FLE, "Nulle part", "peut-être", "2024-S3", "1", "", ""],
        ]
    )

    results = _every_way(site.diagnostic, content, paul)

    assert all(result == results["resource"] for result in results.values())
    assert [line for line, _ in results["bulk"][1]] == [2, 3, 5, 6]


# Exports import back unchanged ----------------------------------------------------------------


def _everything(site):
    rive_gauche = site.quartier(RIVE_GAUCHE)
    Mesure.objects.create(
        indicateur=site.sans_permis, annee=2023, numerateur=143, denominateur=428, source="ANTS"
    )
    Mesure.objects.create(
        indicateur=site.sans_permis,
        annee=2023,
        quartier=rive_gauche,
        numerateur=Decimal("1.5"),
        denominateur=3,
    )
    Mesure.objects.create(indicateur=site.sans_permis, annee=2023, territoire=site.fm, valeur=9)
    Mesure.objects.create(
        indicateur=site.sans_permis, annee=2022, nature="reference", valeur=Decimal("26.5")
    )
    Mesure.objects.create(
        indicateur=site.sans_permis, annee=2030, quartier=rive_gauche, nature="cible", valeur=20
    )
    Mesure.objects.create(
        indicateur=site.fle, annee=2024, type_periode="semestre", numero_periode=2, valeur=3
    )


def test_the_source_layout_export_imports_back_with_nothing_new(site):
    _everything(site)

    dataset = MesureResource().export()

    assert ("Valeur", "33,4112", "143", "428") in [
        (row[4], row[5], row[6], row[7]) for row in dataset
    ]
    assert {row[2] for row in dataset} == {"Ensemble du territoire", RIVE_GAUCHE, "FM"}
    assert {row[4] for row in dataset} == {"Valeur", "Référence", "Cible"}
    before = list(Mesure.objects.order_by("pk").values())
    for content, filename in ((dataset.export("csv").encode(), "export.csv"),):
        report = import_measures(site.diagnostic, filename, content)
        assert report.as_lines()[0] == NOTHING_NEW, lines(report)
        assert (report.created, report.updated, report.unchanged) == (0, 0, 6)
    assert list(Mesure.objects.order_by("pk").values()) == before
    assert not Import.objects.filter(nature=Import.Nature.MESURES).exists()


def test_the_flat_export_of_the_admin_imports_back_unchanged(site):
    _everything(site)
    resource = MesureFlatResource()
    dataset = resource.export()
    assert {"nature", "numerateur", "denominateur"} <= set(dataset.headers)
    assert {row["quartier"] for row in dataset.dict} == {"", RIVE_GAUCHE, "FM"}
    before = list(Mesure.objects.order_by("pk").values())

    result = MesureFlatResource().import_data(dataset, raise_errors=True)

    assert not result.has_validation_errors(), [row.error_dict for row in result.invalid_rows]
    assert (result.totals["new"], result.totals["update"], result.totals["skip"]) == (0, 0, 6)
    assert list(Mesure.objects.order_by("pk").values()) == before


def test_the_flat_import_of_the_admin_finds_the_comparison_territory_of_a_row(site):
    _everything(site)
    dataset = MesureFlatResource().export()
    index = [row["quartier"] for row in dataset.dict].index("FM")
    row = list(dataset[index])
    row[dataset.headers.index("valeur")] = "9,5"
    dataset[index] = tuple(row)

    result = MesureFlatResource().import_data(dataset, raise_errors=True)

    assert result.totals["update"] == 1
    assert Mesure.objects.get(territoire=site.fm).valeur == Decimal("9.5")


# Hostile cells ------------------------------------------------------------------------------

LONG = "x" * 10_000


@pytest.mark.parametrize(
    "cells",
    [
        {"Nature": LONG},
        {"Quartier": LONG},
        {"Période": LONG},
        {"Période": "S" + "1" * 5_000 + " 2024"},
        {"Valeur": "1" * 10_000},
        {"Numérateur": LONG, "Dénominateur": "2"},
        {"Numérateur": "9" * 11, "Dénominateur": "0,0001"},  # a rate too large to store
        {"Numérateur": "@SUM(A1)", "Dénominateur": "-1"},
        {"Mois": "²"},
        {"Indicateur": LONG},
    ],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_a_hostile_cell_is_refused_with_a_short_french_reason(site, engine, cells):
    header = ["Indicateur", "Quartier", "Nature", "Période", "Valeur", "Numérateur", "Dénominateur"]
    if "Mois" in cells:
        header = [*header[:3], "Année", "Mois", *header[4:]]
    values = {"Indicateur": SANS_PERMIS, "Période": "2023", "Année": "2023"}
    values.update({"Numérateur": "1", "Dénominateur": "4", **cells})
    content = xlsx([header, [values.get(name, "") for name in header]])

    report = import_measures(site.diagnostic, "hostile.xlsx", content, engine=engine)

    assert not report.ok
    assert not Mesure.objects.exists()
    assert all(len(message) < 1_000 for _, message in report.errors), report.errors


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("=1+1", "Nature « =1+1 » inconnue"),
        ('=HYPERLINK("http://example.org";"cible")', "Nature « =HYPERLINK"),
        ("+cible", "Nature « +cible » inconnue"),
    ],
)
def test_a_formula_is_text_never_evaluated(site, cell, message):
    content = csv([["Indicateur", "Nature", "Période", "Valeur"], [ELOIGNEES, cell, "2023", "1"]])

    errors = refused(import_measures(site.diagnostic, "formules.csv", content))

    assert errors[2].startswith(message)


def test_nul_bytes_give_a_french_reason_no_traceback(site):
    nul = csv([["Indicateur", "Nature", "Période", "Valeur"], [ELOIGNEES, "c\x00", "2023", "1"]])

    report = import_measures(site.diagnostic, "hostile.csv", nul)

    assert not report.ok
    assert report.errors
    assert not Mesure.objects.exists()
