"""Maps of the quartiers, drawn by the server as SVG: no tiles, no CDN, no JavaScript.

`dessiner(zones, titre=...)` projects the outlines (`Quartier.contour`, GeoJSON WGS 84)
in metres (`geometrie.epsg_for` of the centre of the whole set: Lambert-93 in mainland
France, the UTM zone overseas), fits them in a drawing 800 units wide (y axis flipped,
coordinates rounded to a tenth of a unit), and writes:

- one link per quartier (`Zone.url`, its fiche quartier) around its shape, named by its
  `<title>` (name, code, value); holes and several parts kept (fill-rule evenodd);
- the labels on top of every shape, each at the quartier's pole of inaccessibility, with
  a white halo, moved apart when they would overlap; a label that finds no free place
  becomes a number, listed beside the map. The labels repeat the links for the mouse but
  are hidden from assistive technologies and out of the tab order (one stop per
  quartier);
- patterns for a value hidden by the secret statistique (hatched) and for no value
  (dotted), so that neither relies on colour.

The page includes `templates/diagnostics/quartiers/_carte.html`: the SVG in a <figure>
with its caption, its legend and the list of the quartiers beside it (those without an
outline are listed there, not drawn).

No SQL here: the caller gives quartiers with their communes prefetched. The projection of
each outline is cached by its content (and the path of a whole map by its frame), so that
drawing a contract's map again costs a few milliseconds.
"""

import json
import pickle
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import shapely
import shapely.ops
from django.db.models import TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from . import geometrie

LARGEUR = 800  # the width of the drawing, in its units
HAUTEUR_MIN, HAUTEUR_MAX = 320, 720
MARGE = 16
TAILLE_TEXTE = 16  # labels: 16 units in 800, at least 12 px on screen (cartes.css)
INTERLIGNE = 19
CARACTERE = 8.6  # average width of a character of a label (bold, 16 units)
TAILLE_REPERE = 13  # the numbers of the labels that do not fit

GRAS = ' font-weight="700"'
FOND = "#dbe7ec"  # the default fill of a quartier
TRAIT = "#1c2430"
TRAIT_ACTIF = "#a4161a"

MOTIFS = {
    "secret": "valeur non diffusée (secret statistique)",
    "absent": "pas de valeur",
}
# What the label says of a value hidden or missing (the pattern is not alone).
COURTS = {"secret": "secret", "absent": "pas de valeur"}
DEMONSTRATION = "Tracés de démonstration : ce ne sont pas les contours officiels."


@dataclass
class Zone:
    """One quartier drawn on a map."""

    quartier: object  # a Quartier, its communes prefetched; .contour may be None
    url: str | None = None  # the link of its shape and label (its fiche quartier)
    couleur: str | None = None  # the fill (a class of a choropleth); None: the default
    motif: str | None = None  # None, "secret" (value hidden: hatched), "absent" (no value)
    valeur: str = ""  # the text shown with its label and in the list ("23,4 %")
    actif: bool = False  # the quartier of the page (fiche quartier): highlighted
    # Set by `dessiner` on the copies it returns:
    dessinee: bool = False  # drawn (it has an outline)
    repere: str = ""  # the number standing for its label when the name did not fit

    @property
    def texte_valeur(self):
        """The value as written beside its name: the value, or what its pattern means."""
        if self.valeur:
            return self.valeur
        return MOTIFS.get(self.motif, "")


@dataclass
class Legende:
    """The legend of a choropleth: its classes, then the patterns the map uses."""

    titre: str
    classes: list  # [(colour, label "de 10 à 20 %")]
    motifs: list = field(default_factory=list)  # [(id of the pattern, label)]: by dessiner
    note: str = ""  # e.g. the period shown, the method of the classes


@dataclass
class Carte:
    svg: SafeString
    titre: str
    description: str  # the text alternative
    zones: list  # [Zone], all of them (drawn or not), in the order given
    sans_contour: list  # [Quartier] listed beside the map, not drawn
    legende: Legende | None = None
    ident: str = "carte"
    demonstration: bool = False  # some outline is drawn for the demo, not official
    avertissement: str = ""  # DEMONSTRATION when it is

    @property
    def numerotee(self):
        return any(zone.repere for zone in self.zones)


