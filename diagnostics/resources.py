"""django-import-export resources for the source tables of a diagnostic, one per level.

Each resource imports one tablib Dataset built by `diagnostics.importers` from the rows
of a table. Rows are identified by natural keys (parent + `cle`; a pilier by diagnostic
+ numéro), parents are looked up within the row's diagnostic, and an import only adds:
a row that already exists is reported unchanged and never overwritten, so that staff
edits and positions survive a new import. New rows get the next position within their
parent and their provenance, a `CelluleSource` of the import.

Dataset columns (`columns` of each resource): `ligne` (line in the source file, for
error messages), `diagnostic` (pk), the parent keys (`pilier` numéro, `theme` and
`sous_theme` clés), `libelle`, `cle` and `texte` (the original text of the cell).
"""

import csv
import tempfile

import tablib
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, Model
from django.http import FileResponse, StreamingHttpResponse
from import_export import fields, resources
from import_export.formats import base_formats
from import_export.instance_loaders import BaseInstanceLoader
from import_export.signals import post_export
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from diagnostics.exports import (
    neutralize_formula,
    unneutralize_formula,
    workbook_bytes,
    write_workbook,
)
from diagnostics.models import (
    CelluleSource,
    Diagnostic,
    Difficulte,
    Pilier,
    Quartier,
    SousTheme,
    Theme,
    import_change_reason,
)
from diagnostics.text import fingerprint, normalize_key
from indicateurs.models import INFORMATIONS, Indicateur, Mesure


class ScopedForeignKeyWidget(ForeignKeyWidget):
    """A parent found by its natural key within the row's diagnostic.

    Subclasses say which columns of the row scope the lookup. Parents found are
    remembered for the rest of the import (one widget per resource instance).
    """

    def __init__(self, model, field):
        super().__init__(model, field)
        self._found = {}

    def scope(self, row):
        raise NotImplementedError

    def get_queryset(self, value, row, *args, **kwargs):
        return self.model.objects.filter(**self.scope(row))

    def get_instance_by_lookup_fields(self, value, row, **kwargs):
        key = (value, *self.scope(row).values())
        if key not in self._found:
            self._found[key] = super().get_instance_by_lookup_fields(value, row, **kwargs)
        return self._found[key]


class PilierWidget(ScopedForeignKeyWidget):
    def __init__(self):
        super().__init__(Pilier, "numero")

    def scope(self, row):
        return {"diagnostic_id": row["diagnostic"]}


class ThemeWidget(ScopedForeignKeyWidget):
    def __init__(self):
        super().__init__(Theme, "cle")

    def scope(self, row):
        return {"pilier__diagnostic_id": row["diagnostic"], "pilier__numero": row["pilier"]}


class ThemeLevelWidget(ThemeWidget):
    """An item's thème, set only when the item hangs from the thème itself."""

    def clean(self, value, row=None, **kwargs):
        if row["sous_theme"]:
            return None
        return super().clean(value, row, **kwargs)


class SousThemeWidget(ScopedForeignKeyWidget):
    def __init__(self):
        super().__init__(SousTheme, "cle")

    def scope(self, row):
        return {
            "theme__pilier__diagnostic_id": row["diagnostic"],
            "theme__pilier__numero": row["pilier"],
            "theme__cle": row["theme"],
        }


class DiagnosticInstanceLoader(BaseInstanceLoader):
    """Finds the existing row an import row names, by its `import_id_fields`.

    The level's rows of the diagnostic are loaded once, in one query, and looked up by
    natural key: parents (resolved by the widgets) and values. Unlike
    `CachedInstanceLoader`, this handles composite keys.
    """

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.id_fields = [resource.fields[name] for name in resource.get_import_id_fields()]
        self.existing = None

    def get_instance(self, row):
        if self.existing is None:
            queryset = self.resource.diagnostic_rows(row["diagnostic"])
            self.existing = {self.instance_key(instance): instance for instance in queryset}
        key = tuple(_pk_or_value(field.clean(row)) for field in self.id_fields)
        return self.existing.get(key)

    def instance_key(self, instance):
        model_fields = self.resource._meta.model._meta
        return tuple(
            getattr(instance, model_fields.get_field(field.attribute).attname)
            for field in self.id_fields
        )


def _pk_or_value(value):
    return value.pk if isinstance(value, Model) else value


