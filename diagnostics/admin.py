from django.contrib import admin
from django.db.models import Count, Q

from indicateurs.models import Indicateur

from .models import (
    CelluleSource,
    Diagnostic,
    Difficulte,
    Import,
    Pilier,
    Quartier,
    SousTheme,
    Theme,
)

admin.site.site_header = "Contrat de ville — administration"
admin.site.site_title = "Contrat de ville"
admin.site.index_title = "Administration du diagnostic"


class DiagnosticFilter(admin.SimpleListFilter):
    """Filter any model of the hierarchy by its diagnostic, given the lookup path to it."""

    title = "diagnostic"
    parameter_name = "diagnostic"
    paths = ()

    def lookups(self, request, model_admin):
        return [(d.slug, d.titre) for d in Diagnostic.objects.only("slug", "titre")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        condition = Q()
        for path in self.paths:
            condition |= Q(**{f"{path}__slug": self.value()})
        return queryset.filter(condition)


def diagnostic_filter(*paths):
    return type("DiagnosticFilter", (DiagnosticFilter,), {"paths": paths})


ELEMENT_DIAGNOSTIC_FILTER = diagnostic_filter(
    "sous_theme__theme__pilier__diagnostic", "theme__pilier__diagnostic"
)


@admin.register(Quartier)
class QuartierAdmin(admin.ModelAdmin):
    list_display = ["code", "nom", "communes"]
    search_fields = ["code", "nom", "communes"]


class PilierInline(admin.TabularInline):
    model = Pilier
    fields = ["numero", "libelle"]
    extra = 0
    show_change_link = True


@admin.register(Diagnostic)
class DiagnosticAdmin(admin.ModelAdmin):
    list_display = ["titre", "territoire", "annee_debut", "annee_fin", "statut", "est_public"]
    list_filter = ["statut", "est_public", "annee_debut"]
    search_fields = ["titre", "territoire", "slug"]
    prepopulated_fields = {"slug": ["titre"]}
    autocomplete_fields = ["quartiers"]
    inlines = [PilierInline]


class ThemeInline(admin.TabularInline):
    model = Theme
    fields = ["position", "libelle"]
    extra = 0
    show_change_link = True


@admin.register(Pilier)
class PilierAdmin(admin.ModelAdmin):
    list_display = ["numero", "libelle", "diagnostic", "nombre_themes"]
    list_display_links = ["numero", "libelle"]
    list_filter = [diagnostic_filter("diagnostic")]
    list_select_related = ["diagnostic"]
    search_fields = ["libelle", "diagnostic__titre"]
    autocomplete_fields = ["diagnostic"]
    raw_id_fields = ["source"]
    inlines = [ThemeInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_nombre_themes=Count("themes"))

    @admin.display(description="thèmes", ordering="_nombre_themes")
    def nombre_themes(self, obj):
        return obj._nombre_themes


class SousThemeInline(admin.TabularInline):
    model = SousTheme
    fields = ["position", "libelle"]
    extra = 0
    show_change_link = True


class ElementInline(admin.TabularInline):
    fields = ["position", "libelle", "quartiers"]
    autocomplete_fields = ["quartiers"]
    extra = 0
    show_change_link = True


class DifficulteInline(ElementInline):
    model = Difficulte


class IndicateurInline(ElementInline):
    model = Indicateur


class ThemeLevelDifficulteInline(DifficulteInline):
    verbose_name_plural = "difficultés prégnantes au niveau du thème"


class ThemeLevelIndicateurInline(IndicateurInline):
    verbose_name_plural = "indicateurs au niveau du thème"


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["libelle", "pilier", "position"]
    list_filter = [diagnostic_filter("pilier__diagnostic")]
    list_select_related = ["pilier__diagnostic"]
    search_fields = ["libelle", "pilier__libelle"]
    autocomplete_fields = ["pilier"]
    raw_id_fields = ["source"]
    inlines = [SousThemeInline, ThemeLevelDifficulteInline, ThemeLevelIndicateurInline]


@admin.register(SousTheme)
class SousThemeAdmin(admin.ModelAdmin):
    list_display = ["libelle", "theme", "pilier", "position"]
    list_filter = [diagnostic_filter("theme__pilier__diagnostic")]
    list_select_related = ["theme__pilier__diagnostic"]
    search_fields = ["libelle", "theme__libelle"]
    autocomplete_fields = ["theme"]
    raw_id_fields = ["source"]
    inlines = [DifficulteInline, IndicateurInline]

    @admin.display(description="pilier", ordering="theme__pilier__numero")
    def pilier(self, obj):
        return obj.theme.pilier


class ElementAdmin(admin.ModelAdmin):
    """Shared by Difficulte and Indicateur (indicateurs/admin.py)."""

    list_display = ["__str__", "parent_display", "position", "source"]
    list_filter = [ELEMENT_DIAGNOSTIC_FILTER, "quartiers"]
    list_select_related = [
        "sous_theme__theme__pilier__diagnostic",
        "theme__pilier__diagnostic",
        "source__import_source",
    ]
    search_fields = ["libelle", "sous_theme__libelle", "theme__libelle"]
    autocomplete_fields = ["sous_theme", "theme", "quartiers"]
    raw_id_fields = ["source"]
    readonly_fields = ["texte_source"]

    @admin.display(description="rattaché à")
    def parent_display(self, obj):
        if obj.sous_theme_id:
            return f"{obj.sous_theme.theme} › {obj.sous_theme}"
        return f"{obj.theme} (niveau du thème)"

    @admin.display(description="texte d'origine de la cellule")
    def texte_source(self, obj):
        return obj.source.texte if obj.source_id else "—"


@admin.register(Difficulte)
class DifficulteAdmin(ElementAdmin):
    pass


class CelluleSourceInline(admin.TabularInline):
    model = CelluleSource
    fields = ["ligne", "colonne", "texte"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Import)
class ImportAdmin(admin.ModelAdmin):
    list_display = ["nom_fichier", "diagnostic", "created_at", "importe_par", "taille"]
    list_filter = ["diagnostic"]
    list_select_related = ["diagnostic", "importe_par"]
    search_fields = ["nom_fichier", "sha256"]
    readonly_fields = [
        "diagnostic",
        "nom_fichier",
        "sha256",
        "taille",
        "importe_par",
        "created_at",
        "compte_rendu",
    ]
    inlines = [CelluleSourceInline]

    def has_add_permission(self, request):
        return False


@admin.register(CelluleSource)
class CelluleSourceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "ligne", "colonne"]
    list_filter = ["colonne", "import_source__diagnostic"]
    list_select_related = ["import_source"]
    search_fields = ["texte", "import_source__nom_fichier"]
    readonly_fields = ["import_source", "ligne", "colonne", "texte"]

    def has_add_permission(self, request):
        return False
