"""A Montluçon report for the tests of tests/rapports: the seed diagnostic published,
its three QPV, an indicator with a known figure (362 people without a driving licence in
2024) and one whose small counts the secret statistique hides."""

from diagnostics.models import Diagnostic
from rapports import etats
from tests.indicateurs_data import (
    BIEN_ASSIS,
    FONTBOUILLANT,
    RIVE_GAUCHE,
    qpv,
    quantitatif,
    serie,
)

PERMIS = "Nombre de personnes sans permis de conduire"
JEUNES = "Jeunes accompagnés par la Mission locale"
# 2024: 362 = 139 + 83 + 140, as in the demo.
PERMIS_VALEURS = {
    None: {2023: 371, 2024: 362},
    RIVE_GAUCHE: {2023: 146, 2024: 139},
    FONTBOUILLANT: {2023: 86, 2024: 83},
    BIEN_ASSIS: {2023: 139, 2024: 140},
}
# 2024: Fontbouillant's 3 is a secret; the territory's 57 would give it away (57 - 31 - 23).
JEUNES_VALEURS = {
    None: {2024: 57},
    RIVE_GAUCHE: {2024: 31},
    FONTBOUILLANT: {2024: 3},
    BIEN_ASSIS: {2024: 23},
}
JEUNES_CACHES = ("57", "3")


def publier(diagnostic):
    Diagnostic.objects.filter(pk=diagnostic.pk).update(statut=Diagnostic.Statut.PUBLIE)
    diagnostic.refresh_from_db()
    return diagnostic


def indicateurs(diagnostic):
    """The two indicators, with their values for the whole territory and each QPV."""
    quartiers = qpv(diagnostic)
    permis = quantitatif(
        diagnostic,
        libelle=PERMIS,
        unite="personnes",
        compte_des_personnes=True,
        reference=(2022, 420),
        cible=(2030, 300),
        source_donnees="Ville de Montluçon",
    )
    jeunes = quantitatif(
        diagnostic,
        libelle=JEUNES,
        unite="jeunes",
        sens_souhaite="hausse",
        compte_des_personnes=True,
    )
    for indicateur, valeurs in ((permis, PERMIS_VALEURS), (jeunes, JEUNES_VALEURS)):
        for code, serie_ in valeurs.items():
            serie(indicateur, serie_, quartier=quartiers[code] if code else None)
    return permis, jeunes


def rapport(diagnostic, user, annee=2025):
    """The report of `annee`, started as an Administrateur starts it."""
    return etats.commencer(diagnostic.contrat, annee, user)