# Geometry, cached ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Projete:
    """An outline projected in metres: its polygons as lists of rings (n×2 arrays)."""

    polygones: tuple  # ((exterior, hole, ...), ...)
    bounds: tuple  # (minx, miny, maxx, maxy) in metres
    ancre: tuple  # the label's place: pole of inaccessibility of the largest part
    surface: float


def _cle(quartier):
    """A hashable key of a quartier's outline that holds it whole, or None without one:
    its JSON text when the queryset gave it (`contour_texte`, see `quartiers_of`: no
    decoding at all on a warm cache), else the pickle of `contour` (about 15 times faster
    than its JSON text). The key is only ever read back by `_degres`: an outline changed
    in the database gives another key, never a stale drawing."""
    if hasattr(quartier, "contour_texte"):
        return quartier.contour_texte or None
    contour = quartier.contour
    return pickle.dumps(contour, protocol=pickle.HIGHEST_PROTOCOL) if contour else None


@lru_cache(maxsize=4096)
def _degres(cle):
    """The outline as a shapely MultiPolygon in WGS 84, or None when it is unusable."""
    try:
        # A JSON text from the database, or our own pickle (`_cle`).
        contour = json.loads(cle) if isinstance(cle, str) else pickle.loads(cle)  # noqa: S301
        return geometrie.read(contour)
    except (geometrie.GeometrieInvalide, ValueError, TypeError):
        return None


@lru_cache(maxsize=4096)
def _projete(cle, epsg):
    forme = _degres(cle)
    metres = geometrie.to_metres(forme, epsg)
    polygones = tuple(
        tuple(
            np.asarray(ring.coords, dtype=float)[:, :2]
            for ring in (polygone.exterior, *polygone.interiors)
        )
        for polygone in metres.geoms
    )
    plus_grand = max(metres.geoms, key=lambda p: p.area)
    try:
        ancre = shapely.ops.polylabel(plus_grand, tolerance=max(plus_grand.length / 400, 1.0))
    except Exception:  # noqa: BLE001 - polylabel fails on degenerate parts: use a safe point
        ancre = plus_grand.representative_point()
    return _Projete(polygones, metres.bounds, (ancre.x, ancre.y), metres.area)


@lru_cache(maxsize=4096)
def _chemin(cle, epsg, cadre):
    """The `d` of a projected outline in a frame (x0, y0, scale, dx, dy): the drawing's
    coordinates, rounded to a tenth, repeated points removed."""
    x0, y0, echelle, dx, dy = cadre
    morceaux = []
    for polygone in _projete(cle, epsg).polygones:
        for ring in polygone:
            points = np.empty_like(ring)
            points[:, 0] = (ring[:, 0] - x0) * echelle + dx
            points[:, 1] = (y0 - ring[:, 1]) * echelle + dy
            points = np.round(points, 1)
            garde = np.ones(len(points), dtype=bool)
            garde[1:] = np.any(points[1:] != points[:-1], axis=1)
            points = points[garde]
            if len(points) < 3:
                continue
            coords = [f"{x:g} {y:g}" for x, y in points.tolist()]
            morceaux.append("M" + "L".join(coords) + "Z")
    return "".join(morceaux)


# Labels ----------------------------------------------------------------------------------


def _boite(cx, cy, largeur, hauteur):
    return (cx - largeur / 2, cy - hauteur / 2, cx + largeur / 2, cy + hauteur / 2)


def _chevauche(a, b, marge=2):
    return not (
        a[2] + marge <= b[0] or b[2] + marge <= a[0] or a[3] + marge <= b[1] or b[3] + marge <= a[1]
    )


def _dedans(boite, largeur, hauteur):
    return boite[0] >= 2 and boite[1] >= 2 and boite[2] <= largeur - 2 and boite[3] <= hauteur - 2


def _place(cx, cy, largeur, hauteur, prises, cadre_largeur, cadre_hauteur, pas, loin=2):
    """The first free place of a box near (cx, cy): there, then around it, up to `loin`
    steps of `pas` away; None when there is none."""
    candidats = [(0, 0)]
    for distance in range(1, loin + 1):
        d = distance * pas
        candidats += [(0, -d), (0, d), (d, 0), (-d, 0), (d, -d), (-d, -d), (d, d), (-d, d)]
    for ox, oy in candidats:
        boite = _boite(cx + ox, cy + oy, largeur, hauteur)
        if _dedans(boite, cadre_largeur, cadre_hauteur) and not any(
            _chevauche(boite, autre) for autre in prises
        ):
            return cx + ox, cy + oy, boite
    return None


