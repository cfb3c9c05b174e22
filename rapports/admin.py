"""The reports in the admin: read-only. A report is written, consulted, adopted and
published on its pages (`rapports.views`), where its rules apply; the admin lets the
platform's administrator find one and see its state and its consultation."""

from django.contrib import admin

from diagnostics.admin import ReadOnlyInline

from .models import Instance, Rapport, Section


class SectionInline(ReadOnlyInline, admin.TabularInline):
    model = Section
    fields = ["titre", "cle", "auteur", "revision", "updated_at"]
    readonly_fields = fields
    extra = 0


class InstanceInline(ReadOnlyInline, admin.TabularInline):
    model = Instance
    fields = ["nom", "nature", "date_envoi", "date_limite", "avis", "avis_date"]
    readonly_fields = fields
    extra = 0


@admin.register(Rapport)
class RapportAdmin(ReadOnlyInline, admin.ModelAdmin):
    list_display = ["__str__", "annee", "version", "statut", "date_deliberation"]
    list_filter = ["statut", "annee"]
    search_fields = ["contrat__nom", "contrat__slug"]
    list_select_related = ["contrat"]
    fields = [
        "contrat",
        "annee",
        "version",
        "statut",
        "dsu",
        "date_deliberation",
        "instance_deliberante",
        "adopte_par",
        "date_publication",
    ]
    readonly_fields = fields
    inlines = [SectionInline, InstanceInline]
    view_on_site = True
