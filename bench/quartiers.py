"""Benchmarks of the quartiers (issue 18): one function per part, each run in a throwaway
database of its own.

    .venv/bin/python bench/quartiers.py                     # SQLite, 1,600 quartiers
    .venv/bin/python bench/quartiers.py --quartiers 400 --database-url postgres://…

Part "referentiel" (`run_referentiel`): a référentiel of `quartiers` QPV with outlines, as
the ANCT publishes it (GeoJSON in WGS 84, properties `code_qp`, `lib_qp`, `insee_com`,
`lib_com`, `insee_reg`), generated in a temporary file: outlines of 30 to 200 vertices, one
quartier in seven a multipolygon (two or three parts), one in ten spanning two communes,
spread over mainland France, Corsica and the overseas départements (Antilles, Guyane,
La Réunion, Mayotte) in the 2024 list's proportions (about 1,362 of 1,584 in mainland
France). A child process times the import (`import_referentiel`: reading and checking,
then applying) into an empty référentiel, then the re-import of the same file (nothing to
change); then `manage.py import_quartiers FILE` is timed from the command line (Python's
start and Django's setup included). Target: the first import under 30 s.
"""

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

QUARTIERS = 1_600
TARGET_IMPORT_S = 30
# (longitude, latitude) boxes where quartiers are drawn, with their share of the list and
# the code of their first département (the codes QNdddnnM).
PLACES = [
    ("métropole", (-1.6, 43.3, 7.4, 50.8), 0.85, 1, "11"),
    ("Corse", (8.6, 41.6, 9.4, 42.7), 0.01, 20, "94"),
    ("Guadeloupe", (-61.7, 15.95, -61.2, 16.4), 0.025, 971, "01"),
    ("Martinique", (-61.2, 14.45, -60.85, 14.85), 0.025, 972, "02"),
    ("Guyane", (-53.0, 4.8, -52.2, 5.6), 0.02, 973, "03"),
    ("La Réunion", (55.25, -21.35, 55.75, -20.9), 0.05, 974, "04"),
    ("Mayotte", (45.05, -12.95, 45.25, -12.7), 0.02, 976, "06"),
]


# The file ------------------------------------------------------------------------------------


