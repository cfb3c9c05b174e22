"""Fixtures of the browser tests: one Chromium per session, a fresh context per test.

Prerequisites: Debian's Chromium at /usr/bin/chromium and axe-core from npm
(`make browser-deps`). Without them the tests are skipped, except in CI (CI=true)
where they fail, so that CI can never silently skip them.
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections

from comptes.roles import Role
from diagnostics.models import Diagnostic, Difficulte, Quartier
from indicateurs.models import Indicateur
from tests.browser import AXE_PATH, ROOT
from tests.factories import UserFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these, Chromium's own background connections are refused by a closed
    # network and the browser stalls.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


def _in_ci():
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "non"}


def _require(condition, reason):
    if condition:
        return
    if _in_ci():
        pytest.fail(f"{reason} (CI=true : les tests du navigateur ne sont jamais ignorés en CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    _require(
        CHROMIUM.exists(),
        f"Chromium absent ({CHROMIUM}) : apt-get install chromium / Chromium is not installed",
    )
    _require(
        AXE_PATH.exists(),
        f"axe-core absent ({AXE_PATH.relative_to(ROOT)}) : lancez `make browser-deps`"
        " / axe-core is not installed",
    )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread, and Django
    # refuses ORM calls from a thread with a running loop (SynchronousOnlyOperation).
    # The tests are plain synchronous code, so the check is a false alarm here; it is
    # lifted for the browser session only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # With that loop marked running, Django would also open a second, per-context
    # connection to the test database for the test code, without the test database's
    # state (the serialized rollback contents): keep using this thread's connections.
    thread_connections = {alias: connections[alias] for alias in connections}
    try:
        with sync_playwright() as playwright:
            for alias, connection in thread_connections.items():
                connections[alias] = connection
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _give_every_test_the_database(transactional_db, django_db_serialized_rollback):
    """Overrides tests/conftest.py: the live server answers from another thread, so the
    test data must be committed (transactional_db), and Django empties every table after
    each test, the data written by the migrations included. Serialized rollback puts
    back, before each test, what the database held when the session started."""


@pytest.fixture(scope="module", autouse=True)
def _leave_the_database_as_found(django_db_blocker):
    """After the last test of a module, put the migrations' data back once more: the
    tests that follow, and the next run with --reuse-db, expect that data to exist."""
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            if hasattr(connection, "_test_serialized_contents"):
                connection.creation.deserialize_db_from_string(connection._test_serialized_contents)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """A real password hash takes a quarter of a second; each test hashes twice (the user's
    creation, the login form). The live server thread reads the same settings."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def browser_errors():
    """Console errors and uncaught exceptions of the test's pages (checked after the test)."""
    return []


@pytest.fixture
def page(browser, live_server, browser_errors):
    context = browser.new_context(
        base_url=live_server.url,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and browser_errors.append(f"console : {message.text} ({message.location['url']})")
        ),
    )
    page.on("pageerror", lambda error: browser_errors.append(f"exception : {error} ({page.url})"))
    yield page
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test whose pages logged a console error or threw an exception fails."""
    result = yield
    errors = item.funcargs.get("browser_errors")
    if errors:
        pytest.fail("Erreurs JavaScript dans le navigateur :\n" + "\n".join(errors), pytrace=False)
    return result


# Data ------------------------------------------------------------------------------------


@pytest.fixture
def montlucon(montlucon):
    """Montluçon's real diagnostic (tests/conftest.py imports the seed table), published,
    with its three QPV and a few items tagged with them, so that the quartier filter finds
    something."""
    call_command("loaddata", ROOT / "fixtures" / "quartiers-montlucon.json", verbosity=0)
    assert montlucon.statut == Diagnostic.Statut.PUBLIE
    montlucon.quartiers.set(Quartier.objects.all())
    quartiers = {quartier.code: quartier for quartier in Quartier.objects.all()}
    for model, start, codes in TAGS:
        item = model.objects.du_diagnostic(montlucon).get(libelle__startswith=start)
        item.quartiers.set([quartiers[code] for code in codes])
    return montlucon


# (model, start of the libellé, QPV codes)
RIVE_GAUCHE, FONTBOUILLANT, BIEN_ASSIS = "QN00304M", "QN00305M", "QN00306M"
TAGS = [
    (Difficulte, "Montée des conduites addictives", [RIVE_GAUCHE]),
    (Difficulte, "Désengagement des jeunes", [RIVE_GAUCHE, BIEN_ASSIS]),
    (Difficulte, "La mobilité est un des premiers freins", [FONTBOUILLANT]),
    (Indicateur, "Nombre de personne sans permis", [RIVE_GAUCHE]),
]


@pytest.fixture
def partenaire(contrat):
    """Claire Martin, Partenaire of the contract (Montluçon's unless a module overrides
    `contrat`, tests/conftest.py)."""
    return UserFactory(
        username="claire.martin",
        first_name="Claire",
        last_name="Martin",
        role=Role.PARTENAIRE,
        contrat=contrat,
    )
