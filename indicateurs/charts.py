"""The chart of an indicator's measures: a line chart drawn on the server as SVG.

No JavaScript and no chart library: the SVG is written here, so that the chart reads
without JavaScript and prints. One line per series (the whole territory, then each
quartier), each with its own colour AND its own dash pattern and point marker, so that
colour is never the only difference; dashed horizontal lines for the reference and the
target, with their labels. The same numbers are given in a table beside the chart
(`Donnees.rangees`), built from the same `Donnees`: the chart and the table cannot
disagree.

Secret statistique (`indicateurs.secret`): a masked value is not drawn (the line breaks
there) and the scale is computed from the values drawn only; the chart says how many
values it leaves out.

All text is escaped; numbers are written the French way ("12,5").
"""

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

from . import secret
from .models import Mesure, TerritoireComparaison, periode_cle
from .tableau import comparable, latest_of, serie_key, serie_label

# Colours: at least 4.5:1 against white. Dash patterns and markers differ too.
COULEURS = ("#0b5e6b", "#a4161a", "#5b3a9e", "#7a4f00", "#1e5130", "#1f4e9e", "#7a1f5c")
TIRETS = ("", "9 4", "3 3", "12 4 3 4", "6 2", "2 5", "14 3 3 3 3 3")
MARQUEURS = ("cercle", "carre", "triangle", "losange", "croix", "triangle_bas", "plus")

LARGEUR = 680
MARGE_GAUCHE, MARGE_DROITE, MARGE_HAUT = 72, 24, 24
HAUTEUR_TRACE = 280
HAUTEUR_AXE_X = 44
LEGENDE_COLONNES, LEGENDE_LIGNE = 3, 24
TAILLE_TEXTE = 14  # the font size of every label, in units of the drawing
CARACTERE = 7.8  # average width of a character at 14px, to space the period labels


# The data: shared by the chart and its table --------------------------------------------


@dataclass
class Point:
    mesure: object
    texte: str  # the value as the user may see it, without its unit ("12,5", "secret")
    masque: bool


@dataclass
class Serie:
    lieu: object  # a Quartier, a TerritoireComparaison, or None for the whole territory
    points: dict = field(default_factory=dict)  # periode_cle -> Point

    @property
    def libelle(self):
        return serie_label(self.lieu)

    @property
    def comparaison(self):
        return isinstance(self.lieu, TerritoireComparaison)


@dataclass
class Repere:
    """A horizontal line of the chart: the territory's reference or target."""

    valeur: object
    libelle: str
    couleur: str
    tirets: str


@dataclass
class Donnees:
    """The observed numeric values of an indicator, by series and period, as one user
    sees them: the territory, each quartier, each comparison territory."""

    indicateur: object
    periodes: list  # [(periode_cle, libellé)], oldest first
    series: list  # [Serie], territory first
    masques: int  # how many values the secret statistique hides from this user
    reperes: list = field(default_factory=list)  # [Repere]
    kinds: set = field(default_factory=set)  # the kinds of period of its series

    def shows(self, mesure):
        """Whether an observed value belongs to the series (its kind of period)."""
        return mesure.type_periode in self.kinds

    def rangees(self):
        """[(libellé de la période, [Point or None for each series])], oldest first."""
        return [
            (libelle, [serie.points.get(cle) for serie in self.series])
            for cle, libelle in self.periodes
        ]

    @property
    def fictive(self):
        return any(p.mesure.fictive for s in self.series for p in s.points.values())

    @property
    def comparaisons(self):
        return any(serie.comparaison for serie in self.series)


def chart_data(indicateur, mesures, hidden):
    """The observed numeric values (`valeur` set) of an indicator in its kind of period,
    for the chart and its table, and the territory's reference and target as lines.
    `hidden`: the `secret.Secret` of these measures for the user."""
    series, periodes, masques = {}, {}, 0
    observed = [m for m in mesures if m.nature == Mesure.Nature.VALEUR and m.valeur is not None]
    kinds = {m.type_periode for m in comparable(observed, indicateur)}
    reperes = []
    for nature, couleur, tirets, nom in (
        (Mesure.Nature.REFERENCE, "#4b5563", "6 4", "Référence ({})"),
        (Mesure.Nature.CIBLE, "#1c2430", "2 4", "Cible {}"),
    ):
        found = [m for m in mesures if m.nature == nature and m.quartier_id is None]
        repere = latest_of(found)
        if repere is not None and not hidden.hides(repere) and repere.valeur is not None:
            libelle = f"{nom.format(repere.periode_libelle)} : {hidden.show(repere)}"
            reperes.append(Repere(repere.valeur, libelle, couleur, tirets))
    for mesure in observed:
        if mesure.type_periode not in kinds:
            continue
        lieu = mesure.lieu
        key = serie_key(lieu)
        serie = series.setdefault(key, Serie(lieu))
        cle = periode_cle(mesure.annee, mesure.type_periode, mesure.numero_periode)
        periodes[cle] = mesure.periode_libelle
        masque = hidden.hides(mesure)
        masques += masque
        serie.points[cle] = Point(mesure, hidden.show(mesure, unit=False), masque)
    return Donnees(
        indicateur,
        sorted(periodes.items()),
        [series[key] for key in sorted(series)],
        masques,
        reperes,
        kinds,
    )


