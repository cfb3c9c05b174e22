"""Benchmark of the pages served by gunicorn, beside the framework's floor.

    .venv/bin/python bench/pages.py                          # temporary SQLite file
    .venv/bin/python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/pages.py --base-existante postgres://postgres@127.0.0.1:5432/db

Over an already populated database (`run(url)`: the orchestrator's bench database), it
starts gunicorn (bench.common.gunicorn: production settings, 2 × cores + 1 sync
workers, loopback), signs in as the demo's partner through /connexion/ like a browser
(CSRF cookie and token), and fetches the pages chosen by bench/queries.py (pilier,
difficultés list with filters, search, tableau de bord, page of an indicator, in the
seed and in the synthetic diagnostic of the middle; one pilier page without an account)
and the trivial view `/banc/plancher/` (bench/urls.py: same middleware, no work: the
floor), with the partner's session cookie too.

For each page, in each round (`--tours`, 3 by default; each figure is the median of
the rounds' figures):

- warm-up: `--echauffement` requests by the concurrent clients (at least one each), so
  that every worker has served the page before it is timed;
- latency: `--sequentielles` requests one after the other; median and p95 (nearest
  rank) in milliseconds;
- throughput: `--requetes` requests shared by `--clients` concurrent clients (threads,
  2 × workers by default); requests per second, and its ratio to the floor's in the
  same round.

Every response must be 200 (a redirection to the login page is a failure) and contain
the page's expected text. The client is the standard library's `http.client`, one
connection per client: no third-party client to install, and its cost is the same for
every page and the floor. gunicorn's sync workers close the connection after each
response, so each request opens a new TCP connection on loopback (as it would behind a
reverse proxy without upstream keep-alive): the floor pays it too.

Standalone, with `--database-url` (or nothing: SQLite), it builds a throwaway database
(migrate, demo, `generate_scale_data --scale`, 0.01 by default) and drops it at the end.
"""

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import queries
from bench.common import (
    engine_of,
    generate_scale_data,
    gunicorn,
    machine,
    manage,
    median,
    percentile,
    throwaway_database,
)

FLOOR = {
    "case": "plancher",
    "label": "Vue triviale /banc/plancher/ (plancher)",
    "kind": "plancher",
    "path": "/banc/plancher/",
    "marker": "ok",
    "anonyme": False,
}
PARTNER_PASSWORD = "partenaire-demo-2024"  # diagnostics/management/commands/demo.py
# The targets of issue 7, at the full benchmark scale on PostgreSQL.
TARGET_P95_MS = 50
TARGET_SEARCH_P95_MS = 100
TARGET_RATIO = 0.5


class PageError(Exception):
    pass


# A client -----------------------------------------------------------------------------------