class SourceTableResource(resources.ModelResource):
    """Base of the five resources: add only, never overwrite; record provenance."""

    source_column = None  # CelluleSource.Colonne of the cells this level comes from
    parent_fields = ()  # foreign keys to the parent(s): they delimit the siblings
    has_position = True
    diagnostic_lookup = None  # lookup from a row of this level to its diagnostic's id
    columns = ()  # of the datasets it imports

    class Meta:
        instance_loader_class = DiagnosticInstanceLoader
        skip_diff = True
        use_transactions = False

    def __init__(self, import_record):
        super().__init__()
        self.import_record = import_record
        self._sources = {}
        self._last_positions = {}

    def diagnostic_rows(self, diagnostic_id):
        """The rows of this level that belong to the diagnostic."""
        return self._meta.model.objects.filter(**{self.diagnostic_lookup: diagnostic_id})

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """An existing row is "unchanged": the import leaves it as staff left it."""
        return instance.pk is not None

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """Check the values (lengths, required fields), with the model's French messages.

        Unlike `full_clean`, this costs no query: the natural key was just looked up
        (uniqueness), the parents were just found by the widgets, and the datasets give
        each item exactly one parent. The database constraints still stand behind.
        """
        errors = dict(import_validation_errors or {})
        try:
            instance.clean_fields(exclude={*errors, *self.parent_fields})
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        # Only new instances get here (existing ones are skipped).
        instance.source = self.source_cell(row)
        # The history row of the creation names the import (how an import is undone),
        # and is attributed to the person who imported.
        instance._change_reason = import_change_reason(self.import_record)
        instance._history_user = self.import_record.importe_par
        if self.has_position:
            instance.position = self.next_position(instance)

    def after_import(self, dataset, result, **kwargs):
        """Keep the database sequences as they are.

        ModelResource resets them after creating rows, for imports that supply primary
        keys; ours never do, and on PostgreSQL a reset could move a sequence back below
        the ids of a concurrent transaction.
        """

    def source_cell(self, row):
        """The cell of the row's line in this level's column, created with its first item.

        The items split from one cell share it. Remembering the cells created is enough
        to get or create them: the import record is new and only this resource writes
        cells of its column.
        """
        line = row["ligne"]
        if line not in self._sources:
            self._sources[line] = CelluleSource.objects.create(
                import_source=self.import_record,
                ligne=line,
                colonne=self.source_column,
                texte=row["texte"],
            )
        return self._sources[line]

    def next_position(self, instance):
        """The position after the last sibling's (1 for a first child)."""
        parents = {name: getattr(instance, name) for name in self.parent_fields}
        key = tuple(parent.pk if parent else None for parent in parents.values())
        if key not in self._last_positions:
            siblings = self._meta.model.objects.filter(**parents)
            self._last_positions[key] = siblings.aggregate(Max("position"))["position__max"] or 0
        self._last_positions[key] += 1
        return self._last_positions[key]


class PilierResource(SourceTableResource):
    source_column = CelluleSource.Colonne.PILIER
    parent_fields = ("diagnostic",)
    has_position = False  # piliers are ordered by their numéro
    diagnostic_lookup = "diagnostic_id"
    columns = ("ligne", "diagnostic", "numero", "libelle", "cle", "texte")
    diagnostic = fields.Field(
        attribute="diagnostic", column_name="diagnostic", widget=ForeignKeyWidget(Diagnostic)
    )

    class Meta(SourceTableResource.Meta):
        model = Pilier
        fields = ("diagnostic", "numero", "libelle", "cle")
        import_id_fields = ("diagnostic", "numero")


class ThemeResource(SourceTableResource):
    source_column = CelluleSource.Colonne.THEME
    parent_fields = ("pilier",)
    diagnostic_lookup = "pilier__diagnostic_id"
    columns = ("ligne", "diagnostic", "pilier", "libelle", "cle", "texte")
    pilier = fields.Field(attribute="pilier", column_name="pilier", widget=PilierWidget())

    class Meta(SourceTableResource.Meta):
        model = Theme
        fields = ("pilier", "libelle", "cle")
        import_id_fields = ("pilier", "cle")


class SousThemeResource(SourceTableResource):
    source_column = CelluleSource.Colonne.SOUS_THEME
    parent_fields = ("theme",)
    diagnostic_lookup = "theme__pilier__diagnostic_id"
    columns = ("ligne", "diagnostic", "pilier", "theme", "libelle", "cle", "texte")
    theme = fields.Field(attribute="theme", column_name="theme", widget=ThemeWidget())

    class Meta(SourceTableResource.Meta):
        model = SousTheme
        fields = ("theme", "libelle", "cle")
        import_id_fields = ("theme", "cle")


