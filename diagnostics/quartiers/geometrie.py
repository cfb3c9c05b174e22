"""The outlines of the quartiers: read from GeoJSON (WGS 84), checked, simplified for
drawing at city scale, and projected in metres for France (shapely and pyproj).

Stored outlines (`Quartier.contour`) are GeoJSON MultiPolygons in WGS 84 (longitude,
latitude), rounded to the 6th decimal (about 10 cm). They are projected for drawing:
mainland France and Corsica in Lambert-93 (EPSG:2154), the official projection; the
overseas quartiers (Antilles, Guyane, La Réunion, Mayotte…) in the UTM zone of their
centre on WGS 84, whose distortion is negligible at the scale of a town.
"""

from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

WGS84 = 4326
LAMBERT_93 = 2154
# Mainland France and Corsica, with a margin (longitudes and latitudes, WGS 84).
METROPOLE = (-5.8, 41.2, 10.0, 51.3)
# Tolerance of the simplification, in metres: invisible at the scale of a town (a map of a
# few kilometres drawn on 800 pixels is 5 m or more per pixel).
TOLERANCE_METRES = 2.0
DECIMALES = 6


class GeometrieInvalide(ValueError):
    """An outline that cannot be used, with the reason in French."""


def epsg_for(longitude, latitude):
    """The projection in metres for a place of France (see the module's docstring)."""
    ouest, sud, est, nord = METROPOLE
    if ouest <= longitude <= est and sud <= latitude <= nord:
        return LAMBERT_93
    zone = min(int((longitude + 180) // 6) + 1, 60)
    return (32600 if latitude >= 0 else 32700) + zone


@lru_cache(maxsize=16)
def _transformers(epsg):
    return (
        Transformer.from_crs(WGS84, epsg, always_xy=True),
        Transformer.from_crs(epsg, WGS84, always_xy=True),
    )


def _project(geometrie, transformer):
    """All the coordinates of a geometry through a pyproj transformer, at once (shapely's
    vectorised `transform`; `shapely.ops.transform` is deprecated since shapely 2.2)."""

    def apply(xy):
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(geometrie, apply)


def to_metres(geometrie, epsg):
    """A shapely geometry in WGS 84 projected in `epsg` (metres)."""
    return _project(geometrie, _transformers(epsg)[0])


def to_degrees(geometrie, epsg):
    return _project(geometrie, _transformers(epsg)[1])


def _multipolygon(geometrie):
    if isinstance(geometrie, Polygon):
        return MultiPolygon([geometrie])
    if isinstance(geometrie, MultiPolygon):
        return geometrie
    parts = [g for g in getattr(geometrie, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    polygons = []
    for part in parts:
        polygons.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return MultiPolygon(polygons)


def read(geojson):
    """A GeoJSON geometry (a dict) as a shapely MultiPolygon in WGS 84, checked: a
    Polygon or MultiPolygon, with coordinates that are longitudes and latitudes, valid
    (rings closed and not crossing themselves), not empty. Raises `GeometrieInvalide`."""
    if not isinstance(geojson, dict):
        raise GeometrieInvalide("la géométrie manque")
    kind = geojson.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometrieInvalide(
            f"la géométrie est de type « {kind} » : un contour (Polygon ou MultiPolygon) "
            "est attendu"
            if kind
            else "la géométrie n'a pas de type"
        )
    try:
        geometrie = shape(geojson)
    except (ValueError, TypeError, IndexError, AttributeError, KeyError) as error:
        raise GeometrieInvalide("les coordonnées du contour sont illisibles") from error
    except shapely.errors.ShapelyError as error:
        raise GeometrieInvalide("les coordonnées du contour sont illisibles") from error
    if geometrie.is_empty:
        raise GeometrieInvalide("le contour est vide")
    ouest, sud, est, nord = geometrie.bounds
    if not (-180 <= ouest <= est <= 180 and -90 <= sud <= nord <= 90):
        raise GeometrieInvalide(
            "les coordonnées ne sont pas des longitudes et latitudes (WGS 84) : "
            "reprojetez le fichier en EPSG:4326"
        )
    if not geometrie.is_valid:
        raison = shapely.is_valid_reason(geometrie)
        raise GeometrieInvalide(f"le contour n'est pas valide ({_raison_fr(raison)})")
    return _multipolygon(geometrie)


def _raison_fr(raison):
    """shapely's reason of invalidity, in French (the position kept as given)."""
    words = {
        "Self-intersection": "il se recoupe lui-même",
        "Ring Self-intersection": "un anneau se recoupe lui-même",
        "Too few points": "trop peu de points",
        "Interior is disconnected": "l'intérieur est coupé en morceaux",
        "Hole lies outside shell": "un trou déborde du contour",
        "Nested holes": "des trous sont imbriqués",
        "Nested shells": "des contours sont imbriqués",
        "Duplicate Rings": "un anneau est répété",
        "Invalid Coordinate": "une coordonnée est invalide",
        "Ring is not closed": "un anneau n'est pas fermé",
    }
    nom, _, position = raison.partition("[")
    nom = nom.strip()
    texte = words.get(nom, nom)
    return f"{texte}, vers {position.rstrip(']')}" if position else texte


def simplify(geometrie, tolerance=TOLERANCE_METRES):
    """A checked outline (`read`), simplified in metres (preserving its topology), as a
    GeoJSON MultiPolygon in WGS 84 rounded to `DECIMALES`."""
    centre = geometrie.centroid
    epsg = epsg_for(centre.x, centre.y)
    simple = to_degrees(to_metres(geometrie, epsg).simplify(tolerance), epsg)
    simple = shapely.set_precision(simple, 10**-DECIMALES)
    if simple.is_empty or not simple.is_valid:  # a tiny part vanished: keep the original
        simple = shapely.set_precision(geometrie, 10**-DECIMALES)
    return mapping_of(_multipolygon(simple))


def mapping_of(geometrie):
    """A shapely geometry as a GeoJSON dict of lists (JSON-serialisable), its coordinates
    rounded to `DECIMALES`; (multi)polygons read ring by ring (five times quicker)."""
    if isinstance(geometrie, MultiPolygon):
        return {
            "type": "MultiPolygon",
            "coordinates": [_polygon_lists(polygon) for polygon in geometrie.geoms],
        }
    if isinstance(geometrie, Polygon):
        return {"type": "Polygon", "coordinates": _polygon_lists(geometrie)}

    def lists(value):
        if isinstance(value, list | tuple):
            return [lists(v) for v in value]
        return round(value, DECIMALES) if isinstance(value, float) else value

    found = mapping(geometrie)
    return {"type": found["type"], "coordinates": lists(found["coordinates"])}


def _polygon_lists(polygon):
    return [
        [[round(x, DECIMALES), round(y, DECIMALES)] for x, y, *_ in ring.coords]
        for ring in (polygon.exterior, *polygon.interiors)
    ]
