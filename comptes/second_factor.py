"""The second factor of password logins (django-otp): an authenticator app's code (TOTP)
or a single-use recovery code.

Who needs it: every national administrator (an active superuser), and whoever the
function named by settings.SECOND_FACTOR_REQUIRED (a dotted path, read when asked: comptes
imports nothing of the layers above it) says; a user who set up an authenticator of their
own accord is asked too. ProConnect logins and `force_login` do not pass through here.

The flow (comptes.second_factor_views): when the password is right and a second factor is
needed, the user is not signed in yet; the session keeps who is pending, where to go next
and since when (`start`, PENDING_KEY) for SECOND_FACTOR_PENDING_TTL seconds. A user with a
confirmed authenticator types a code (`CodeForm`); one without sets up an authenticator
(`activation_device`, `confirm_activation`) and receives RECOVERY_CODES recovery codes.
A wrong code counts as a failed login of the account (comptes.throttling) and for the
device's own throttling (django-otp's exponential delay).
"""

import re
import time
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.html import escape
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from comptes.roles import is_national_admin

from .throttling import attempt, client_address, lock_message, record_failure

PENDING_KEY = "_second_factor_pending"
ACTIVATION_KEY = "_second_factor_activation"
RESET_KEY = "_second_factor_reset"
RECOVERY_CODES = 10
DEVICE_NAME = "Application d’authentification"
RECOVERY_DEVICE_NAME = "Codes de secours"

TOTP_CODE = re.compile(r"[0-9]{6}")
RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")

WRONG_CODE = "Ce code n’est pas valable : vérifiez-le et réessayez."
WAIT = (
    "Trop de codes erronés à la suite : patientez quelques secondes avant de saisir un "
    "nouveau code."
)


def pending_ttl():
    return getattr(settings, "SECOND_FACTOR_PENDING_TTL", 5 * 60)


# Who ------------------------------------------------------------------------------------


def required(user):
    """Whether this user must use a second factor to sign in by password."""
    if not user.is_authenticated:
        return False
    if is_national_admin(user):
        return True
    path = getattr(settings, "SECOND_FACTOR_REQUIRED", None)
    return bool(path) and bool(import_string(path)(user))


def confirmed_device(user):
    """The user's confirmed authenticator, or None."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("-pk").first()


def asks_second_factor(user):
    """Whether a password login of this user goes through the second factor."""
    return required(user) or confirmed_device(user) is not None


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# The pending login -----------------------------------------------------------------------


def start(request, user, next_url):
    """The password was right: remember who is pending, not signed in yet."""
    request.session.cycle_key()
    request.session.pop(ACTIVATION_KEY, None)
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": getattr(user, "backend", None) or settings.AUTHENTICATION_BACKENDS[0],
        "next": next_url or "",
        "since": time.time(),
    }


def _pending_state(request):
    """The valid pending state, or None (missing, expired, or not what we stored)."""
    state = request.session.get(PENDING_KEY)
    try:
        user_id = int(state["user"])
        since = float(state["since"])
        backend = state["backend"]
        next_url = state["next"]
    except (TypeError, KeyError, ValueError, OverflowError):
        return None
    if not 0 < user_id < 2**63:
        return None
    if not isinstance(backend, str) or backend not in settings.AUTHENTICATION_BACKENDS:
        return None
    if not isinstance(next_url, str):
        return None
    if not 0 <= time.time() - since <= pending_ttl():
        return None
    return {"user": user_id, "backend": backend, "next": next_url}


def pending(request):
    """(user, state) of the login waiting for its second factor, or (None, None); a state
    that is not valid any more is dropped."""
    state = _pending_state(request)
    user = None
    if state is not None:
        user = get_user_model()._default_manager.filter(pk=state["user"], is_active=True).first()
    if user is None:
        forget(request)
        return None, None
    return user, state


def forget(request):
    """Drop the pending login, if any."""
    request.session.pop(PENDING_KEY, None)
    request.session.pop(ACTIVATION_KEY, None)


def had_pending(request):
    return PENDING_KEY in request.session


def finish(request, user, state, device):
    """Sign the user in, verified by this device."""
    forget(request)
    auth.login(request, user, backend=state["backend"])
    otp_login(request, device)


def allow_reset(request):
    """A signed-in user proved a current code: they may set up a new authenticator."""
    request.session[RESET_KEY] = time.time()


def reset_allowed(request):
    try:
        since = float(request.session.get(RESET_KEY))
    except (TypeError, ValueError, OverflowError):
        return False
    return 0 <= time.time() - since <= pending_ttl()


# Codes ----------------------------------------------------------------------------------


def normalize(code):
    """What was typed, without spaces or dashes, in lower case."""
    return "".join(str(code).split()).replace("-", "").lower()


def verify(user, code):
    """(device, throttled): the confirmed device that accepts this code (a recovery code
    is spent), or None; throttled when a device refused to check it (django-otp's delay
    after wrong codes)."""
    code = normalize(code)
    if TOTP_CODE.fullmatch(code):
        model = TOTPDevice
    elif RECOVERY_CODE.fullmatch(code):
        model = StaticDevice
    else:
        return None, False
    throttled = False
    with transaction.atomic():
        devices = model.objects.devices_for_user(user, confirmed=True).select_for_update()
        for device in devices.order_by("pk"):
            if not device.verify_is_allowed()[0]:
                throttled = True
                continue
            if device.verify_token(code):
                return device, False
    return None, throttled


def new_recovery_codes(user):
    """Replace the user's recovery codes by RECOVERY_CODES new ones, returned (the only
    time they are shown)."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
        codes = set()
        while len(codes) < RECOVERY_CODES:
            codes.add(StaticToken.random_token())
        codes = sorted(codes)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


