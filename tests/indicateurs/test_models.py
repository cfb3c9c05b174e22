"""The rules of a measure: what it holds for each type of indicator, one measure per
indicator, period and quartier, a possible period; values are Decimal."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from indicateurs.models import (
    Indicateur,
    Mesure,
    TerritoireComparaison,
    aggregate_rate,
    periode_cle,
)
from tests.factories import IndicateurFactory, QuartierFactory

QUANTITATIF, QUALITATIF, A_PRECISER = (
    Indicateur.Type.QUANTITATIF,
    Indicateur.Type.QUALITATIF,
    Indicateur.Type.A_PRECISER,
)


def errors_of(mesure):
    with pytest.raises(ValidationError) as raised:
        mesure.full_clean()
    return raised.value.message_dict


NUMBER_EXPECTED = "Un indicateur quantitatif attend une valeur numérique."
NO_CONSTAT = "Un indicateur quantitatif n'a pas de constat écrit : mettez ce texte en commentaire."
CONSTAT_EXPECTED = "Un indicateur qualitatif attend un constat écrit."
NO_NUMBER = "Un indicateur qualitatif n'a pas de valeur numérique."
EITHER = (
    "Pour un indicateur dont le type est à préciser, donnez soit une valeur numérique, "
    "soit un constat écrit"
)


@pytest.mark.parametrize(
    ("type_", "valeur", "texte", "errors"),
    [
        (QUANTITATIF, Decimal("12.5"), "", {}),
        (QUANTITATIF, None, "", {"valeur": [NUMBER_EXPECTED]}),
        (QUANTITATIF, Decimal(3), "En hausse", {"texte": [NO_CONSTAT]}),
        (QUALITATIF, None, "Les familles se disent isolées.", {}),
        (QUALITATIF, None, "   ", {"texte": [CONSTAT_EXPECTED]}),
        (QUALITATIF, Decimal(3), "Isolement", {"valeur": [NO_NUMBER]}),
        (A_PRECISER, Decimal(3), "", {}),
        (A_PRECISER, None, "Un constat.", {}),
        (A_PRECISER, None, "", {"valeur": [f"{EITHER}."]}),
        (A_PRECISER, Decimal(3), "Un constat.", {"valeur": [f"{EITHER}, pas les deux."]}),
    ],
)
def test_what_a_measure_holds_depends_on_the_type_of_its_indicator(type_, valeur, texte, errors):
    mesure = Mesure(
        indicateur=IndicateurFactory(type=type_), annee=2024, valeur=valeur, texte=texte
    )
    if errors:
        assert errors_of(mesure) == errors
    else:
        mesure.full_clean()


def test_one_measure_per_indicator_period_and_quartier():
    indicateur = IndicateurFactory(type=QUANTITATIF)
    quartier = QuartierFactory()
    Mesure.objects.create(indicateur=indicateur, annee=2024, valeur=Decimal(1))
    Mesure.objects.create(indicateur=indicateur, annee=2024, quartier=quartier, valeur=Decimal(2))

    territoire = Mesure(indicateur=indicateur, annee=2024, valeur=Decimal(3))
    dans_le_quartier = Mesure(
        indicateur=indicateur, annee=2024, quartier=quartier, valeur=Decimal(4)
    )

    assert errors_of(territoire)["__all__"] == [
        "Une mesure existe déjà pour cet indicateur et cette période sur l'ensemble du territoire."
    ]
    assert errors_of(dans_le_quartier)["__all__"] == [
        "Une mesure existe déjà pour cet indicateur, cette période et ce quartier."
    ]
    for mesure in (territoire, dans_le_quartier):
        with pytest.raises(IntegrityError), transaction.atomic():
            mesure.save()
    # Another period, another quartier, a quarter of the same year: all fine.
    Mesure(indicateur=indicateur, annee=2023, valeur=Decimal(5)).full_clean()
    Mesure(
        indicateur=indicateur, annee=2024, quartier=QuartierFactory(), valeur=Decimal(6)
    ).full_clean()
    trimestre = {"type_periode": "trimestre", "numero_periode": 1}
    Mesure(indicateur=indicateur, annee=2024, valeur=Decimal(7), **trimestre).full_clean()


@pytest.mark.parametrize(
    ("type_periode", "numero", "valid"),
    [
        ("annee", 0, True),
        ("annee", 1, False),
        ("trimestre", 4, True),
        ("trimestre", 5, False),
        ("trimestre", 0, False),
        ("mois", 12, True),
        ("mois", 13, False),
        ("semestre", 2, True),
        ("semestre", 3, False),
    ],
)
def test_a_period_is_a_year_a_semester_a_quarter_or_a_month(type_periode, numero, valid):
    mesure = Mesure(
        indicateur=IndicateurFactory(type=QUANTITATIF),
        annee=2024,
        type_periode=type_periode,
        numero_periode=numero,
        valeur=Decimal(1),
    )
    if valid:
        mesure.full_clean()
    else:
        assert errors_of(mesure)["__all__"] == [
            "Période impossible : semestre 1 ou 2, trimestre de 1 à 4, mois de 1 à 12, "
            "0 pour l'année."
        ]


def test_values_are_stored_as_decimals_exactly():
    indicateur = IndicateurFactory(type=QUANTITATIF)
    Mesure.objects.create(indicateur=indicateur, annee=2024, valeur=Decimal("0.1"))
    Mesure.objects.create(indicateur=indicateur, annee=2023, valeur=Decimal("0.2"))

    valeurs = list(indicateur.mesures.values_list("valeur", flat=True))

    assert all(isinstance(valeur, Decimal) for valeur in valeurs)
    assert sum(valeurs) == Decimal("0.3")


def test_periods_are_named_and_ordered_in_time():
    def mesure(annee, type_periode="annee", numero=0):
        return Mesure(annee=annee, type_periode=type_periode, numero_periode=numero)

    periodes = [
        mesure(2024),
        mesure(2024, "trimestre", 4),
        mesure(2024, "mois", 3),
        mesure(2023),
        mesure(2024, "trimestre", 1),
    ]
    periodes.sort(key=lambda m: m.periode_cle)

    assert [m.periode_libelle for m in periodes] == [
        "2023",
        "03/2024",
        "T1 2024",
        "T4 2024",
        "2024",
    ]
    assert periode_cle(2024, "mois", 12) < periode_cle(2024, "annee", 0)


def test_the_seed_indicators_start_with_a_type_to_be_specified(montlucon):
    indicateurs = Indicateur.objects.du_diagnostic(montlucon)

    assert indicateurs.count() == 18
    assert set(indicateurs.values_list("type", flat=True)) == {A_PRECISER}
    assert not indicateurs.exclude(unite="", sens_souhaite="").exists()
    assert not Mesure.objects.filter(indicateur__in=indicateurs).exists()


def test_a_value_of_another_kind_of_period_than_its_indicator_is_refused():
    indicateur = IndicateurFactory(type=QUANTITATIF, periodicite="annuelle")
    mesure = Mesure(
        indicateur=indicateur,
        annee=2025,
        type_periode="trimestre",
        numero_periode=1,
        valeur=Decimal(12),
    )

    assert "cet indicateur est suivi par année" in errors_of(mesure)["type_periode"][0]
    # A target may be set for any period (here the contract's end).
    Mesure(indicateur=indicateur, nature="cible", annee=2030, valeur=Decimal(9)).full_clean()


def test_a_rate_is_computed_from_its_terms_never_averaged():
    indicateur = IndicateurFactory(type=QUANTITATIF, taux=True)
    mesure = Mesure.objects.create(
        indicateur=indicateur, annee=2024, numerateur=Decimal(45), denominateur=Decimal(150)
    )

    assert mesure.valeur == Decimal("30.0000")
    assert aggregate_rate([(120, 600), (45, 150), (35, 250)]) == (200, 1000, Decimal(20))
    sans_termes = Mesure(indicateur=indicateur, annee=2023, valeur=Decimal(20))
    assert "numérateur" in errors_of(sans_termes)["numerateur"][0]


def test_rate_terms_go_together_and_the_denominator_is_positive():
    indicateur = IndicateurFactory(type=QUANTITATIF, taux=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Mesure.objects.create(
            indicateur=indicateur, annee=2024, numerateur=Decimal(4), denominateur=Decimal(0)
        )


def test_a_comparison_territory_carries_observed_values_only():
    indicateur = IndicateurFactory(type=QUANTITATIF)
    france = TerritoireComparaison.objects.get(code="FM")
    Mesure.objects.create(indicateur=indicateur, annee=2024, territoire=france, valeur=Decimal(9))

    with pytest.raises(IntegrityError), transaction.atomic():
        Mesure.objects.create(
            indicateur=indicateur, annee=2024, territoire=france, nature="cible", valeur=Decimal(1)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Mesure.objects.create(
            indicateur=indicateur,
            annee=2023,
            territoire=france,
            quartier=QuartierFactory(),
            valeur=Decimal(1),
        )
