"""Benchmark of the backup and restoration of one diagnostic (`diagnostics.backup`, the
commands backup_diagnostic and restore_diagnostic), at the scale the product is built for:
one diagnostic with 100,000 values (measures) and their history. Targets: backup and
restoration each in under 20 s and under 300 MB (peak resident memory of the process).

    .venv/bin/python bench/sauvegarde.py                      # SQLite, 100,000 values
    .venv/bin/python bench/sauvegarde.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/sauvegarde.py --valeurs 2000       # smaller

In a throwaway database (`bench_sauvegarde_<pid>` on PostgreSQL, a SQLite file otherwise),
migrated: the synthetic diagnostic n° 1 (`scale_data.add`, with the history of its rows),
its indicators given measures up to `--valeurs` (by quartier, year and month; a "+" history
row each, `diagnostics.history.bulk`), a third of them changed (a "~" history row each).
Then, each in a process of its own, timed from its start to its end (Django's start
included) with its peak resident memory (`os.wait4`'s ru_maxrss):

1. `manage.py backup_diagnostic synthetique-0001 -o FILE` (the file's size is reported);
2. the deletion of the diagnostic through the ORM, as the admin does (`Diagnostic.delete()`:
   Django's collector, a "-" history row per row deleted) — its history rows stay;
3. `manage.py restore_diagnostic FILE` in the same database, after that deletion;
4. `manage.py restore_diagnostic FILE` in a second, empty (migrated) database.

After each restoration the rows of the diagnostic are counted and compared with those
before the backup (values, history rows of the values, every row of the file).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

VALEURS = 100_000
TARGET_S = 20.0
TARGET_MB = 300.0
NUMBER = 1  # the synthetic diagnostic written (scale_data.slug_of)


def run(database_url, valeurs=VALEURS, quiet=False):
    """Measure in throwaway databases; the results as a dict."""
    say = _say(quiet)
    with common.throwaway_run(database_url, "sauvegarde") as (url, workdir):
        started = time.monotonic()
        common.manage(url, "migrate", "--no-input", "-v", "0")
        prepared = _child(url, "preparer", f"--valeurs={valeurs}")
        say(
            f"Base migrée, diagnostic de {prepared['valeurs']} valeurs et "
            f"{prepared['historique_valeurs']} lignes d'historique des valeurs : "
            f"{time.monotonic() - started:.1f} s"
        )
        slug = prepared["slug"]
        path = workdir / "sauvegarde.jsonl"
        steps = {}
        steps["sauvegarde"] = _timed(url, ["manage.py", "backup_diagnostic", slug, "-o", str(path)])
        steps["sauvegarde"]["taille_mo"] = round(path.stat().st_size / 1e6, 1)
        say(_step_line("Sauvegarde", steps["sauvegarde"]))
        steps["suppression"] = _timed(url, [__file__, "--enfant", "supprimer", f"--slug={slug}"])
        say(_step_line("Suppression (ORM)", steps["suppression"]))
        steps["restauration_apres_suppression"] = _timed(
            url, ["manage.py", "restore_diagnostic", str(path)]
        )
        say(_step_line("Restauration après suppression", steps["restauration_apres_suppression"]))
        after_deletion = _child(url, "compter", f"--slug={slug}")
        empty_name = f"bench_sauvegarde_vide_{os.getpid()}"
        with common.throwaway_database(database_url, workdir, empty_name) as empty:
            common.manage(empty, "migrate", "--no-input", "-v", "0")
            steps["restauration_base_vide"] = _timed(
                empty, ["manage.py", "restore_diagnostic", str(path)]
            )
            say(_step_line("Restauration dans une base vide", steps["restauration_base_vide"]))
            in_empty = _child(empty, "compter", f"--slug={slug}")
        lines = sum(1 for _ in path.open(encoding="utf-8"))
        return {
            "base": common.engine_of(url),
            "machine": common.machine(),
            "valeurs": prepared["valeurs"],
            "avant": prepared,
            "lignes_du_fichier": lines,
            "etapes": steps,
            "apres_suppression": after_deletion,
            "base_vide": in_empty,
            "complet": _same(prepared, after_deletion) and _same(prepared, in_empty),
        }


def _same(before, after):
    keys = ("valeurs", "historique_valeurs", "indicateurs", "difficultes")
    return all(before[key] == after[key] for key in keys)


def _say(quiet):
    return (lambda *args: None) if quiet else (lambda text: print(text, flush=True))


def _step_line(name, step):
    size = f", fichier {step['taille_mo']} Mo" if "taille_mo" in step else ""
    return f"{name} : {step['duree_s']:.1f} s, mémoire max {step['memoire_max_mo']:.0f} Mo{size}"


def _timed(url, arguments):
    """Run `python <arguments>` on database `url`: {"duree_s", "memoire_max_mo"}."""
    started = time.monotonic()
    process = subprocess.Popen(
        [common.PYTHON, *arguments],
        cwd=ROOT,
        env=common.django_env(url, debug=False),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = _communicate(process)
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} a échoué :\n{stdout}\n{stderr}")
    return {
        "duree_s": round(elapsed, 2),
        "memoire_max_mo": round(process.rusage.ru_maxrss / 1024, 1),  # Linux: kilobytes
        "sortie": stdout.strip().splitlines()[-1:] if stdout.strip() else [],
    }


def _communicate(process):
    """Read the outputs, then reap the child with os.wait4 to get its own resource usage."""
    stdout = process.stdout.read()
    stderr = process.stderr.read()
    _, status, rusage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    process.rusage = rusage
    return stdout, stderr


def _child(url, action, *arguments):
    done = subprocess.run(
        [common.PYTHON, __file__, "--enfant", action, *arguments],
        cwd=ROOT,
        env=common.django_env(url, debug=False),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Le banc des sauvegardes a échoué :\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# In the child process (or in a test's database) -------------------------------------------


def prepare(valeurs=VALEURS):
    """The synthetic diagnostic n° NUMBER with measures up to `valeurs`, their history, a
    third of them changed; returns `counts`."""
    import datetime
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from bench import scale_data
    from diagnostics.history.bulk import create_with_history
    from diagnostics.models import Diagnostic, Quartier
    from indicateurs.models import Indicateur, Mesure

    scale_data.add([NUMBER])
    diagnostic = Diagnostic.objects.get(slug=scale_data.slug_of(NUMBER))
    indicateurs = list(Indicateur.objects.du_diagnostic(diagnostic).order_by("pk"))
    quartiers = list(diagnostic.quartiers.order_by("pk")) or list(
        Quartier.objects.order_by("pk")[:5]
    )
    missing = valeurs - Mesure.objects.filter(indicateur__in=indicateurs).count()
    taken = set(
        Mesure.objects.filter(indicateur__in=indicateurs, quartier__isnull=False).values_list(
            "indicateur_id", "nature", "annee", "type_periode", "numero_periode", "quartier_id"
        )
    )
    new = []

    def candidates():
        for annee in range(2000, 2100):
            for mois in range(1, 13):
                for indicateur in indicateurs:
                    for quartier in quartiers:
                        yield indicateur, quartier, annee, mois

    for indicateur, quartier, annee, mois in candidates():
        if len(new) >= missing:
            break
        key = (indicateur.pk, "valeur", annee, "mois", mois, quartier.pk)
        if key in taken:
            continue
        new.append(
            Mesure(
                indicateur=indicateur,
                quartier=quartier,
                nature="valeur",
                annee=annee,
                type_periode="mois",
                numero_periode=mois,
                valeur=Decimal(len(new) % 10_000) / 100,
                source="Banc d'essai",
            )
        )
    with transaction.atomic():
        for start in range(0, len(new), 5_000):
            create_with_history(
                Mesure, new[start : start + 5_000], user_id=None, reason="Banc : valeurs"
            )
        changed = new[::3]
        for mesure in changed:
            mesure.commentaire = "Revue"
        Mesure.objects.bulk_update(changed, ["commentaire"], batch_size=2_000)
        Mesure.history.bulk_history_create(
            changed,
            batch_size=2_000,
            update=True,
            default_change_reason="Banc : revue",
            default_date=timezone.now() + datetime.timedelta(seconds=1),
        )
    return counts(diagnostic.slug)


def counts(slug):
    from diagnostics.models import Diagnostic, Difficulte
    from indicateurs.models import Indicateur, Mesure

    diagnostic = Diagnostic.objects.filter(slug=slug).first()
    if diagnostic is None:
        return {"slug": slug, "valeurs": 0, "historique_valeurs": 0}
    indicateurs = Indicateur.objects.du_diagnostic(diagnostic).values("pk")
    mesures = Mesure.objects.filter(indicateur__in=indicateurs)
    return {
        "slug": slug,
        "valeurs": mesures.count(),
        "historique_valeurs": Mesure.history.filter(indicateur_id__in=indicateurs)
        .exclude(history_type="-")
        .count(),
        "indicateurs": Indicateur.objects.du_diagnostic(diagnostic).count(),
        "difficultes": Difficulte.objects.du_diagnostic(diagnostic).count(),
    }


def delete(slug):
    """Delete the diagnostic as the admin does (the ORM: collector, "-" history rows)."""
    from diagnostics.models import Diagnostic

    Diagnostic.objects.get(slug=slug).delete()
    return {"supprime": slug}


# Presentation --------------------------------------------------------------------------------


def format_table(result):
    steps = result["etapes"]
    lines = [
        f"Un diagnostic de {result['valeurs']} valeurs, {result['avant']['historique_valeurs']} "
        f"lignes d'historique des valeurs ; fichier de {result['lignes_du_fichier']} lignes, "
        f"{steps['sauvegarde']['taille_mo']} Mo ({result['base']})",
        f"{'Étape':<36}{'durée (s)':>11}{'mémoire max (Mo)':>18}",
    ]
    names = {
        "sauvegarde": "Sauvegarde (backup_diagnostic)",
        "suppression": "Suppression du diagnostic (ORM)",
        "restauration_apres_suppression": "Restauration après la suppression",
        "restauration_base_vide": "Restauration dans une base vide",
    }
    for key, name in names.items():
        step = steps[key]
        lines.append(f"{name:<36}{step['duree_s']:>11.1f}{step['memoire_max_mo']:>18.0f}")
    lines.append(
        "Rien de perdu (valeurs, historique, indicateurs, difficultés) : "
        + ("oui" if result["complet"] else "NON")
    )
    return "\n".join(lines)


def targets(result):
    """[(label, figure, met)]: backup and restoration under TARGET_S and TARGET_MB."""
    steps = result["etapes"]
    found = []
    for key, label in [
        ("sauvegarde", "Sauvegarde"),
        ("restauration_apres_suppression", "Restauration après suppression"),
        ("restauration_base_vide", "Restauration dans une base vide"),
    ]:
        step = steps[key]
        found.append(
            (
                f"{label} de {result['valeurs']} valeurs < {TARGET_S:g} s et < {TARGET_MB:g} Mo",
                f"{step['duree_s']:.1f} s, {step['memoire_max_mo']:.0f} Mo",
                step["duree_s"] < TARGET_S and step["memoire_max_mo"] < TARGET_MB,
            )
        )
    found.append(("Sauvegarde et restaurations complètes", "", result["complet"]))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=None,
        help="serveur PostgreSQL sur lequel créer les bases jetables (défaut : SQLite)",
    )
    parser.add_argument(
        "--valeurs", type=int, default=VALEURS, help=f"valeurs du diagnostic (défaut {VALEURS})"
    )
    parser.add_argument("--json", help="écrire aussi les résultats dans ce fichier JSON")
    parser.add_argument("--enfant", choices=["preparer", "compter", "supprimer"])
    parser.add_argument("--slug", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.enfant:
        import django

        django.setup()
        if args.enfant == "preparer":
            result = prepare(args.valeurs)
        elif args.enfant == "compter":
            result = counts(args.slug)
        else:
            result = delete(args.slug)
        print(json.dumps(result, ensure_ascii=False))
        return 0
    result = run(args.database_url, valeurs=args.valeurs)
    print()
    print(format_table(result))
    for label, figure, met in targets(result):
        print(f"{'✔' if met else '✘'} {label} : {figure}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    sys.exit(main())