class ElementResource(SourceTableResource):
    """An item (difficulté or indicateur): under its sous-thème, or its thème directly."""

    parent_fields = ("theme", "sous_theme")
    columns = ("ligne", "diagnostic", "pilier", "theme", "sous_theme", "libelle", "cle", "texte")
    theme = fields.Field(attribute="theme", column_name="theme", widget=ThemeLevelWidget())
    sous_theme = fields.Field(
        attribute="sous_theme", column_name="sous_theme", widget=SousThemeWidget()
    )

    class Meta(SourceTableResource.Meta):
        fields = ("theme", "sous_theme", "libelle", "cle")
        import_id_fields = ("theme", "sous_theme", "cle")

    def diagnostic_rows(self, diagnostic_id):
        return self._meta.model.objects.du_diagnostic(diagnostic_id)


class DifficulteResource(ElementResource):
    source_column = CelluleSource.Colonne.DIFFICULTES

    class Meta(ElementResource.Meta):
        model = Difficulte


class IndicateurResource(ElementResource):
    source_column = CelluleSource.Colonne.INDICATEURS

    class Meta(ElementResource.Meta):
        model = Indicateur


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

    def before_import(self, dataset, **kwargs):
        """Take off the apostrophe our CSV exports put before formula-like values."""
        for index, row in enumerate(list(dataset.dict)):
            dataset[index] = tuple(
                unneutralize_formula(value) if isinstance(value, str) else value
                for value in row.values()
            )


def _text(row, column):
    value = row.get(column)
    return "" if value is None else str(value).strip()


class _LookupWidget(ForeignKeyWidget):
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
            raise ValueError(self.not_found.format(value=value, **{k: _text(row, k) for k in row}))
        return found


class DiagnosticSlugWidget(ForeignKeyWidget):
    def __init__(self):
        super().__init__(Diagnostic, "slug")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except Diagnostic.DoesNotExist as error:
            raise ValueError(f"Aucun diagnostic n'a l'identifiant court « {value} ».") from error


class PilierNumeroWidget(_LookupWidget):
    not_found = "Le diagnostic « {diagnostic} » n'a pas de pilier n° {value}."

    def __init__(self):
        super().__init__(Pilier, "numero")

    def lookups(self, value, row):
        return {"diagnostic__slug": _text(row, "diagnostic"), "numero": value}

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value.numero


class ThemeLibelleWidget(_LookupWidget):
    not_found = "Le pilier n° {pilier} du diagnostic « {diagnostic} » n'a pas de thème « {value} »."

    def __init__(self):
        super().__init__(Theme, "libelle")

    def lookups(self, value, row):
        return {
            "pilier__diagnostic__slug": _text(row, "diagnostic"),
            "pilier__numero": _text(row, "pilier"),
            "cle": normalize_key(value),
        }


class ItemThemeWidget(ThemeLibelleWidget):
    """An item's thème: its parent only when the row names no sous-thème."""

    def clean(self, value, row=None, **kwargs):
        if _text(row, "sous_theme"):
            return None
        return super().clean(value, row, **kwargs)


class SousThemeLibelleWidget(_LookupWidget):
    not_found = "Le thème « {theme} » n'a pas de sous-thème « {value} »."

    def __init__(self):
        super().__init__(SousTheme, "libelle")

    def lookups(self, value, row):
        return {
            "theme__pilier__diagnostic__slug": _text(row, "diagnostic"),
            "theme__pilier__numero": _text(row, "pilier"),
            "theme__cle": normalize_key(_text(row, "theme")),
            "cle": normalize_key(value),
        }


class IndicateurLibelleWidget(_LookupWidget):
    not_found = "Aucun indicateur « {value} » à cet endroit du diagnostic « {diagnostic} »."

    def __init__(self):
        super().__init__(Indicateur, "libelle")

    def lookups(self, value, row):
        return {**_element_parent_lookups(row), "cle": fingerprint(value)}


def _element_parent_lookups(row):
    """The lookups of an item's parent: its sous-thème, or its thème directly."""
    theme = {
        "pilier__diagnostic__slug": _text(row, "diagnostic"),
        "pilier__numero": _text(row, "pilier"),
        "cle": normalize_key(_text(row, "theme")),
    }
    sous_theme = _text(row, "sous_theme")
    if sous_theme:
        return {
            **{f"sous_theme__theme__{key}": value for key, value in theme.items()},
            "sous_theme__cle": normalize_key(sous_theme),
        }
    return {f"theme__{key}": value for key, value in theme.items()}


class QuartierFlatResource(FlatResource):
    class Meta(FlatResource.Meta):
        model = Quartier
        fields = ("code", "nom", "communes")
        import_id_fields = ("code",)

    def natural_key(self, row):
        return {"code": _text(row, "code")}


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
        return {"slug": _text(row, "slug")}


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
        return {"diagnostic__slug": _text(row, "diagnostic"), "numero": _text(row, "numero")}