def _etiquettes(ancres, textes, largeur, hauteur):
    """For each label (in order of priority): ("nom", x, y) where it is written, or
    ("repere", x, y) for a number standing for it."""
    prises, placees = [], {}
    for index in sorted(ancres, key=lambda i: ancres[i][2]):
        cx, cy, _ = ancres[index]
        lignes = textes[index]
        l_box = max(len(ligne) for ligne in lignes) * CARACTERE + 8
        h_box = len(lignes) * INTERLIGNE + 4
        # Two steps at most: further, a name would be read as another quartier's.
        found = _place(cx, cy, l_box, h_box, prises, largeur, hauteur, h_box)
        if found is not None:
            x, y, boite = found
            prises.append(boite)
            placees[index] = ("nom", x, y)
    # Numbers for the labels that found no place, in the order of the list.
    numero = 0
    for index in sorted(ancres):
        if index in placees:
            continue
        numero += 1
        cx, cy, _ = ancres[index]
        taille = 2 * TAILLE_REPERE
        found = _place(cx, cy, taille, taille, prises, largeur, hauteur, taille, loin=6)
        x, y, boite = found if found else (cx, cy, _boite(cx, cy, taille, taille))
        prises.append(boite)
        placees[index] = ("repere", x, y, str(numero))
    return placees


# Drawing ---------------------------------------------------------------------------------


def _n(number):
    return f"{number:.1f}".rstrip("0").rstrip(".")


def _communes(quartier):
    return ", ".join(commune.nom or commune.code for commune in quartier.communes.all())


def _nom_complet(quartier):
    communes = _communes(quartier)
    return f"{quartier.nom} ({communes})" if communes else quartier.nom


def _enumeration(noms):
    return noms[0] if len(noms) == 1 else f"{', '.join(noms[:-1])} et {noms[-1]}"


def _description(zones, sans_contour, demonstration):
    nombre = len(zones)
    parts = []
    for zone in zones:
        texte = _nom_complet(zone.quartier)
        if zone.texte_valeur:
            texte += f" : {zone.texte_valeur}"
        if zone.actif:
            texte += " (quartier de cette page, mis en évidence)"
        parts.append(texte)
    description = f"Carte de {nombre} quartier{'s' if nombre > 1 else ''} : {_enumeration(parts)}."
    if sans_contour:
        noms = [quartier.nom for quartier in sans_contour]
        description += (
            " Sans contour connu, non dessiné"
            f"{'s' if len(noms) > 1 else ''} : {_enumeration(noms)}."
        )
    if demonstration:
        description += " " + DEMONSTRATION
    return description


def _motifs(ident):
    return (
        f'<pattern id="{ident}-secret" patternUnits="userSpaceOnUse" width="8" height="8"'
        ' patternTransform="rotate(45)">'
        '<rect width="8" height="8" fill="#ffffff"/>'
        '<line x1="2" y1="0" x2="2" y2="8" stroke="#5f6b7a" stroke-width="2.5"/></pattern>'
        f'<pattern id="{ident}-absent" patternUnits="userSpaceOnUse" width="10" height="10">'
        '<rect width="10" height="10" fill="#f3f4f6"/>'
        '<circle cx="5" cy="5" r="1.6" fill="#4b5563"/></pattern>'
    )


def remplissage(zone, ident):
    """The fill of a zone: its pattern, its colour or the default."""
    if zone.motif in MOTIFS:
        return f"url(#{ident}-{zone.motif})"
    return zone.couleur or FOND


