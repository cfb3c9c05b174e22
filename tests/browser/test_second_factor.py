"""The second factor in a real browser: an Administrateur sets up an authenticator at
their first password login (the test plays the app: it reads the key the page gives and
computes the codes), receives recovery codes, then signs in again with a code. The
activation and code pages pass axe-core."""

import re
from base64 import b32decode

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from comptes.roles import Role
from comptes.second_factor import new_recovery_codes
from tests.browser import assert_accessible, screenshot
from tests.browser.second_factor import asks_second_factor, pass_second_factor
from tests.factories import PASSWORD, DiagnosticFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def administrateur():
    return UserFactory(
        username="paul.martin",
        first_name="Paul",
        last_name="Martin",
        role=Role.ADMINISTRATEUR,
        contrat=DiagnosticFactory().contrat,
    )


@pytest.fixture(autouse=True)
def _no_device_delay(settings):
    """django-otp makes a device wait a second after a wrong code, longer than this test
    takes to type the right one (the live server reads the same settings)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def code(key, steps=0):
    """What an authenticator app shows for this key (`steps` periods later)."""
    return f"{totp(key, drift=steps):06d}"


def sign_in_with_password(page, user):
    page.goto(reverse("login"))
    form = page.locator("main form").filter(has=page.locator("input[name=password]"))
    form.locator("input[name=username]").fill(user.get_username())
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("[type=submit]").click()


def test_an_administrateur_sets_up_the_second_factor_and_signs_in_with_it(page, administrateur):
    sign_in_with_password(page, administrateur)

    # Setting up the authenticator: not signed in yet.
    assert page.url.endswith(reverse("second_factor_activation"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Configurer le second facteur")
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    expect(page.get_by_role("link", name="Se connecter")).to_be_visible()
    screenshot(page, "second-facteur-activation")
    assert_accessible(page)

    shown = page.locator("#cle-secrete").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", shown), shown
    secret = shown.replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))

    page.get_by_label("Code à 6 chiffres affiché par votre application").fill("000000")
    page.get_by_role("button", name="Activer le second facteur").click()
    # A wrong first code (unless the app shows 000000 right now): the error, accessible.
    if code(key) != "000000" and code(key, -1) != "000000" and code(key, 1) != "000000":
        expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient une erreur")
        expect(page.locator(".errorlist")).to_contain_text("Ce code n’est pas valable")
        assert_accessible(page)

    page.get_by_label("Code à 6 chiffres affiché par votre application").fill(code(key))
    page.get_by_role("button", name="Activer le second facteur").click()

    # The recovery codes, once; then the site, signed in.
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos codes de secours")
    codes = page.locator("ol.codes-secours li").all_inner_texts()
    assert len(codes) == 10
    assert all(re.fullmatch(r"[a-z2-7]{8}", text.strip()) for text in codes), codes
    screenshot(page, "second-facteur-codes-de-secours")
    assert_accessible(page)
    page.get_by_role("link", name="Je les ai notés").click()
    expect(page.locator(".utilisateur-nom")).to_have_text("Paul Martin")

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("link", name="Se connecter")).to_be_visible()

    # The next login asks for a code.
    sign_in_with_password(page, administrateur)
    assert page.url.endswith(reverse("second_factor"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Second facteur")
    screenshot(page, "second-facteur-code")
    assert_accessible(page)

    field = page.get_by_label(
        "Code à 6 chiffres de votre application d’authentification, ou un code de secours"
    )
    # The activation's code was of this period: the app's next one.
    field.fill(code(key, 1))
    with page.expect_navigation():
        page.get_by_role("button", name="Valider").click()

    assert "/connexion/" not in page.url
    expect(page.locator(".utilisateur-nom")).to_have_text("Paul Martin")

    # The account's page: its state, and the forms for new codes or a new app.
    page.goto(reverse("second_factor_account"))
    expect(page.get_by_text("Le second facteur de votre compte est actif")).to_be_visible()
    screenshot(page, "second-facteur-compte")
    assert_accessible(page)


def test_a_recovery_code_signs_in_in_the_browser(page, administrateur):
    TOTPDevice.objects.create(user=administrateur, confirmed=True)
    recovery = new_recovery_codes(administrateur)

    sign_in_with_password(page, administrateur)
    page.get_by_label(re.compile("ou un code de secours")).fill(recovery[0])
    with page.expect_navigation():
        page.get_by_role("button", name="Valider").click()

    expect(page.locator(".utilisateur-nom")).to_have_text("Paul Martin")


def test_the_helper_of_the_other_browser_tests_passes_the_second_factor(page, administrateur):
    for _ in range(2):  # setting up the app, then a code
        sign_in_with_password(page, administrateur)
        assert asks_second_factor(page)

        pass_second_factor(page, administrateur)

        assert not asks_second_factor(page)
        expect(page.locator(".utilisateur-nom")).to_have_text("Paul Martin")
        page.get_by_role("button", name="Se déconnecter").click()
        expect(page.get_by_role("link", name="Se connecter")).to_be_visible()
