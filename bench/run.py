"""`make bench`: every benchmark of the application in one run, one table, one JSON file.

    .venv/bin/python bench/run.py [--database-url URL] [--echelle 0.25] [--parties ...]

On PostgreSQL (`--database-url`, or DATABASE_URL in the environment) or SQLite (neither),
always in throwaway databases created for the run and dropped at its end:

1. a bench database: migrations, the Montluçon seed and its demonstration accounts
   (`manage.py demo`), then synthetic data (`generate_scale_data`) at scale 0.01, the query
   count of each page, then up to the bench scale, the query counts again (they must be
   equal), the pages over HTTP (gunicorn) beside a trivial view, the load test, and the
   copy of an edition (bench/editions.py);
2. imports and exports, each in databases of their own (the editions too, in a database
   filled at the bench scale, when neither pages nor load are measured); the backup and
   restoration of a diagnostic of 100,000 values (bench/sauvegarde.py), the "Dernières
   modifications" page of a diagnostic with a long history (bench/historique.py), the maps
   of the quartiers (bench/cartes.py), the import of the QPV référentiel of all France
   (bench/quartiers.py) and the annual report's documents (bench/rapport_annuel.py), in
   databases of their own.

Prints a table per part and the targets of the performance issue (met or not), and writes
everything to bench/results/<date>-<database>-echelle-<scale>.json (followed by the parts
measured when not all of them are, e.g. `-editions`; never over an earlier file).
"""

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

PARTS = [
    "pages",
    "charge",
    "imports",
    "exports",
    "editions",
    "sauvegarde",
    "historique",
    "cartes",  # bench/cartes.py: the maps of the quartiers
    "quartiers",  # bench/quartiers.py: the import of the QPV référentiel
    "rapports",  # bench/rapport_annuel.py: the annual report's ODT, DOCX and PDF
]
DEFAULT_SCALE = 0.25
SMALL_SCALE = 0.01
BENCH_DATABASE = "contrat_ville_bench"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="serveur PostgreSQL sur lequel créer les bases jetables (défaut : DATABASE_URL, "
        "sinon SQLite)",
    )
    parser.add_argument(
        "--echelle",
        type=float,
        default=DEFAULT_SCALE,
        help=f"échelle des données synthétiques (1 = la France entière ; défaut {DEFAULT_SCALE})",
    )
    parser.add_argument(
        "--parties",
        nargs="+",
        choices=PARTS,
        default=PARTS,
        help="parties à mesurer (défaut : toutes)",
    )
    parser.add_argument("--clients", type=int, default=50, help="clients du test de charge")
    parser.add_argument("--duree", type=int, default=60, help="durée du test de charge (s)")
    args = parser.parse_args(argv)
    if args.echelle < SMALL_SCALE:
        parser.error(f"l'échelle doit être d'au moins {SMALL_SCALE}.")

    url = args.database_url or None
    engine = common.engine_of(url or "sqlite")
    started = time.monotonic()
    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "base": engine,
        "echelle": args.echelle,
        "machine": common.machine(),
    }
    print(_machine_line(result), flush=True)
    with tempfile.TemporaryDirectory(prefix="banc-") as workdir:
        if {"pages", "charge"} & set(args.parties):
            with common.throwaway_database(url, workdir, BENCH_DATABASE) as database:
                result.update(bench_database(database, args))
        elif "editions" in args.parties:
            from bench import editions

            _section("Éditions")
            result["editions"] = editions.run(url, echelle=args.echelle)
            print(editions.format_table(result["editions"]), flush=True)
        if "imports" in args.parties:
            from bench import imports

            _section("Imports")
            result["imports"] = imports.run(url)
            print(imports.format_table(result["imports"]), flush=True)
        if "exports" in args.parties:
            from bench import exports

            _section("Exports")
            result["exports"] = exports.run(url)
            print(exports.format_table(result["exports"]), flush=True)
        if "sauvegarde" in args.parties:
            from bench import sauvegarde

            _section("Sauvegarde et restauration d'un diagnostic")
            result["sauvegarde"] = sauvegarde.run(url)
            print(sauvegarde.format_table(result["sauvegarde"]), flush=True)
        if "historique" in args.parties:
            from bench import historique

            _section("Dernières modifications d'un diagnostic à l'historique long")
            result["historique"] = historique.run(url)
            print(historique.format_table(result["historique"]), flush=True)
        if "cartes" in args.parties:
            from bench import cartes

            _section("Cartes des quartiers")
            result["cartes"] = cartes.run(url)
            print(cartes.format_table(result["cartes"]), flush=True)
        if "quartiers" in args.parties:
            from bench import quartiers

            _section("Référentiel des quartiers")
            result["quartiers"] = quartiers.run(url)
            print(quartiers.format_table(result["quartiers"]), flush=True)
        if "rapports" in args.parties:
            from bench import rapport_annuel

            _section("Documents du rapport annuel")
            result["rapports"] = rapport_annuel.run(url)
            print(rapport_annuel.format_table(result["rapports"]), flush=True)
    result["duree_totale_s"] = round(time.monotonic() - started, 1)
    result["objectifs"] = targets(result)
    _section("Objectifs de l'issue « performances »")
    print(format_targets(result["objectifs"]))
    path = results_path(engine, args.echelle, args.parties)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(
        f"\nDurée totale : {result['duree_totale_s']:.0f} s. Résultats : {path.relative_to(ROOT)}"
    )
    return 0


