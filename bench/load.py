"""Load test: gunicorn on loopback, 50 clients for 60 seconds, no error and no lost edit.

    .venv/bin/python bench/load.py [--database-url URL] [--clients 50] [--duree 60]
    .venv/bin/python bench/load.py --database-url URL --base-peuplee      # URL already filled
    .venv/bin/python bench/load.py --database-url URL --base-peuplee --url-site http://127.0.0.1:8000

Standalone, it runs against a throwaway database (a SQLite file in a temporary folder, or
a PostgreSQL database created on the URL's server and dropped at the end), filled with
the migrations and `manage.py demo`. From bench/run.py, `run()` receives a database that
is already filled, which it uses as it is (it only edits difficultés of the two cities).

Two cities. Beside the seed (Montluçon, contract of `manage.py demo`, whose Équipe ville
is the demo account `equipe`), `prepare()` creates a second city when it is missing: its
own contract (`banc-deuxieme-ville`), a published and public edition imported from the
seed's table (`banc-deuxieme-ville-2024`), and its own Équipe ville account `equipe2`
(password `SECOND_CITY_PASSWORD`). Each of the two accounts must edit its city only.

The server is gunicorn with the production settings (bench.common.gunicorn, 2 × cores + 1
workers), or an existing server of 127.0.0.1/localhost (`base_url`, e.g. pytest-django's
live_server). Every client is a thread of this process with its own cookies (its own
session) and an http.client connection, kept alive when the server allows it (gunicorn's
sync workers close each one). Clients send their next request as soon as the previous
answer is read (no think time), so that 50 of them keep the workers busy.

The mix (`MIX`): a fifth of the clients are Équipe ville accounts that save edits of
difficultés of their own city (and read a page of it after some of them), alternating
between the two cities (half each, at least one each); three tenths are partners, signed in
through /connexion/ like a browser (tableau de bord of the indicators with filters,
indicator pages, lists with filters, search); the rest, half, are anonymous visitors of
the public seed diagnostic (its page, pilier and sous-thème pages, the difficultés list
with filters, search). Logins and one first page per client happen before the clock
starts, and are reported apart, as is, for each staff client, one attempt to open the
edit form of a difficulté of the OTHER city, which must be refused (403, counted; any
other answer is an error of the run).

No lost edit. Each staff client owns one difficulté of its city that no one else edits:
it opens the edit form, puts a unique marker in the libellé, saves (the `version` of the
form is sent back, as a browser does), follows the redirect and checks the confirmation.
In each city, a few staff clients (`shared`, from 8 clients on) also edit one difficulté
of the city together, after a short pause on the form (someone typing), so that stale
saves happen: the application must answer them with its French conflict notice (a
correct answer, not an error), and the client reloads the form and saves again. After the
run the database is read (`after_run`): every marker the server acknowledged (a redirect
after the POST) must be in the history (simple_history) with the version it was saved
at, and each difficulté's libellé must hold the acknowledged marker of its highest
version; anything else is a lost edit. And every history row of a difficulté of either
city written during the run must have been written by that city's own Équipe ville
account; a row by any other account is an error of the run. Both are reported per city.

Bounded: the duration, a maximum number of requests, a timeout per request; only
127.0.0.1 and localhost are ever contacted.
"""

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

DIAGNOSTIC = "montlucon-2024"
# The second city: its own contract and published edition, imported from the seed's table,
# and its own Équipe ville account (created by `prepare_second_city` when missing).
SECOND_CITY = {
    "contrat": {
        "nom": "Contrat de ville de la deuxième ville du banc",
        "slug": "banc-deuxieme-ville",
        "territoire": "Deuxième ville du banc",
        "annee_debut": 2024,
        "annee_fin": 2030,
    },
    "diagnostic": {
        "slug": "banc-deuxieme-ville-2024",
        "titre": "Deuxième ville du banc — diagnostic 2024",
        "territoire": "Deuxième ville du banc",
        "annee_debut": 2024,
        "annee_fin": 2030,
        "nom_edition": "Diagnostic initial — 2024",
    },
}
SECOND_CITY_ACCOUNT = "equipe2"
SECOND_CITY_PASSWORD = "equipe2-banc-2024"  # a bench account, like the demo's
ALLOWED_HOSTS = ("127.0.0.1", "localhost")
# Share of each kind of client (at least 2 staff clients, one per city; at least 4 from 8
# clients on, so that two of each city share a difficulté); anonymous visitors are the rest.
MIX = {"equipe": 0.2, "partenaire": 0.3}
SHARED_CLIENTS = 3  # staff clients of a city that also edit one common difficulté of it
MIN_CLIENTS = 4  # an anonymous visitor, a partner, a staff client of each city
TYPING_PAUSE = (0.05, 0.25)  # seconds on the form before saving the common difficulté
MAX_ATTEMPTS = 5  # saves of one edit refused as stale before the client gives up
REQUEST_TIMEOUT = 30  # seconds
MAX_REQUESTS_PER_SECOND = 2_000  # the default request budget: duration × this
ERROR_SAMPLES = 10

CATEGORIES = {
    "anonyme": "Visiteurs anonymes",
    "partenaire": "Partenaires connectés",
    "equipe_lecture": "Équipe ville : lecture",
    "equipe_enregistrement": "Équipe ville : enregistrement",
}
LOGIN_CATEGORY = "connexion"

CONFLICT_NOTICE = "Quelqu’un a modifié cet élément pendant que vous le modifiiez"
SAVED_NOTICE = "La difficulté a été modifiée."
MARKER_RE = re.compile(r"\s*\[banc-charge [^\]]*\]\s*$")


# Preparation and checks, inside Django ------------------------------------------------------
# These functions run in a Django process: a subprocess of this script (`_in_django`), or
# the test process itself (tests/bench/test_bench_load.py, against live_server).


