"""Flat resources of the Django admin (django-import-export): one row per object, its
parents named by natural keys."""

from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from diagnostics.editions.states import ensure_modifiable_id
from diagnostics.exports import (
    unneutralize_formula,
)
from diagnostics.models import (
    Commune,
    Diagnostic,
    Difficulte,
    Pilier,
    Quartier,
    SousTheme,
    Theme,
)
from diagnostics.text import fingerprint, normalize_key

# Flat resources of the Django admin --------------------------------------------------------
#
# One row per object, its parents named by natural keys (diagnostic slug, pilier numéro,
# libellés compared as the importers compare them: `normalize_key` for names,
# `fingerprint` for items), never by database ids: an export of one site imports into
# another. Importing a row updates the object its natural key names, or creates it.
#
# Only superusers import and export in the admin: IMPORT_EXPORT_*_PERMISSION_CODE ask for
# "import_<model>" / "export_<model>" permissions that no model declares, so no role
# holds them. The Administrateur role imports on the site's import screens (preview,
# confirmation, history, undo), which these flat imports bypass.


class FlatResource(resources.ModelResource):
    """Base of the flat resources: natural keys, formula prefixes taken off on import.

    `related` and `prefetched` name what the exported columns read of other tables: they
    are loaded with the rows whichever queryset is exported (the admin's own, filtered, or
    the resource's), never one query per row. `loaded`, when given, is all an export reads
    (`only()`): for large tables (measures), the other columns are not even fetched.
    """

    related = ()
    prefetched = ()
    loaded = ()

    class Meta:
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def get_queryset(self):
        return self.with_related(super().get_queryset())

    def filter_export(self, queryset, **kwargs):
        queryset = self.with_related(super().filter_export(queryset, **kwargs))
        if self.loaded:
            # The admin's list_select_related may name relations the export does not read.
            queryset = queryset.select_related(None).select_related(*self.related)
            queryset = queryset.only(*self.loaded)
        return queryset

    def export_resource(self, instance, selected_fields=None, **kwargs):
        """The library's `export_resource`, each field's way of exporting looked up once per
        export instead of once per row (the field list, its name, its dehydrate method:
        a third of the time of an export of 100,000 measures)."""
        key = tuple(selected_fields) if selected_fields else None
        exporters = self.__dict__.setdefault("_exporters", {})
        if key not in exporters:
            exporters[key] = []
            for field in self.get_export_fields(selected_fields):
                dehydrate = field.get_dehydrate_method(self.get_field_name(field))
                method = dehydrate if callable(dehydrate) else getattr(self, dehydrate, None)
                exporters[key].append((method, field))
        return [
            method(instance) if method is not None else field.export(instance, **kwargs)
            for method, field in exporters[key]
        ]

    def with_related(self, queryset):
        if self.related:
            queryset = queryset.select_related(*self.related)
        if self.prefetched:
            queryset = queryset.prefetch_related(*self.prefetched)
        return queryset

    def natural_key(self, row):
        """The lookups naming the row's object, or None when the row cannot name one."""
        raise NotImplementedError

    def get_instance(self, instance_loader, row):
        try:
            lookups = self.natural_key(row)
        except ValueError:
            return None  # a missing parent: the row's own field errors say which
        if lookups is None:
            return None
        return self._meta.model.objects.filter(**lookups).first()

    def before_save_instance(self, instance, row, **kwargs):
        """Nothing of a frozen edition changes, through this import either."""
        super().before_save_instance(instance, row, **kwargs)
        if isinstance(instance, Diagnostic):
            diagnostic_id = instance.pk
        else:
            diagnostic_id = getattr(instance, "diagnostic_id", None)
            if diagnostic_id is None and hasattr(instance, "diagnostic_of_parent"):
                diagnostic_id = instance.diagnostic_of_parent()
        if diagnostic_id is not None:
            ensure_modifiable_id(diagnostic_id)

    def before_import(self, dataset, **kwargs):
        """Take off the apostrophe our CSV exports put before formula-like values."""
        for index, row in enumerate(list(dataset.dict)):
            dataset[index] = tuple(
                unneutralize_formula(value) if isinstance(value, str) else value
                for value in row.values()
            )


