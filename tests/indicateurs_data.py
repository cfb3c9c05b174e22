"""Indicators with measures, for the tests of the indicateurs pages (test_indicateurs_*)."""

from decimal import Decimal

from diagnostics.models import Quartier
from indicateurs.models import Indicateur, Mesure
from tests.factories import IndicateurFactory, QuartierFactory, SousThemeFactory, ThemeFactory

RIVE_GAUCHE, FONTBOUILLANT, BIEN_ASSIS = "QN00304M", "QN00305M", "QN00306M"
QPV = {RIVE_GAUCHE: "Rive Gauche", FONTBOUILLANT: "Fontbouillant", BIEN_ASSIS: "Bien-Assis"}


def qpv(diagnostic):
    """Montluçon's three QPV, attached to the diagnostic: {code: Quartier}."""
    quartiers = {code: QuartierFactory(code=code, nom=nom) for code, nom in QPV.items()}
    diagnostic.quartiers.add(*quartiers.values())
    return quartiers


def quantitatif(diagnostic, pilier=None, reference=None, cible=None, **fields):
    """A quantitative indicator of the diagnostic (in a new thème of `pilier` if given),
    with the whole territory's `reference` and `cible` when given as (year, value)."""
    defaults = {
        "type": Indicateur.Type.QUANTITATIF,
        "unite": "%",
        "sens_souhaite": Indicateur.Sens.BAISSE,
    }
    if pilier is None:
        pilier = diagnostic.piliers.order_by("numero").first()
    sous_theme = SousThemeFactory(theme=ThemeFactory(pilier=pilier))
    indicateur = IndicateurFactory(sous_theme=sous_theme, **{**defaults, **fields})
    if reference is not None:
        repere(indicateur, Mesure.Nature.REFERENCE, *reference)
    if cible is not None:
        repere(indicateur, Mesure.Nature.CIBLE, *cible)
    return indicateur


def repere(indicateur, nature, annee, valeur, quartier=None, **fields):
    """The reference or target (`nature`) of one scope (a quartier, or the territory)."""
    return Mesure.objects.create(
        indicateur=indicateur,
        nature=nature,
        annee=annee,
        valeur=Decimal(str(valeur)),
        quartier=quartier,
        **fields,
    )


def mesure(indicateur, annee, valeur=None, quartier=None, **fields):
    if valeur is not None:
        valeur = Decimal(str(valeur))
    return Mesure.objects.create(
        indicateur=indicateur, annee=annee, valeur=valeur, quartier=quartier, **fields
    )


def serie(indicateur, valeurs, quartier=None, **fields):
    """Measures of one series: {year: value}."""
    return [mesure(indicateur, annee, v, quartier, **fields) for annee, v in valeurs.items()]


def quartier(code):
    return Quartier.objects.get(code=code)
