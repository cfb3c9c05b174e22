"""Login throttling: failed sign-ins are counted per account name and per address.

After LOGIN_FAILURE_LIMIT_PER_ACCOUNT failures for one account name, or
LOGIN_FAILURE_LIMIT_PER_ADDRESS from one address, within LOGIN_FAILURE_WINDOW seconds,
the login forms (the site's and the admin's, comptes.forms) refuse to check any password
for that account or from that address until enough failures leave the window, or until
an administrator unlocks them (the "Débloquer" action of the admin, `unlock`).

Failures are recorded from Django's `user_login_failed` signal (comptes.signals), so every
way of signing in counts; a successful sign-in clears its account's failures.
"""

import ipaddress
import math
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import EchecConnexion

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


def record_failure(username, address):
    now = timezone.now()
    EchecConnexion.objects.filter(date__lt=now - KEPT_FOR).delete()
    EchecConnexion.objects.create(
        identifiant=normalize_username(username), adresse_ip=address, date=now
    )


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
