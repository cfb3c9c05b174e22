"""The pages of the benchmarks, chosen in a populated database, and their SQL query counts.

    .venv/bin/python bench/queries.py                         # temporary SQLite file
    .venv/bin/python bench/queries.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/queries.py --base-existante postgres://postgres@127.0.0.1:5432/db

The pages (the same for bench/pages.py, which fetches them over HTTP), as the demo's
partner (`partenaire`) sees them, in the seed `montlucon-2024` and in the synthetic
diagnostic of the middle (`synthetique-…`, the median one by number of indicators):

- the page of pilier 1 (and, without an account, that of a public synthetic diagnostic);
- the difficultés list filtered by diagnostic, pilier, quartier and a word of the
  libellés, and the list of every diagnostic, unfiltered and filtered by a word;
- the search, several French queries over every diagnostic, and one within the
  synthetic diagnostic;
- the tableau de bord of the indicators (whole territory, and one quartier);
- the page of the indicator with the most measures.

`run(url)` counts the SQL queries of each page in a Django process on that database
(Django's test client, after one request to warm up), and on PostgreSQL runs EXPLAIN
(ANALYZE) on the search queries to check that the full-text GIN indexes are used.
`compare(small, full)` sets the counts of two runs side by side: the orchestrator runs
it at scale 0.01 and at the full scale, and they must be equal.

Standalone, with `--database-url` (or nothing: SQLite), it builds a throwaway database
(migrate, demo, `generate_scale_data --scale 0.01`, counts, then `--scale` larger,
counts) and compares; `--base-existante` counts an already populated database as it is.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    PYTHON,
    ROOT,
    django_env,
    engine_of,
    generate_scale_data,
    manage,
    throwaway_database,
)

SEED_SLUG = "montlucon-2024"
SYNTHETIC_PREFIX = "synthetique-"
PARTNER = "partenaire"
# French queries of the search, words of the seed's vocabulary.
SEARCHES = ("santé", "décrochage scolaire", "jeunes")
SEARCH_IN_DIAGNOSTIC = "emploi"
SEARCH_INDEXES = (
    "diag_pilier_recherche_idx",
    "diag_theme_recherche_idx",
    "diag_soustheme_recherche_idx",
    "diag_difficulte_recherche_idx",
    "ind_indicateur_recherche_idx",
)


# Parent side --------------------------------------------------------------------------------


def _child(database_url, mode):
    """Run this module's child `mode` in a Django process on `database_url`; its JSON."""
    with tempfile.TemporaryDirectory(prefix="bench-requetes-") as workdir:
        output = Path(workdir) / "resultat.json"
        subprocess.run(
            [PYTHON, "-m", "bench.queries", "--enfant", mode, "--sortie", str(output)],
            cwd=ROOT,
            env=django_env(database_url, debug=True),
            check=True,
        )
        return json.loads(output.read_text(encoding="utf-8"))


def targets(database_url):
    """The pages to measure in this populated database: {"pages": [...], "volume": {...}}.

    Each page: case (id), label (French), kind, path (URL path and query string),
    marker (a text its HTML must contain).
    """
    return _child(database_url, "cibles")


def volumes(database_url):
    """How much the database holds: diagnostics, quartiers, items, measures."""
    return _child(database_url, "volumes")


def format_volumes(volume):
    """The volumes in French: "Volume : 436 diagnostics, 1 587 quartiers, …"."""

    def number(value):
        return f"{value:,}".replace(",", "\u202f")

    return (
        f"Volume : {number(volume['diagnostics'])} diagnostics, "
        f"{number(volume['quartiers'])} quartiers, {number(volume['difficultes'])} difficultés, "
        f"{number(volume['indicateurs'])} indicateurs, {number(volume['mesures'])} mesures."
    )


def run(database_url, **options):
    """The SQL query count of each page, and EXPLAIN ANALYZE of the search (PostgreSQL)."""
    result = _child(database_url, "compter")
    result["engine"] = engine_of(database_url)
    return result


def compare(small, full):
    """The counts of two runs (scale 0.01, full scale) side by side: they must be equal."""
    small_counts = {case["case"]: case["queries"] for case in small["cases"]}
    cases = []
    for case in full["cases"]:
        queries_small = small_counts.get(case["case"])
        cases.append(
            {
                "case": case["case"],
                "label": case["label"],
                "queries_small": queries_small,
                "queries_full": case["queries"],
                "egal": queries_small == case["queries"],
            }
        )
    return {
        "cases": cases,
        "egal": all(case["egal"] for case in cases),
        "volume_small": small.get("volume"),
        "volume_full": full.get("volume"),
        "explain": full.get("explain", []),
        "engine": full.get("engine"),
    }