def referentiel_geojson(count=QUARTIERS, seed=18):
    """A FeatureCollection of `count` quartiers in the ANCT's layout (see the docstring)."""
    rng = random.Random(seed)
    features = []
    weights = [place[2] for place in PLACES]
    for number in range(count):
        name, (west, south, east, north), _, departement, region = rng.choices(PLACES, weights)[0]
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        parts = rng.choice((2, 3)) if number % 7 == 3 else 1
        polygons = []
        for part in range(parts):
            # Parts side by side, 2 km apart: they never overlap.
            centre = (lon + part * 0.03, lat)
            polygons.append([_ring(rng, centre, max(30, rng.randint(30, 200) // parts))])
        dept = departement if departement != 1 else 1 + number % 95
        code = f"QN{dept % 1000:03d}{number % 100:02d}{chr(65 + number // 100 % 26)}"
        communes = [_commune(dept, rng.randint(1, 30))]
        if number % 10 == 5:  # a quartier spanning two communes
            communes.append(_commune(dept, rng.randint(31, 60)))
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code_qp": code,
                    "lib_qp": f"Quartier {number} ({name})",
                    "insee_com": ", ".join(communes),
                    "lib_com": ", ".join(f"Commune {c}" for c in communes),
                    "insee_reg": region,
                },
                "geometry": {
                    "type": "MultiPolygon" if parts > 1 else "Polygon",
                    "coordinates": polygons if parts > 1 else polygons[0],
                },
            }
        )
    return {"type": "FeatureCollection", "features": _unique_codes(features)}


def _commune(dept, number):
    """A code INSEE: 03185 (mainland), 2A004 (Corsica), 97411 (overseas)."""
    if dept > 100:
        return f"{dept}{number:02d}"
    return f"{'2A' if dept == 20 else f'{dept:02d}'}{number:03d}"


def _ring(rng, centre, vertices):
    """A closed ring of `vertices` points around `centre`, radius 300 to 900 m, star-shaped
    (angles in order): never crossing itself."""
    lon, lat = centre
    radius = rng.uniform(300, 900)
    metres_lat = 111_320
    metres_lon = metres_lat * math.cos(math.radians(lat))
    ring = []
    for i in range(vertices):
        angle = 2 * math.pi * i / vertices
        r = radius * rng.uniform(0.7, 1.0)
        ring.append(
            [
                round(lon + r * math.cos(angle) / metres_lon, 7),
                round(lat + r * math.sin(angle) / metres_lat, 7),
            ]
        )
    ring.append(ring[0])
    return ring


def _unique_codes(features):
    seen = set()
    for number, feature in enumerate(features):
        code = feature["properties"]["code_qp"]
        while code in seen:
            code = f"QN{(int(code[2:7]) + 7919 * (number + 1)) % 100_000:05d}{code[-1]}"
        seen.add(code)
        feature["properties"]["code_qp"] = code
    return features


def write_referentiel(path, count=QUARTIERS, seed=18):
    text = json.dumps(referentiel_geojson(count, seed), ensure_ascii=False)
    Path(path).write_text(text, encoding="utf-8")
    return len(text.encode())


# Part "referentiel" ------------------------------------------------------------------------


def run_referentiel(database_url, quiet=False, quartiers=QUARTIERS):
    """Generate the file, time its import, its re-import and the command; a dict."""
    say = (lambda text: None) if quiet else (lambda text: print(text, flush=True))
    started = time.monotonic()
    with common.throwaway_run(database_url, "quartiers") as (url, workdir):
        engine = common.engine_of(url)
        common.manage(url, "migrate", "--no-input", "-v", "0")
        path = workdir / "qpv-2024.geojson"
        start = time.perf_counter()
        size = write_referentiel(path, quartiers)
        say(
            f"Référentiel de {quartiers} quartiers écrit ({size / 1e6:.1f} Mo, "
            f"{time.perf_counter() - start:.1f} s) ; import…"
        )
        measured = common.run_child(
            url, workdir, __file__, "referentiel", {"quartiers": quartiers, "fichier": path}
        )
        start = time.perf_counter()
        done = common.manage(url, "import_quartiers", str(path), capture=True)
        command_s = time.perf_counter() - start
    result = {
        "base": engine,
        "quartiers": quartiers,
        "octets": size,
        **measured,
        "commande_reimport_s": round(command_s, 2),
        "commande_sortie": done.stdout.strip().splitlines()[:3],
        "duree_s": round(time.monotonic() - started, 1),
    }
    result["objectifs"] = targets(result)
    return result


def referentiel_child(params):
    """In the child: the import into an empty référentiel, then the re-import."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from diagnostics.models import Quartier
    from diagnostics.quartiers.referentiel import apply_referentiel, read_referentiel

    content = Path(params["fichier"]).read_bytes()
    runs = []
    for label in ("premier", "reimport"):
        start = time.perf_counter()
        lecture = read_referentiel("qpv-2024.geojson", content)
        read_s = time.perf_counter() - start
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            rapport = apply_referentiel(lecture)
            apply_s = time.perf_counter() - start
        runs.append(
            {
                "import": label,
                "lecture_s": round(read_s, 2),
                "ecriture_s": round(apply_s, 2),
                "total_s": round(read_s + apply_s, 2),
                "requetes": len(queries.captured_queries),
                "crees": len(rapport.crees),
                "modifies": len(rapport.modifies),
                "inchanges": len(rapport.inchanges),
            }
        )
    stored = Quartier.objects.exclude(contour=None).values_list("contour", flat=True)
    vertices = sum(
        len(ring) for contour in stored for polygon in contour["coordinates"] for ring in polygon
    )
    return {
        "imports": runs,
        "sommets_stockes": vertices,
        "sommets_par_quartier": round(vertices / max(1, len(stored)), 1),
    }


def targets(result):
    first = result["imports"][0]
    again = result["imports"][1]
    return [
        {
            "objectif": f"Import du référentiel ({result['quartiers']} quartiers avec contours) "
            f"< {TARGET_IMPORT_S} s",
            "mesure": f"{first['total_s']:.1f} s",
            "atteint": first["total_s"] < TARGET_IMPORT_S,
        },
        {
            "objectif": "Réimport du même fichier : rien de créé ni de modifié",
            "mesure": f"{again['crees']} créés, {again['modifies']} modifiés",
            "atteint": again["crees"] == 0 and again["modifies"] == 0,
        },
    ]


def format_referentiel(result):
    lines = [
        f"Référentiel des quartiers — base {result['base']}, {result['quartiers']} quartiers, "
        f"fichier de {result['octets'] / 1e6:.1f} Mo, "
        f"{result['sommets_par_quartier']} sommets par quartier après simplification",
        f"{'import':<12} {'lecture s':>10} {'écriture s':>11} {'total s':>8} {'requêtes':>9} "
        f"{'créés':>6} {'modifiés':>9}",
    ]
    for run in result["imports"]:
        lines.append(
            f"{run['import']:<12} {run['lecture_s']:>10.2f} {run['ecriture_s']:>11.2f} "
            f"{run['total_s']:>8.2f} {run['requetes']:>9} {run['crees']:>6} {run['modifies']:>9}"
        )
    lines.append(
        f"Commande import_quartiers (réimport, démarrage compris) : "
        f"{result['commande_reimport_s']:.1f} s"
    )
    for check in result.get("objectifs", []):
        mark = "atteint" if check["atteint"] else "NON ATTEINT"
        lines.append(f"  [{mark}] {check['objectif']} — {check['mesure']}")
    return "\n".join(lines)


# All the parts (bench/run.py's "quartiers") ---------------------------------------------------

PARTS = {"referentiel": (run_referentiel, format_referentiel)}


def run(database_url, quiet=False, **options):
    """Every part of this file: {part: result}."""
    return {name: part(database_url, quiet=quiet, **options) for name, (part, _) in PARTS.items()}


def format_table(results):
    return "\n\n".join(PARTS[name][1](result) for name, result in results.items())


def all_targets(results):
    return [check for result in results.values() for check in result.get("objectifs", [])]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Bancs d'essai des quartiers (issue 18).")
    parser.add_argument("--database-url", default=None, help="serveur PostgreSQL (défaut : SQLite)")
    parser.add_argument("--quartiers", type=int, default=QUARTIERS)
    parser.add_argument("--enfant", help=argparse.SUPPRESS)
    parser.add_argument("--dossier", help=argparse.SUPPRESS)
    parser.add_argument("--fichier", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.enfant:
        import django

        django.setup()
        children = {"referentiel": referentiel_child}
        params = {"quartiers": args.quartiers, "fichier": args.fichier}
        print(json.dumps(children[args.enfant](params), default=str))
        return 0
    results = run(args.database_url, quartiers=args.quartiers)
    print()
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
