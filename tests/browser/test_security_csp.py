"""The Content Security Policy in a real browser: a violation fails the test (the console
error is caught by tests/browser/conftest.py), and the admin's pages keep to the policy."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from comptes.models import EchecConnexion
from tests.browser import login
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_a_policy_violation_is_caught_as_a_browser_error(page, live_server, browser_errors):
    page.goto(reverse("accessibilite"))

    with page.expect_console_message(lambda message: "inline style" in message.text):
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.injecte = true";
                document.body.append(script);
                const div = document.createElement("div");
                div.setAttribute("style", "color: red");
                document.body.append(div);
            }"""
        )

    assert page.evaluate("() => window.injecte") is None  # the inline script never ran
    violations = [error for error in browser_errors if "Content Security Policy" in error]
    assert len(violations) == 2, browser_errors
    browser_errors.clear()  # the harness would fail this test otherwise, as it should


def admin_pages(user):
    """The admin's index, and for every model: its list, its add form, one change form and
    its history, those that this user may open."""
    request = RequestFactory().get("/admin/")
    request.user = user
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        if not model_admin.has_view_or_change_permission(request):
            continue
        urls.append(reverse(f"{prefix}_changelist"))
        if model_admin.has_add_permission(request):
            urls.append(reverse(f"{prefix}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"{prefix}_change", args=[first.pk]))
            urls.append(reverse(f"{prefix}_history", args=[first.pk]))
    return urls


def test_the_admin_pages_keep_to_the_policy(page, montlucon, browser_errors):
    EchecConnexion.objects.create(identifiant="claire.martin", adresse_ip="203.0.113.10")
    administrateur = UserFactory(is_superuser=True)  # the admin is the national admin's
    login(page, administrateur)

    visited = []
    for url in admin_pages(administrateur):
        response = page.goto(url)
        visited.append((url, response.status))
    # Autocomplete widgets (select2) build their lists in the page.
    difficulte = montlucon.piliers.first().themes.first().sous_themes.first().difficultes.first()
    page.goto(reverse("admin:diagnostics_difficulte_change", args=[difficulte.pk]))
    page.locator(".select2-selection").first.click()
    page.locator(".select2-results__option").first.wait_for()

    assert len(visited) > 20
    assert all(status == 200 for _, status in visited), visited
    assert not browser_errors, browser_errors