def constats_of(mesures):
    """The written entries (qualitative), latest first, territory before quartiers."""
    entries = [mesure for mesure in mesures if mesure.texte.strip()]
    entries.sort(key=lambda m: serie_key(m.lieu))
    entries.sort(key=lambda m: m.periode_cle, reverse=True)
    return entries


# The scale ------------------------------------------------------------------------------


def ticks(bas, haut, nombre=5):
    """Round tick values covering [bas, haut] (Decimal), about `nombre` intervals."""
    if bas == haut:
        ecart = abs(bas) / 10 if bas else Decimal(1)
        bas, haut = bas - ecart, haut + ecart
    if 0 <= bas < haut / 2:
        bas = Decimal(0)  # counts and rates read better from zero
    brut = (haut - bas) / nombre
    grandeur = Decimal(1).scaleb(brut.adjusted())
    for multiple in (1, 2, Decimal("2.5"), 5, 10):
        pas = grandeur * multiple
        if pas >= brut:
            break
    debut = (bas / pas).to_integral_value(rounding=ROUND_FLOOR) * pas
    fin = (haut / pas).to_integral_value(rounding=ROUND_CEILING) * pas
    values, tick = [], debut
    while tick <= fin:
        values.append(tick)
        tick += pas
    return values


# Drawing --------------------------------------------------------------------------------


def _n(number):
    """A coordinate, short."""
    return f"{number:.1f}".rstrip("0").rstrip(".")


def marker(forme, x, y, couleur, taille=5):
    """The SVG of a point marker of this shape, centred on (x, y)."""
    t = taille
    stroke = f'stroke="{couleur}" stroke-width="2"'
    if forme == "cercle":
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{t}" fill="{couleur}"/>'
    if forme == "carre":
        return (
            f'<rect x="{_n(x - t)}" y="{_n(y - t)}" width="{2 * t}" height="{2 * t}"'
            f' fill="#ffffff" {stroke}/>'
        )
    if forme == "triangle":
        d = f"M{_n(x)} {_n(y - t - 1)}L{_n(x + t + 1)} {_n(y + t)}L{_n(x - t - 1)} {_n(y + t)}Z"
        return f'<path d="{d}" fill="{couleur}"/>'
    if forme == "triangle_bas":
        d = f"M{_n(x)} {_n(y + t + 1)}L{_n(x + t + 1)} {_n(y - t)}L{_n(x - t - 1)} {_n(y - t)}Z"
        return f'<path d="{d}" fill="#ffffff" {stroke}/>'
    if forme == "losange":
        t += 1
        d = f"M{_n(x)} {_n(y - t)}L{_n(x + t)} {_n(y)}L{_n(x)} {_n(y + t)}L{_n(x - t)} {_n(y)}Z"
        return f'<path d="{d}" fill="#ffffff" {stroke}/>'
    if forme == "croix":
        d = (
            f"M{_n(x - t)} {_n(y - t)}L{_n(x + t)} {_n(y + t)}"
            f"M{_n(x - t)} {_n(y + t)}L{_n(x + t)} {_n(y - t)}"
        )
        return f'<path d="{d}" fill="none" stroke="{couleur}" stroke-width="2.5"/>'
    d = (
        f"M{_n(x - t - 1)} {_n(y)}L{_n(x + t + 1)} {_n(y)}"
        f"M{_n(x)} {_n(y - t - 1)}L{_n(x)} {_n(y + t + 1)}"
    )
    return f'<path d="{d}" fill="none" stroke="{couleur}" stroke-width="2.5"/>'


# A comparison territory is a reference line: grey and dotted, with its own marker.
COULEUR_COMPARAISON, TIRETS_COMPARAISON = "#4b5563", "1 4"


