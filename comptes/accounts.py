"""Creating accounts and finding organisations: what an invitation's page, ProConnect and
the commands share."""

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Organisation, Profil


def find_or_create_organisation(*, nom, nature, siret=""):
    """The organisation of this SIRET when one exists, else of this exact name without a
    SIRET, else a new one."""
    siret = (siret or "").strip()
    nom = " ".join(nom.split())
    if siret:
        organisation = Organisation.objects.filter(siret=siret).first()
        if organisation is not None:
            return organisation
    else:
        organisation = Organisation.objects.filter(siret="", nom__iexact=nom).first()
        if organisation is not None:
            return organisation
    organisation = Organisation(nom=nom, nature=nature, siret=siret)
    organisation.full_clean()
    organisation.save()
    return organisation


def create_account(*, email, first_name, last_name, organisation, password=None, username=None):
    """A new active account of this organisation (no usable password without `password`:
    it then signs in with ProConnect only)."""
    User = get_user_model()
    with transaction.atomic():
        user = User(
            username=username or email,
            email=email,
            first_name=first_name,
            last_name=last_name,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        Profil.objects.update_or_create(compte=user, defaults={"organisation": organisation})
    return user


def account_with_email(email):
    """The account of this e-mail address, if exactly one has it."""
    found = list(get_user_model().objects.filter(email__iexact=email.strip())[:2])
    return found[0] if len(found) == 1 else None
