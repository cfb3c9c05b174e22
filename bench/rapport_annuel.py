"""Benchmark of the annual report's documents (issue 19; the part « rapports » of
bench/run.py): `rapports.document.construire` and the ODT, DOCX and PDF drawn from it
(`rapports.documents`).

    .venv/bin/python bench/rapport_annuel.py                    # SQLite
    .venv/bin/python bench/rapport_annuel.py --database-url postgres://postgres@127.0.0.1:5432/postgres

In a throwaway database (`common.throwaway_run`), migrated and filled with the synthetic data
at `--echelle` (the background), a child process (DEBUG off) adds the largest synthetic
diagnostic of the whole of France (`scale_data.largest_diagnostic(1)`, as bench/editions.py:
4 piliers, 65 difficultés, 100 indicators with ten years of values for the territory and
each of its quartiers), publishes it, starts its report for `ANNEE` (2024, the synthetic
data's last year) with a text in each section of the décret, a partner's contribution and
two consulted bodies, then times, `tours` times each (median and maximum):

- `construire`: the Document, its generated parts included (the evolution of the
  quartiers from the 100 indicators, their tables and charts; the changes of the year);
  its SQL queries counted once;
- `odt.rendre`, `docx.rendre` and `pdf.rendre` of that Document (the charts drawn as PNG
  for the first two; the PDF laid out by WeasyPrint, tagged).

Targets (issue 19): the ODT and the DOCX in under 5 s each, the PDF in under 15 s.

Not named bench/rapports.py: run as a script, its folder comes first in `sys.path`, and the
`rapports` application would be that file in every benchmark's Django process.
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

PARAMS = {"echelle": 0.01, "taille": 1, "tours": 3}
QUICK = {"echelle": 0.003, "taille": 0.003, "tours": 1}
ANNEE = 2024
USERNAME = "banc-rapports"
TARGETS_S = {"odt": 5, "docx": 5, "pdf": 15}
LABELS = {
    "document": "Document (construire, parties générées comprises)",
    "odt": "ODT (odt.rendre)",
    "docx": "DOCX (docx.rendre)",
    "pdf": "PDF (pdf.rendre, balisé)",
}
TEXTE = """Le contrat de ville a poursuivi en {annee} ses **trois orientations** : l'emploi des
jeunes, la réussite éducative et le cadre de vie des quartiers prioritaires.

## Bilan de l'année

- {n} actions financées au titre du contrat ;
- une *programmation* concertée avec les conseils citoyens ;
- un suivi trimestriel en comité technique.

