# contrat_ville — every task of the project is a make target.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PRODUCTION_STAMP := $(VENV)/.installed-production
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 3
# gunicorn ends a worker silent for TIMEOUT seconds (a request whose body trickles in, or
# that never ends); CONTROL_SOCKET: a path for gunicornc, one per instance (none if empty).
TIMEOUT ?= 60
CONTROL_SOCKET ?=
# The test suite runs on this many processes (pytest-xdist; "auto": one per core).
TEST_WORKERS ?= auto
CHECK_PYTHON := $(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est requis.")'

.PHONY: install install-production run serve test bench quality format browser-deps clean

install: $(STAMP)

# Re-installs only when a lock file changed since the last install.
$(STAMP): requirements.txt requirements-dev.txt
	@$(CHECK_PYTHON)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

# Production: the site's requirements only, without the test and quality tools.
install-production: $(PRODUCTION_STAMP)

$(PRODUCTION_STAMP): requirements.txt
	@$(CHECK_PYTHON)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(PRODUCTION_STAMP)

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py demo --adresse http://$(HOST):$(PORT)/
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production (README, « Mise en production ») : gunicorn serves the site and, through
# WhiteNoise, its static files, on $(HOST):$(PORT) (loopback) behind a reverse proxy.
# Needs SECRET_KEY and ALLOWED_HOSTS in the environment (and DATABASE_URL, REVERSE_PROXY=1).
# Each instance its own control socket, or none: never gunicorn's default one in $HOME,
# which a second instance would take over and remove when it stops.
serve: export DEBUG = 0
serve: install-production
	$(BIN)/python manage.py check --deploy
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	exec $(BIN)/gunicorn contrat_ville.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--timeout $(TIMEOUT) --graceful-timeout 30 \
		$(if $(CONTROL_SOCKET),--control-socket $(CONTROL_SOCKET),--no-control-socket) \
		--access-logfile - --forwarded-allow-ips 127.0.0.1,::1

# axe-core for the accessibility checks of the browser tests (needs npm; skipped without it).
browser-deps:
	@if command -v npm >/dev/null 2>&1; then \
		test -f node_modules/axe-core/axe.min.js || npm ci --no-audit --no-fund --silent; \
	else echo "npm absent : les tests d'accessibilité dans le navigateur seront ignorés."; fi

# The layers first (import-linter, contracts in pyproject.toml), then the whole suite, on
# TEST_WORKERS processes, each with its own test database; an idle process takes tests
# from a busy one (worksteal): the long browser and document tests do not end the run alone.
test: install browser-deps
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

# Benchmarks (README, « Performances ») : on PostgreSQL when DATABASE_URL is set, else
# SQLite, always in throwaway databases. Options: BENCH_ARGS="--echelle 1 --parties pages".
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

quality: install
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules db.sqlite3 .pytest_cache
