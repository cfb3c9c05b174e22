from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ComptesConfig(AppConfig):
    """Accounts and organisations, roles, login throttling, session inactivity, the
    admin's door."""

    name = "comptes"
    verbose_name = "Comptes et connexions"
    default = True

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with our site: only the national administrator may enter."""

    default = False
    default_site = "comptes.admin_site.AdminSite"
