"""Security headers and the Content Security Policy on every response of the site."""

import re
from pathlib import Path

import pytest
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpResponse
from django.template import RequestContext, Template
from django.test import RequestFactory
from django.urls import reverse

from comptes.roles import Role
from tests.factories import DiagnosticFactory, UserFactory

ROOT = Path(settings.BASE_DIR)


def directives(response):
    """The response's Content-Security-Policy as {directive: [sources]}."""
    policy = response["Content-Security-Policy"]
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/", 200),  # the home presents the site, even with nothing public
        ("/connexion/", 200),
        ("/accessibilite/", 200),
        ("/nulle-part/", 404),
        ("/admin/login/", 302),  # to the site's login (comptes.admin_site)
        ("/diagnostics/inconnu/", 302),
    ],
)
def test_every_response_carries_the_security_headers(client, url, status):
    response = client.get(url)

    assert response.status_code == status
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert directives(response)["default-src"] == ["'self'"]


def test_a_signed_in_page_carries_them_too(client):
    diagnostic = DiagnosticFactory()
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=diagnostic.contrat))

    response = client.get(diagnostic.get_absolute_url())

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response


def test_the_policy_allows_only_the_sites_own_files_and_no_inline_code(client):
    response = client.get(reverse("login"))
    policy = directives(response)

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # a nonce only on pages that use one
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in response["Content-Security-Policy"]


def test_an_inline_script_runs_only_with_the_requests_nonce():
    """The way to write an inline script if one is ever needed: nonce="{{ CSP_NONCE }}"."""
    request = RequestFactory().get("/")
    middleware = CSPMiddleware(lambda request: HttpResponse())
    middleware.process_request(request)
    html = Template('<script nonce="{{ CSP_NONCE }}">/* … */</script>').render(
        RequestContext(request)
    )
    response = middleware.process_response(request, HttpResponse(html))

    nonce = re.search(r'nonce="([^"]+)"', html).group(1)
    assert len(nonce) >= 22
    assert directives(response)["script-src"] == ["'self'", f"'nonce-{nonce}'"]


def templates():
    return sorted((ROOT / "templates").rglob("*.html"))


INLINE_CODE = {
    "script inline (sans src)": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "balise <style>": re.compile(r"<style\b", re.IGNORECASE),
    "attribut style=": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "gestionnaire d'événement on…=": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "lien javascript:": re.compile(r"javascript:", re.IGNORECASE),
}


@pytest.mark.parametrize("template", templates(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_template_holds_inline_script_or_style(template):
    """The policy would block them: every script and style is a file under static/."""
    text = template.read_text(encoding="utf-8")
    found = [kind for kind, pattern in INLINE_CODE.items() if pattern.search(text)]
    assert not found, f"{template.relative_to(ROOT)} : {', '.join(found)}"


@pytest.mark.parametrize(
    "script", sorted((ROOT / "static").rglob("*.js")), ids=lambda path: path.name
)
def test_no_script_evaluates_strings(script):
    """No 'unsafe-eval' in the policy: eval, new Function and string timers would fail."""
    text = script.read_text(encoding="utf-8")
    assert not re.search(
        r"\beval\s*\(|new\s+Function\s*\(|set(Timeout|Interval)\s*\(\s*['\"`]", text
    )