def serie_style(index, comparaison=False):
    """(couleur, tirets, marqueur) of the series at this index."""
    forme = MARQUEURS[index % len(MARQUEURS)]
    if comparaison:
        return COULEUR_COMPARAISON, TIRETS_COMPARAISON, forme
    return COULEURS[index % len(COULEURS)], TIRETS[index % len(TIRETS)], forme


def _trait(index, serie):
    """The width of a series' line: the territory's thickest, comparisons' thinnest."""
    if serie.comparaison:
        return 1.5
    return 3 if index == 0 else 2


def _resume(d, indicateur):
    noms = ", ".join(serie.libelle for serie in d.series)
    premier, dernier = d.periodes[0][1], d.periodes[-1][1]
    etendue = f"en {premier}" if premier == dernier else f"de {premier} à {dernier}"
    nombre = len(d.series)
    resume = (
        f"Graphique en courbes de l'indicateur « {indicateur.libelle} », {etendue}, "
        f"{nombre} série{'s' if nombre > 1 else ''} : {noms}."
    )
    if secret.unit_of(indicateur):
        resume += f" Unité : {secret.unit_of(indicateur)}."
    return resume + " Les valeurs figurent dans le tableau qui suit."


def _enumeration(noms):
    """ "A", "A et B", "A, B et C"."""
    return noms[0] if len(noms) == 1 else f"{', '.join(noms[:-1])} et {noms[-1]}"


def chart_title(d):
    """The visible title of the chart: the indicator's libellé and the series shown."""
    noms = [serie.libelle for serie in d.series]
    if not noms:
        return d.indicateur.libelle
    return f"{d.indicateur.libelle} — {_enumeration(noms)}"