def cell_text(row, column):
    value = row.get(column)
    return "" if value is None else str(value).strip()


class LookupWidget(ForeignKeyWidget):
    """A parent found from several columns of the row (its natural key); a French message
    when there is none."""

    not_found = "introuvable"

    def lookups(self, value, row):
        raise NotImplementedError

    def clean(self, value, row=None, **kwargs):
        if value is None or str(value).strip() == "":
            return None
        found = self.model.objects.filter(**self.lookups(str(value).strip(), row)).first()
        if found is None:
            raise ValueError(
                self.not_found.format(value=value, **{k: cell_text(row, k) for k in row})
            )
        return found


class DiagnosticSlugWidget(ForeignKeyWidget):
    def __init__(self):
        super().__init__(Diagnostic, "slug")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except Diagnostic.DoesNotExist as error:
            raise ValueError(f"Aucun diagnostic n'a l'identifiant court « {value} ».") from error


class PilierNumeroWidget(LookupWidget):
    not_found = "Le diagnostic « {diagnostic} » n'a pas de pilier n° {value}."

    def __init__(self):
        super().__init__(Pilier, "numero")

    def lookups(self, value, row):
        return {"diagnostic__slug": cell_text(row, "diagnostic"), "numero": value}

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value.numero


class ThemeLibelleWidget(LookupWidget):
    not_found = "Le pilier n° {pilier} du diagnostic « {diagnostic} » n'a pas de thème « {value} »."

    def __init__(self):
        super().__init__(Theme, "libelle")

    def lookups(self, value, row):
        return {
            "pilier__diagnostic__slug": cell_text(row, "diagnostic"),
            "pilier__numero": cell_text(row, "pilier"),
            "cle": normalize_key(value),
        }


class ItemThemeWidget(ThemeLibelleWidget):
    """An item's thème: its parent only when the row names no sous-thème."""

    def clean(self, value, row=None, **kwargs):
        if cell_text(row, "sous_theme"):
            return None
        return super().clean(value, row, **kwargs)


class SousThemeLibelleWidget(LookupWidget):
    not_found = "Le thème « {theme} » n'a pas de sous-thème « {value} »."

    def __init__(self):
        super().__init__(SousTheme, "libelle")

    def lookups(self, value, row):
        return {
            "theme__pilier__diagnostic__slug": cell_text(row, "diagnostic"),
            "theme__pilier__numero": cell_text(row, "pilier"),
            "theme__cle": normalize_key(cell_text(row, "theme")),
            "cle": normalize_key(value),
        }


def element_parent_lookups(row):
    """The lookups of an item's parent: its sous-thème, or its thème directly."""
    theme = {
        "pilier__diagnostic__slug": cell_text(row, "diagnostic"),
        "pilier__numero": cell_text(row, "pilier"),
        "cle": normalize_key(cell_text(row, "theme")),
    }
    sous_theme = cell_text(row, "sous_theme")
    if sous_theme:
        return {
            **{f"sous_theme__theme__{key}": value for key, value in theme.items()},
            "sous_theme__cle": normalize_key(sous_theme),
        }
    return {f"theme__{key}": value for key, value in theme.items()}


class QuartierFlatResource(FlatResource):
    prefetched = ("communes",)
    communes = fields.Field(
        attribute="communes",
        column_name="communes",
        widget=ManyToManyWidget(Commune, field="code", separator=","),
    )

    class Meta(FlatResource.Meta):
        model = Quartier
        fields = ("code", "nom", "region", "communes")
        import_id_fields = ("code",)

    def natural_key(self, row):
        return {"code": cell_text(row, "code")}


class DiagnosticFlatResource(FlatResource):
    quartiers = fields.Field(
        attribute="quartiers",
        column_name="quartiers",
        widget=ManyToManyWidget(Quartier, field="code", separator=","),
    )

    class Meta(FlatResource.Meta):
        model = Diagnostic
        fields = (
            "slug",
            "titre",
            "territoire",
            "annee_debut",
            "annee_fin",
            "statut",
            "est_public",
            "quartiers",
        )
        import_id_fields = ("slug",)

    def natural_key(self, row):
        return {"slug": cell_text(row, "slug")}