# Setting up an authenticator ---------------------------------------------------------------


def activation_device(request, user):
    """The unconfirmed authenticator this session is setting up (the same one on every
    display of the page), created if needed."""
    device_id = request.session.get(ACTIVATION_KEY)
    device = None
    if isinstance(device_id, int):
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
        request.session[ACTIVATION_KEY] = device.pk
    return device


def confirm_activation(device, code):
    """(confirmed, throttled): confirm the authenticator being set up with a code it
    shows; it replaces the user's other authenticators."""
    code = normalize(code)
    if not TOTP_CODE.fullmatch(code):
        return False, False
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device.pk).first()
        if device is None or device.confirmed:
            return False, False
        if not device.verify_is_allowed()[0]:
            return False, True
        if not device.verify_token(code):
            return False, False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
    return True, False


def secret(device):
    """The device's key in base32, by groups of four, for typing it by hand."""
    text = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[index : index + 4] for index in range(0, len(text), 4))


def qr_code_svg(device):
    """The device's configuration as a QR code: inline SVG markup, with its text
    alternative."""
    image = qrcode.make(
        device.config_url,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
    )
    markup = image.to_string(encoding="unicode")
    markup = re.sub(r'\s(width|height)="[^"]*"', "", markup, count=2)
    label = escape(
        "QR code à scanner avec votre application d’authentification "
        "(la clé est aussi donnée en texte ci-dessous)"
    )
    markup = markup.replace(
        "<svg ", f'<svg class="qr-code-image" role="img" aria-label="{label}" ', 1
    )
    return mark_safe(markup)  # qrcode's markup; the only text in it is escaped


# Forms ----------------------------------------------------------------------------------


def _code_field(label):
    return forms.CharField(
        label=label,
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
    )


class CodeForm(forms.Form):
    """A code of the user's authenticator or one of their recovery codes. Throttled like
    the login form: while the account or the address is locked no code is checked, and a
    wrong code is a failed login of the account."""

    code = _code_field(
        "Code à 6 chiffres de votre application d’authentification, ou un code de secours"
    )

    def __init__(self, *args, request, user, **kwargs):
        self.request = request
        self.user = user
        self.device = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned_data = super().clean()
        code = cleaned_data.get("code")
        if not code:
            return cleaned_data
        username = self.user.get_username()
        address = client_address(self.request)
        with attempt(self.request, username, address) as remaining:
            if remaining is not None:
                raise forms.ValidationError(lock_message(remaining), code="throttled")
            device, throttled = verify(self.user, code)
            if device is None:
                if throttled:
                    self.add_error("code", forms.ValidationError(WAIT, code="wait"))
                else:
                    record_failure(username, address, self.request)
                    self.add_error("code", forms.ValidationError(WRONG_CODE, code="invalid"))
                return cleaned_data
        self.device = device
        return cleaned_data


class ActivationForm(forms.Form):
    """The first code of the authenticator being set up."""

    code = _code_field("Code à 6 chiffres affiché par votre application")

    def __init__(self, *args, device, **kwargs):
        self.device = device
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned_data = super().clean()
        code = cleaned_data.get("code")
        if not code:
            return cleaned_data
        confirmed, throttled = confirm_activation(self.device, code)
        if throttled:
            self.add_error("code", forms.ValidationError(WAIT, code="wait"))
        elif not confirmed:
            self.add_error(
                "code",
                forms.ValidationError(
                    "Ce code n’est pas valable : saisissez le code à 6 chiffres affiché en ce "
                    "moment par l’application (l’heure du téléphone doit être juste).",
                    code="invalid",
                ),
            )
        return cleaned_data