def chart(d, ident="graphique"):
    """The SVG chart of these data (a safe string), or "" when no value can be drawn.

    `ident` prefixes the ids of the SVG, unique in the page. The SVG is named by the
    element of id `{ident}-titre` that the page shows above it (`chart_title`), and
    described by its summary (`<desc>`). Its text is 14 units high in a 680 units wide
    drawing: the page gives it a minimum width (static/css/indicateurs.css) so that the
    text never renders smaller than 12 px.
    """
    indicateur = d.indicateur
    visibles = [p.mesure.valeur for s in d.series for p in s.points.values() if not p.masque]
    if not visibles:
        return ""
    lignes_horizontales = [(r.valeur, r.libelle, r.couleur, r.tirets) for r in d.reperes]
    valeurs = visibles + [valeur for valeur, *_ in lignes_horizontales]
    tick_values = ticks(min(valeurs), max(valeurs))
    bas, haut = tick_values[0], tick_values[-1]

    largeur_trace = LARGEUR - MARGE_GAUCHE - MARGE_DROITE
    x0, y0 = MARGE_GAUCHE, MARGE_HAUT + HAUTEUR_TRACE

    def y_of(valeur):
        return y0 - float((valeur - bas) / (haut - bas)) * HAUTEUR_TRACE

    nombre_periodes = len(d.periodes)
    pas_x = largeur_trace / nombre_periodes

    def x_of(index):
        return x0 + pas_x * (index + 0.5)

    # As many legend columns as the longest series name allows.
    largeur_legende = 44 + max(len(s.libelle) for s in d.series) * CARACTERE + 20
    colonnes = max(1, min(LEGENDE_COLONNES, int((LARGEUR - MARGE_GAUCHE) // largeur_legende)))
    rangs_legende = -(-len(d.series) // colonnes)
    hauteur = MARGE_HAUT + HAUTEUR_TRACE + HAUTEUR_AXE_X + 12 + rangs_legende * LEGENDE_LIGNE
    resume = _resume(d, indicateur)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graphique" role="img"'
        f' viewBox="0 0 {LARGEUR} {hauteur}" width="{LARGEUR}" height="{hauteur}"'
        f' aria-labelledby="{ident}-titre" aria-describedby="{ident}-desc"'
        f' font-family="system-ui, sans-serif" font-size="{TAILLE_TEXTE}">',
        f"<title>{escape(chart_title(d))}</title>",
        f'<desc id="{ident}-desc">{escape(resume)}</desc>',
    ]
    # Horizontal grid and the value axis.
    unite = escape(secret.unit_of(indicateur))
    for tick in tick_values:
        y = y_of(tick)
        out.append(
            f'<line x1="{x0}" y1="{_n(y)}" x2="{x0 + largeur_trace}" y2="{_n(y)}"'
            f' stroke="#dfe3e7" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{x0 - 8}" y="{_n(y + 4)}" text-anchor="end" fill="#1c2430">'
            f"{escape(secret.format_decimal(tick))}</text>"
        )
    if unite:
        out.append(
            f'<text x="{x0}" y="{MARGE_HAUT - 10}" text-anchor="start" fill="#4b5563">'
            f"{unite}</text>"
        )
    out.append(
        f'<line x1="{x0}" y1="{y0}" x2="{x0 + largeur_trace}" y2="{y0}"'
        f' stroke="#1c2430" stroke-width="1.5"/>'
    )
    # Period labels, thinned out so that they never overlap.
    plus_long = max(len(libelle) for _, libelle in d.periodes)
    tous_les = max(1, -(-int(plus_long * CARACTERE + 12) // max(1, int(pas_x))))
    for index, (_, libelle) in enumerate(d.periodes):
        x = x_of(index)
        out.append(f'<line x1="{_n(x)}" y1="{y0}" x2="{_n(x)}" y2="{y0 + 5}" stroke="#1c2430"/>')
        if index % tous_les == 0 or index == nombre_periodes - 1:
            out.append(
                f'<text x="{_n(x)}" y="{y0 + 20}" text-anchor="middle" fill="#1c2430">'
                f"{escape(libelle)}</text>"
            )
    # Reference and target.
    for valeur, libelle, couleur, tirets in lignes_horizontales:
        y = y_of(valeur)
        out.append(
            f'<line class="graphique-repere" x1="{x0}" y1="{_n(y)}" x2="{x0 + largeur_trace}"'
            f' y2="{_n(y)}" stroke="{couleur}" stroke-width="1.5" stroke-dasharray="{tirets}"/>'
        )
        out.append(
            f'<text x="{x0 + largeur_trace - 4}" y="{_n(y - 6)}" text-anchor="end"'
            f' fill="{couleur}" stroke="#ffffff" stroke-width="4" paint-order="stroke"'
            f' font-weight="600">{escape(libelle)}</text>'
        )
    # The series: a line broken where a value is missing or masked, and a marker per point.
    for index, serie in enumerate(d.series):
        couleur, tirets, forme = serie_style(index, serie.comparaison)
        chemin, en_cours = [], False
        points = []
        for position, (cle, libelle) in enumerate(d.periodes):
            point = serie.points.get(cle)
            if point is None or point.masque:
                en_cours = False
                continue
            x, y = x_of(position), y_of(point.mesure.valeur)
            chemin.append(f"{'L' if en_cours else 'M'}{_n(x)} {_n(y)}")
            en_cours = True
            points.append((x, y, libelle, point))
        dash = f' stroke-dasharray="{tirets}"' if tirets else ""
        largeur_trait = _trait(index, serie)
        out.append(f'<g class="graphique-serie" data-serie="{escape(serie.libelle)}">')
        if len(points) > 1:
            out.append(
                f'<path d="{"".join(chemin)}" fill="none" stroke="{couleur}"'
                f' stroke-width="{largeur_trait}"{dash} stroke-linejoin="round"/>'
            )
        for x, y, libelle, point in points:
            valeur = f"{point.texte}\u00a0{unite}" if unite else point.texte
            out.append(
                f'<g class="graphique-point" data-periode="{escape(libelle)}"'
                f' data-valeur="{escape(point.texte)}">'
                f"<title>{escape(serie.libelle)}, {escape(libelle)} : {escape(valeur)}</title>"
                f"{marker(forme, x, y, couleur)}</g>"
            )
        out.append("</g>")
    # Legend, under the chart.
    haut_legende = y0 + HAUTEUR_AXE_X
    largeur_colonne = (LARGEUR - MARGE_GAUCHE) / colonnes
    for index, serie in enumerate(d.series):
        couleur, tirets, forme = serie_style(index, serie.comparaison)
        colonne, rang = index % colonnes, index // colonnes
        x = MARGE_GAUCHE + colonne * largeur_colonne
        y = haut_legende + rang * LEGENDE_LIGNE
        dash = f' stroke-dasharray="{tirets}"' if tirets else ""
        out.append(
            f'<line x1="{_n(x)}" y1="{_n(y)}" x2="{_n(x + 36)}" y2="{_n(y)}"'
            f' stroke="{couleur}" stroke-width="{_trait(index, serie)}"{dash}/>'
        )
        out.append(marker(forme, x + 18, y, couleur))
        out.append(
            f'<text x="{_n(x + 44)}" y="{_n(y + 4)}" fill="#1c2430">{escape(serie.libelle)}</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))
