"""Production, as the README's « Mise en production » says: `manage.py check --deploy`
finds nothing with DEBUG off, and `make serve` (gunicorn + WhiteNoise on loopback, behind
a reverse proxy that terminates TLS) answers pages and static files with every security
header. Both run in subprocesses with the production environment."""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
STARTUP_TIMEOUT = 60  # seconds for migrate, collectstatic and gunicorn's start


def production_env(tmp_path, **extra):
    """The environment of a production server: no DEBUG, a real secret key, the host
    names served, a reverse proxy in front; its own database and static files folder, and
    its own home directory (where gunicorn would put its default control socket)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "DATABASE_URL", "XDG_RUNTIME_DIR"))
    }
    (tmp_path / "home").mkdir(exist_ok=True)
    env.update(
        HOME=str(tmp_path / "home"),
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="diagnostic.example.fr,127.0.0.1",
        REVERSE_PROXY="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'production.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    env.update(extra)
    return env


def test_check_deploy_reports_nothing_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_when_https_is_switched_off(tmp_path):
    """The switches exist for a proxy that redirects itself; check --deploy says so."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path, SECURE_SSL_REDIRECT="0"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_make_serve_installs_only_the_production_requirements(tmp_path):
    """In a fresh virtual environment, `make serve` installs requirements.txt, not the
    test and quality tools of requirements-dev.txt (dry run: nothing is executed)."""
    result = subprocess.run(
        ["make", "--no-print-directory", "--dry-run", "serve", f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    installs = [line for line in result.stdout.splitlines() if "pip install" in line]
    assert installs and all(line.endswith("-r requirements.txt") for line in installs), installs
    assert "requirements-dev.txt" not in result.stdout


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url, headers=None):
    """(status, headers, body) of a GET, redirects not followed."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(
        url, headers={"Host": "diagnostic.example.fr", **(headers or {})}
    )
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def production_server(tmp_path):
    """`make serve` on a free loopback port; its base URL. Stopped after the test."""
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed-production",  # the test's environment is installed already
            "serve",
            f"BIN={Path(sys.executable).parent}",
            "HOST=127.0.0.1",
            f"PORT={port}",
            "WORKERS=1",
        ],
        cwd=ROOT,
        env=production_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"make serve s'est arrêté :\n{log.read()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"gunicorn ne répond pas après {STARTUP_TIMEOUT} s :\n{log.read()}")
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


HTTPS = {"X-Forwarded-Proto": "https"}


def assert_security_headers(headers):
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")


def test_make_serve_answers_over_the_proxy_with_every_security_header(production_server):
    # Plain HTTP straight to gunicorn is sent to HTTPS.
    status, headers, _ = fetch(production_server + "/")
    assert status == 301
    assert headers["Location"] == "https://diagnostic.example.fr/"

    # Through the proxy (X-Forwarded-Proto: https): an empty site presents itself, a page
    # for members sends visitors to the login page; the accessibility statement is for
    # everyone.
    status, headers, body = fetch(production_server + "/", HTTPS)
    assert status == 200
    assert "Se connecter" in body.decode()
    status, headers, _ = fetch(production_server + "/imports/", HTTPS)
    assert (status, headers["Location"]) == (302, "/connexion/?next=/imports/")
    status, headers, body = fetch(production_server + "/accessibilite/", HTTPS)
    assert status == 200
    assert_security_headers(headers)
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    page = body.decode()
    assert "Déclaration d’accessibilité" in page
    assert "Traceback" not in page

    # The login page sets its CSRF cookie secure and out of scripts' reach.
    status, headers, _ = fetch(production_server + "/connexion/", HTTPS)
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("csrftoken=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie

    # Static files: collected under hashed names, served by WhiteNoise, cached for ever.
    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page).group(1)
    status, headers, body = fetch(production_server + stylesheet, HTTPS)
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert "immutable" in headers["Cache-Control"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert b".conteneur" in body

    # An unknown address is the site's French 404, with the same headers, no debug page.
    status, headers, body = fetch(production_server + "/nulle-part/", HTTPS)
    assert status == 404
    assert_security_headers(headers)
    assert "Content-Security-Policy" in headers
    assert "Page introuvable" in body.decode()


def raw_request(base, head, body=b"", timeout=10):
    """Send a request's head and the start of its body; (status, response) as text."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    text = received.decode(errors="replace")
    status = int(text.split(" ", 2)[1]) if text.startswith("HTTP/") else None
    return status, text


def test_make_serve_refuses_a_huge_body_unread_and_keeps_no_shared_control_socket(
    production_server, tmp_path
):
    # A gigabyte announced to the login page, anonymously: refused at once, from its
    # Content-Length alone, while the body has barely started (nothing waits for the rest).
    head = (
        "POST /connexion/ HTTP/1.1\r\n"
        "Host: diagnostic.example.fr\r\n"
        "X-Forwarded-Proto: https\r\n"
        "Content-Type: multipart/form-data; boundary=limite\r\n"
        f"Content-Length: {1024**3}\r\n"
        "Connection: close\r\n"
    )
    body = b'--limite\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\n'
    started = time.monotonic()
    status, response = raw_request(production_server, head, body + b"x" * 65536)
    assert status == 413, response[:2000]
    assert time.monotonic() - started < 5
    assert "Requête trop volumineuse" in response
    assert "Traceback" not in response

    # The site still answers (the worker was not tied up).
    status, _, _ = fetch(production_server + "/accessibilite/", HTTPS)
    assert status == 200

    # No control socket in the home directory, where a second instance would take it over.
    home = tmp_path / "home"
    assert not (home / ".gunicorn").exists(), list((home / ".gunicorn").iterdir())