class Client:
    """One HTTP client with its cookies: one connection, reopened when the server closes it."""

    def __init__(self, base, cookies=None):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.cookies = dict(cookies or {})
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def close(self):
        self.connection.close()

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body as text)."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if method != "GET":
                raise
            self.connection.close()  # the server closed a kept connection: once more
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        content = response.read().decode("utf-8", errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        if response.will_close:
            self.connection.close()
        return response.status, response.headers, content

    def get(self, path):
        return self.request("GET", path)


def login(base, username, password):
    """The cookies of a session signed in through /connexion/, as a browser does it."""
    client = Client(base)
    try:
        status, _, content = client.get("/connexion/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        if status != 200 or token is None or "csrftoken" not in client.cookies:
            raise PageError("La page de connexion ne donne pas de jeton CSRF.")
        body = urlencode(
            {
                "csrfmiddlewaretoken": token.group(1),
                "username": username,
                "password": password,
                "next": "/",
            }
        )
        status, headers, _ = client.request(
            "POST",
            "/connexion/",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"{base}/connexion/",
            },
        )
        if status != 302 or "sessionid" not in client.cookies:
            raise PageError(f"La connexion de « {username} » a échoué (statut {status}).")
        return dict(client.cookies)
    finally:
        client.close()


def check(page, status, content):
    if status != 200:
        raise PageError(f"{page['path']} : statut {status} au lieu de 200.")
    if page["marker"] not in content:
        raise PageError(f"{page['path']} : le texte attendu « {page['marker']} » manque.")
    if 'name="password"' in content:
        raise PageError(f"{page['path']} : page de connexion au lieu de la page demandée.")


# Measures -----------------------------------------------------------------------------------


def latencies(base, cookies, page, count):
    """Milliseconds of `count` requests one after the other."""
    client = Client(base, cookies)
    try:
        timings = []
        for _ in range(count):
            start = time.perf_counter()
            status, _, content = client.get(page["path"])
            timings.append((time.perf_counter() - start) * 1000)
            check(page, status, content)
        return timings
    finally:
        client.close()


def throughput(base, cookies, page, total, clients):
    """Requests per second of `total` requests shared by `clients` concurrent clients."""
    remaining = [total]
    lock = threading.Lock()
    errors = []
    start_line = threading.Barrier(clients + 1)

    def work():
        client = Client(base, cookies)
        try:
            start_line.wait()
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                status, _, content = client.get(page["path"])
                check(page, status, content)
        except Exception as error:  # reported below, in the main thread
            errors.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start_line.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise PageError(str(errors[0]))
    return total / elapsed


def run(
    database_url,
    rounds=3,
    sequential=30,
    warmup=20,
    requests=60,
    clients=None,
    workers=None,
    only=None,
    progress=None,
    **options,
):
    """Latency and throughput of each page and of the floor, over gunicorn.

    `database_url`: an already populated database (demo + generate_scale_data), left as
    it is (a session is added). `only`: case ids to keep (with the floor).
    """
    say = progress or (lambda text: None)
    chosen = queries.targets(database_url)
    pages = [FLOOR, *chosen["pages"]]
    if only:
        pages = [page for page in pages if page["case"] == "plancher" or page["case"] in only]
    workers = workers or 2 * (os.cpu_count() or 1) + 1
    clients = clients or 2 * workers
    samples = {page["case"]: {"median": [], "p95": [], "rps": [], "ratio": []} for page in pages}
    loads = []
    with gunicorn(database_url, workers=workers) as base:
        cookies = login(base, queries.PARTNER, PARTNER_PASSWORD)
        for number in range(1, rounds + 1):
            loads.append(os.getloadavg()[0])
            floor_rps = None
            for page in pages:
                jar = None if page["anonyme"] else cookies
                # Warm-up: concurrent, so that every worker has served the page once.
                throughput(base, jar, page, max(warmup, clients), clients)
                timings = latencies(base, jar, page, sequential)
                rps = throughput(base, jar, page, requests, clients)
                if page is FLOOR:
                    floor_rps = rps
                sample = samples[page["case"]]
                sample["median"].append(statistics.median(timings))
                sample["p95"].append(percentile(timings, 0.95))
                sample["rps"].append(rps)
                sample["ratio"].append(rps / floor_rps)
                say(
                    f"  tour {number}/{rounds} · {page['label']} : médiane "
                    f"{statistics.median(timings):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms,"
                    f" {rps:.0f} req/s"
                )
            loads.append(os.getloadavg()[0])
    cases = []
    for page in pages:
        sample = samples[page["case"]]
        case = {
            "case": page["case"],
            "label": page["label"],
            "kind": page["kind"],
            "path": page["path"],
            "median_ms": round(median(sample["median"]), 2),
            "p95_ms": round(median(sample["p95"]), 2),
            "rps": round(median(sample["rps"]), 1),
            "ratio_plancher": round(median(sample["ratio"]), 3),
        }
        if page is not FLOOR:
            limit = TARGET_SEARCH_P95_MS if page["kind"] == "recherche" else TARGET_P95_MS
            case["cible_p95_ms"] = limit
            case["cible_p95_atteinte"] = case["p95_ms"] < limit
            case["cible_debit_atteinte"] = case["ratio_plancher"] >= TARGET_RATIO
        cases.append(case)
    return {
        "cases": cases,
        "repeats": rounds,
        "sequentielles": sequential,
        "echauffement": warmup,
        "requetes_concurrentes": requests,
        "clients": clients,
        "workers": workers,
        "engine": engine_of(database_url),
        "volume": chosen["volume"],
        "diagnostics": chosen["diagnostics"],
        "charge_moyenne": {"min": round(min(loads), 2), "max": round(max(loads), 2)},
    }


def format_table(result):
    """The pages' figures as a French plain-text table."""
    lines = [
        f"Pages servies par gunicorn ({result['workers']} workers, {result['clients']} clients "
        f"concurrents ; médianes de {result['repeats']} tours ; charge moyenne "
        f"{result['charge_moyenne']['min']}–{result['charge_moyenne']['max']})",
        f"  {'page':<64} {'médiane':>8} {'p95':>8} {'req/s':>7} {'/plancher':>9}"
        "  cible p95 · débit",
    ]
    for case in result["cases"]:
        targets = ""
        if "cible_p95_atteinte" in case:
            targets = " · ".join(
                "oui" if case[key] else "NON"
                for key in ("cible_p95_atteinte", "cible_debit_atteinte")
            )
        lines.append(
            f"  {case['label'][:64]:<64} {case['median_ms']:>6.1f}ms {case['p95_ms']:>6.1f}ms "
            f"{case['rps']:>7.0f} {case['ratio_plancher']:>9.2f}  {targets}"
        )
    lines.append(
        f"  Cibles : p95 < {TARGET_P95_MS} ms (recherche : < {TARGET_SEARCH_P95_MS} ms) et "
        f"débit ≥ {TARGET_RATIO:g} × celui du plancher."
    )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(
        description="Latence et débit des pages servies par gunicorn, à côté d'une vue "
        "triviale (le plancher du framework)."
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="serveur PostgreSQL où créer une base jetable (par défaut : SQLite temporaire)",
    )
    parser.add_argument(
        "--base-existante",
        default=None,
        help="mesurer sur cette base déjà peuplée (démonstration et données synthétiques)",
    )
    parser.add_argument(
        "--echelle", type=float, default=0.01, help="échelle des données synthétiques (0,01)"
    )
    parser.add_argument("--tours", type=int, default=3, help="nombre de tours (3)")
    parser.add_argument(
        "--sequentielles", type=int, default=30, help="requêtes successives par page et tour (30)"
    )
    parser.add_argument(
        "--echauffement",
        type=int,
        default=20,
        help="requêtes d'échauffement concurrentes par page et tour (20, au moins une par client)",
    )
    parser.add_argument(
        "--requetes", type=int, default=60, help="requêtes concurrentes par page et tour (60)"
    )
    parser.add_argument(
        "--clients", type=int, default=None, help="clients concurrents (2 × workers)"
    )
    parser.add_argument("--workers", type=int, default=None, help="workers (2 × cœurs + 1)")
    parser.add_argument("--seulement", nargs="*", help="identifiants des pages à mesurer")
    parser.add_argument("--json", default=None, help="écrire le résultat dans ce fichier JSON")
    args = parser.parse_args()
    # Stopped by a signal, still stop gunicorn and drop the throwaway database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    options = {
        "rounds": args.tours,
        "sequential": args.sequentielles,
        "warmup": args.echauffement,
        "requests": args.requetes,
        "clients": args.clients,
        "workers": args.workers,
        "only": args.seulement,
        "progress": print,
    }
    if args.base_existante:
        result = run(args.base_existante, **options)
    else:
        with (
            tempfile.TemporaryDirectory(prefix="bench-pages-") as workdir,
            throwaway_database(args.database_url, workdir, f"bench_pages_{os.getpid()}") as url,
        ):
            print("Préparation de la base : migrations, démonstration, données synthétiques…")
            manage(url, "migrate", "--noinput", capture=True)
            manage(url, "demo", capture=True)
            generate_scale_data(url, "--scale", str(args.echelle), capture=True)
            result = run(url, **options)
    result["machine"] = machine()
    print(format_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
