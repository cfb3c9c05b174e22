"""The charts of the ODT and the DOCX: a line chart drawn as a PNG with Pillow, from a
chart block's "trace" (`rapports.blocs`: {"unite", "etiquettes", "series": [{"nom",
"valeurs"}], "cible"}).

The same rules as the page's SVG (`indicateurs.charts`): one line per series, each with its
own colour AND its own dash pattern and point marker (colour is never the only
difference), the scale from the values drawn only, a missing or secret value (None) breaks
the line, the target as a dashed horizontal line, a legend under the chart. Text in DejaVu
Sans (fonts-dejavu-core), Pillow's own font when it is absent.
"""

import io
import math
from decimal import Decimal
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from indicateurs.charts import COULEURS, MARQUEURS, ticks
from indicateurs.secret import format_decimal

ECHELLE = 1.5  # pixels per unit of the drawing: 160 dpi when printed 16 cm wide
LARGEUR = 680
MARGE_GAUCHE, MARGE_DROITE, MARGE_HAUT = 72, 24, 30
HAUTEUR_TRACE = 260
HAUTEUR_AXE_X = 40
LEGENDE_LIGNE = 22
TAILLE_TEXTE = 13
# Dash patterns (drawn, on, off...), in units of the drawing; "" is a solid line.
TIRETS = ((), (9, 4), (3, 3), (12, 4, 3, 4), (6, 2), (2, 5), (14, 3, 3, 3))
ENCRE, GRILLE, GRIS, CIBLE = "#1c2430", "#dfe3e7", "#4b5563", "#1c2430"
POLICES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "DejaVuSans.ttf",
)


@lru_cache(maxsize=4)
def police(taille):
    for chemin in POLICES:
        try:
            return ImageFont.truetype(chemin, taille)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size=taille)
    except TypeError:  # an old Pillow: a bitmap font of one size
        return ImageFont.load_default()


