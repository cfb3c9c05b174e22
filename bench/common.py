"""What the benchmarks share: a throwaway database, the environment of their Django
processes and servers, statistics, the machine's description.

Every benchmark runs against a database of its own, never the development one: a SQLite
file in a temporary folder, or, given a PostgreSQL URL, a database created on that server
(the URL's own database is only used to connect) and dropped at the end.
"""

import contextlib
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable
# For the tests only (tests/bench/conftest.py): a SQLite file migrated once per test session.
# When set, `manage(url, "migrate")` on a new SQLite database copies it instead of migrating
# (15 s of CPU each time). `make bench` never sets it: its databases are always migrated.
MIGRATED_SQLITE = "BANC_SQLITE_MIGREE"


@contextlib.contextmanager
def throwaway_database(url, workdir, name):
    """Yield the URL of a new empty database `name` (PostgreSQL) or `workdir/name.sqlite3`."""
    if not url or url.startswith("sqlite"):
        yield f"sqlite:///{Path(workdir) / (name + '.sqlite3')}"
        return
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def throwaway_run(url, name):
    """A temporary folder and a throwaway database `bench_<name>_<pid>` (see above):
    yields (database URL, folder); both are gone afterwards."""
    with (
        tempfile.TemporaryDirectory(prefix=f"banc-{name}-") as workdir,
        throwaway_database(url, workdir, f"bench_{name}_{os.getpid()}") as database,
    ):
        yield database, Path(workdir)


def engine_of(url):
    return "postgresql" if url.startswith("postgres") else "sqlite"


def django_env(url, debug=True, **extra):
    """Environment of a Django process of the benchmarks on database `url`.

    With debug=False it is the production configuration (DEBUG off), over plain HTTP on
    loopback: no HTTPS redirect, no secure-only cookies (there is no TLS on 127.0.0.1).
    """
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "1" if debug else "0",
        "SECRET_KEY": "banc-d-essai-seulement-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
    }
    env.update({key: str(value) for key, value in extra.items()})
    return env


def manage(url, *arguments, debug=True, capture=False, **extra_env):
    """Run `manage.py <arguments>` on database `url`; raise if it fails."""
    if _copied_migrated_sqlite(url, arguments):
        return subprocess.CompletedProcess([PYTHON, "manage.py", *arguments], 0, "", "")
    return subprocess.run(
        [PYTHON, "manage.py", *arguments],
        cwd=ROOT,
        env=django_env(url, debug=debug, **extra_env),
        check=True,
        capture_output=capture,
        text=True,
    )


def _copied_migrated_sqlite(url, arguments):
    """A full `migrate` of a new SQLite database, with MIGRATED_SQLITE set (the tests):
    the database becomes a copy of that migrated file; True if it was copied."""
    template = os.environ.get(MIGRATED_SQLITE)
    if not template or not url.startswith("sqlite:///") or arguments[:1] != ("migrate",):
        return False
    options = arguments[1:]
    values = {i + 1 for i, option in enumerate(options) if option in ("-v", "--verbosity")}
    if any(not option.startswith("-") for i, option in enumerate(options) if i not in values):
        return False  # an app or a migration named: a real migrate
    path = Path(url.removeprefix("sqlite:///"))
    if path.exists() and path.stat().st_size > 0:
        return False  # a database with content: a real migrate
    shutil.copyfile(template, path)
    return True


def run_child(url, workdir, script, case, params, *, debug=False):
    """Run `case` of the benchmark `script` in a child process on database `url` (its
    `--enfant` mode, with `params` as options); the JSON of its last line of output."""
    command = [
        PYTHON,
        str(Path(script).resolve()),
        "--enfant",
        case,
        "--dossier",
        str(workdir),
        *(f"--{name.replace('_', '-')}={value}" for name, value in params.items()),
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=django_env(url, debug=debug), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"Le cas {case} a échoué :\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def generate_scale_data(url, *arguments, capture=False):
    """Run the synthetic data generator (bench/generate_scale_data.py) on database `url`."""
    return subprocess.run(
        [PYTHON, "-m", "bench.generate_scale_data", *arguments],
        cwd=ROOT,
        env=django_env(url, debug=True),
        check=True,
        capture_output=capture,
        text=True,
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(url, workers=None, threads=1, port=None):
    """A gunicorn of the site (production settings, bench/urls.py) on 127.0.0.1.

    Workers as for this machine: 2 × cores + 1 (gunicorn's advice), unless told. The
    production settings serve static files from a manifest: they are collected first, into
    a temporary STATIC_ROOT. Yields the base URL, e.g. http://127.0.0.1:38211.
    """
    workers = workers or 2 * (os.cpu_count() or 1) + 1
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="banc-static-") as static_root:
        manage(url, "collectstatic", "--no-input", "-v", "0", debug=False, STATIC_ROOT=static_root)
        with _gunicorn(url, workers, threads, port, static_root) as base:
            yield base


@contextlib.contextmanager
def _gunicorn(url, workers, threads, port, static_root):
    command = [
        str(Path(PYTHON).with_name("gunicorn")),
        "bench.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]
    # Connections kept 60 s, as README's production settings advise.
    env = django_env(url, debug=False, STATIC_ROOT=static_root, CONN_MAX_AGE=60)
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_serving(base, process, timeout=60):
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn s'est arrêté au démarrage.")
        try:
            with urllib.request.urlopen(base + "/banc/plancher/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn ne répond pas.")


# Statistics -----------------------------------------------------------------------------------


def median(values):
    return statistics.median(values) if values else None


def percentile(values, fraction):
    """The value under which `fraction` of the values lie (nearest rank)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def peak_rss_mb():
    """Peak resident memory of this process (Linux gives ru_maxrss in kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine():
    """The machine the figures were measured on."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "processeur": cpu,
        "coeurs": os.cpu_count(),
        "memoire_go": round(memory, 1),
        "python": platform.python_version(),
        "systeme": f"{platform.system()} {platform.release()}",
        "charge_moyenne": round(os.getloadavg()[0], 2),
    }