def results_path(engine, scale, parts, today=None):
    """bench/results/<date>-<base>-echelle-<S>[-<parts>].json: the parts are named when not
    all of them were measured; `-2`, `-3`… rather than over an earlier file."""
    common.RESULTS.mkdir(exist_ok=True)
    name = f"{(today or datetime.date.today()).isoformat()}-{engine}-echelle-{scale:g}"
    if set(parts) != set(PARTS):
        name += "-" + "-".join(part for part in PARTS if part in parts)
    path, n = common.RESULTS / f"{name}.json", 1
    while path.exists():
        n += 1
        path = common.RESULTS / f"{name}-{n}.json"
    return path


def bench_database(database, args):
    """Fill the bench database, then measure queries, pages and load on it."""
    from bench import queries

    measured = {}
    _section("Données")
    common.manage(database, "migrate", "--no-input", "-v", "0")
    common.manage(database, "demo", capture=True)
    generation = {}
    for label, scale in (("petite", SMALL_SCALE), ("banc", args.echelle)):
        start = time.monotonic()
        common.generate_scale_data(database, "--scale", str(scale), "-v", "0")
        generation[label] = {"echelle": scale, "secondes": round(time.monotonic() - start, 1)}
        print(
            f"Données synthétiques à l'échelle {scale} : {generation[label]['secondes']:.1f} s",
            flush=True,
        )
        if label == "petite":
            small = queries.run(database)
    measured["donnees"] = generation

    _section("Requêtes SQL par page")
    full = queries.run(database)
    measured["requetes"] = queries.compare(small, full)
    print(_volumes_line(measured["requetes"]), flush=True)
    print(queries.format_table(measured["requetes"]), flush=True)

    if "pages" in args.parties:
        from bench import pages

        _section("Pages (gunicorn, HTTP)")
        measured["pages"] = pages.run(database)
        print(pages.format_table(measured["pages"]), flush=True)
    if "charge" in args.parties:
        from bench import load

        _section(f"Charge ({args.clients} clients, {args.duree} s)")
        measured["charge"] = load.run(database, clients=args.clients, duration=args.duree)
        print(load.format_table(measured["charge"]), flush=True)
    if "editions" in args.parties:
        from bench import editions

        _section("Éditions")
        measured["editions"] = editions.run_on(database)
        measured["editions"]["echelle"] = args.echelle
        print(editions.format_table(measured["editions"]), flush=True)
    return measured


# Targets ------------------------------------------------------------------------------------


