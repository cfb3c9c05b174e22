"""The admin of the national administrator in a real browser, at 1280 and 375 px: axe-core
finds no violation (WCAG 2.1 A and AA, and the size of targets of WCAG 2.2) on the pages
they use, and the Content Security Policy blocks nothing (a console error fails the test,
tests/browser/conftest.py). Overrides: templates/admin/, static/css/admin.css,
static/js/admin.js."""

import re

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from comptes.models import Organisation
from comptes.roles import Role
from tests.browser import AXE_TAGS, assert_accessible, login
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

# The rules of the site's pages, and the size of targets (24 px), which Django's stock
# lists fail (WCAG 2.2, 2.5.8).
ADMIN_TAGS = [*AXE_TAGS, "wcag22aa"]


def import_export_urls():
    """The import and export screens of every model of the admin that has them."""
    urls = []
    for model in admin.site._registry:
        opts = model._meta
        for action in ("import", "export"):
            try:
                urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}"))
            except NoReverseMatch:
                continue
    return urls


def national_admin_urls(national, contrat):
    """The pages the national administrator uses: the index; the accounts (list, change,
    add); the organisations and the contracts (list, change, with the memberships inline);
    the import and export screens."""
    organisation = Organisation.objects.order_by("pk").first()
    return [
        reverse("admin:index"),
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_user_change", args=[national.pk]),
        reverse("admin:auth_user_add"),
        reverse("admin:comptes_organisation_changelist"),
        reverse("admin:comptes_organisation_change", args=[organisation.pk]),
        reverse("admin:diagnostics_contrat_changelist"),
        reverse("admin:diagnostics_contrat_change", args=[contrat.pk]),
        *import_export_urls(),
    ]


@pytest.fixture
def national(montlucon):
    UserFactory(username="claire.martin", role=Role.PARTENAIRE, contrat=montlucon.contrat)
    UserFactory(username="paul.equipe", role=Role.EQUIPE_VILLE, contrat=montlucon.contrat)
    return UserFactory(username="national", is_superuser=True, is_staff=True)


@pytest.mark.parametrize("width", [1280, 375])
def test_the_national_admin_pages_pass_axe_without_csp_error(
    page, montlucon, national, width, browser_errors
):
    urls = national_admin_urls(national, montlucon.contrat)
    assert len(import_export_urls()) >= 2  # some import and some export screens
    login(page, national)
    page.set_viewport_size({"width": width, "height": 900})

    failures = []
    for url in urls:
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("load")
        try:
            # preload=False: axe's re-parsing of forms.css's @import would log a CSP
            # error of its own; the page's own errors are still caught.
            assert_accessible(page, ADMIN_TAGS, preload=False)
        except pytest.fail.Exception as failure:  # every page's report, not the first only
            failures.append(str(failure))
    assert not failures, "\n".join(failures)


def test_the_export_screen_selects_and_unselects_every_field(page, montlucon, national):
    login(page, national)
    page.goto(reverse("admin:diagnostics_difficulte_export"))
    toggle = page.get_by_label("Tout sélectionner")
    fields = page.locator('.selectable-field-export-row input[type="checkbox"]')
    assert fields.count() >= 2

    toggle.uncheck()
    assert all(not box.is_checked() for box in fields.all())
    toggle.check()
    assert all(box.is_checked() for box in fields.all())


def test_the_autocomplete_of_an_organisation_is_named_by_its_label(page, montlucon, national):
    login(page, national)
    page.goto(reverse("admin:auth_user_add"))

    combobox = page.locator('.field-organisation [role="combobox"]')
    assert page.get_by_role("combobox", name="Organisation").count() == 1, combobox.get_attribute(
        "aria-labelledby"
    )


def test_the_national_admin_pages_hold_no_inline_style_or_handler(client, montlucon, national):
    """What the CSP would block, in the HTML itself: style="", <style>, on…="" handlers."""
    client.force_login(national)
    for url in national_admin_urls(national, montlucon.contrat):
        page = client.get(url).content.decode()
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", page), url
