"""Login throttling: failed sign-ins are counted per account name and per address.

After LOGIN_FAILURE_LIMIT_PER_ACCOUNT failures for one account name, or
LOGIN_FAILURE_LIMIT_PER_ADDRESS from one address, within LOGIN_FAILURE_WINDOW seconds,
the login forms (the site's and the admin's, comptes.forms) refuse to check any password
for that account or from that address until enough failures leave the window, or until
an administrator unlocks them (the "Débloquer" action of the admin, `unlock`).

Failures are recorded from Django's `user_login_failed` signal (comptes.signals), so every
way of signing in counts; a successful sign-in clears its account's failures.

The check and the record are one step (`attempt`): a login form counts the failures
recorded before it and records its own attempt as a failure, in one transaction that
waits for the other attempts on the same account name or address (`_serialize`); only if
the count leaves room is the password checked. Of parallel attempts, the n-th sees the
n - 1 before it, so never more than the limit are checked. A wrong password keeps the
record; anything else (a success, a refusal) removes it.

Password reset requests are limited the same way, per address and per e-mail address
typed (`reset_request`), whether an account has that e-mail or not: the refusal reveals
nothing about which accounts exist.
"""

import ipaddress
import math
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .models import DemandeReinitialisation, EchecConnexion

KEPT_FOR = timedelta(days=30)


def normalize_username(username):
    """Failures count per account name whatever its case or surrounding spaces."""
    return str(username or "").strip().casefold()[:150]


def client_address(request):
    """The client's IP address, or None. Behind a reverse proxy (REVERSE_PROXY), the
    last address of X-Forwarded-For, the one the proxy itself appended."""
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR", "")
    if settings.REVERSE_PROXY:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if forwarded:
            address = forwarded[-1]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def record_failure(username, address, request=None):
    """Record a failed sign-in; when a login form already recorded this attempt
    (`attempt`), its record stays as the failure instead."""
    pending = getattr(request, "_comptes_attempt", None)
    if pending is not None:
        pending["failed"] = True
        return
    now = timezone.now()
    EchecConnexion.objects.filter(date__lt=now - KEPT_FOR).delete()
    EchecConnexion.objects.create(
        identifiant=normalize_username(username), adresse_ip=address, date=now
    )


@contextmanager
def attempt(request, username, address):
    """A login form's attempt, recorded before anything is checked; yields how long the
    account name or the address stays locked by the failures recorded before it (None:
    the password may be checked). Its record stays only if the password was wrong."""
    now = timezone.now()
    EchecConnexion.objects.filter(date__lt=now - KEPT_FOR).delete()
    with transaction.atomic():
        # One attempt at a time per account name and per address: each counts every
        # attempt recorded before it (committed), in flight ones included.
        _serialize(
            f"connexion:{normalize_username(username)}",
            f"connexion:{address}" if address else None,
        )
        remaining = lock_remaining(username, address, now=now)
        record = EchecConnexion.objects.create(
            identifiant=normalize_username(username), adresse_ip=address, date=now
        )
    pending = {"failed": False}
    if request is not None:
        request._comptes_attempt = pending
    try:
        yield remaining
    finally:
        if request is not None:
            del request._comptes_attempt
        if not pending["failed"]:
            EchecConnexion.objects.filter(pk=record.pk).delete()


def _serialize(*keys):
    """PostgreSQL: wait for the other attempts on these keys until this transaction ends
    (advisory locks, taken in one order). SQLite serialises writers by itself."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(key for key in keys if key):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])


def clear_failures(username):
    """A successful sign-in: its account starts afresh (its address does not)."""
    EchecConnexion.objects.filter(identifiant=normalize_username(username)).delete()


def _lock_ends(failures, limit, window):
    """When the lock made by these failures (a queryset) ends, or None if there is none:
    when the limit-th most recent failure of the window leaves it."""
    dates = list(failures.order_by("-date").values_list("date", flat=True)[:limit])
    if limit <= 0 or len(dates) < limit:
        return None
    return dates[limit - 1] + window


def lock_remaining(username, address, now=None):
    """How long this account name or this address stays locked (a timedelta), or None."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    recent = EchecConnexion.objects.filter(date__gt=now - window)
    ends = [
        _lock_ends(
            recent.filter(identifiant=normalize_username(username)),
            settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT,
            window,
        )
    ]
    if address:
        ends.append(
            _lock_ends(
                recent.filter(adresse_ip=address), settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS, window
            )
        )
    ends = [end for end in ends if end is not None and end > now]
    return max(ends) - now if ends else None


def lock_message(remaining):
    minutes = max(1, math.ceil(remaining.total_seconds() / 60))
    duree = f"{minutes} minute{'s' if minutes > 1 else ''}"
    return (
        "Trop de tentatives de connexion ont échoué pour ce compte ou depuis cette adresse : "
        f"la connexion est bloquée. Réessayez dans {duree}, ou demandez à un administrateur "
        "du site de débloquer l’accès."
    )


def unlock(usernames=(), addresses=()):
    """Delete every failure of these account names or from these addresses: their lock
    ends at once. Returns the number of failures deleted."""
    condition = Q(identifiant__in=[normalize_username(name) for name in usernames])
    condition |= Q(adresse_ip__in=[address for address in addresses if address])
    deleted, _ = EchecConnexion.objects.filter(condition).delete()
    return deleted


# Password reset requests -----------------------------------------------------------------

RESET_LIMIT_PER_EMAIL = 3
RESET_LIMIT_PER_ADDRESS = 10
RESET_WINDOW = 60 * 60  # seconds


def reset_limits():
    """(per e-mail, per address, window in seconds); settings may change them."""
    return (
        getattr(settings, "PASSWORD_RESET_LIMIT_PER_EMAIL", RESET_LIMIT_PER_EMAIL),
        getattr(settings, "PASSWORD_RESET_LIMIT_PER_ADDRESS", RESET_LIMIT_PER_ADDRESS),
        getattr(settings, "PASSWORD_RESET_WINDOW", RESET_WINDOW),
    )


def reset_request(email, address):
    """Record a password reset request; return True if it may be answered, False when
    too many were made for this e-mail address or from this address within the window.
    Counted on what was typed, whether an account has it or not, in one transaction that
    waits for the other requests on the same e-mail or address (parallel requests cannot
    exceed the limits); a refused request is not kept."""
    per_email, per_address, window = reset_limits()
    now = timezone.now()
    email = normalize_username(email)[:254]
    DemandeReinitialisation.objects.filter(date__lt=now - KEPT_FOR).delete()
    with transaction.atomic():
        _serialize(f"reinitialisation:{email}", f"reinitialisation:{address}" if address else None)
        earlier = DemandeReinitialisation.objects.filter(date__gt=now - timedelta(seconds=window))
        allowed = earlier.filter(email=email).count() < per_email and (
            not address or earlier.filter(adresse_ip=address).count() < per_address
        )
        if allowed:
            DemandeReinitialisation.objects.create(email=email, adresse_ip=address, date=now)
    return allowed


def reset_message():
    minutes = max(1, math.ceil(reset_limits()[2] / 60))
    duree = f"{minutes} minute{'s' if minutes > 1 else ''}"
    return (
        "Trop de demandes de réinitialisation du mot de passe ont été faites pour cette "
        f"adresse électronique ou depuis cette adresse : réessayez dans {duree}, ou "
        "demandez à un administrateur du site."
    )
