from django.contrib import admin

from diagnostics.admin import ElementAdmin

from .models import Indicateur


@admin.register(Indicateur)
class IndicateurAdmin(ElementAdmin):
    pass
