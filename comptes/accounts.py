"""Creating accounts and finding organisations: what an invitation's page, ProConnect and
the commands share."""

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Organisation, Profil


def find_or_create_organisation(*, nom, nature, siret=""):
    """The organisation of a SIRET vouched for (by ProConnect), else a new one. Without a
    SIRET, always a new one: a name proves nothing, and an organisation may hold a role
    (a partner organisation's accounts read its contracts)."""
    siret = (siret or "").strip()
    if siret:
        organisation = Organisation.objects.filter(siret=siret).first()
        if organisation is not None:
            return organisation
    return _new_organisation(nom=nom, nature=nature, siret=siret)


def declare_organisation(*, nom, nature, siret=""):
    """An organisation as someone declares it when creating their account: always a new
    one, so that typing another organisation's name or SIRET grants none of its roles.
    Its SIRET is kept unless another organisation has it (the national administrator
    then reconciles the two)."""
    siret = (siret or "").strip()
    if siret and Organisation.objects.filter(siret=siret).exists():
        siret = ""
    return _new_organisation(nom=nom, nature=nature, siret=siret)


def _new_organisation(*, nom, nature, siret):
    organisation = Organisation(nom=" ".join(nom.split()), nature=nature, siret=siret)
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