def targets(result):
    """The issue's targets, each with the measured figure and whether it is met."""
    checks = []

    def check(label, value, met, detail=""):
        checks.append({"objectif": label, "mesure": value, "atteint": bool(met), "detail": detail})

    for case in result.get("pages", {}).get("cases", []):
        if "cible_p95_ms" not in case:  # the floor itself
            continue
        check(
            f"{case['label']} : p95 < {case['cible_p95_ms']} ms",
            f"{case['p95_ms']:.1f} ms",
            case["cible_p95_atteinte"],
        )
        check(
            f"{case['label']} : débit ≥ moitié du plancher",
            f"{case['ratio_plancher']:.2f} × le plancher",
            case["cible_debit_atteinte"],
        )
    requetes = result.get("requetes")
    if requetes:
        different = [c["label"] for c in requetes["cases"] if not c["egal"]]
        check(
            "Requêtes SQL : même nombre à l'échelle 0,01 et à l'échelle du banc",
            "égales" if not different else "différentes : " + ", ".join(different),
            not different,
        )
    plans = (requetes or {}).get("explain", [])
    for plan in plans:
        check(
            f"{plan['label']} : index plein texte utilisé (EXPLAIN ANALYZE)",
            f"{plan['execution_ms']:.1f} ms d'exécution",
            plan["index_utilise"],
        )
    charge = result.get("charge")
    if charge:
        check("Charge : aucune erreur", str(charge["erreurs"]), charge["erreurs"] == 0)
        check(
            "Charge : aucune modification perdue",
            str(charge["modifications_perdues"]),
            charge["modifications_perdues"] == 0,
        )
    imports = result.get("imports")
    if imports:
        for key, label, met in _import_checks(imports):
            check(label, key, met)
    if result.get("editions"):
        from bench import editions

        label, figure, met = editions.target(result["editions"])
        check(label, figure, met)
    if result.get("sauvegarde"):
        from bench import sauvegarde

        for label, figure, met in sauvegarde.targets(result["sauvegarde"]):
            check(label, figure, met)
    for target in result.get("historique", {}).get("objectifs", []):
        check(target["objectif"], target["mesure"], target["atteint"])
    for target in result.get("cartes", {}).get("objectifs", []):
        check(target["objectif"], target["mesure"], target["atteint"])
    for target in result.get("rapports", {}).get("objectifs", []):
        check(target["objectif"], target["mesure"], target["atteint"])
    if result.get("quartiers"):
        from bench import quartiers

        for target in quartiers.all_targets(result["quartiers"]):
            check(target["objectif"], target["mesure"], target["atteint"])
    return checks


def _import_checks(imports):
    """(figure, label, met) for the measures import: filled from bench/imports.py's keys."""
    checks = []
    for target in imports.get("objectifs", []):
        checks.append((target["mesure"], target["objectif"], target["atteint"]))
    return checks


def format_targets(checks):
    lines = []
    for item in checks:
        mark = "atteint    " if item["atteint"] else "NON ATTEINT"
        lines.append(f"  [{mark}] {item['objectif']} — {item['mesure']}")
    met = sum(item["atteint"] for item in checks)
    lines.append(f"\n{met} objectifs atteints sur {len(checks)}.")
    return "\n".join(lines)


def _volumes_line(requetes):
    def line(volume):
        return ", ".join(f"{value:,} {key}".replace(",", " ") for key, value in volume.items())

    return (
        f"Volumes : à l'échelle 0,01 : {line(requetes['volume_small'] or {})}\n"
        f"          à l'échelle du banc : {line(requetes['volume_full'] or {})}"
    )


def _machine_line(result):
    machine = result["machine"]
    return (
        f"Banc d'essai, {result['date']} — base {result['base']}, échelle {result['echelle']} — "
        f"{machine['processeur']}, {machine['coeurs']} cœurs, {machine['memoire_go']} Go, "
        f"Python {machine['python']}, charge moyenne au départ {machine['charge_moyenne']}"
    )


def _section(title):
    print(f"\n== {title} ==", flush=True)


if __name__ == "__main__":
    sys.exit(main())
