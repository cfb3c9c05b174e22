from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from .middleware import mark_activity
from .models import Organisation, Profil
from .throttling import clear_failures, client_address, record_failure


@receiver(user_login_failed, dispatch_uid="comptes_record_failure")
def _record_failure(sender, credentials, request=None, **kwargs):
    record_failure(credentials.get("username"), client_address(request), request)


@receiver(user_logged_in, dispatch_uid="comptes_signed_in")
def _signed_in(sender, request, user, **kwargs):
    clear_failures(user.get_username())
    if request is not None and hasattr(request, "session"):
        mark_activity(request.session)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="comptes_profil")
def _every_account_belongs_to_an_organisation(sender, instance, created, raw=False, **kwargs):
    """An account created without its organisation (`createsuperuser`, the admin before
    its form is saved) belongs to the platform's until one is given."""
    if created and not raw:
        Profil.objects.get_or_create(
            compte=instance, defaults={"organisation": Organisation.plateforme()}
        )
