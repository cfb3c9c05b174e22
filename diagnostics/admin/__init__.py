import functools

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from .. import editing, kinds
from ..editions.states import ensure_modifiable_id
from ..forms.edition import MISSING_VERSION
from ..models import (
    CelluleSource,
    Commune,
    Contrat,
    Diagnostic,
    Difficulte,
    Import,
    ImportReferentiel,
    Membre,
    Pilier,
    Quartier,
    SousTheme,
    Theme,
)
from . import resources
from .formats import ADMIN_FORMATS, StreamedExportAdminMixin

admin.site.site_header = "Contrat de ville — administration"
admin.site.site_title = "Contrat de ville"
admin.site.index_title = "Administration du diagnostic"


class DiagnosticFilter(admin.SimpleListFilter):
    """Filter the levels and items of the hierarchy by the diagnostic they carry."""

    title = "diagnostic"
    parameter_name = "diagnostic"

    def lookups(self, request, model_admin):
        return [(d.slug, d.titre) for d in Diagnostic.objects.only("slug", "titre")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(diagnostic__slug=self.value())


class FlatImportExportAdmin(StreamedExportAdminMixin, ImportExportModelAdmin):
    """Flat imports and exports of a model (CSV, XLSX, JSON), keyed by natural keys
    (`diagnostics.admin.resources`).

    Only superusers see them: IMPORT_EXPORT_IMPORT_PERMISSION_CODE and
    IMPORT_EXPORT_EXPORT_PERMISSION_CODE (settings) ask for "import_<model>" and
    "export_<model>" permissions that no model declares, so no role holds them. The
    Administrateur role imports on the site's import screens (preview, confirmation,
    history, undo) and exports a diagnostic in its source layout there.

    CSV and XLSX exports are streamed (`StreamedExportAdminMixin`): 100,000
    measures never sit in memory at once.
    """

    formats = ADMIN_FORMATS


# Editing in the admin: the same rules as on the site (diagnostics.editing) ---------------


class VersionedAdminForm(forms.ModelForm):
    """The admin's change form with the version it was shown at (hidden): a save made on a
    stale version, or a libellé that already exists at the same level, is a form error."""

    # Not "version": a model field of that name, not editable, may not be in a ModelForm.
    version_lue = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version_lue"].initial = self.instance.version

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            if data.get("version_lue") is None:
                raise ValidationError(MISSING_VERSION)
            current = (
                type(self.instance)
                .objects.filter(pk=self.instance.pk)
                .values_list("version", flat=True)
                .first()
            )
            if current != data["version_lue"]:
                raise ValidationError(
                    "Quelqu'un a modifié cet élément pendant que vous le modifiiez : rien n'a "
                    "été enregistré. Ouvrez-le à nouveau pour voir sa version actuelle."
                )
        return data

    def _post_clean(self):
        super()._post_clean()
        if "libelle" in self.cleaned_data:
            try:
                editing.check_unique(self.instance)
            except ValidationError as error:
                self.add_error("libelle" if "libelle" in self.fields else None, error.messages)


class EditingAdmin(SimpleHistoryAdmin):
    """History (django-simple-history) and the site's rules for the hierarchy's admins.

    Saves go through `editing.save_versioned` (version checked in the UPDATE) and
    `editing.create`, deletions through `editing.delete` (what goes with an object is
    recorded so that restoring it brings it back); each writes the history with the
    admin user. Reverting from the admin's history is disabled: versions are restored on
    the site's history pages, which check the version and the parents.
    """

    form = VersionedAdminForm

    def revert_disabled(self, request, obj=None):
        return True

    def has_change_permission(self, request, obj=None):
        """Nothing of a frozen edition changes (it reads as a view)."""
        if obj is not None and obj.diagnostic.est_figee:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.diagnostic.est_figee:
            return False
        return super().has_delete_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if "version_lue" in flatten_fieldsets(fieldsets):
            return fieldsets
        (name, options), *others = fieldsets
        return [(name, {**options, "fields": [*options["fields"], "version_lue"]}), *others]

    def save_model(self, request, obj, form, change):
        quartiers = form.cleaned_data.get("quartiers") if "quartiers" in form.fields else None
        concrete = {field.name for field in obj._meta.concrete_fields}
        try:
            diagnostic_id = obj.diagnostic_id
            if diagnostic_id is None and hasattr(obj, "diagnostic_of_parent"):
                diagnostic_id = obj.diagnostic_of_parent()
            ensure_modifiable_id(diagnostic_id)
            if change:
                editing.save_versioned(
                    obj,
                    form.cleaned_data["version_lue"],
                    request.user,
                    fields=[name for name in form.changed_data if name in concrete],
                    quartiers=quartiers,
                )
            else:
                editing.create(obj, request.user, quartiers=quartiers)
        except editing.StaleEdit:
            request._edition_refusee = (
                "Quelqu'un a modifié cet élément pendant que vous le modifiiez : rien n'a été "
                "enregistré."
            )
        except ValidationError as error:
            request._edition_refusee = " ".join(error.messages)

    def save_related(self, request, form, formsets, change):
        if not hasattr(request, "_edition_refusee"):
            super().save_related(request, form, formsets, change)

    def log_change(self, request, obj, message):
        if not hasattr(request, "_edition_refusee"):
            return super().log_change(request, obj, message)
        return None

    def log_addition(self, request, obj, message):
        if not hasattr(request, "_edition_refusee"):
            return super().log_addition(request, obj, message)
        return None

    def response_change(self, request, obj):
        if hasattr(request, "_edition_refusee"):
            self.message_user(request, request._edition_refusee, messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if hasattr(request, "_edition_refusee"):
            self.message_user(request, request._edition_refusee, messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def delete_model(self, request, obj):
        ensure_modifiable_id(obj.diagnostic_id)
        editing.delete(obj, request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            try:
                ensure_modifiable_id(obj.diagnostic_id)
            except ValidationError as error:
                self.message_user(request, f"{obj} : {error.messages[0]}", messages.ERROR)
                continue
            editing.delete(obj, request.user)


class ReadOnlyInline:
    """Inlines show the children; they are changed on their own page (same rules)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Quartier)
class QuartierAdmin(FlatImportExportAdmin):
    resource_classes = [resources.QuartierFlatResource]
    change_list_template = "diagnostics/quartiers/admin_change_list.html"
    list_display = ["code", "nom", "liste_communes", "region", "a_un_contour"]
    list_filter = ["contour_demonstration", "region"]
    search_fields = ["code", "nom", "communes__code", "communes__nom"]
    filter_horizontal = ["communes"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("communes")

    @admin.display(description="communes")
    def liste_communes(self, quartier):
        return ", ".join(str(commune) for commune in quartier.communes.all())

    @admin.display(description="contour", boolean=True)
    def a_un_contour(self, quartier):
        return quartier.contour is not None


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["code", "nom"]
    search_fields = ["code", "nom"]


@admin.register(ImportReferentiel)
class ImportReferentielAdmin(admin.ModelAdmin):
    """The loads of the référentiel, read only: they are made on the référentiel's page."""

    list_display = ["date", "fichier", "importe_par", "crees", "modifies", "inchanges", "laisses"]
    list_select_related = ["importe_par"]
    change_list_template = "diagnostics/quartiers/admin_imports_change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PilierInline(ReadOnlyInline, admin.TabularInline):
    model = Pilier
    fields = ["numero", "libelle"]
    extra = 0
    show_change_link = True


class EditionInline(ReadOnlyInline, admin.TabularInline):
    model = Diagnostic
    fields = ["nom_edition", "date_edition", "statut", "slug"]
    extra = 0
    show_change_link = True


class MembreInline(admin.TabularInline):
    """The national administrator names a new contract's first Administrateur here; its
    Administrateurs then manage its members in the site."""

    model = Membre
    fields = ["compte", "organisation", "role"]
    autocomplete_fields = ["compte", "organisation"]
    extra = 0


@admin.register(Contrat)
class ContratAdmin(SimpleHistoryAdmin):
    list_display = ["nom", "territoire", "annee_debut", "annee_fin"]
    search_fields = ["nom", "territoire", "slug"]
    prepopulated_fields = {"slug": ["nom"]}
    inlines = [EditionInline, MembreInline]


@admin.register(Diagnostic)
class DiagnosticAdmin(FlatImportExportAdmin):
    """The editions. Their state changes on the contract's page (publish, unpublish,
    freeze: with the history's reason); a frozen edition is read-only here too."""

    resource_classes = [resources.DiagnosticFlatResource]
    list_display = ["titre", "nom_edition", "contrat", "territoire", "statut", "est_public"]
    list_filter = ["statut", "est_public", "annee_debut"]
    list_select_related = ["contrat"]
    search_fields = ["titre", "territoire", "slug", "nom_edition", "contrat__nom"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.est_figee:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.est_figee:
            return False
        return super().has_delete_permission(request, obj)

    prepopulated_fields = {"slug": ["titre"]}
    autocomplete_fields = ["quartiers"]
    inlines = [PilierInline]


class ThemeInline(ReadOnlyInline, admin.TabularInline):
    model = Theme
    fields = ["position", "libelle"]
    extra = 0
    show_change_link = True


@admin.register(Pilier)
class PilierAdmin(EditingAdmin, FlatImportExportAdmin):
    resource_classes = [resources.PilierFlatResource]
    list_display = ["numero", "libelle", "diagnostic", "nombre_themes"]
    list_display_links = ["numero", "libelle"]
    list_filter = [DiagnosticFilter]
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


class SousThemeInline(ReadOnlyInline, admin.TabularInline):
    model = SousTheme
    fields = ["position", "libelle"]
    extra = 0
    show_change_link = True


class ElementInline(ReadOnlyInline, admin.TabularInline):
    fields = ["position", "libelle", "quartiers"]
    autocomplete_fields = ["quartiers"]
    extra = 0
    show_change_link = True


@functools.cache
def element_inline(kind, theme_level=False):
    """The inline of the items of one kind (at the level of the thème, or of a sous-thème)."""
    attributes = {"model": kind.model}
    if theme_level:
        attributes["verbose_name_plural"] = f"{kind.titre.lower()} au niveau du thème"
    return type(f"{kind.model.__name__}Inline", (ElementInline,), attributes)


@admin.register(Theme)
class ThemeAdmin(EditingAdmin, FlatImportExportAdmin):
    resource_classes = [resources.ThemeFlatResource]
    list_display = ["libelle", "pilier", "position"]
    list_filter = [DiagnosticFilter]
    list_select_related = ["pilier__diagnostic"]
    search_fields = ["libelle", "pilier__libelle"]
    autocomplete_fields = ["pilier"]
    raw_id_fields = ["source"]
    inlines = [SousThemeInline]

    def get_inlines(self, request, obj):
        return [*self.inlines, *(element_inline(kind, theme_level=True) for kind in kinds.items())]


@admin.register(SousTheme)
class SousThemeAdmin(EditingAdmin, FlatImportExportAdmin):
    resource_classes = [resources.SousThemeFlatResource]
    list_display = ["libelle", "theme", "pilier", "position"]
    list_filter = [DiagnosticFilter]
    list_select_related = ["diagnostic", "theme__pilier"]
    search_fields = ["libelle", "theme__libelle"]
    autocomplete_fields = ["theme"]
    raw_id_fields = ["source"]

    def get_inlines(self, request, obj):
        return [element_inline(kind) for kind in kinds.items()]

    @admin.display(description="pilier", ordering="theme__pilier__numero")
    def pilier(self, obj):
        return obj.theme.pilier


class ElementAdmin(EditingAdmin, FlatImportExportAdmin):
    """Shared by Difficulte and Indicateur (indicateurs/admin.py)."""

    list_display = ["__str__", "parent_display", "position", "source"]
    list_filter = [DiagnosticFilter, "quartiers"]
    list_select_related = [
        "diagnostic",
        "sous_theme__theme__pilier",
        "theme__pilier",
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
    resource_classes = [resources.DifficulteFlatResource]


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
    # Links to the import screens of the site (upload with preview, history, undo).
    change_list_template = "diagnostics/imports/admin_change_list.html"

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
