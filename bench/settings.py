"""Settings of the benchmarks' servers: the site's own settings, plus one trivial view.

The trivial view (`/banc/plancher/`, in bench/urls.py) goes through the same middleware
as every page and does nothing else: the framework's floor, which page timings are
compared to. Production never loads this module.
"""

from contrat_ville.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