def prepare(slug=DIAGNOSTIC):
    """What the clients need to know about the database, as JSON-ready data.

    The seed diagnostic must exist and be published; it is made public if it is not
    (`manage.py demo` leaves it readable to signed-in accounts only). The demonstration
    accounts `partenaire` and `equipe` must exist with their demonstration passwords, and
    `equipe` must be Équipe ville of the seed's contract. The second city
    (`prepare_second_city`) is created when missing. Each Équipe ville account must edit
    its own city's diagnostic and not the other one.
    """
    from django.contrib.auth import get_user_model

    from comptes.roles import Role
    from diagnostics.access import can_edit, roles_on
    from diagnostics.management.commands.demo import DEMO_ACCOUNTS
    from diagnostics.models import Diagnostic, Difficulte, Pilier, SousTheme, Theme
    from indicateurs.models import Indicateur

    diagnostic = Diagnostic.objects.filter(slug=slug).first()
    if diagnostic is None:
        raise LookupError(f"Le diagnostic « {slug} » n'existe pas : lancez d'abord manage.py demo.")
    if diagnostic.statut != Diagnostic.Statut.PUBLIE:
        raise LookupError(f"Le diagnostic « {slug} » n'est pas publié.")
    made_public = not diagnostic.est_public
    if made_public:
        Diagnostic.objects.filter(pk=diagnostic.pk).update(est_public=True)
    second, second_created = prepare_second_city()

    passwords = {account[0]: account[1] for account in DEMO_ACCOUNTS}
    passwords[SECOND_CITY_ACCOUNT] = SECOND_CITY_PASSWORD
    users = get_user_model().objects.filter(is_active=True, username__in=list(passwords))
    users = {user.username: user for user in users}

    def edits_only(own, other):
        return lambda user: can_edit(user, own) and not can_edit(user, other)

    accounts = {}
    for kind, username, allowed in (
        (
            "partenaire",
            "partenaire",
            lambda user: Role.PARTENAIRE in roles_on(user, diagnostic.contrat_id),
        ),
        ("equipe", "equipe", edits_only(diagnostic, second)),
        (SECOND_CITY_ACCOUNT, SECOND_CITY_ACCOUNT, edits_only(second, diagnostic)),
    ):
        user = users.get(username)
        if user is None or not user.check_password(passwords[username]) or not allowed(user):
            raise LookupError(
                f"Le compte de démonstration « {username} » manque ou n'a pas son mot de "
                "passe ou son rôle de démonstration (l'équipe ville d'une seule des deux "
                "villes) : lancez manage.py demo."
            )
        accounts[kind] = [username, passwords[username]]

    difficultes = Difficulte.objects.du_diagnostic(diagnostic).order_by("pk")
    libelles = list(difficultes.values_list("libelle", flat=True))
    libelles += Indicateur.objects.du_diagnostic(diagnostic).values_list("libelle", flat=True)
    words = Counter(
        word
        for libelle in libelles
        for word in re.findall(r"\w+", MARKER_RE.sub("", libelle).lower())
        if len(word) >= 6 and not word.isdigit()
    )

    def city(edition, account):
        return {
            "territoire": edition.territoire,
            "slug": edition.slug,
            "compte": account,
            "piliers": list(
                Pilier.objects.filter(diagnostic=edition)
                .order_by("numero")
                .values_list("numero", flat=True)
            ),
            "difficultes": list(
                Difficulte.objects.du_diagnostic(edition)
                .order_by("pk")
                .values_list("pk", flat=True)
            ),
        }

    return {
        "slug": slug,
        "made_public": made_public,
        "second_city_created": second_created,
        "accounts": accounts,
        "villes": [city(diagnostic, "equipe"), city(second, SECOND_CITY_ACCOUNT)],
        "piliers": list(
            Pilier.objects.filter(diagnostic=diagnostic)
            .order_by("numero")
            .values_list("numero", "pk")
        ),
        "themes": list(
            Theme.objects.filter(pilier__diagnostic=diagnostic).values_list("pk", flat=True)
        ),
        "sous_themes": list(
            SousTheme.objects.filter(theme__pilier__diagnostic=diagnostic).values_list(
                "pk", flat=True
            )
        ),
        "quartiers": list(diagnostic.quartiers.order_by("code").values_list("code", flat=True)),
        "indicateurs": list(
            Indicateur.objects.du_diagnostic(diagnostic).order_by("pk").values_list("pk", flat=True)
        ),
        "difficultes": list(difficultes.values_list("pk", flat=True)),
        "words": [word for word, _ in words.most_common(12)],
    }


def prepare_second_city():
    """(diagnostic, created): the second city's published and public edition, imported
    from the seed's table into a contract of its own, with its Équipe ville account
    `equipe2` (SECOND_CITY_PASSWORD); created when the edition is missing. Public, so
    that the other city's Équipe ville sees it and is refused its edit form (403), rather
    than not shown it (404). An existing edition is used as it is (made public if needed);
    its account is created, or given back its role, when missing."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from comptes.accounts import create_account
    from comptes.models import Organisation
    from comptes.roles import Role
    from diagnostics.imports import import_source_table
    from diagnostics.management.commands.demo import SOURCE_TABLE
    from diagnostics.membres import add_member
    from diagnostics.models import Contrat, Diagnostic

    with transaction.atomic():
        diagnostic = Diagnostic.objects.filter(slug=SECOND_CITY["diagnostic"]["slug"]).first()
        created = diagnostic is None
        if created:
            contrat = Contrat.objects.filter(slug=SECOND_CITY["contrat"]["slug"]).first()
            if contrat is None:
                contrat = Contrat(**SECOND_CITY["contrat"])
                contrat._change_reason = "Banc d'essai : deuxième ville"
                contrat.save()
            diagnostic = Diagnostic(
                **SECOND_CITY["diagnostic"],
                contrat=contrat,
                statut=Diagnostic.Statut.PUBLIE,
                est_public=True,
            )
            report = import_source_table(
                diagnostic, SOURCE_TABLE.name, SOURCE_TABLE.read_bytes(), dry_run=False
            )
            if not report.ok:
                raise RuntimeError(
                    "L'import du diagnostic de la deuxième ville a échoué : "
                    + " ; ".join(report.as_lines()[:3])
                )
            diagnostic = Diagnostic.objects.get(slug=SECOND_CITY["diagnostic"]["slug"])
        if diagnostic.statut != Diagnostic.Statut.PUBLIE:
            raise LookupError(f"Le diagnostic « {diagnostic.slug} » n'est pas publié.")
        if not diagnostic.est_public:
            Diagnostic.objects.filter(pk=diagnostic.pk).update(est_public=True)
        user = get_user_model().objects.filter(username=SECOND_CITY_ACCOUNT).first()
        if user is None:
            organisation, _ = Organisation.objects.get_or_create(
                nom=SECOND_CITY["contrat"]["territoire"],
                siret="",
                defaults={"nature": Organisation.Nature.COMMUNE},
            )
            user = create_account(
                username=SECOND_CITY_ACCOUNT,
                email=f"{SECOND_CITY_ACCOUNT}@example.org",
                first_name="Équipe",
                last_name=SECOND_CITY["contrat"]["territoire"],
                organisation=organisation,
                password=SECOND_CITY_PASSWORD,
            )
        add_member(diagnostic.contrat, role=Role.EQUIPE_VILLE, compte=user)
    return diagnostic, created


def edit_state(pks, run_id):
    """{pk: {"libelle", "version", "history": [[version, libelle], ...]}} of these
    difficultés; the history keeps the records of this run's markers only."""
    from diagnostics.models import Difficulte

    state = {
        str(pk): {"libelle": libelle, "version": version, "history": []}
        for pk, libelle, version in Difficulte.objects.filter(pk__in=pks).values_list(
            "pk", "libelle", "version"
        )
    }
    records = (
        Difficulte.history.filter(id__in=pks, libelle__contains=f"[banc-charge {run_id} ")
        .order_by("history_id")
        .values_list("id", "version", "libelle")
    )
    for pk, version, libelle in records:
        state.setdefault(str(pk), {"libelle": None, "version": None, "history": []})
        state[str(pk)]["history"].append([version, libelle])
    return state


