"""Time and memory to refuse each file of the hostile corpus
(tests/diagnostics/imports/test_hostile_files.py).

    .venv/bin/python bench/hostile_files.py

Each file goes through `import_source_table` (a new, unsaved diagnostic: nothing is
written) in a forked child process, which reports its wall time, the peak of Python
allocations (tracemalloc) and how much its resident memory grew (peak RSS minus the RSS
it started with). Measured on the development machine (2 cores), Python 3.11, with the
default limits (the cases about rows, cell length and file size lower theirs):

    cas                        taille     temps  pic Python  RSS en plus  refusé
    bombe (→ 3 Gio)           3.19 Mo   0.184 s      0.2 Mo       2.7 Mo  oui
    bombe-superposee (2,5 Gio) 0.07 Mo  0.148 s      0.2 Mo       1.7 Mo  oui
    taux-de-compression       0.01 Mo   0.178 s      0.2 Mo       1.7 Mo  oui
    taille-mensongere (1 Gio) 1.06 Mo   0.068 s      4.3 Mo       3.5 Mo  oui
    milliard-de-rires         0.00 Mo   0.152 s      0.2 Mo       1.4 Mo  oui
    entite-externe            0.00 Mo   0.131 s      0.2 Mo       1.4 Mo  oui
    fusion-geante (A1:XFD1048576) 0.00 Mo 0.030 s    0.1 Mo       1.0 Mo  oui
    trop-de-parties           0.13 Mo   0.420 s      0.5 Mo       1.3 Mo  oui
    trop-de-lignes-xlsx       0.01 Mo   0.062 s      0.1 Mo       0.9 Mo  oui
    trop-de-lignes-csv        0.00 Mo   0.243 s      0.1 Mo       1.6 Mo  oui
    cellule-trop-longue       0.00 Mo   0.402 s      0.2 Mo       1.7 Mo  oui
    pdf, zip, docx renommés   0.00 Mo  ≤0.153 s      0.1 Mo       1.6 Mo  oui
    octets-nuls               0.00 Mo   0.044 s      0.0 Mo       1.4 Mo  oui
    trop-gros                 0.06 Mo   0.155 s      0.2 Mo       1.7 Mo  oui

The times include the first use of each code path in the process (imports, the
database connection); the refusals themselves take milliseconds.
"""

import multiprocessing
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contrat_ville.settings")


def rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(case, queue):
    from django.conf import settings

    from diagnostics.imports import import_source_table
    from diagnostics.models import Diagnostic

    _, filename, builder, message, limits = case
    for name, value in limits.items():
        setattr(settings, name, value)
    content = builder()
    start_rss = rss_bytes()
    tracemalloc.start()
    start = time.perf_counter()
    report = import_source_table(Diagnostic(), filename, content)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - start_rss
    refused = not report.ok and message in " ".join(text for _, text in report.errors)
    queue.put((len(content), elapsed, peak, max(grown, 0), refused))


def main():
    import django

    django.setup()
    from tests.diagnostics.imports.test_hostile_files import CORPUS

    context = multiprocessing.get_context("fork")
    header = f"{'cas':<22} {'taille':>10} {'temps':>9} {'pic Python':>11} {'RSS en plus':>12}"
    print(f"{header}  refusé")
    for case in CORPUS:
        queue = context.Queue()
        child = context.Process(target=measure, args=(case, queue))
        child.start()
        size, elapsed, peak, grown, refused = queue.get()
        child.join()
        print(
            f"{case[0]:<22} {size / 1e6:>8.2f} Mo {elapsed:>7.3f} s {peak / 1e6:>8.1f} Mo "
            f"{grown / 1e6:>9.1f} Mo  {'oui' if refused else 'NON'}"
        )


if __name__ == "__main__":
    main()