def dessiner(zones, *, titre, ident="carte", legende=None):
    """The map of these zones (`Zone`), or None when none has an outline to draw.

    `ident` prefixes the ids of the SVG: unique in the page. `titre` names the map (its
    `<title>` and caption); the description lists the quartiers, their communes and values.
    """
    zones = [replace(zone) for zone in zones]
    dessinables, sans_contour = [], []
    for zone in zones:
        cle = _cle(zone.quartier)
        if cle is not None and _degres(cle) is not None:
            zone.dessinee = True
            dessinables.append((zone, cle))
        else:
            sans_contour.append(zone.quartier)
    if not dessinables:
        return None

    # One projection for the whole set: the one of its centre.
    ouest = min(_degres(cle).bounds[0] for _, cle in dessinables)
    sud = min(_degres(cle).bounds[1] for _, cle in dessinables)
    est = max(_degres(cle).bounds[2] for _, cle in dessinables)
    nord = max(_degres(cle).bounds[3] for _, cle in dessinables)
    epsg = geometrie.epsg_for((ouest + est) / 2, (sud + nord) / 2)
    projetes = [_projete(cle, epsg) for _, cle in dessinables]
    minx = min(p.bounds[0] for p in projetes)
    miny = min(p.bounds[1] for p in projetes)
    maxx = max(p.bounds[2] for p in projetes)
    maxy = max(p.bounds[3] for p in projetes)
    etendue_x, etendue_y = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
    utile = LARGEUR - 2 * MARGE
    echelle = utile / etendue_x
    hauteur = etendue_y * echelle + 2 * MARGE
    if hauteur > HAUTEUR_MAX:
        echelle = (HAUTEUR_MAX - 2 * MARGE) / etendue_y
        hauteur = HAUTEUR_MAX
    hauteur = max(hauteur, HAUTEUR_MIN)
    dx = (LARGEUR - etendue_x * echelle) / 2
    dy = (hauteur - etendue_y * echelle) / 2
    cadre = (round(minx, 3), round(maxy, 3), echelle, round(dx, 3), round(dy, 3))
    hauteur = round(hauteur)

    def point(x, y):
        return (x - cadre[0]) * echelle + dx, (cadre[1] - y) * echelle + dy

    # Labels: the active one first, then the smallest quartiers (they need it most).
    ancres, textes = {}, {}
    for index, ((zone, _), projete) in enumerate(zip(dessinables, projetes, strict=True)):
        x, y = point(*projete.ancre)
        priorite = -1.0 if zone.actif else projete.surface
        ancres[index] = (x, y, priorite)
        court = zone.valeur or COURTS.get(zone.motif, "")
        textes[index] = [zone.quartier.nom] + ([court] if court else [])
    placees = _etiquettes(ancres, textes, LARGEUR, hauteur)

    actif = any(zone.actif for zone, _ in dessinables)
    demonstration = any(zone.quartier.contour_demonstration for zone, _ in dessinables)
    description = _description(zones, sans_contour, demonstration)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="carte" role="group"'
        f' viewBox="0 0 {LARGEUR} {hauteur}" width="{LARGEUR}" height="{hauteur}"'
        f' aria-labelledby="{ident}-titre" aria-describedby="{ident}-desc"'
        f' font-family="system-ui, sans-serif" font-size="{TAILLE_TEXTE}">',
        f'<title id="{ident}-titre">{escape(titre)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
        f"<defs>{_motifs(ident)}</defs>",
        '<g class="carte-zones">',
    ]
    for zone, cle in dessinables:
        classes = "carte-zone" + (" carte-zone-active" if zone.actif else "")
        if zone.actif:
            trait = f'stroke="{TRAIT_ACTIF}" stroke-width="4"'
        elif actif:
            trait = f'stroke="{TRAIT}" stroke-width="1" fill-opacity="0.6"'
        else:
            trait = f'stroke="{TRAIT}" stroke-width="1.5"'
        nom = f"{zone.quartier.nom} ({zone.quartier.code})"
        if zone.texte_valeur:
            nom += f" : {zone.texte_valeur}"
        forme = (
            f'<title>{escape(nom)}</title><path class="carte-forme"'
            f' d="{_chemin(cle, epsg, cadre)}" fill="{remplissage(zone, ident)}"'
            f' fill-rule="evenodd" {trait} stroke-linejoin="round"/>'
        )
        code = escape(zone.quartier.code)
        if zone.url:
            out.append(
                f'<a href="{escape(zone.url)}" class="{classes}" data-code="{code}">{forme}</a>'
            )
        else:
            out.append(f'<g class="{classes}" data-code="{code}">{forme}</g>')
    out.append("</g>")

    # The labels, above every shape: links again for the mouse, hidden from assistive
    # technologies and out of the tab order (the shape's link is the one to reach).
    out.append('<g class="carte-etiquettes" aria-hidden="true">')
    for index, (zone, _) in enumerate(dessinables):
        sorte, x, y, *numero = placees[index]
        ax, ay, _ = ancres[index]
        morceaux = []
        if abs(x - ax) > 1 or abs(y - ay) > 1:  # moved: a line to its quartier
            morceaux.append(
                f'<line x1="{_n(ax)}" y1="{_n(ay)}" x2="{_n(x)}" y2="{_n(y)}"'
                f' stroke="{TRAIT}" stroke-width="1"/>'
                f'<circle cx="{_n(ax)}" cy="{_n(ay)}" r="2.5" fill="{TRAIT}"/>'
            )
        if sorte == "nom":
            lignes = textes[index]
            haut = y - (len(lignes) - 1) * INTERLIGNE / 2 + TAILLE_TEXTE * 0.35
            tspans = "".join(
                f'<tspan x="{_n(x)}" y="{_n(haut + i * INTERLIGNE)}"{GRAS if i == 0 else ""}>'
                f"{escape(ligne)}</tspan>"
                for i, ligne in enumerate(lignes)
            )
            morceaux.append(
                f'<text class="carte-etiquette" text-anchor="middle" fill="{TRAIT}"'
                f' stroke="#ffffff" stroke-width="4" stroke-linejoin="round"'
                f' paint-order="stroke">{tspans}</text>'
            )
        else:
            zone.repere = numero[0]
            morceaux.append(
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{TAILLE_REPERE}" fill="#ffffff"'
                f' stroke="{TRAIT}" stroke-width="1.5"/>'
                f'<text class="carte-repere" x="{_n(x)}" y="{_n(y + 5)}" text-anchor="middle"'
                f' font-size="{TAILLE_REPERE + 1}" font-weight="700" fill="{TRAIT}">'
                f"{escape(zone.repere)}</text>"
            )
        contenu = "".join(morceaux)
        if zone.url:
            out.append(f'<a href="{escape(zone.url)}" tabindex="-1">{contenu}</a>')
        else:
            out.append(f"<g>{contenu}</g>")
    out.append("</g></svg>")

    if legende is not None:
        presents = {zone.motif for zone in zones if zone.motif in MOTIFS}
        legende = replace(
            legende,
            motifs=[(f"{ident}-{motif}", MOTIFS[motif]) for motif in MOTIFS if motif in presents],
        )
    return Carte(
        svg=mark_safe("".join(out)),
        titre=titre,
        description=description,
        zones=zones,
        sans_contour=sans_contour,
        legende=legende,
        ident=ident,
        demonstration=demonstration,
        avertissement=DEMONSTRATION if demonstration else "",
    )