def authors_since(slugs, since):
    """{slug: {username: rows}}: who wrote the history rows of the difficultés of these
    diagnostics from `since` (seconds since the epoch) on; "" for a row without user."""
    from datetime import UTC, datetime

    from diagnostics.models import Diagnostic, Difficulte

    slug_of = dict(Diagnostic.objects.filter(slug__in=slugs).values_list("pk", "slug"))
    authors = {slug: Counter() for slug in slugs}
    rows = Difficulte.history.filter(
        diagnostic_id__in=list(slug_of),
        history_date__gte=datetime.fromtimestamp(since, tz=UTC),
    ).values_list("diagnostic_id", "history_user__username")
    for diagnostic_id, username in rows:
        authors[slug_of[diagnostic_id]][username or ""] += 1
    return {slug: dict(counter) for slug, counter in authors.items()}


def after_run(pks, run_id, since, slugs):
    """What the checks read in the database after the run: `edit_state(pks, run_id)` and
    `authors_since(slugs, since)`."""
    return {"edits": edit_state(pks, run_id), "authors": authors_since(slugs, since)}


RESULT_PREFIX = "RESULTAT-BANC-CHARGE "


def _in_django(database_url, function, *arguments):
    """Call `function` of this module in a Django process on `database_url`."""
    code = (
        "import json, sys, django\n"
        "django.setup()\n"
        "from bench import load\n"
        "result = getattr(load, sys.argv[1])(*json.loads(sys.argv[2]))\n"
        f"print({RESULT_PREFIX!r} + json.dumps(result))\n"
    )
    completed = subprocess.run(
        [common.PYTHON, "-c", code, function, json.dumps(arguments)],
        cwd=common.ROOT,
        env=common.django_env(database_url),
        capture_output=True,
        text=True,
    )
    if completed.returncode:
        last = completed.stderr.strip().splitlines()[-1:] or ["(aucun message)"]
        raise RuntimeError(f"Échec de {function} dans Django : {last[0]}")
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(f"{function} n'a rien renvoyé.")


# HTTP: one browser-like client ---------------------------------------------------------------


