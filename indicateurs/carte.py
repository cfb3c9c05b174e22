"""The map of an indicator by quartier (a choropleth), drawn by
`diagnostics.quartiers.carte`.

One period for every quartier: the latest period of the indicator's series that holds a
value for one of the edition's quartiers (the legend says which). Each quartier is
coloured by the class of its value; a value hidden by the secret statistique
(`indicateurs.secret`) is hatched and written "valeur non diffusée", a quartier without
a value that period is dotted. The labels and the list beside the map give each value in
words, so that colour is never the only way to read it.

The classes (up to 5, of equal amplitude, on round bounds) are computed from the values
shown to this user only: their bounds say nothing of a hidden value, and a hidden
quartier is in no class.
"""

from decimal import ROUND_FLOOR, Decimal

from django.urls import reverse

from diagnostics.quartiers.carte import Legende, Zone, dessiner

from . import secret
from .models import Indicateur, Mesure
from .tableau import comparable

NOMBRE_CLASSES = 5
# A sequential palette (ColorBrewer "Blues"), light to dark: the labels keep a white
# halo, so they read on every class; the values are written, colour is never alone.
PALETTE = ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")


def quartiers_of(diagnostic):
    """The edition's quartiers, with their communes (two queries)."""
    return list(diagnostic.quartiers.prefetch_related("communes").order_by("code"))


def a_dessiner(indicateur, quartiers):
    """Whether the indicator's page shows a map: a quantitative indicator and at least one
    quartier with an outline."""
    return indicateur.type == Indicateur.Type.QUANTITATIF and any(q.contour for q in quartiers)


def _valeurs_des_quartiers(mesures, quartiers):
    pks = {quartier.pk for quartier in quartiers}
    return [
        m
        for m in mesures
        if m.nature == Mesure.Nature.VALEUR and m.valeur is not None and m.quartier_id in pks
    ]


def _periode_of(mesure):
    return (mesure.annee, mesure.type_periode, mesure.numero_periode)


def derniere_periode(indicateur, mesures, quartiers):
    """((année, type, numéro), libellé) of the latest period of the series (its kind of
    period) holding a value for one of these quartiers, or None."""
    valeurs = comparable(_valeurs_des_quartiers(mesures, quartiers), indicateur)
    if not valeurs:
        return None
    return _periode_of(valeurs[0]), valeurs[0].periode_libelle


def classes_of(valeurs, nombre=NOMBRE_CLASSES):
    """The bounds [(bas, haut)] of up to `nombre` classes of equal amplitude on round
    numbers (a step of 1, 2, 2.5 or 5 times a power of ten), covering these values
    (Decimals: the values shown only)."""
    distinctes = sorted(set(valeurs))
    if not distinctes:
        return []
    bas, haut = distinctes[0], distinctes[-1]
    if bas == haut:
        return [(bas, haut)]
    nombre = min(nombre, len(distinctes))
    brut = (haut - bas) / nombre
    grandeur = Decimal(1).scaleb(brut.adjusted())
    for multiple in (1, 2, Decimal("2.5"), 5, 10, 20, 25, 50, 100):
        pas = grandeur * multiple
        debut = (bas / pas).to_integral_value(rounding=ROUND_FLOOR) * pas
        if debut + pas * nombre >= haut:
            break
    bornes = [debut + pas * i for i in range(nombre + 1)]
    while bornes[-2] >= haut:  # a last class beyond the values: left out
        bornes.pop()
    return list(zip(bornes, bornes[1:], strict=False))


def classe_of(valeur, classes):
    """The index of the class of a value: [bas, haut[, the last one [bas, haut]."""
    for index, (_bas, haut) in enumerate(classes):
        if valeur < haut or index == len(classes) - 1:
            return index
    return len(classes) - 1


def couleurs_of(nombre):
    """`nombre` colours of the palette, spread from light to dark."""
    if nombre == 0:
        return []
    if nombre == 1:
        return [PALETTE[3]]
    derniere = len(PALETTE) - 1
    return [PALETTE[round(i * derniere / (nombre - 1))] for i in range(nombre)]


def libelle_classe(bas, haut, indicateur, derniere):
    unite = secret.unit_of(indicateur)
    fin = f"\u00a0{unite}" if unite else ""
    texte_bas, texte_haut = secret.format_decimal(bas), secret.format_decimal(haut)
    if bas == haut:
        return f"{texte_bas}{fin}"
    if derniere:
        return f"de {texte_bas} à {texte_haut}{fin}"
    return f"de {texte_bas} à moins de {texte_haut}{fin}"


def fiche_url(diagnostic, quartier):
    return reverse("fiche_quartier", kwargs={"slug": diagnostic.slug, "code": quartier.code})


def choroplethe(indicateur, mesures, hidden, quartiers, diagnostic, ident=None):
    """The map of the indicator by quartier (`diagnostics.quartiers.carte.Carte`), or None
    when no quartier has an outline. `mesures`: the indicator's series (`series`), read
    by the page; `hidden`: its `secret.Secret` for the user; `quartiers`: the edition's,
    communes prefetched. No query."""
    ident = ident or f"carte-{indicateur.pk}"
    periode = derniere_periode(indicateur, mesures, quartiers)
    du_quartier = {}
    if periode is not None:
        for mesure in _valeurs_des_quartiers(mesures, quartiers):
            if _periode_of(mesure) == periode[0]:
                du_quartier[mesure.quartier_id] = mesure
    montrees = [mesure.valeur for mesure in du_quartier.values() if not hidden.hides(mesure)]
    classes = classes_of(montrees)
    couleurs = couleurs_of(len(classes))
    zones = []
    for quartier in quartiers:
        mesure = du_quartier.get(quartier.pk)
        zone = Zone(quartier, url=fiche_url(diagnostic, quartier))
        if mesure is None:
            zone.motif = "absent"
        elif hidden.hides(mesure):
            zone.motif = "secret"
        else:
            zone.valeur = hidden.show(mesure)
            zone.couleur = couleurs[classe_of(mesure.valeur, classes)]
        zones.append(zone)
    unite = secret.unit_of(indicateur)
    titre = f"{indicateur.libelle} par quartier"
    if periode is not None:
        titre += f" — {periode[1]}"
        note = (
            f"Valeurs de {periode[1]}, la dernière période renseignée pour les quartiers. "
            "Classes d'égale amplitude, calculées sur les valeurs diffusées."
        )
    else:
        note = "Aucune valeur n'a encore été saisie pour les quartiers."
    legende = Legende(
        titre=f"{indicateur.libelle}{f' (en {unite})' if unite else ''}",
        classes=[
            (couleur, libelle_classe(bas, haut, indicateur, index == len(classes) - 1))
            for index, ((bas, haut), couleur) in enumerate(zip(classes, couleurs, strict=True))
        ],
        note=note,
    )
    return dessiner(zones, titre=titre, ident=ident, legende=legende)
