from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ComptesConfig(AppConfig):
    """Accounts: roles, login throttling, session inactivity, the admin's door."""

    name = "comptes"
    verbose_name = "Comptes et connexions"
    default = True

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401  (connects the receivers)
        from .roles import sync_roles

        # Once every application has migrated: comptes' post_migrate comes after the
        # applications listed before it, and `sync_roles` creates the others' permissions.
        post_migrate.connect(sync_roles, sender=self, dispatch_uid="comptes_sync_roles")


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with our site: only the Administrateur role may enter."""

    default = False
    default_site = "comptes.admin_site.AdminSite"