class PilierFlatResource(FlatResource):
    related = ("diagnostic",)
    diagnostic = fields.Field(
        attribute="diagnostic", column_name="diagnostic", widget=DiagnosticSlugWidget()
    )

    class Meta(FlatResource.Meta):
        model = Pilier
        fields = ("diagnostic", "numero", "libelle")
        import_id_fields = ("diagnostic", "numero")

    def natural_key(self, row):
        return {
            "diagnostic__slug": cell_text(row, "diagnostic"),
            "numero": cell_text(row, "numero"),
        }


class ThemeFlatResource(FlatResource):
    related = ("diagnostic", "pilier")
    diagnostic = fields.Field(column_name="diagnostic", readonly=True)
    pilier = fields.Field(attribute="pilier", column_name="pilier", widget=PilierNumeroWidget())

    class Meta(FlatResource.Meta):
        model = Theme
        fields = ("diagnostic", "pilier", "libelle", "position")
        import_id_fields = ("pilier", "libelle")

    def natural_key(self, row):
        return {
            "pilier": self.fields["pilier"].clean(row),
            "cle": normalize_key(cell_text(row, "libelle")),
        }

    def dehydrate_diagnostic(self, theme):
        return theme.diagnostic.slug


class SousThemeFlatResource(FlatResource):
    related = ("diagnostic", "theme__pilier")
    diagnostic = fields.Field(column_name="diagnostic", readonly=True)
    pilier = fields.Field(column_name="pilier", readonly=True)
    theme = fields.Field(attribute="theme", column_name="theme", widget=ThemeLibelleWidget())

    class Meta(FlatResource.Meta):
        model = SousTheme
        fields = ("diagnostic", "pilier", "theme", "libelle", "position")
        import_id_fields = ("theme", "libelle")

    def natural_key(self, row):
        return {
            "theme": self.fields["theme"].clean(row),
            "cle": normalize_key(cell_text(row, "libelle")),
        }

    def dehydrate_diagnostic(self, sous_theme):
        return sous_theme.diagnostic.slug

    def dehydrate_pilier(self, sous_theme):
        return sous_theme.theme.pilier.numero

    def dehydrate_theme(self, sous_theme):
        return sous_theme.theme.libelle


ELEMENT_FIELDS = (
    "diagnostic",
    "pilier",
    "theme",
    "sous_theme",
    "libelle",
    "position",
    "quartiers",
)


class ElementFlatResource(FlatResource):
    """An item: its thème, and its sous-thème unless it hangs from the thème directly."""

    related = ("diagnostic", "sous_theme__theme__pilier", "theme__pilier")
    prefetched = ("quartiers",)

    diagnostic = fields.Field(column_name="diagnostic", readonly=True)
    pilier = fields.Field(column_name="pilier", readonly=True)
    theme = fields.Field(attribute="theme", column_name="theme", widget=ItemThemeWidget())
    sous_theme = fields.Field(
        attribute="sous_theme", column_name="sous_theme", widget=SousThemeLibelleWidget()
    )
    quartiers = fields.Field(
        attribute="quartiers",
        column_name="quartiers",
        widget=ManyToManyWidget(Quartier, field="code", separator=","),
    )

    class Meta(FlatResource.Meta):
        import_id_fields = ("theme", "sous_theme", "libelle")

    def natural_key(self, row):
        return {**element_parent_lookups(row), "cle": fingerprint(cell_text(row, "libelle"))}

    def dehydrate_diagnostic(self, element):
        return element.diagnostic.slug

    def dehydrate_pilier(self, element):
        return element.theme_effectif.pilier.numero

    def dehydrate_theme(self, element):
        return element.theme_effectif.libelle

    def dehydrate_sous_theme(self, element):
        return element.sous_theme.libelle if element.sous_theme_id else ""


class DifficulteFlatResource(ElementFlatResource):
    class Meta(ElementFlatResource.Meta):
        model = Difficulte
        fields = ELEMENT_FIELDS
