"""Benchmark of the maps drawn by the server (issue 18): `diagnostics.quartiers.carte`.

    .venv/bin/python bench/cartes.py                       # SQLite
    .venv/bin/python bench/cartes.py --database-url postgres://postgres@127.0.0.1:5432/postgres

In a throwaway database (`common.throwaway_run`), a child process builds:

- a contract of `quartiers` QPV (30) around Montluçon, each outline a ring of `sommets`
  vertices (200), irregular enough that the simplification of the référentiel
  (`geometrie.simplify`, 2 m) keeps most of them, one in five a multipolygon with a hole;
  its edition holds them, and a quantitative indicator holds a value per quartier and
  year (6 years), one in ten under the threshold of the secret statistique;
- a national set of `national` quartiers (1,600) spread over mainland France and the
  overseas départements (bench/quartiers.py's generator), simplified the same way.

It then times, `tours` times each (median and p95):

- `dessiner` of the contract's map, warm (the projected outlines in their cache, as in a
  running server) and cold (every cache emptied before each drawing: a new process, or
  outlines just reimported);
- `dessiner` of the national set, warm and cold (for information: no page draws it);
- the contract's page and the indicator's page with its map by quartier, whole, through
  Django's test client (an Équipe ville account; its SQL queries counted once).

Target (issue 18): the map of a contract renders in under 50 ms p95 (warm), and so does
its whole page.
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

PARAMS = {"quartiers": 30, "sommets": 200, "national": 1_600, "tours": 50}
QUICK = {"quartiers": 30, "sommets": 200, "national": 200, "tours": 10}
TARGET_P95_MS = 50
SLUG = "banc-cartes"
SLUG_VIDE = "banc-cartes-sans-quartier"
USERNAME = "equipe-cartes"
MONTLUCON = (2.6, 46.34)


# The run (parent process) ---------------------------------------------------------------


def run(database_url, quiet=False, **options):
    """Build the data and time the maps in a throwaway database: a JSON-serialisable dict."""
    params = {**PARAMS, **{key: value for key, value in options.items() if value}}
    say = (lambda text: None) if quiet else (lambda text: print(text, flush=True))
    started = time.monotonic()
    with common.throwaway_run(database_url, "cartes") as (url, workdir):
        engine = common.engine_of(url)
        common.manage(url, "migrate", "--no-input", "-v", "0")
        say(f"Base jetable {engine} migrée ; préparation des quartiers…")
        prepared = common.run_child(url, workdir, __file__, "preparation", params, debug=True)
        say(f"Quartiers préparés en {prepared['secondes']:.1f} s ; mesures…")
        measured = common.run_child(url, workdir, __file__, "mesures", params, debug=True)
    result = {
        "base": engine,
        "parametres": params,
        "machine": common.machine(),
        "preparation": prepared,
        "cases": measured["cases"],
        "duree_s": round(time.monotonic() - started, 1),
    }
    result["objectifs"] = targets(result)
    return result


def targets(result):
    """[{objectif, mesure, atteint}]: the contract's map (warm) and its page."""
    checks = []
    for case in result["cases"]:
        if case["case"] in ("contrat-chaud", "page-contrat"):
            checks.append(
                {
                    "objectif": f"{case['label']} : p95 < {TARGET_P95_MS} ms",
                    "mesure": f"{case['p95_ms']:.1f} ms",
                    "atteint": case["p95_ms"] < TARGET_P95_MS,
                }
            )
    return checks