Les détails sont sur [le site du contrat](https://www.example.org/contrat-de-ville).

### Points d'attention

1. la mobilité vers les zones d'emploi ;
2. l'accès aux droits des familles monoparentales."""


# The run (parent process) ---------------------------------------------------------------


def run(database_url, quiet=False, **options):
    """Fill a throwaway database and time the report's documents: a JSON-serialisable dict."""
    params = {**PARAMS, **{key: value for key, value in options.items() if value}}
    say = (lambda text: None) if quiet else (lambda text: print(text, flush=True))
    started = time.monotonic()
    with common.throwaway_run(database_url, "rapports") as (url, workdir):
        engine = common.engine_of(url)
        common.manage(url, "migrate", "--no-input", "-v", "0")
        common.generate_scale_data(url, "--scale", str(params["echelle"]), "-v", "0")
        say(
            f"Base jetable {engine} migrée, données synthétiques à l'échelle "
            f"{params['echelle']:g} ; rapport du plus grand diagnostic…"
        )
        measured = common.run_child(url, workdir, __file__, "mesures", params, debug=False)
    result = {
        "base": engine,
        "parametres": params,
        "machine": common.machine(),
        "rapport": measured["rapport"],
        "cases": measured["cases"],
        "memoire_max_mo": measured["memoire_max_mo"],
        "duree_s": round(time.monotonic() - started, 1),
    }
    result["objectifs"] = targets(result)
    return result


def targets(result):
    """[{objectif, mesure, atteint}]: each document format under its time."""
    checks = []
    for case in result["cases"]:
        limit = TARGETS_S.get(case["case"])
        if limit is None:
            continue
        checks.append(
            {
                "objectif": f"Rapport annuel, {case['label']} : < {limit} s",
                "mesure": f"{case['max_s']:.2f} s (médiane {case['median_s']:.2f} s)",
                "atteint": case["max_s"] < limit,
            }
        )
    return checks


def format_table(result):
    """The results as a French plain-text table."""
    rapport, params = result["rapport"], result["parametres"]
    lines = [
        f"Rapport annuel — base {result['base']}, {params['tours']} mesure(s) par cas ; "
        f"diagnostic synthétique n° {rapport['numero']} (le plus grand de l'échelle "
        f"{params['taille']:g}) : {rapport['quartiers']} quartiers, {rapport['indicateurs']} "
        f"indicateurs, {rapport['mesures']} mesures ; document de {rapport['blocs']} blocs "
        f"({rapport['tableaux']} tableaux, {rapport['graphiques']} graphiques)"
        + (f", PDF de {rapport['pages_pdf']} pages" if rapport.get("pages_pdf") else ""),
        f"{'Cas':<52} {'médiane':>9} {'max':>9} {'SQL':>5} {'octets':>10}",
    ]
    for case in result["cases"]:
        lines.append(
            f"{case['label']:<52} {case['median_s']:>8.2f}s {case['max_s']:>8.2f}s "
            f"{case.get('requetes', '—'):>5} {case['octets']:>10}"
        )
    lines.append(f"Mémoire maximale du processus de mesure : {result['memoire_max_mo']:.0f} Mo")
    for check in result.get("objectifs", []):
        mark = "atteint" if check["atteint"] else "NON ATTEINT"
        lines.append(f"  [{mark}] {check['objectif']} — {check['mesure']}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Banc d'essai des documents du rapport annuel.")
    parser.add_argument(
        "--database-url",
        default=None,
        help="serveur PostgreSQL sur lequel créer la base jetable (défaut : SQLite)",
    )
    parser.add_argument("--rapide", action="store_true", help="petites tailles (essai)")
    parser.add_argument("--echelle", type=float, help="échelle des données de fond")
    parser.add_argument("--taille", type=float, help="le plus grand diagnostic de cette échelle")
    parser.add_argument("--tours", type=int, help="mesures par cas")
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


# The child ------------------------------------------------------------------------------


def run_child(case, params):
    import django

    django.setup()
    result = {"mesures": measure}[case](params)
    print(json.dumps(result, default=str))
    return 0


def prepare(taille):
    """The report of the largest synthetic diagnostic of scale `taille` (see the module)."""
    import datetime

    from django.contrib.auth import get_user_model

    from bench import scale_data
    from comptes.roles import Role
    from diagnostics.models import Diagnostic, Membre
    from rapports import etats
    from rapports.models import Instance

    numero = scale_data.largest_diagnostic(taille)
    scale_data.add([numero])
    Diagnostic.objects.filter(slug=scale_data.slug_of(numero)).update(
        statut=Diagnostic.Statut.PUBLIE
    )
    diagnostic = Diagnostic.objects.get(slug=scale_data.slug_of(numero))
    user, _ = get_user_model().objects.get_or_create(
        username=USERNAME, defaults={"email": f"{USERNAME}@example.org"}
    )
    Membre.objects.get_or_create(
        contrat=diagnostic.contrat, compte=user, defaults={"role": Role.ADMINISTRATEUR.value}
    )
    partenaire = Membre.objects.create(
        contrat=diagnostic.contrat,
        compte=get_user_model().objects.create(username=f"{USERNAME}-partenaire"),
        role=Role.PARTENAIRE.value,
    )
    rapport = etats.commencer(diagnostic.contrat, ANNEE, user)
    for n, section in enumerate(rapport.sections.order_by("ordre"), start=1):
        etats.enregistrer_section(
            section, TEXTE.format(annee=ANNEE, n=12 * n), section.revision, user
        )
    contribution = etats.demander_contribution(rapport, partenaire, "Actions de l'État", user)
    etats.enregistrer_section(
        contribution, TEXTE.format(annee=ANNEE, n=7), contribution.revision, user
    )
    for nom in ("Conseil citoyen des Tilleuls", "Conseil municipal"):
        Instance.objects.create(
            rapport=rapport,
            nature=Instance.Nature.CONSEIL_CITOYEN,
            nom=nom,
            date_envoi=datetime.date(ANNEE + 1, 3, 1),
            date_limite=datetime.date(ANNEE + 1, 4, 15),
            avis=Instance.Avis.FAVORABLE,
            avis_date=datetime.date(ANNEE + 1, 4, 2),
            avis_texte="Le conseil salue le travail mené.\n\nIl demande un suivi des actions.",
        )
    return numero, diagnostic, rapport


def measure(params):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from indicateurs.models import Indicateur, Mesure
    from rapports import blocs
    from rapports.document import construire
    from rapports.documents import FORMATS

    tours = params["tours"]
    numero, diagnostic, rapport = prepare(params["taille"])
    cases = []

    with CaptureQueriesContext(connection) as queries:
        document = construire(rapport)
    timings = []
    for _ in range(tours):
        start = time.perf_counter()
        document = construire(rapport)
        timings.append(time.perf_counter() - start)
    contenu = document.blocs
    cases.append(_case("document", timings, len(json.dumps(contenu)), len(queries)))
    fichiers = {}
    for format_ in ("odt", "docx", "pdf"):
        timings = []
        for _ in range(tours):
            start = time.perf_counter()
            fichiers[format_] = FORMATS[format_].rendre(document)
            timings.append(time.perf_counter() - start)
        cases.append(_case(format_, timings, len(fichiers[format_])))
    kinds = [bloc["type"] for bloc in contenu]
    return {
        "rapport": {
            "numero": numero,
            "quartiers": diagnostic.quartiers.count(),
            "indicateurs": Indicateur.objects.du_diagnostic(diagnostic).count(),
            "mesures": Mesure.objects.filter(
                indicateur__in=Indicateur.objects.du_diagnostic(diagnostic)
            ).count(),
            "blocs": len(contenu),
            "tableaux": kinds.count(blocs.TABLEAU),
            "graphiques": kinds.count(blocs.GRAPHIQUE),
            "pages_pdf": _pages(fichiers["pdf"]),
        },
        "cases": cases,
        "memoire_max_mo": round(common.peak_rss_mb(), 1),
    }


def _case(key, timings, octets, requetes=None):
    case = {
        "case": key,
        "label": LABELS[key],
        "median_s": round(common.median(timings), 3),
        "max_s": round(max(timings), 3),
        "secondes": [round(t, 3) for t in timings],
        "octets": octets,
    }
    if requetes is not None:
        case["requetes"] = requetes
    return case


def _pages(contenu):
    """The PDF's page count (pdfinfo, poppler-utils), None without it."""
    if not shutil.which("pdfinfo"):
        return None
    done = subprocess.run(["pdfinfo", "-"], input=contenu, capture_output=True, check=False)
    for line in done.stdout.decode(errors="replace").splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return None


if __name__ == "__main__":
    sys.exit(main())