def dimensions(trace):
    """(width, height) of the drawing, in units (the image is ECHELLE times larger)."""
    rangs = -(-max(1, len(trace.get("series", []))) // _colonnes(trace))
    return LARGEUR, MARGE_HAUT + HAUTEUR_TRACE + HAUTEUR_AXE_X + 10 + rangs * LEGENDE_LIGNE


def _colonnes(trace):
    noms = [serie["nom"] for serie in trace.get("series", [])] or [""]
    largeur = 44 + max(len(nom) for nom in noms) * 7.5 + 20
    return max(1, min(3, int((LARGEUR - MARGE_GAUCHE) // largeur)))


def png(trace):
    """The PNG (bytes) of the chart of this trace."""
    largeur, hauteur = dimensions(trace)
    s = ECHELLE
    image = Image.new("RGB", (round(largeur * s), round(hauteur * s)), "#ffffff")
    draw = ImageDraw.Draw(image)
    font = police(round(TAILLE_TEXTE * s))
    series = trace.get("series", [])
    etiquettes = trace.get("etiquettes", [])
    cible = trace.get("cible")
    valeurs = [v for serie in series for v in serie["valeurs"] if v is not None]
    if cible is not None:
        valeurs.append(cible)
    if not valeurs or not etiquettes:
        draw.text((MARGE_GAUCHE * s, MARGE_HAUT * s), "Aucune valeur à représenter.", ENCRE, font)
        return _bytes(image)
    graduations = ticks(Decimal(str(min(valeurs))), Decimal(str(max(valeurs))))
    bas, haut = float(graduations[0]), float(graduations[-1])
    largeur_trace = largeur - MARGE_GAUCHE - MARGE_DROITE
    x0, y0 = MARGE_GAUCHE, MARGE_HAUT + HAUTEUR_TRACE
    pas_x = largeur_trace / len(etiquettes)

    def y_of(valeur):
        return (y0 - (valeur - bas) / ((haut - bas) or 1) * HAUTEUR_TRACE) * s

    def x_of(index):
        return (x0 + pas_x * (index + 0.5)) * s

    # Grid and value axis.
    for tick in graduations:
        y = y_of(float(tick))
        draw.line([(x0 * s, y), ((x0 + largeur_trace) * s, y)], GRILLE, width=_px(1))
        draw.text(((x0 - 8) * s, y), format_decimal(tick), ENCRE, font, anchor="rm")
    if trace.get("unite"):
        draw.text((x0 * s, (MARGE_HAUT - 12) * s), trace["unite"], GRIS, font, anchor="ls")
    draw.line([(x0 * s, y0 * s), ((x0 + largeur_trace) * s, y0 * s)], ENCRE, width=_px(1.5))
    # Period labels, thinned out so that they never overlap.
    plus_long = max(draw.textlength(e, font=font) for e in etiquettes) / s
    tous_les = max(1, math.ceil((plus_long + 10) / pas_x))
    for index, etiquette in enumerate(etiquettes):
        x = x_of(index)
        draw.line([(x, y0 * s), (x, (y0 + 5) * s)], ENCRE, width=_px(1))
        if index % tous_les == 0 or index == len(etiquettes) - 1:
            draw.text((x, (y0 + 8) * s), etiquette, ENCRE, font, anchor="ma")
    # The target.
    if cible is not None:
        y = y_of(cible)
        _pointilles(draw, [(x0 * s, y), ((x0 + largeur_trace) * s, y)], CIBLE, s, (2, 4), 2)
        texte = f"Cible {format_decimal(Decimal(str(cible)))}"
        draw.text(
            ((x0 + largeur_trace - 4) * s, y - 6 * s),
            texte,
            CIBLE,
            font,
            anchor="rs",
            stroke_width=_px(2),
            stroke_fill="#ffffff",
        )
    # The series: broken where a value is missing or secret.
    for index, serie in enumerate(series):
        couleur, tirets, forme = _style(index)
        epaisseur = 3 if index == 0 else 2
        troncon = []
        points = []
        for position, valeur in enumerate(serie["valeurs"][: len(etiquettes)]):
            if valeur is None:
                _pointilles(draw, troncon, couleur, s, tirets, epaisseur)
                troncon = []
                continue
            point = (x_of(position), y_of(valeur))
            troncon.append(point)
            points.append(point)
        _pointilles(draw, troncon, couleur, s, tirets, epaisseur)
        for x, y in points:
            _marqueur(draw, forme, x, y, couleur, s)
    # Legend.
    colonnes = _colonnes(trace)
    largeur_colonne = (largeur - MARGE_GAUCHE) / colonnes
    haut_legende = y0 + HAUTEUR_AXE_X
    for index, serie in enumerate(series):
        couleur, tirets, forme = _style(index)
        x = (MARGE_GAUCHE + (index % colonnes) * largeur_colonne) * s
        y = (haut_legende + (index // colonnes) * LEGENDE_LIGNE) * s
        _pointilles(draw, [(x, y), (x + 36 * s, y)], couleur, s, tirets, 3 if index == 0 else 2)
        _marqueur(draw, forme, x + 18 * s, y, couleur, s)
        draw.text((x + 44 * s, y), serie["nom"], ENCRE, font, anchor="lm")
    return _bytes(image)


def _px(unites):
    """A line width in pixels: at least one."""
    return max(1, round(unites * ECHELLE))


def _style(index):
    return (
        COULEURS[index % len(COULEURS)],
        TIRETS[index % len(TIRETS)],
        MARQUEURS[index % len(MARQUEURS)],
    )


def _bytes(image):
    out = io.BytesIO()
    # Few colours: mapped to a fixed palette (each colour of the chart blended towards
    # white, for the antialiased edges), a PNG three times smaller, quick to encode.
    image.quantize(palette=_palette(), dither=Image.Dither.NONE).save(
        out, format="PNG", compress_level=3
    )
    return out.getvalue()


@lru_cache(maxsize=1)
def _palette():
    """A palette image: white, greys, and each colour of the charts in 12 steps to white."""
    couleurs = {*COULEURS, ENCRE, GRILLE, GRIS, CIBLE, "#000000"}
    entrees = [(255, 255, 255)] + [(g, g, g) for g in range(0, 256, 16)]
    for couleur in sorted(couleurs):
        r, g, b = (int(couleur[i : i + 2], 16) for i in (1, 3, 5))
        for pas in range(12):
            f = pas / 12
            entrees.append(
                (round(r + (255 - r) * f), round(g + (255 - g) * f), round(b + (255 - b) * f))
            )
    entrees = entrees[:256]
    palette = Image.new("P", (1, 1))
    palette.putpalette([v for entree in entrees for v in entree] + [255] * 3 * (256 - len(entrees)))
    return palette


def _pointilles(draw, points, couleur, s, tirets, epaisseur):
    """A polyline, dashed by `tirets` (units of the drawing), `epaisseur` units wide."""
    if len(points) < 2:
        return
    width = _px(epaisseur)
    if not tirets:
        draw.line(points, couleur, width=width, joint="curve")
        return
    motif = [t * s for t in tirets]
    etape, reste, trace = 0, motif[0], True
    for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
        longueur = math.hypot(xb - xa, yb - ya)
        fait = 0.0
        while fait < longueur:
            pas = min(reste, longueur - fait)
            if trace:
                t0, t1 = fait / longueur, (fait + pas) / longueur
                draw.line(
                    [(xa + (xb - xa) * t0, ya + (yb - ya) * t0),
                     (xa + (xb - xa) * t1, ya + (yb - ya) * t1)],
                    couleur,
                    width=width,
                )  # fmt: skip
            fait += pas
            reste -= pas
            if reste <= 1e-9:
                etape = (etape + 1) % len(motif)
                reste, trace = motif[etape], not trace


def _marqueur(draw, forme, x, y, couleur, s, taille=5):
    t = taille * s
    trait = _px(2)
    if forme == "cercle":
        draw.ellipse([x - t, y - t, x + t, y + t], fill=couleur)
    elif forme == "carre":
        draw.rectangle([x - t, y - t, x + t, y + t], fill="#ffffff", outline=couleur, width=trait)
    elif forme == "triangle":
        draw.polygon([(x, y - t - s), (x + t + s, y + t), (x - t - s, y + t)], fill=couleur)
    elif forme == "triangle_bas":
        draw.polygon(
            [(x, y + t + s), (x + t + s, y - t), (x - t - s, y - t)],
            fill="#ffffff",
            outline=couleur,
            width=trait,
        )
    elif forme == "losange":
        t += s
        draw.polygon(
            [(x, y - t), (x + t, y), (x, y + t), (x - t, y)],
            fill="#ffffff",
            outline=couleur,
            width=trait,
        )
    elif forme == "croix":
        draw.line([(x - t, y - t), (x + t, y + t)], couleur, width=trait)
        draw.line([(x - t, y + t), (x + t, y - t)], couleur, width=trait)
    else:
        draw.line([(x - t - s, y), (x + t + s, y)], couleur, width=trait)
        draw.line([(x, y - t - s), (x, y + t + s)], couleur, width=trait)