# The map of an edition's quartiers -------------------------------------------------------


def quartiers_of(edition):
    """The quartiers of an edition, by code, with their communes (two queries). Their
    outline comes as its JSON text (`contour_texte`), not decoded: on a warm cache the
    map never decodes it (thousands of small lists per page, and the garbage collections
    they cause, saved). `contour` itself is deferred: do not read it."""
    return list(
        edition.quartiers.defer("contour")
        .annotate(contour_texte=Cast("contour", TextField()))
        .prefetch_related("communes")
        .order_by("code")
    )


def fiche_url(edition, quartier):
    """The page of a quartier in an edition (its fiche quartier)."""
    return reverse("fiche_quartier", kwargs={"slug": edition.slug, "code": quartier.code})


def carte_edition(edition, quartiers, *, titre=None, ident="carte-quartiers", actif=None):
    """The map of these quartiers of an edition (`quartiers_of`), each linked to its fiche
    quartier; `actif`: the quartier of the page, highlighted. None when none is drawn."""
    zones = [
        Zone(
            quartier,
            url=fiche_url(edition, quartier),
            actif=actif is not None and quartier.pk == actif.pk,
        )
        for quartier in quartiers
    ]
    nombre = len(quartiers)
    titre = titre or (
        f"Quartier{'s' if nombre > 1 else ''} prioritaire{'s' if nombre > 1 else ''} "
        f"de l'édition « {edition.nom_edition} »"
    )
    return dessiner(zones, titre=titre, ident=ident)
