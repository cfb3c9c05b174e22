"""The second factor as a person with an authenticator app passes it, for browser tests
that sign in an Administrateur or a national administrator by password.

After the password, `pass_second_factor(page, user)` sets up the app if the site asks it
(reading the key the page shows) or types the app's current code, and ends on the page
the login was going to.
"""

import time
from base64 import b32decode

from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

ACTIVATION_LABEL = "Code à 6 chiffres affiché par votre application"
CODE_LABEL = "Code à 6 chiffres de votre application d’authentification, ou un code de secours"


def app_code(key, steps=0):
    """What an authenticator app shows for this key (`steps` periods later)."""
    return f"{totp(key, drift=steps):06d}"


def key_shown(page):
    """The key of the activation page, as an app reads it."""
    secret = page.locator("#cle-secrete").inner_text().replace(" ", "")
    return b32decode(secret + "=" * (-len(secret) % 8))


def unused_period(device):
    """How many periods ahead the first code not used yet is (the site accepts one ahead;
    a code is accepted once): waits for the next period when needed."""
    ahead = device.last_t + 1 - int(time.time()) // device.step
    while ahead > 1:
        time.sleep(1)
        ahead = device.last_t + 1 - int(time.time()) // device.step
    return max(ahead, 0)


def asks_second_factor(page):
    return "/connexion/second-facteur/" in page.url


def pass_second_factor(page, user):
    """Pass the second factor the page asks for (a no-op on any other page)."""
    if page.url.endswith(reverse("second_factor_activation")):
        page.get_by_label(ACTIVATION_LABEL).fill(app_code(key_shown(page)))
        page.get_by_role("button", name="Activer le second facteur").click()
        with page.expect_navigation():
            page.get_by_role("link", name="Je les ai notés").click()
    elif page.url.endswith(reverse("second_factor")):
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        page.get_by_label(CODE_LABEL).fill(app_code(device.bin_key, unused_period(device)))
        with page.expect_navigation():
            page.get_by_role("button", name="Valider").click()