def format_table(result):
    """The query counts (one run, or two compared) and the search plans, in French."""
    compared = "egal" in result
    lines = ["Requêtes SQL par page (partenaire connecté, sauf mention « sans compte »)"]
    if compared:
        lines.append(f"  {'page':<64} {'petite':>7} {'pleine':>7}  égal")
        for case in result["cases"]:
            lines.append(
                f"  {case['label']:<64} {case['queries_small'] or '—':>7} "
                f"{case['queries_full']:>7}  {'oui' if case['egal'] else 'NON'}"
            )
    else:
        lines.append(f"  {'page':<64} {'requêtes':>8}")
        for case in result["cases"]:
            lines.append(f"  {case['label']:<64} {case['queries']:>8}")
    explain = result.get("explain")
    lines.append("")
    if result.get("engine") != "postgresql":
        lines.append("EXPLAIN ANALYZE de la recherche : n/a (SQLite)")
        return "\n".join(lines)
    if not explain:
        lines.append("EXPLAIN ANALYZE de la recherche : aucune requête plein texte trouvée.")
        return "\n".join(lines)
    lines.append("EXPLAIN ANALYZE de la recherche (index GIN plein texte)")
    for plan in explain:
        index = "oui" if plan["index_utilise"] else "NON"
        lines.append(
            f"  {plan['label']:<58} index GIN : {index:<4} {plan['execution_ms']:>8.2f} ms"
            f" ({plan['nature']})"
        )
        lines.append(f"      nœuds : {', '.join(plan['noeuds'])}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(
        description="Nombre de requêtes SQL des pages mesurées, à deux échelles, et plans "
        "de la recherche (EXPLAIN ANALYZE sur PostgreSQL)."
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="serveur PostgreSQL où créer une base jetable (par défaut : SQLite temporaire)",
    )
    parser.add_argument(
        "--base-existante",
        default=None,
        help="compter sur cette base déjà peuplée, telle quelle (aucune base créée)",
    )
    parser.add_argument(
        "--echelle",
        type=float,
        default=0.05,
        help="échelle de la seconde mesure (la première est à 0,01) ; défaut : 0,05",
    )
    parser.add_argument("--enfant", help=argparse.SUPPRESS)
    parser.add_argument("--sortie", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.enfant:
        return _child_main(args.enfant, Path(args.sortie))
    if args.base_existante:
        print(format_table(run(args.base_existante)))
        return 0
    with (
        tempfile.TemporaryDirectory(prefix="bench-requetes-") as workdir,
        throwaway_database(args.database_url, workdir, f"bench_requetes_{os.getpid()}") as url,
    ):
        print("Préparation de la base : migrations, démonstration, données synthétiques…")
        manage(url, "migrate", "--noinput", capture=True)
        manage(url, "demo", capture=True)
        generate_scale_data(url, "--scale", "0.01", capture=True)
        small = run(url)
        generate_scale_data(url, "--scale", str(args.echelle), capture=True)
        full = run(url)
    result = compare(small, full)
    print(format_table(result))
    return 0 if result["egal"] else 1


# Child side: a Django process on the database -----------------------------------------------


def _child_main(mode, output):
    import django

    django.setup()
    data = _volume() if mode == "volumes" else _choose_targets()
    if mode == "compter":
        data = _count(data)
    output.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return 0


def _middle_synthetic():
    """The synthetic diagnostic of the middle: the median one by number of indicators."""
    from collections import Counter

    from diagnostics.models import Diagnostic
    from indicateurs.models import Indicateur

    diagnostics = list(
        Diagnostic.objects.filter(
            slug__startswith=SYNTHETIC_PREFIX, statut="publie", quartiers__isnull=False
        ).distinct()
    )
    if not diagnostics:
        return None
    sizes = Counter(
        Indicateur.objects.des_diagnostics(
            Diagnostic.objects.filter(pk__in=[d.pk for d in diagnostics])
        ).values_list("diagnostic_id", flat=True)
    )
    diagnostics.sort(key=lambda diagnostic: (sizes[diagnostic.pk], diagnostic.slug))
    return diagnostics[len(diagnostics) // 2]


def _public_synthetic(middle):
    """The synthetic diagnostic of the middle if anonymous visitors may read it, else the
    next public one by slug."""
    from diagnostics.models import Diagnostic

    if middle is None:
        return None
    public = Diagnostic.objects.filter(
        slug__startswith=SYNTHETIC_PREFIX, statut="publie", est_public=True
    ).order_by("slug")
    return public.filter(slug__gte=middle.slug).first() or public.last()


def _searchable_word(text):
    from diagnostics.search import query_words

    for word in sorted(query_words(text), key=len, reverse=True):
        if len(word) >= 5 and word.isalpha():
            return word
    return None


def _difficulte_filters(diagnostic):
    """Filters of the difficultés list that match at least one item of the diagnostic:
    the first pilier (by number) with an item tagged with a quartier and holding a
    searchable word, else the first pilier with any item (a synthetic pilier may be empty)."""
    from diagnostics.models import Difficulte

    fallback = None
    for pilier in diagnostic.piliers.order_by("numero"):
        difficultes = (
            Difficulte.objects.du_pilier(pilier).prefetch_related("quartiers").order_by("pk")[:200]
        )
        for difficulte in difficultes:
            fallback = fallback or {"diagnostic": diagnostic.slug, "pilier": pilier.pk}
            quartiers = sorted(q.code for q in difficulte.quartiers.all())
            word = _searchable_word(difficulte.libelle)
            if quartiers and word:
                return {
                    "diagnostic": diagnostic.slug,
                    "pilier": pilier.pk,
                    "quartier": quartiers[0],
                    "q": word,
                }
    return fallback or {"diagnostic": diagnostic.slug}


def _choose_targets():
    from urllib.parse import urlencode

    from django.db.models import Count, Q
    from django.urls import reverse
    from django.utils.html import escape

    from diagnostics.models import Diagnostic, Difficulte
    from indicateurs.models import Indicateur

    pages = []

    def page(case, label, kind, path, marker, params=None, anonyme=False):
        query = (params or {}).get("q", "")
        if params:
            path = f"{path}?{urlencode(params)}"
        pages.append(
            {
                "case": case,
                "label": label,
                "kind": kind,
                "path": path,
                "marker": marker,
                "anonyme": anonyme,
                "recherche": query,
            }
        )

    chosen = {}
    seed = Diagnostic.objects.filter(slug=SEED_SLUG).first()
    synthetic = _middle_synthetic()
    if synthetic is not None:
        # A partner reads the contracts they take part in: the demo partner (Partenaire of
        # Montluçon's) becomes one of the synthetic contract measured too.
        from django.contrib.auth import get_user_model

        from diagnostics.models import Membre

        Membre.objects.get_or_create(
            contrat_id=synthetic.contrat_id,
            compte=get_user_model().objects.get(username=PARTNER),
            defaults={"role": "Partenaire"},
        )
    for key, name, diagnostic in (
        ("montlucon", "Montluçon", seed),
        ("synthetique", "synthétique", synthetic),
    ):
        if diagnostic is None:
            continue
        slug = diagnostic.slug
        pilier = diagnostic.piliers.order_by("numero").first()
        indicateurs = Indicateur.objects.du_diagnostic(diagnostic)
        indicateur = (
            indicateurs.annotate(n=Count("mesures", filter=Q(mesures__valeur__isnull=False)))
            .order_by("-n", "pk")
            .first()
            if indicateurs.exists()
            else None
        )
        quartier = diagnostic.quartiers.order_by("code").first()
        chosen[key] = {
            "slug": slug,
            "pilier": pilier.numero,
            "indicateurs": indicateurs.count(),
            "difficultes": Difficulte.objects.du_diagnostic(diagnostic).count(),
            "quartiers": diagnostic.quartiers.count(),
            "mesures_indicateur": indicateur.n if indicateur else 0,
        }
        page(
            f"pilier-{key}",
            f"Pilier {pilier.numero} ({name})",
            "pilier",
            reverse("diagnostics:pilier", args=[slug, pilier.numero]),
            escape(pilier.libelle),
        )
        filters = _difficulte_filters(diagnostic)
        page(
            f"difficultes-{key}",
            f"Difficultés : {' + '.join(filters)} ({name})",
            "difficultes",
            reverse("diagnostics:difficultes"),
            '<ol class="liste-elements"',
            filters,
        )
        tableau = reverse("indicateurs:tableau_de_bord", args=[slug])
        page(f"tableau-{key}", f"Tableau de bord ({name})", "tableau", tableau, "tableau-bord")
        if key == "synthetique" and quartier is not None:
            page(
                f"tableau-quartier-{key}",
                f"Tableau de bord, un quartier ({name})",
                "tableau",
                tableau,
                "tableau-bord",
                {"quartier": quartier.code},
            )
        if indicateur is not None:
            page(
                f"indicateur-{key}",
                f"Page d'un indicateur, {indicateur.n} valeurs chiffrées ({name})",
                "indicateur",
                reverse("indicateurs:detail", args=[slug, indicateur.pk]),
                'class="graphique"' if indicateur.n else escape(indicateur.libelle[:40]),
            )
    public = _public_synthetic(synthetic)
    if public is not None:
        pilier = public.piliers.order_by("numero").first()
        page(
            "pilier-anonyme",
            f"Pilier {pilier.numero} (synthétique public, sans compte)",
            "pilier",
            reverse("diagnostics:pilier", args=[public.slug, pilier.numero]),
            escape(pilier.libelle),
            anonyme=True,
        )
    page(
        "difficultes-tous",
        "Difficultés de tous les diagnostics, sans filtre",
        "difficultes",
        reverse("diagnostics:difficultes"),
        '<ol class="liste-elements"',
    )
    word = (
        _searchable_word(
            Difficulte.objects.du_diagnostic(synthetic or seed).order_by("pk").first().libelle
        )
        if (synthetic or seed)
        else None
    )
    if word:
        page(
            "difficultes-mot-tous",
            f"Difficultés de tous les diagnostics : « {word} »",
            "difficultes",
            reverse("diagnostics:difficultes"),
            '<ol class="liste-elements"',
            {"q": word},
        )
    for number, query in enumerate(SEARCHES, start=1):
        page(
            f"recherche-{number}",
            f"Recherche « {query} » (tous les diagnostics)",
            "recherche",
            reverse("diagnostics:recherche"),
            'class="resultats-groupe"',
            {"q": query},
        )
    if synthetic is not None:
        page(
            "recherche-synthetique",
            f"Recherche « {SEARCH_IN_DIAGNOSTIC} » (synthétique)",
            "recherche",
            reverse("diagnostics:recherche"),
            'class="resultats-groupe"',
            {"q": SEARCH_IN_DIAGNOSTIC, "diagnostic": synthetic.slug},
        )
    return {"pages": pages, "diagnostics": chosen, "volume": _volume()}


def _volume():
    from diagnostics.models import Diagnostic, Difficulte, Quartier
    from indicateurs.models import Indicateur, Mesure

    return {
        "diagnostics": Diagnostic.objects.count(),
        "quartiers": Quartier.objects.count(),
        "indicateurs": Indicateur.objects.count(),
        "difficultes": Difficulte.objects.count(),
        "mesures": Mesure.objects.count(),
    }


def _plan_nodes(plan, nodes):
    """Node names of a JSON plan, depth first: "Bitmap Index Scan (index)", "Seq Scan (table)"."""
    name = plan["Node Type"]
    if "Index Name" in plan:
        name += f" ({plan['Index Name']})"
    elif "Relation Name" in plan:
        name += f" ({plan['Relation Name']})"
    nodes.append(name)
    for child in plan.get("Plans", []):
        _plan_nodes(child, nodes)
    return nodes


def _explain(sql):
    from django.db import connection

    settings = ""
    if sql.startswith("SET LOCAL "):  # the page's own settings for its statement
        settings, sql = sql.split("; ", 1)
        settings += "; "
    with connection.cursor() as cursor:
        cursor.execute(f"{settings}EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        if settings:
            cursor.cursor.nextset()
        (document,) = cursor.fetchone()
    if isinstance(document, str):
        document = json.loads(document)
    top = document[0]
    nodes = list(dict.fromkeys(_plan_nodes(top["Plan"], [])))
    return {
        "noeuds": nodes,
        "index_utilise": any(index in node for node in nodes for index in SEARCH_INDEXES),
        "execution_ms": round(top["Execution Time"], 3),
    }


def _count(data):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    partner = Client(HTTP_HOST="127.0.0.1")
    partner.force_login(get_user_model().objects.get(username=PARTNER))
    anonymous = Client(HTTP_HOST="127.0.0.1")
    cases, plans = [], []
    for page in data["pages"]:
        client = anonymous if page["anonyme"] else partner
        client.get(page["path"])  # warm-up: first-use caches of the process
        with CaptureQueriesContext(connection) as captured:
            response = client.get(page["path"])
        content = response.content.decode()
        if response.status_code != 200 or page["marker"] not in content:
            raise SystemExit(
                f"Page inattendue : {page['path']} (statut {response.status_code}, "
                f"« {page['marker']} » {'présent' if page['marker'] in content else 'absent'})."
            )
        cases.append({"case": page["case"], "label": page["label"], "queries": len(captured)})
        if page["kind"] == "recherche" and connection.vendor == "postgresql":
            searching = [q["sql"] for q in captured.captured_queries if " @@ " in q["sql"]]
            for sql in searching:
                plan = _explain(sql)
                head = sql.upper()[:200]
                nature = (
                    "page et nombre de résultats"
                    if "COUNT(*) OVER" in head
                    else ("nombre de résultats" if "COUNT(" in head else "page")
                )
                indexes = [
                    index for index in SEARCH_INDEXES if any(index in n for n in plan["noeuds"])
                ]
                plan.update(
                    label=page["label"],
                    requete=page["recherche"],
                    nature=nature,
                    resume=f"{nature} en {plan['execution_ms']:.1f} ms ; "
                    + (f"index : {', '.join(indexes)}" if indexes else "sans index plein texte"),
                )
                plans.append(plan)
    data["cases"] = cases
    data["explain"] = plans
    return data


if __name__ == "__main__":
    sys.exit(main())
