from django.contrib import admin

from diagnostics.admin import ElementAdmin, FlatImportExportAdmin

from ..models import Indicateur, Mesure, TerritoireComparaison
from . import resources


class MesureInline(admin.TabularInline):
    model = Mesure
    fields = [
        "nature",
        "annee",
        "type_periode",
        "numero_periode",
        "quartier",
        "territoire",
        "valeur",
        "numerateur",
        "denominateur",
        "texte",
        "source",
    ]
    autocomplete_fields = ["quartier", "territoire"]
    extra = 0
    show_change_link = True


@admin.register(Indicateur)
class IndicateurAdmin(ElementAdmin):
    resource_classes = [resources.IndicateurFlatResource]
    list_display = ["__str__", "type", "unite", "sens_souhaite", "parent_display", "position"]
    list_filter = [*ElementAdmin.list_filter, "type", "sens_souhaite", "compte_des_personnes"]
    fieldsets = [
        (None, {"fields": ["libelle", "sous_theme", "theme", "position", "quartiers"]}),
        (
            "Nature et définition",
            {
                "fields": [
                    "type",
                    "unite",
                    "taux",
                    "compte_des_personnes",
                    "seuil_secret",
                    "definition",
                    "mode_calcul",
                    "source_donnees",
                    "periodicite",
                ]
            },
        ),
        (
            "Objectif",
            {
                "fields": ["sens_souhaite"],
                "description": (
                    "Les références et les cibles, par portée, se saisissent avec les mesures "
                    "(nature « référence » ou « cible »)."
                ),
            },
        ),
        ("Provenance", {"fields": ["source", "texte_source"]}),
    ]
    inlines = [MesureInline]


@admin.register(Mesure)
class MesureAdmin(FlatImportExportAdmin):
    resource_classes = [resources.MesureFlatResource]
    list_display = [
        "indicateur",
        "periode_libelle",
        "quartier",
        "valeur",
        "source",
        "fictive",
        "saisi_par",
        "updated_at",
    ]
    list_filter = ["fictive", "type_periode", "annee", "quartier"]
    list_select_related = ["indicateur", "quartier", "saisi_par"]
    search_fields = ["indicateur__libelle", "texte", "source", "commentaire"]
    raw_id_fields = ["indicateur"]
    autocomplete_fields = ["quartier"]
    readonly_fields = ["saisi_par", "fictive", "created_at", "updated_at"]

    @admin.display(description="période", ordering="annee")
    def periode_libelle(self, obj):
        return obj.periode_libelle


@admin.register(TerritoireComparaison)
class TerritoireComparaisonAdmin(admin.ModelAdmin):
    list_display = ["nom", "code", "echelon"]
    list_filter = ["echelon"]
    search_fields = ["nom", "code"]
    ordering = ["echelon", "nom"]