class ThemeFlatResource(FlatResource):
    related = ("pilier__diagnostic",)
    diagnostic = fields.Field(column_name="diagnostic", readonly=True)
    pilier = fields.Field(attribute="pilier", column_name="pilier", widget=PilierNumeroWidget())

    class Meta(FlatResource.Meta):
        model = Theme
        fields = ("diagnostic", "pilier", "libelle", "position")
        import_id_fields = ("pilier", "libelle")

    def natural_key(self, row):
        return {
            "pilier": self.fields["pilier"].clean(row),
            "cle": normalize_key(_text(row, "libelle")),
        }

    def dehydrate_diagnostic(self, theme):
        return theme.pilier.diagnostic.slug


class SousThemeFlatResource(FlatResource):
    related = ("theme__pilier__diagnostic",)
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
            "cle": normalize_key(_text(row, "libelle")),
        }

    def dehydrate_diagnostic(self, sous_theme):
        return sous_theme.theme.pilier.diagnostic.slug

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

    related = ("sous_theme__theme__pilier__diagnostic", "theme__pilier__diagnostic")
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
        return {**_element_parent_lookups(row), "cle": fingerprint(_text(row, "libelle"))}

    def dehydrate_diagnostic(self, element):
        return element.theme_effectif.pilier.diagnostic.slug

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


class IndicateurFlatResource(ElementFlatResource):
    class Meta(ElementFlatResource.Meta):
        model = Indicateur
        fields = (*ELEMENT_FIELDS, *INFORMATIONS)


class MesureFlatResource(FlatResource):
    related = (
        "quartier",
        "indicateur__sous_theme__theme__pilier__diagnostic",
        "indicateur__theme__pilier__diagnostic",
    )
    loaded = (
        "annee",
        "type_periode",
        "numero_periode",
        "valeur",
        "texte",
        "source",
        "commentaire",
        "quartier__code",
        "indicateur__libelle",
        *(
            f"indicateur__{path}{name}"
            for path in ("sous_theme__", "")
            for name in (
                "theme__libelle",
                "theme__pilier__numero",
                "theme__pilier__diagnostic__slug",
            )
        ),
        "indicateur__sous_theme__libelle",
    )
    diagnostic = fields.Field(column_name="diagnostic", readonly=True)
    pilier = fields.Field(column_name="pilier", readonly=True)
    theme = fields.Field(column_name="theme", readonly=True)
    sous_theme = fields.Field(column_name="sous_theme", readonly=True)
    indicateur = fields.Field(
        attribute="indicateur", column_name="indicateur", widget=IndicateurLibelleWidget()
    )
    quartier = fields.Field(
        attribute="quartier", column_name="quartier", widget=ForeignKeyWidget(Quartier, "code")
    )

    class Meta(FlatResource.Meta):
        model = Mesure
        fields = (
            "diagnostic",
            "pilier",
            "theme",
            "sous_theme",
            "indicateur",
            "annee",
            "type_periode",
            "numero_periode",
            "quartier",
            "valeur",
            "texte",
            "source",
            "commentaire",
        )
        import_id_fields = ("indicateur", "annee", "type_periode", "numero_periode", "quartier")

    def natural_key(self, row):
        return {
            "indicateur": self.fields["indicateur"].clean(row),
            "annee": _text(row, "annee"),
            "type_periode": _text(row, "type_periode") or Mesure.TypePeriode.ANNEE,
            "numero_periode": _text(row, "numero_periode") or 0,
            "quartier": self.fields["quartier"].clean(row),
        }

    def dehydrate_diagnostic(self, mesure):
        return mesure.indicateur.theme_effectif.pilier.diagnostic.slug

    def dehydrate_pilier(self, mesure):
        return mesure.indicateur.theme_effectif.pilier.numero

    def dehydrate_theme(self, mesure):
        return mesure.indicateur.theme_effectif.libelle

    def dehydrate_sous_theme(self, mesure):
        indicateur = mesure.indicateur
        return indicateur.sous_theme.libelle if indicateur.sous_theme_id else ""


# Formats of the admin's flat imports and exports -------------------------------------------
#
# The admin's exports are streamed (`StreamedExportAdminMixin`): the rows go from a database
# cursor to the file as they are read, never all in memory (100,000 measures: see
# bench/exports.py). `stream_response` writes what `export_data` writes for the same rows.

# Rows written per chunk of a streamed CSV.
CSV_CHUNK_ROWS = 1_000