def format_table(result):
    """The results as a French plain-text table."""
    params, prepared = result["parametres"], result["preparation"]
    lines = [
        f"Cartes — base {result['base']}, {params['tours']} mesures par cas ; contrat de "
        f"{params['quartiers']} quartiers ({prepared['sommets_contrat']} sommets en tout après "
        f"simplification), ensemble national de {params['national']} quartiers "
        f"({prepared['sommets_national']} sommets)",
        f"{'Cas':<58} {'médiane':>9} {'p95':>9} {'max':>9} {'SQL':>5} {'octets':>9}",
    ]
    for case in result["cases"]:
        lines.append(
            f"{case['label']:<58} {case['median_ms']:>7.1f}ms {case['p95_ms']:>7.1f}ms "
            f"{case['max_ms']:>7.1f}ms {case.get('requetes', '—'):>5} {case['octets']:>9}"
        )
    for check in result.get("objectifs", []):
        mark = "atteint" if check["atteint"] else "NON ATTEINT"
        lines.append(f"  [{mark}] {check['objectif']} — {check['mesure']}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Banc d'essai des cartes des quartiers.")
    parser.add_argument(
        "--database-url",
        default=None,
        help="serveur PostgreSQL sur lequel créer la base jetable (défaut : SQLite)",
    )
    parser.add_argument("--rapide", action="store_true", help="petites tailles (essai)")
    for name in PARAMS:
        parser.add_argument(f"--{name}", type=int)
    parser.add_argument("--json", help="écrire aussi les résultats dans ce fichier JSON")
    parser.add_argument("--enfant", help=argparse.SUPPRESS)
    parser.add_argument("--dossier", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    params = {name: getattr(args, name) for name in PARAMS}
    if args.enfant:
        return run_child(args.enfant, params)
    sizes = QUICK if args.rapide else PARAMS
    params = {name: value or sizes[name] for name, value in params.items()}
    result = run(args.database_url, **params)
    print()
    print(format_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


# The children ---------------------------------------------------------------------------


def run_child(case, params):
    import django

    django.setup()
    result = {"preparation": prepare, "mesures": measure}[case](params)
    print(json.dumps(result, default=str))
    return 0


def ring(rng, centre_m, rayon, sommets):
    """An irregular closed ring of `sommets` vertices around a point (metres)."""
    cx, cy = centre_m
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(4)]
    points = []
    for k in range(sommets):
        angle = 2 * math.pi * k / sommets
        bosses = sum(
            math.sin(angle * (f + 2) + phases[f]) * 0.08 / (f + 1) for f in range(len(phases))
        )
        r = rayon * (1 + bosses + rng.uniform(-0.03, 0.03))
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    points.append(points[0])
    return points


def contour_near(rng, lon, lat, rayon, sommets, trou=False, parties=1):
    """A simplified outline (as the référentiel stores it) near (lon, lat)."""
    from shapely.geometry import MultiPolygon, Point, Polygon

    from diagnostics.quartiers import geometrie

    epsg = geometrie.epsg_for(lon, lat)
    x, y = geometrie.to_metres(Point(lon, lat), epsg).coords[0]
    polygones = []
    for partie in range(parties):
        centre = (x + partie * rayon * 2.6, y)
        trous = [ring(rng, centre, rayon * 0.3, max(8, sommets // 8))] if trou else []
        polygones.append(Polygon(ring(rng, centre, rayon, sommets), trous).buffer(0))
    forme = MultiPolygon([p for g in polygones for p in getattr(g, "geoms", [g])])
    return geometrie.simplify(
        geometrie.read(geometrie.mapping_of(geometrie.to_degrees(forme, epsg)))
    )


def vertices(contour):
    return sum(len(ring_) for polygon in contour["coordinates"] for ring_ in polygon)


def prepare(params):
    """The contract of `quartiers` QPV with its indicator, and the national set."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from bench import quartiers as bench_quartiers
    from comptes.roles import Role
    from diagnostics.models import Commune, Diagnostic, Membre, Pilier, Quartier, SousTheme, Theme
    from indicateurs.models import Indicateur, Mesure

    started = time.perf_counter()
    rng = random.Random(18)
    commune = Commune.objects.create(code="03185", nom="Montluçon")
    voisine = Commune.objects.create(code="03211", nom="Prémilhat")
    contrat_quartiers = []
    for n in range(params["quartiers"]):
        lon = MONTLUCON[0] + (n % 6) * 0.018 + rng.uniform(-0.002, 0.002)
        lat = MONTLUCON[1] + (n // 6) * 0.012 + rng.uniform(-0.002, 0.002)
        contour = contour_near(
            rng, lon, lat, rayon=rng.uniform(250, 450), sommets=params["sommets"],
            trou=n % 5 == 2, parties=2 if n % 5 == 4 else 1,
        )  # fmt: skip
        quartier = Quartier.objects.create(
            code=f"QN003{n:02d}M", nom=f"Quartier des Tilleuls n° {n + 1}", contour=contour
        )
        quartier.communes.set([commune, voisine] if n % 3 == 0 else [commune])
        contrat_quartiers.append(quartier)

    national = []
    geojson = bench_quartiers.referentiel_geojson(params["national"])
    for n, feature in enumerate(geojson["features"]):
        lon, lat = _centre_of(feature["geometry"])
        contour = contour_near(rng, lon, lat, rayon=rng.uniform(200, 600), sommets=60)
        national.append(Quartier(code=f"QN9{n:04d}M", nom=f"National {n}", contour=contour))
    Quartier.objects.bulk_create(national, batch_size=200)

    diagnostic = Diagnostic.objects.create(
        titre="Banc d'essai des cartes",
        slug=SLUG,
        territoire="Montluçon Communauté",
        annee_debut=2024,
        annee_fin=2030,
    )
    diagnostic.quartiers.set(contrat_quartiers)
    pilier = Pilier.objects.create(diagnostic=diagnostic, numero=1, libelle="Cohésion sociale")
    theme = Theme.objects.create(pilier=pilier, libelle="Jeunesse", position=1)
    sous_theme = SousTheme.objects.create(theme=theme, libelle="Insertion", position=1)
    indicateur = Indicateur.objects.create(
        sous_theme=sous_theme,
        libelle="Jeunes accompagnés par la mission locale",
        type=Indicateur.Type.QUANTITATIF,
        unite="jeunes",
        compte_des_personnes=True,
    )
    Mesure.objects.bulk_create(
        Mesure(
            indicateur=indicateur,
            annee=annee,
            quartier=quartier,
            valeur=Decimal(3 if n % 10 == 7 else rng.randint(12, 140)),
        )
        for annee in range(2019, 2025)
        for n, quartier in enumerate([None, *contrat_quartiers])
    )
    Diagnostic.objects.create(
        titre="Banc d'essai des cartes, sans quartier",
        slug=SLUG_VIDE,
        territoire="Ailleurs",
        annee_debut=2024,
        annee_fin=2030,
    )
    user = get_user_model().objects.create_user(
        username=USERNAME, email=f"{USERNAME}@example.org", password="banc-cartes"
    )
    for edition in Diagnostic.objects.filter(slug__in=[SLUG, SLUG_VIDE]):
        Membre.objects.create(contrat=edition.contrat, compte=user, role=Role.EQUIPE_VILLE.value)
    return {
        "secondes": round(time.perf_counter() - started, 1),
        "sommets_contrat": sum(vertices(q.contour) for q in contrat_quartiers),
        "sommets_national": sum(vertices(q.contour) for q in national),
        "indicateur": indicateur.pk,
    }


def _centre_of(geometry):
    ring_ = (
        geometry["coordinates"][0][0]
        if geometry["type"] == "MultiPolygon"
        else (geometry["coordinates"][0])
    )
    return (
        sum(p[0] for p in ring_) / len(ring_),
        sum(p[1] for p in ring_) / len(ring_),
    )


def _timed(function, tours, before=None):
    timings, value = [], None
    for _ in range(tours):
        if before:
            before()
        start = time.perf_counter()
        value = function()
        timings.append((time.perf_counter() - start) * 1000)
    return timings, value


def _case(key, label, timings, octets, requetes=None):
    case = {
        "case": key,
        "label": label,
        "median_ms": round(common.median(timings), 2),
        "p95_ms": round(common.percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "octets": octets,
    }
    if requetes is not None:
        case["requetes"] = requetes
    return case


def _empty_caches():
    from diagnostics.quartiers import carte

    carte._chemin.cache_clear()
    carte._projete.cache_clear()
    carte._degres.cache_clear()


def measure(params):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from diagnostics.models import Diagnostic, Quartier
    from diagnostics.quartiers import carte
    from indicateurs import carte as cartes_indicateurs
    from indicateurs import secret
    from indicateurs.models import Indicateur, series

    tours = params["tours"]
    diagnostic = Diagnostic.objects.get(slug=SLUG)
    quartiers = carte.quartiers_of(diagnostic)
    cases = []

    def contrat():
        return carte.carte_edition(diagnostic, quartiers)

    contrat()
    timings, found = _timed(contrat, tours)
    cases.append(
        _case("contrat-chaud", "Carte du contrat (dessiner, cache chaud)", timings, len(found.svg))
    )
    timings, found = _timed(contrat, tours, before=_empty_caches)
    cases.append(
        _case("contrat-froid", "Carte du contrat (dessiner, caches vidés)", timings, len(found.svg))
    )
    # The choropleth alone, from the measures as the indicator's page reads them.
    indicateur = Indicateur.objects.get(sous_theme__theme__pilier__diagnostic=diagnostic)
    user = get_user_model().objects.get(username=USERNAME)
    mesures = series([indicateur], reperes=True)[indicateur.pk]
    hidden = secret.Secret(indicateur, mesures, AnonymousUser())  # the secret applies

    def choroplethe():
        return cartes_indicateurs.choroplethe(indicateur, mesures, hidden, quartiers, diagnostic)

    choroplethe()
    timings, found = _timed(choroplethe, tours)
    cases.append(
        _case("choroplethe", "Carte de l'indicateur (cache chaud)", timings, len(found.svg))
    )

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    vide = Diagnostic.objects.get(slug=SLUG_VIDE)
    contrat_url = reverse("diagnostics:contrat", args=[diagnostic.contrat.slug])
    vide_url = reverse("diagnostics:contrat", args=[vide.contrat.slug])
    indicateur_url = reverse("indicateurs:detail", args=[SLUG, indicateur.pk])
    carte_html = b'class="carte"'
    for key, label, path, marker in (
        ("page-contrat", "Page du contrat, entière", contrat_url, carte_html),
        ("page-contrat-vide", "Page d'un contrat sans quartier (repère)", vide_url, b"Aucun"),
        ("page-indicateur", "Page de l'indicateur avec sa carte", indicateur_url, carte_html),
    ):
        _get(client, path, marker)
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            size = len(_get(client, path, marker).content)
        timings, _ = _timed(lambda path=path, marker=marker: _get(client, path, marker), tours)
        cases.append(_case(key, label, timings, size, len(captured.captured_queries)))
    # Last: the national set fills the caches with 1,600 outlines (no page draws it).
    national = list(Quartier.objects.filter(code__startswith="QN9").prefetch_related("communes"))

    def france():
        return carte.dessiner([carte.Zone(q) for q in national], titre="France", ident="france")

    france()
    national_tours = max(3, tours // 5)
    timings, found = _timed(france, national_tours)
    cases.append(
        _case("national-chaud", "Carte nationale (dessiner, cache chaud)", timings, len(found.svg))
    )
    timings, found = _timed(france, national_tours, before=_empty_caches)
    cases.append(
        _case("national-froid", "Carte nationale (dessiner, caches vidés)", timings, len(found.svg))
    )

    return {"cases": cases}


def _get(client, path, marker):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert marker in response.content, path
    return response


if __name__ == "__main__":
    sys.exit(main())
