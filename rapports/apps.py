from django.apps import AppConfig


class RapportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rapports"
    verbose_name = "Rapports annuels"