def check_base_url(base_url):
    """(host, port) of an http URL of 127.0.0.1 or localhost; ValueError for anything else."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or parts.hostname not in ALLOWED_HOSTS:
        raise ValueError(
            f"Le test de charge ne s'adresse qu'à http://127.0.0.1 ou http://localhost, "
            f"pas à « {base_url} »."
        )
    if parts.path not in ("", "/") or parts.query:
        raise ValueError(f"Adresse de site attendue sans chemin : « {base_url} ».")
    return parts.hostname, parts.port or 80


class Stop(Exception):
    """The run is over (duration or request budget): the client stops where it is."""


class Budget:
    """The deadline and the number of requests left, shared by the clients."""

    def __init__(self, max_requests):
        self.left = max_requests
        self.deadline = None
        self.lock = threading.Lock()

    def take(self):
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise Stop
        with self.lock:
            if self.left <= 0:
                raise Stop
            self.left -= 1


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def text(self):
        return self.body.decode("utf-8", "replace")


class Browser:
    """Cookies (one session), a connection kept alive when the server allows it, and the
    record of every request: (category, seconds) and the errors."""

    def __init__(self, base_url, budget, timeout=REQUEST_TIMEOUT):
        self.host, self.port = check_base_url(base_url)
        self.origin = f"http://{self.host}:{self.port}"
        self.budget = budget
        self.timeout = timeout
        self.cookies = {}
        self.connection = None
        self.timings = []  # (category, seconds)
        self.errors = []  # dicts
        self.category = None

    # Requests.

    def get(self, path, category, expect=(200,)):
        return self.request("GET", path, category, expect=expect)

    def post(self, path, fields, category, expect):
        body = urlencode(fields, doseq=True).encode()
        return self.request("POST", path, category, body=body, expect=expect)

    def request(self, method, path, category, body=None, expect=(200,)):
        """The reply, or None after an exception (recorded as an error). A reply whose
        status is not expected is recorded as an error too."""
        self.budget.take()
        headers = {"Accept": "text/html", "User-Agent": "banc-charge-contrat-ville"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
            self.close()  # a POST is never resent: a fresh connection, no stale one
        start = time.perf_counter()
        try:
            reply = self._exchange(method, path, body, headers, retry=body is None)
        except (OSError, http.client.HTTPException) as error:
            self.close()
            self.timings.append((category, time.perf_counter() - start))
            self.error(category, method, path, f"{type(error).__name__} : {error}")
            return None
        self.timings.append((category, time.perf_counter() - start))
        self._store_cookies(reply.headers.get_all("Set-Cookie") or [])
        if reply.status not in expect:
            if reply.status >= 500:
                kind = "erreur serveur"
            elif reply.status >= 400:
                kind = "refus inattendu"
            else:
                kind = "statut inattendu"
            location = reply.headers.get("Location")
            detail = f"{kind} {reply.status}" + (f" vers {location}" if location else "")
            self.error(category, method, path, detail)
        elif reply.status == 200 and b"</html>" not in reply.body[-400:]:
            self.error(category, method, path, "page incomplète")
        return reply

    def _exchange(self, method, path, body, headers, retry):
        reused = self.connection is not None and self.connection.sock is not None
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A kept-alive connection the server closed meanwhile: once more, on a new one.
            self.close()
            if not (retry and reused):
                raise
            return self._exchange(method, path, body, headers, retry=False)
        return Reply(response.status, response.msg, data)

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _store_cookies(self, values):
        for value in values:
            jar = SimpleCookie()
            with contextlib.suppress(CookieError):
                jar.load(value)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.coded_value

    def error(self, category, method, path, detail):
        self.errors.append(
            {"categorie": category, "methode": method, "chemin": path, "detail": detail}
        )


class FormParser(HTMLParser):
    """The fields of the forms of a page, as a browser would send them."""

    def __init__(self):
        super().__init__()
        self.forms = []  # [{"attrs": {...}, "fields": [(name, value)]}]
        self.textarea = None  # [name, parts] while inside one
        self.select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": attrs, "fields": []})
            return
        if not self.forms or "name" not in attrs or "disabled" in attrs:
            return
        fields = self.forms[-1]["fields"]
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    fields.append((attrs["name"], attrs.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "textarea":
            self.textarea = [attrs["name"], []]
        elif tag == "select":
            self.select = attrs["name"]
        elif tag == "option" and self.select and "selected" in attrs:
            fields.append((self.select, attrs.get("value", "")))

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self.textarea is not None and self.forms:
            text = "".join(self.textarea[1])
            # The first newline after <textarea> is not part of the value (HTML).
            text = text[1:] if text.startswith("\n") else text
            self.forms[-1]["fields"].append((self.textarea[0], text))
            self.textarea = None
        elif tag == "select":
            self.select = None


def form_with(html, field_name):
    """The fields of the first POST form of the page that has `field_name`, or None."""
    parser = FormParser()
    parser.feed(html)
    parser.close()
    for form in parser.forms:
        names = {name for name, _ in form["fields"]}
        if form["attrs"].get("method", "").lower() == "post" and field_name in names:
            return form["fields"]
    return None


def log_in(browser, username, password):
    """Sign in through /connexion/ like a browser; True when the session is open."""
    page = browser.get("/connexion/", LOGIN_CATEGORY)
    fields = page and form_with(page.text(), "username")
    if fields is None:
        if page is not None:
            browser.error(LOGIN_CATEGORY, "GET", "/connexion/", "formulaire de connexion absent")
        return False
    data = dict(fields, username=username, password=password)
    reply = browser.post("/connexion/", data, LOGIN_CATEGORY, expect=(302,))
    return reply is not None and reply.status == 302 and "sessionid" in browser.cookies


def edit_path(slug, pk):
    return f"/diagnostics/{slug}/difficultes/{pk}/modifier/"


# Clients -----------------------------------------------------------------------------------


@dataclass
class Edit:
    """One save sent: which difficulté, the marker, the version the form carried."""

    pk: int
    marker: str
    version: int
    client: int
    outcome: str = "inconnu"  # "acquitte", "conflit", "inconnu" (no answer), "refuse"


@dataclass
class Client:
    number: int
    kind: str  # anonyme, partenaire, equipe
    browser: Browser
    plan: dict
    run_id: str
    rng: random.Random
    ville: dict | None = None  # staff: its city (plan["villes"]), whose difficultés it edits
    other: dict | None = None  # staff: the other city, whose edit forms it is refused
    owned: int | None = None  # a difficulté only this client edits
    shared: int | None = None  # a difficulté edited by a few staff clients of its city
    refused_elsewhere: bool = False  # the other city's edit form was refused (403)
    edits: list = field(default_factory=list)
    abandoned: int = 0
    counter: int = 0

    # Pages.

    def list_query(self, extra_filter):
        plan, rng = self.plan, self.rng
        query = {"diagnostic": plan["slug"]}
        level = rng.random()
        if level < 0.3:
            query["pilier"] = rng.choice(plan["piliers"])[1]
        elif level < 0.45 and plan["themes"]:
            query["theme"] = rng.choice(plan["themes"])
        elif level < 0.6 and plan["sous_themes"]:
            query["sous_theme"] = rng.choice(plan["sous_themes"])
        if plan["quartiers"] and rng.random() < 0.3:
            query["quartier"] = rng.choice(plan["quartiers"])
        if plan["words"] and rng.random() < 0.3:
            query["q"] = rng.choice(plan["words"])
        if rng.random() < 0.3:
            query[extra_filter] = rng.choice(["oui", "non"])
        return urlencode(query)

    def search_path(self):
        words = self.plan["words"] or ["quartier"]
        query = " ".join(self.rng.sample(words, k=min(len(words), self.rng.choice([1, 1, 2]))))
        return "/recherche/?" + urlencode({"q": query, "diagnostic": self.plan["slug"]})

    def pilier_path(self):
        numero = self.rng.choice(self.plan["piliers"])[0]
        return f"/diagnostics/{self.plan['slug']}/piliers/{numero}/"

    def sous_theme_path(self):
        pk = self.rng.choice(self.plan["sous_themes"])
        return f"/diagnostics/{self.plan['slug']}/sous-themes/{pk}/"

    def anonymous_page(self):
        slug, choice = self.plan["slug"], self.rng.random()
        if choice < 0.15:
            return f"/diagnostics/{slug}/"
        if choice < 0.35:
            return self.pilier_path()
        if choice < 0.55 and self.plan["sous_themes"]:
            return self.sous_theme_path()
        if choice < 0.8:
            return "/difficultes/?" + self.list_query("avec_indicateur")
        return self.search_path()

    def partner_page(self):
        plan, rng = self.plan, self.rng
        slug, choice = plan["slug"], rng.random()
        if choice < 0.3:
            query = {}
            if rng.random() < 0.4:
                query["pilier"] = rng.choice(plan["piliers"])[1]
            if plan["quartiers"] and rng.random() < 0.4:
                query["quartier"] = rng.choice(plan["quartiers"])
            if rng.random() < 0.2:
                query["statut"] = rng.choice(["atteinte", "en_progres", "en_recul", "sans_donnee"])
            suffix = "?" + urlencode(query) if query else ""
            return f"/indicateurs/{slug}/tableau-de-bord/{suffix}"
        if choice < 0.6 and plan["indicateurs"]:
            return f"/indicateurs/{slug}/{rng.choice(plan['indicateurs'])}/"
        if choice < 0.75:
            return "/indicateurs/?" + self.list_query("avec_difficulte")
        if choice < 0.85:
            return "/difficultes/?" + self.list_query("avec_indicateur")
        return self.search_path()

    def staff_page(self):
        """A page of the client's own city's diagnostic."""
        ville, rng = self.ville, self.rng
        slug, choice = ville["slug"], rng.random()
        if choice < 0.4 and ville["piliers"]:
            return f"/diagnostics/{slug}/piliers/{rng.choice(ville['piliers'])}/"
        if choice < 0.7:
            query = {"diagnostic": slug}
            if self.plan["words"] and rng.random() < 0.3:
                query["q"] = rng.choice(self.plan["words"])
            return "/difficultes/?" + urlencode(query)
        if choice < 0.85:
            return f"/diagnostics/{slug}/modifications/"
        return f"/diagnostics/{slug}/"

    def step(self):
        """One action of the client: a page, or for the staff an edit (and sometimes a page)."""
        if self.kind == "anonyme":
            self.browser.get(self.anonymous_page(), "anonyme")
        elif self.kind == "partenaire":
            self.browser.get(self.partner_page(), "partenaire")
        else:
            if self.shared is not None and self.rng.random() < 0.5:
                self.edit(self.shared, shared=True)
            else:
                self.edit(self.owned, shared=False)
            if self.rng.random() < 0.3:
                self.browser.get(self.staff_page(), "equipe_lecture")

    # Edits.

    def new_marker(self):
        self.counter += 1
        return f"[banc-charge {self.run_id} c{self.number:02d}-{self.counter:05d}]"

    def edit(self, pk, shared):
        """Open the edit form, put a new marker in the libellé, save; after a stale save
        (someone saved meanwhile) the form is reloaded and saved again."""
        path = edit_path(self.ville["slug"], pk)
        marker = self.new_marker()
        for _ in range(MAX_ATTEMPTS):
            page = self.browser.get(path, "equipe_lecture")
            if page is None or page.status != 200:
                return
            fields = form_with(page.text(), "libelle")
            if fields is None or "version" not in dict(fields):
                self.browser.error(
                    "equipe_lecture", "GET", path, "formulaire de modification absent"
                )
                return
            if shared:
                time.sleep(self.rng.uniform(*TYPING_PAUSE))
            data = dict(fields)
            data["libelle"] = f"{MARKER_RE.sub('', data['libelle'])} {marker}"
            data["quartiers"] = [value for name, value in fields if name == "quartiers"]
            edit = Edit(pk=pk, marker=marker, version=int(data["version"]), client=self.number)
            reply = self.browser.post(path, data, "equipe_enregistrement", expect=(302, 200))
            self.edits.append(edit)  # sent (at the end of the run, Stop leaves it unsent)
            if reply is None:
                return  # no answer: the outcome stays unknown
            if reply.status == 302:
                edit.outcome = "acquitte"
                self.follow(path, reply)
                return
            if reply.status == 200 and CONFLICT_NOTICE in reply.text():
                edit.outcome = "conflit"
                if not shared:
                    self.browser.error(
                        "equipe_enregistrement",
                        "POST",
                        path,
                        "conflit sur une difficulté non partagée",
                    )
                continue
            edit.outcome = "refuse"
            self.browser.error(
                "equipe_enregistrement",
                "POST",
                path,
                f"enregistrement refusé sans conflit (statut {reply.status})",
            )
            return
        self.abandoned += 1

    def try_the_other_city(self):
        """Open the edit form of a difficulté of the other city: refused (403), counted;
        any other answer is an error of the run."""
        path = edit_path(self.other["slug"], self.other["difficultes"][0])
        reply = self.browser.get(path, LOGIN_CATEGORY, expect=(403,))
        self.refused_elsewhere = reply is not None and reply.status == 403

    def follow(self, path, reply):
        """The page the save redirects to, with its confirmation message."""
        location = reply.headers.get("Location", "")
        target = location.split("#", 1)[0]
        if target.startswith(self.browser.origin):
            target = target[len(self.browser.origin) :]
        if not target.startswith(f"/diagnostics/{self.ville['slug']}/"):
            self.browser.error(
                "equipe_enregistrement", "POST", path, f"redirection vers {location}"
            )
            return
        page = self.browser.get(target, "equipe_lecture")
        if page is not None and page.status == 200 and SAVED_NOTICE not in page.text():
            self.browser.error("equipe_lecture", "GET", target, "message de confirmation absent")


def make_clients(count, base_url, plan, budget, run_id, seed=0):
    """The clients of the mix; staff clients alternate between the two cities and get
    difficultés of their own city."""
    if count < MIN_CLIENTS:
        raise ValueError(
            f"Il faut au moins {MIN_CLIENTS} clients (anonyme, partenaire, équipe ville de "
            "chacune des deux villes)."
        )
    staff = max(4 if count >= 8 else 2, round(count * MIX["equipe"]))
    partners = max(1, round(count * MIX["partenaire"]))
    anonymous = count - staff - partners
    villes = plan["villes"]
    # Staff client i is of city i % 2: per city, its clients, and those sharing a difficulté.
    per_city = [len(range(c, staff, len(villes))) for c in range(len(villes))]
    shared = [min(SHARED_CLIENTS, n) if n >= 2 else 0 for n in per_city]
    for ville, n, s in zip(villes, per_city, shared, strict=True):
        if len(ville["difficultes"]) < n + (1 if s else 0):
            raise ValueError(
                f"Le diagnostic « {ville['slug']} » n'a que {len(ville['difficultes'])} "
                f"difficultés pour {n} clients de l'équipe ville."
            )
    kinds = ["anonyme"] * anonymous + ["partenaire"] * partners + ["equipe"] * staff
    clients = []
    for number, kind in enumerate(kinds):
        client = Client(
            number=number,
            kind=kind,
            browser=Browser(base_url, budget),
            plan=plan,
            run_id=run_id,
            rng=random.Random(f"{seed}-{number}"),
        )
        if kind == "equipe":
            index = number - anonymous - partners
            city, rank = index % len(villes), index // len(villes)
            client.ville, client.other = villes[city], villes[(city + 1) % len(villes)]
            client.owned = client.ville["difficultes"][rank]
            if rank < shared[city]:
                client.shared = client.ville["difficultes"][per_city[city]]
        clients.append(client)
    return clients


# The run ----------------------------------------------------------------------------------


def drive(base_url, plan, clients=50, duration=60, max_requests=None, seed=0):
    """Run the clients against `base_url` and return what they measured (raw)."""
    check_base_url(base_url)
    max_requests = max_requests or max(1_000, int(duration * MAX_REQUESTS_PER_SECOND))
    budget = Budget(max_requests)
    run_id = f"{random.Random().getrandbits(32):08x}"
    population = make_clients(clients, base_url, plan, budget, run_id, seed)
    started_at = time.time()  # the history rows of the run are written from now on
    ready = threading.Barrier(len(population) + 1)
    setup_failures = []

    def work(client):
        try:
            ok = True
            account = client.ville["compte"] if client.ville else client.kind
            if client.kind != "anonyme":
                ok = log_in(client.browser, *plan["accounts"][account])
            if ok:  # one page before the clock starts: the workers' first requests
                slug = client.ville["slug"] if client.ville else plan["slug"]
                client.browser.get(f"/diagnostics/{slug}/", LOGIN_CATEGORY)
                if client.other is not None:
                    client.try_the_other_city()
            else:
                setup_failures.append(client.number)
        except Exception as error:  # reported as an error of the run, never raised
            client.browser.error(LOGIN_CATEGORY, "-", "-", f"{type(error).__name__} : {error}")
            setup_failures.append(client.number)
        ready.wait()
        if client.number in setup_failures:
            return
        try:
            while True:
                client.step()
        except Stop:
            pass
        except Exception as error:  # any failure of the client itself is an error
            client.browser.error("client", "-", "-", f"{type(error).__name__} : {error}")
        finally:
            client.browser.close()

    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in population]
    for thread in threads:
        thread.start()
    ready.wait()
    load_before = os.getloadavg()
    cpu_start, start = common.cpu_seconds(), time.monotonic()
    budget.deadline = start + duration
    try:
        for thread in threads:
            thread.join(timeout=max(0, start + duration + REQUEST_TIMEOUT * 4 - time.monotonic()))
    finally:
        budget.deadline = start  # interrupted: the clients stop at their next request
    elapsed = time.monotonic() - start
    cpu = common.cpu_seconds() - cpu_start
    return {
        "run_id": run_id,
        "started_at": started_at,
        "clients": population,
        "seconds": elapsed,
        "client_cpu_seconds": cpu,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "setup_failures": len(setup_failures),
        "max_requests": max_requests,
        "budget_exhausted": budget.left <= 0,
        "stuck_clients": sum(thread.is_alive() for thread in threads),
    }


def edited_pks(raw):
    return sorted({edit.pk for client in raw["clients"] for edit in client.edits})


def check_edits(raw, state, pks=None):
    """Compare the acknowledged saves with the database (`edit_state()`): the lost edits
    (of the difficultés `pks` only, when given)."""
    by_pk = {}
    for client in raw["clients"]:
        for edit in client.edits:
            if pks is None or edit.pk in pks:
                by_pk.setdefault(edit.pk, []).append(edit)
    lost, problems = 0, []
    for pk, edits in sorted(by_pk.items()):
        row = state.get(str(pk)) or {"libelle": None, "history": []}
        saved = {}
        for version, libelle in row["history"]:
            found = re.search(r"\[banc-charge [^\]]*\]", libelle)
            if found:
                saved.setdefault(found.group(0), set()).add(version)
        acknowledged = [edit for edit in edits if edit.outcome == "acquitte"]
        for edit in acknowledged:
            # Saved from version v, the record of the save carries version v + 1.
            if edit.version + 1 not in saved.get(edit.marker, ()):
                lost += 1
                problems.append(
                    f"difficulté {pk} : {edit.marker} (version {edit.version + 1}) absent "
                    "de l'historique"
                )
        for edit in edits:
            # A save answered by the conflict notice must have written nothing.
            if edit.outcome == "conflit" and edit.version + 1 in saved.get(edit.marker, ()):
                lost += 1
                problems.append(
                    f"difficulté {pk} : {edit.marker} enregistré malgré le conflit annoncé"
                )
        versions = Counter(edit.version for edit in acknowledged)
        for version, number in versions.items():
            if number > 1:
                lost += number - 1
                problems.append(
                    f"difficulté {pk} : {number} enregistrements acquittés depuis la "
                    f"version {version}"
                )
        if acknowledged:
            last = max(acknowledged, key=lambda edit: edit.version)
            unknown_after = [
                e for e in edits if e.outcome == "inconnu" and e.version >= last.version
            ]
            current = row["libelle"] or ""
            if last.marker not in current and not any(e.marker in current for e in unknown_after):
                lost += 1
                problems.append(
                    f"difficulté {pk} : le libellé ne porte pas {last.marker} mais "
                    f"« {current[-60:]} »"
                )
    return {"lost": lost, "problems": problems}


def check_run(raw, plan, after):
    """The checks after the run, from what `after_run()` read: the lost edits (all, and per
    city), and per city the history rows of its difficultés written during the run by any
    account but its own Équipe ville (`outside`: each is an error of the run)."""
    state = after["edits"]
    check = check_edits(raw, state)
    check["villes"], check["outside"] = [], []
    for ville in plan["villes"]:
        own = plan["accounts"][ville["compte"]][0]
        authors = after["authors"].get(ville["slug"], {})
        others = {username: rows for username, rows in authors.items() if username != own}
        for username, rows in sorted(others.items()):
            check["outside"].append(
                {
                    "categorie": "controle",
                    "methode": "-",
                    "chemin": ville["slug"],
                    "detail": f"modification par un compte autre que « {own} » : "
                    f"« {username or 'sans compte'} », {rows} ligne(s) d'historique",
                }
            )
        lost = check_edits(raw, state, set(ville["difficultes"]))
        check["villes"].append(
            {
                "slug": ville["slug"],
                "lost": lost["lost"],
                "authors": authors,
                "outside": sum(others.values()),
            }
        )
    return check


def summarise(raw, check, *, engine=None, workers=None, duration=None, plan=None):
    """The result of the run, JSON-ready: the figures of bench/run.py's contract (`cases`
    with `median_ms`, `p95_ms`, `rps`; `erreurs`, `modifications_perdues`) and the rest."""
    seconds = raw["seconds"]
    timings, errors = {}, []
    for client in raw["clients"]:
        for category, value in client.browser.timings:
            timings.setdefault(category, []).append(value * 1000)
        errors.extend(client.browser.errors)
    errors.extend(check.get("outside", []))
    cases, total = [], []
    for category, label in CATEGORIES.items():
        values = timings.get(category, [])
        total += values
        cases.append(_case(category, label, values, seconds, errors))
    cases.append(_case("total", "Ensemble", total, seconds, errors, all_categories=True))
    login = timings.get(LOGIN_CATEGORY, [])
    cases.append(
        _case(
            LOGIN_CATEGORY,
            "Avant le chronomètre : connexions, premières pages",
            login,
            None,
            errors,
        )
    )
    edits = [edit for client in raw["clients"] for edit in client.edits]
    outcomes = Counter(edit.outcome for edit in edits)
    kinds = Counter(client.kind for client in raw["clients"])
    staff = [client for client in raw["clients"] if client.ville is not None]
    villes = []
    for ville, checked in zip(plan["villes"] if plan else [], check.get("villes", []), strict=True):
        clients = [client for client in staff if client.ville["slug"] == ville["slug"]]
        sent = Counter(edit.outcome for client in clients for edit in client.edits)
        villes.append(
            {
                "territoire": ville["territoire"],
                "slug": ville["slug"],
                "compte": plan["accounts"][ville["compte"]][0],
                "clients": len(clients),
                "clients_partageant_une_difficulte": sum(c.shared is not None for c in clients),
                "enregistrements_envoyes": sum(sent.values()),
                "enregistrements_acquittes": sent["acquitte"],
                "conflits_signales": sent["conflit"],
                "modifications_perdues": checked["lost"],
                "auteurs_pendant_le_test": checked["authors"],
                "modifications_par_un_autre_compte": checked["outside"],
            }
        )
    return {
        "repeats": 1,
        "base": engine,
        "workers": workers,
        "clients": len(raw["clients"]),
        "repartition": {
            "anonyme": kinds["anonyme"],
            "partenaire": kinds["partenaire"],
            "equipe": kinds["equipe"],
            "equipe_partageant_une_difficulte": sum(c.shared is not None for c in raw["clients"]),
        },
        "duree_demandee_s": duration,
        "seconds": round(seconds, 2),
        "requetes": len(total),
        "rps": round(len(total) / seconds, 1) if seconds else None,
        "requetes_max": raw["max_requests"],
        "budget_epuise": raw["budget_exhausted"],
        "erreurs": len(errors),
        "erreurs_par_nature": dict(Counter(e["detail"].split(" :")[0] for e in errors)),
        "premieres_erreurs": errors[:ERROR_SAMPLES],
        "enregistrements_envoyes": len(edits),
        "enregistrements_acquittes": outcomes["acquitte"],
        "conflits_signales": outcomes["conflit"],
        "enregistrements_sans_reponse": outcomes["inconnu"],
        "modifications_abandonnees": sum(c.abandoned for c in raw["clients"]),
        "modifications_perdues": check["lost"],
        "problemes_de_modification": check["problems"][:ERROR_SAMPLES],
        "villes": villes,
        "essais_hors_de_sa_ville": len(staff),
        "refus_hors_de_sa_ville": sum(client.refused_elsewhere for client in staff),
        "modifications_hors_de_sa_ville": sum(ville["outside"] for ville in check["villes"]),
        "cpu_client_s": round(raw["client_cpu_seconds"], 2),
        "cpu_client_pourcent": round(100 * raw["client_cpu_seconds"] / seconds, 1)
        if seconds
        else None,
        "charge_avant": [round(x, 2) for x in raw["load_before"]],
        "charge_apres": [round(x, 2) for x in raw["load_after"]],
        "clients_bloques": raw["stuck_clients"],
        "echecs_de_preparation": raw["setup_failures"],
        "diagnostic_rendu_public": bool(plan and plan.get("made_public")),
        "deuxieme_ville_creee": bool(plan and plan.get("second_city_created")),
        "cases": cases,
    }


def _case(category, label, values, seconds, errors, all_categories=False):
    count = sum(
        1
        for e in errors
        if e["categorie"] == category or (all_categories and e["categorie"] != LOGIN_CATEGORY)
    )
    return {
        "case": f"charge_{category}",
        "label": label,
        "requetes": len(values),
        "rps": round(len(values) / seconds, 1) if seconds else None,
        "erreurs": count,
        "median_ms": _round(common.median(values)),
        "p95_ms": _round(common.percentile(values, 0.95)),
        "max_ms": _round(max(values) if values else None),
    }


def _round(value):
    return None if value is None else round(value, 1)


def run_against(base_url, plan, read_after_run, clients=50, duration=60, max_requests=None, **info):
    """Drive the clients, then check the run with what `read_after_run(pks, run_id, since,
    slugs)` (`after_run()`, in Django) reads in the database."""
    raw = drive(base_url, plan, clients=clients, duration=duration, max_requests=max_requests)
    slugs = [ville["slug"] for ville in plan["villes"]]
    after = read_after_run(edited_pks(raw), raw["run_id"], raw["started_at"], slugs)
    return summarise(raw, check_run(raw, plan, after), duration=duration, plan=plan, **info)


def run(
    database_url,
    clients=50,
    duration=60,
    *,
    base_url=None,
    max_requests=None,
    workers=None,
    slug=DIAGNOSTIC,
):
    """The load test on `database_url`, already filled (the seed and its accounts; the
    second city is added by `prepare` when missing).

    Starts gunicorn on it, unless `base_url` names a server (of 127.0.0.1/localhost) that
    already serves this database. Returns the result dict (see `summarise`).
    """
    if base_url is not None:
        check_base_url(base_url)
    engine = common.engine_of(database_url)
    plan = _in_django(database_url, "prepare", slug)

    def read_after_run(pks, run_id, since, slugs):
        return _in_django(database_url, "after_run", pks, run_id, since, slugs)

    options = {"clients": clients, "duration": duration, "max_requests": max_requests}
    if base_url is not None:
        return run_against(base_url, plan, read_after_run, engine=engine, **options)
    workers = workers or 2 * (os.cpu_count() or 1) + 1
    with common.gunicorn(database_url, workers=workers) as server:
        return run_against(server, plan, read_after_run, engine=engine, workers=workers, **options)


# Output -------------------------------------------------------------------------------------


def _number(value, digits=1):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".replace(",", " ").replace(".", ",")


def format_table(result):
    """The result as a French plain-text table."""
    server = f"gunicorn, {result['workers']} workers" if result.get("workers") else "serveur donné"
    repartition = result["repartition"]
    lines = [
        f"{result['clients']} clients pendant {_number(result['seconds'])} s ({server}, base "
        f"{result.get('base') or '?'}) : {repartition['anonyme']} anonymes, "
        f"{repartition['partenaire']} partenaires, {repartition['equipe']} de l'équipe ville "
        f"(dont {repartition['equipe_partageant_une_difficulte']} sur une difficulté commune)",
        "",
        f"{'catégorie':<52}{'requêtes':>9}{'req/s':>8}{'erreurs':>9}{'médiane ms':>12}"
        f"{'p95 ms':>9}{'max ms':>9}",
    ]
    for case in result["cases"]:
        lines.append(
            f"{case['label']:<52}{case['requetes']:>9}{_number(case['rps']):>8}"
            f"{case['erreurs']:>9}{_number(case['median_ms']):>12}{_number(case['p95_ms']):>9}"
            f"{_number(case['max_ms']):>9}"
        )
    lines += [
        "",
        f"Requêtes : {result['requetes']} ({_number(result['rps'])} par seconde), erreurs : "
        f"{result['erreurs']}.",
        f"Enregistrements : {result['enregistrements_acquittes']} acquittés, "
        f"{result['conflits_signales']} conflits signalés par l'application (formulaire "
        f"rechargé, enregistrement repris), {result['modifications_abandonnees']} abandonnés, "
        f"{result['enregistrements_sans_reponse']} sans réponse ; modifications perdues : "
        f"{result['modifications_perdues']}.",
    ]
    for ville in result["villes"]:
        lines.append(
            f"  {ville['territoire']} ({ville['clients']} clients, compte "
            f"« {ville['compte']} ») : {ville['enregistrements_acquittes']} acquittés, "
            f"{ville['conflits_signales']} conflits signalés ; modifications perdues : "
            f"{ville['modifications_perdues']} ; modifications par un autre compte : "
            f"{ville['modifications_par_un_autre_compte']}."
        )
    lines += [
        f"Formulaire de modification de l'autre ville : {result['refus_hors_de_sa_ville']} "
        f"refus (403) sur {result['essais_hors_de_sa_ville']} essais.",
        f"Processeur du client de charge : {_number(result['cpu_client_s'])} s, soit "
        f"{_number(result['cpu_client_pourcent'], 0)} % d'un cœur.",
        "Charge moyenne de la machine (1, 5, 15 min) : avant "
        + " / ".join(_number(x, 2) for x in result["charge_avant"])
        + ", après "
        + " / ".join(_number(x, 2) for x in result["charge_apres"])
        + ".",
    ]
    if result.get("diagnostic_rendu_public"):
        lines.append(
            "Le diagnostic de démonstration a été rendu public pour les visiteurs anonymes."
        )
    if result.get("deuxieme_ville_creee"):
        lines.append("La deuxième ville du banc a été créée (contrat, édition, compte).")
    if result.get("budget_epuise"):
        lines.append(f"Arrêt au plafond de {result['requetes_max']} requêtes.")
    if result["erreurs"]:
        lines.append("Premières erreurs :")
        lines += [
            f"  {e['categorie']} {e['methode']} {e['chemin']} : {e['detail']}"
            for e in result["premieres_erreurs"]
        ]
    if result["problemes_de_modification"]:
        lines.append("Modifications perdues :")
        lines += [f"  {problem}" for problem in result["problemes_de_modification"]]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=None,
        help="serveur PostgreSQL (une base jetable y est créée) ; sans elle, SQLite temporaire",
    )
    parser.add_argument("--clients", type=int, default=50, help="clients simultanés (défaut 50)")
    parser.add_argument("--duree", type=float, default=60, help="durée en secondes (défaut 60)")
    parser.add_argument(
        "--requetes-max", type=int, default=None, help="plafond du nombre de requêtes"
    )
    parser.add_argument(
        "--base-peuplee",
        action="store_true",
        help="utiliser la base de --database-url telle quelle (déjà migrée, avec manage.py demo)",
    )
    parser.add_argument(
        "--url-site",
        default=None,
        help="serveur existant à charger (http://127.0.0.1:PORT) sur la base de --database-url",
    )
    parser.add_argument("--json", default=None, help="écrire aussi le résultat dans ce fichier")
    args = parser.parse_args(argv)
    # Stopped by a signal: still stop gunicorn and drop the throwaway database (finally).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if args.clients < MIN_CLIENTS:
        parser.error(f"il faut au moins {MIN_CLIENTS} clients.")
    if args.duree <= 0:
        parser.error("la durée doit être positive.")
    if args.url_site:
        try:
            check_base_url(args.url_site)
        except ValueError as error:
            parser.error(str(error))
    if (args.base_peuplee or args.url_site) and not args.database_url:
        parser.error("--base-peuplee et --url-site demandent --database-url.")
    options = {
        "clients": args.clients,
        "duration": args.duree,
        "max_requests": args.requetes_max,
        "base_url": args.url_site,
    }
    if args.base_peuplee or args.url_site:
        result = run(args.database_url, **options)
    else:
        with tempfile.TemporaryDirectory(prefix="banc-charge-") as workdir:
            name = f"banc_charge_{os.getpid()}"
            with common.throwaway_database(args.database_url, workdir, name) as url:
                print(
                    f"Base jetable : {common.engine_of(url)} ; migrations et démonstration…",
                    flush=True,
                )
                common.manage(url, "migrate", "--no-input", "-v", "0")
                common.manage(url, "demo", capture=True)
                result = run(url, **options)
    result["machine"] = common.machine()
    print(format_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0 if result["erreurs"] == 0 and result["modifications_perdues"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