class SafeCSV(base_formats.CSV):
    """CSV whose formula-like values get an apostrophe (see `diagnostics.exports`)."""

    def export_data(self, dataset, **kwargs):
        return super().export_data(_neutralized(dataset), **kwargs)

    def stream_response(self, headers, rows, encoding=None):
        """The CSV of `export_data` (tablib's: `,`, CRLF), streamed by chunks of rows."""
        writer = csv.writer(_Echo(), delimiter=tablib.formats._csv.CSVFormat.DEFAULT_DELIMITER)
        encoding = encoding or "utf-8"

        def chunks():
            lines = [writer.writerow(headers)]
            for row in rows:
                lines.append(
                    writer.writerow(
                        [neutralize_formula(v) if isinstance(v, str) else v for v in row]
                    )
                )
                if len(lines) >= CSV_CHUNK_ROWS:
                    yield "".join(lines).encode(encoding)
                    lines = []
            yield "".join(lines).encode(encoding)

        return StreamingHttpResponse(chunks(), content_type=self.get_content_type())


class SafeXLSX(base_formats.XLSX):
    """XLSX written cell by cell as strings, never formulas; read after the importers'
    checks against decompression bombs (the XML itself goes through defusedxml)."""

    def create_dataset(self, in_stream):
        _check_workbook(in_stream)
        dataset = super().create_dataset(in_stream)
        # Empty cells read as None: as in a CSV file, they are empty texts.
        rows = [["" if value is None else value for value in row] for row in dataset]
        return tablib.Dataset(*rows, headers=dataset.headers)

    def export_data(self, dataset, **kwargs):
        return workbook_bytes(dataset.headers, dataset, sheet_title="Export")

    def stream_response(self, headers, rows, encoding=None):
        """The workbook of `export_data`, written row by row to a temporary file (openpyxl's
        write-only mode), then sent from it."""
        file = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it once sent)
        write_workbook(file, headers, rows, sheet_title="Export")
        file.seek(0)
        return FileResponse(file, content_type=self.get_content_type())


def _check_workbook(content):
    # Imported here: the importers import this module.
    from diagnostics.importers.formats import UnreadableFile, _check_archive

    try:
        _check_archive(content)
    except UnreadableFile as error:
        raise ValueError(error.message) from error


class _Echo:
    """A file-like object whose write() returns what it is given (for streaming CSV)."""

    def write(self, value):
        return value


def _neutralized(dataset):
    copy = tablib.Dataset(headers=dataset.headers)
    for row in dataset:
        copy.append([neutralize_formula(v) if isinstance(v, str) else v for v in row])
    return copy


ADMIN_FORMATS = [SafeCSV, SafeXLSX, base_formats.JSON]


def export_rows(resource, queryset, export_fields=None, **kwargs):
    """(headers, rows) of `resource.export(queryset, ...)`, the rows produced one by one
    as they are read (the same calls as `Resource.export`, without its Dataset; our
    resources do nothing in `after_export`, which needs the whole Dataset)."""
    kwargs["export_fields"] = export_fields
    resource.before_export(queryset, **kwargs)
    if queryset is None:
        queryset = resource.get_queryset()
    queryset = resource.filter_export(queryset, **kwargs)
    headers = resource.get_export_headers(selected_fields=export_fields)
    rows = (
        resource.export_resource(instance, selected_fields=export_fields, **kwargs)
        for instance in resource.iter_queryset(queryset)
    )
    return headers, rows


class StreamedExportAdminMixin:
    """The admin's export (django-import-export's `ExportMixin`), streamed for the formats
    that can (`stream_response`): same permission, resource, fields, rows and file name as
    the library's `_do_file_export`, which builds the whole file in memory first."""

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        stream_response = getattr(file_format, "stream_response", None)
        if stream_response is None:
            return super()._do_file_export(file_format, request, queryset, export_form)
        if not self.has_export_permission(request):
            raise PermissionDenied
        kwargs = {
            "force_native_type": type(file_format) in base_formats.BINARY_FORMATS,
            "encoding": self.to_encoding,
            "export_form": export_form,
        }
        resource_class = self.choose_export_resource_class(export_form, request)
        resource = resource_class(**self.get_export_resource_kwargs(request, **kwargs))
        export_fields = self.get_export_resource_fields_from_form(export_form)
        headers, rows = export_rows(resource, queryset, export_fields, **kwargs)
        response = stream_response(headers, rows, encoding=self.to_encoding)
        filename = self.get_export_filename(request, queryset, file_format)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        post_export.send(sender=None, model=self.model)
        return response
