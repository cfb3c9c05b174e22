"""django-import-export resources for the source tables of a diagnostic, one per level.

Each resource imports one tablib Dataset built by `diagnostics.imports` from the rows
of a table. Rows are identified by natural keys (parent + `cle`; a pilier by diagnostic
+ numéro), parents are looked up within the row's diagnostic, and an import only adds:
a row that already exists is reported unchanged and never overwritten, so that staff
edits and positions survive a new import. New rows get the next position within their
parent and their provenance, a `CelluleSource` of the import.

Dataset columns (`columns` of each resource): `ligne` (line in the source file, for
error messages), `diagnostic` (pk), the parent keys (`pilier` numéro, `theme` and
`sous_theme` clés), `libelle`, `cle` and `texte` (the original text of the cell).
"""

from django.core.exceptions import ValidationError
from django.db.models import Max, Model
from import_export import fields, resources
from import_export.instance_loaders import BaseInstanceLoader
from import_export.widgets import ForeignKeyWidget

from diagnostics.models import (
    CelluleSource,
    Diagnostic,
    Difficulte,
    Pilier,
    SousTheme,
    Theme,
    import_change_reason,
    link_history,
)


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
        return {"diagnostic_id": row["diagnostic"], "pilier__numero": row["pilier"]}


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
            "diagnostic_id": row["diagnostic"],
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
        return self._meta.model.objects.filter(diagnostic_id=diagnostic_id)

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
            instance.clean_fields(exclude={*errors, *self.parent_fields, "diagnostic"})
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        # Only new instances get here (existing ones are skipped).
        instance.source = self.source_cell(row)
        # The history row of the creation points to the import (how an import is listed
        # and undone), names its file and is attributed to the person who imported.
        instance._change_reason = import_change_reason(self.import_record)
        link_history(instance, import_source=self.import_record)
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
    columns = ("ligne", "diagnostic", "pilier", "libelle", "cle", "texte")
    pilier = fields.Field(attribute="pilier", column_name="pilier", widget=PilierWidget())

    class Meta(SourceTableResource.Meta):
        model = Theme
        fields = ("pilier", "libelle", "cle")
        import_id_fields = ("pilier", "cle")


class SousThemeResource(SourceTableResource):
    source_column = CelluleSource.Colonne.SOUS_THEME
    parent_fields = ("theme",)
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


class DifficulteResource(ElementResource):
    source_column = CelluleSource.Colonne.DIFFICULTES

    class Meta(ElementResource.Meta):
        model = Difficulte
