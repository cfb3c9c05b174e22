"""django-import-export resource of the measures: a flat table with natural keys.

Columns (as exported, and as `indicateurs.imports` hands the rows of any file to it):
Identifiant, Indicateur, Quartier (a quartier's code, a comparison territory's code, or
the whole territory), Période, Nature (valeur, référence, cible), Valeur, Numérateur,
Dénominateur (a rate's terms), Source, Commentaire (plus Ligne, the line of the original
file, when the importer gives it). Each row is read by the very function of the bulk path
(`rows.clean_row`), so that every path gives the same measures and the same French
messages.

Per-row cost (each new or changed row: one INSERT or UPDATE and one history row) makes
this the path for small files only: see `indicateurs.imports.measures`.

Editions: exported with a diagnostic, the table holds what its pages show of each of its
indicators (`indicateurs.models.series`): the values of the indicator's lineage (entered
in any edition of the contract, the most recent edition's for a period and place) and its
own references and targets, every row named by the diagnostic's indicator. An import
matches a row only with the measures of the diagnostic's own indicators: a value of an
earlier edition is never changed, the file's value becomes this edition's (and wins).
"""

from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.instance_loaders import BaseInstanceLoader

from diagnostics.models import import_change_reason, link_history
from indicateurs.imports.keys import TERRITOIRE, Resolver
from indicateurs.imports.reader import MeasureRow
from indicateurs.imports.rows import (
    clean_row,
    duplicate_message,
    is_changed,
    measure_key,
    set_values,
)
from indicateurs.imports.values import format_number, parse_nature, parse_period
from indicateurs.models import Indicateur, Mesure, series

COLUMNS = (
    "Identifiant",
    "Indicateur",
    "Quartier",
    "Période",
    "Nature",
    "Valeur",
    "Numérateur",
    "Dénominateur",
    "Source",
    "Commentaire",
)


class MesureInstanceLoader(BaseInstanceLoader):
    """Finds the existing measure a row names, by its natural key.

    The measures of the indicators the dataset names are loaded once, in one query, and
    looked up by (indicator, nature, place, period). Unlike `CachedInstanceLoader`, which looks
    rows up by the first of the `import_id_fields` only, this handles the composite key.
    """

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.existing = None

    def get_instance(self, row):
        if self.existing is None:
            self.existing = self.resource.existing_measures(self.dataset)
        return self.existing.get(self.resource.row_key(row))


class MesureResource(resources.ModelResource):
    """Measures of one diagnostic's indicators, identified by their natural key.

    Import needs the diagnostic (indicators are named by libellé within it); the import
    record and the user go into each measure's history (change reason "import:<pk>").
    """

    identifiant = fields.Field(attribute="indicateur_id", column_name="Identifiant", readonly=True)
    indicateur = fields.Field(attribute="indicateur_id", column_name="Indicateur")
    quartier = fields.Field(attribute="quartier_id", column_name="Quartier")
    periode = fields.Field(attribute="periode_libelle", column_name="Période")
    nature = fields.Field(attribute="nature", column_name="Nature")
    valeur = fields.Field(attribute="valeur", column_name="Valeur")
    numerateur = fields.Field(attribute="numerateur", column_name="Numérateur")
    denominateur = fields.Field(attribute="denominateur", column_name="Dénominateur")
    source = fields.Field(attribute="source", column_name="Source")
    commentaire = fields.Field(attribute="commentaire", column_name="Commentaire")

    class Meta:
        model = Mesure
        fields = (
            "identifiant",
            "indicateur",
            "quartier",
            "periode",
            "nature",
            "valeur",
            "numerateur",
            "denominateur",
            "source",
            "commentaire",
        )
        # The columns a table must have; the key also reads Nature when there is one
        # (`MesureInstanceLoader`, `row_key`).
        import_id_fields = ("indicateur", "quartier", "periode")
        instance_loader_class = MesureInstanceLoader
        skip_diff = True
        use_transactions = False  # the importer's transaction holds everything

    def __init__(self, diagnostic=None, import_record=None, user=None, resolver=None):
        super().__init__()
        self.diagnostic = diagnostic
        self.import_record = import_record
        self.user = user
        self._resolver = resolver
        self._first_rows = {}  # key -> (row number, line) of the first row naming it

    @property
    def resolver(self):
        if self._resolver is None:
            if self.diagnostic is None:
                raise ValueError("Importer des mesures demande un diagnostic.")
            self._resolver = Resolver(self.diagnostic)
        return self._resolver

    # Export -------------------------------------------------------------------------------

    def get_queryset(self):
        return super().get_queryset().select_related("indicateur", "quartier", "territoire")

    def filter_export(self, queryset, **kwargs):
        """Without a diagnostic, the measures as stored; with one, the series of its
        indicators as its pages show them, in the order of its indicators (two queries):
        each measure carries the indicator it is exported for (`exporte_pour`)."""
        if self.diagnostic is None:
            return queryset
        indicateurs = list(
            Indicateur.objects.du_diagnostic(self.diagnostic)
            .only("pk", "libelle", "lignee", "diagnostic")
            .order_by("pk")
        )
        ordered = queryset.order_by("annee", "type_periode", "numero_periode", "nature", "pk")
        found = series(indicateurs, reperes=True, queryset=ordered)
        rows = []
        for indicateur in indicateurs:
            for mesure in found[indicateur.pk]:
                mesure.exporte_pour = indicateur
                rows.append(mesure)
        return rows

    def dehydrate_identifiant(self, mesure):
        exporte = getattr(mesure, "exporte_pour", None)
        return str(exporte.pk if exporte is not None else mesure.indicateur_id)

    def dehydrate_indicateur(self, mesure):
        exporte = getattr(mesure, "exporte_pour", None)
        return (exporte if exporte is not None else mesure.indicateur).libelle

    def dehydrate_quartier(self, mesure):
        if mesure.quartier_id:
            return mesure.quartier.code
        if mesure.territoire_id:
            return mesure.territoire.code
        return TERRITOIRE

    def dehydrate_nature(self, mesure):
        return mesure.get_nature_display()

    def dehydrate_valeur(self, mesure):
        return format_number(mesure.valeur) if mesure.valeur is not None else mesure.texte

    def dehydrate_numerateur(self, mesure):
        return format_number(mesure.numerateur)

    def dehydrate_denominateur(self, mesure):
        return format_number(mesure.denominateur)

    # Import: natural keys -----------------------------------------------------------------

    def row_key(self, row):
        """The key of the measure a row names (`rows.measure_key`), or None."""
        try:
            indicator = self.resolver.indicator(_text(row, "Identifiant"), _text(row, "Indicateur"))
            nature = parse_nature(_text(row, "Nature"))
            place = self.resolver.place(_text(row, "Quartier"))
            period = parse_period(_text(row, "Période"))
        except ValueError:
            return None  # import_instance reports why
        return measure_key(
            indicator.pk,
            nature,
            place.quartier_id,
            place.territoire_id,
            period.annee,
            period.type_periode,
            period.numero,
        )

    def existing_measures(self, dataset):
        """{key: Mesure} of the indicators the dataset names: their own measures only (a
        value of an earlier edition of their lineage is never updated by an import)."""
        ids = set()
        for row in dataset.dict:
            key = self.row_key(row)
            if key is not None:
                ids.add(key[0])
        measures = Mesure.objects.filter(indicateur_id__in=ids)
        return {
            measure_key(
                m.indicateur_id,
                m.nature,
                m.quartier_id,
                m.territoire_id,
                m.annee,
                m.type_periode,
                m.numero_periode,
            ): m
            for m in measures
        }

    # Import: cells ------------------------------------------------------------------------

    def import_instance(self, instance, row, **kwargs):
        """Read the row as the bulk path does (`clean_row`, every problem of the row in one
        message list); then refuse a row naming the same measure as an earlier row."""
        number = kwargs["row_number"]
        line = line_of(row, number)
        measure, messages = clean_row(self.resolver, measure_row(row, line))
        if messages:
            raise ValidationError(messages)
        instance.indicateur_id = measure.indicateur_id
        instance.nature = measure.nature
        instance.quartier_id = measure.quartier_id
        instance.territoire_id = measure.territoire_id
        instance.annee = measure.annee
        instance.type_periode = measure.type_periode
        instance.numero_periode = measure.numero_periode
        set_values(instance, measure)
        first_number, first_line = self._first_rows.setdefault(measure.key, (number, line))
        if first_number != number:
            comparison = measure.territoire_id is not None
            raise ValidationError(duplicate_message(first_line, measure.nature, comparison))

    # Import: rows -------------------------------------------------------------------------

    def after_init_instance(self, instance, new, row, **kwargs):
        if not new:
            instance._imported_over = _Snapshot(instance)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """An existing measure whose cells the file repeats is left as it is ("unchanged")."""
        if import_validation_errors or instance.pk is None:
            return False
        return not is_changed(instance._imported_over, _Snapshot.incoming(instance, row))

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk is not None:
            instance.version += 1
        instance.fictive = False
        instance.saisi_par = self.user
        instance._history_user = self.user
        if self.import_record is not None:
            instance._change_reason = import_change_reason(self.import_record)
            link_history(instance, import_source=self.import_record)

    def after_import(self, dataset, result, **kwargs):
        """Keep the database sequences as they are (ModelResource resets them after
        creating rows, for imports that supply primary keys: ours never do)."""


def _text(row, column):
    value = row.get(column)
    return "" if value is None else str(value)


def _optional(row, column):
    """A cell of an optional column: None when the table has no such column."""
    return _text(row, column) if column in row else None


def measure_row(row, line):
    """A row of the resource's table as the reader gives it (`reader.MeasureRow`)."""
    return MeasureRow(
        line=line,
        identifiant=_text(row, "Identifiant"),
        indicateur=_text(row, "Indicateur"),
        quartier=_text(row, "Quartier"),
        periode=_text(row, "Période"),
        valeur=_text(row, "Valeur"),
        source=_optional(row, "Source"),
        commentaire=_optional(row, "Commentaire"),
        nature=_text(row, "Nature"),
        numerateur=_optional(row, "Numérateur"),
        denominateur=_optional(row, "Dénominateur"),
    )


def line_of(row, number):
    """The line of the original file (the importer's Ligne column), else the table's."""
    line = row.get("Ligne")
    return int(line) if line not in (None, "") else number + 1


class _Snapshot:
    """The cells of a measure compared by `is_changed` (same rule as the bulk path)."""

    def __init__(self, mesure, source=None, commentaire=None):
        self.valeur = mesure.valeur
        self.numerateur = mesure.numerateur
        self.denominateur = mesure.denominateur
        self.texte = mesure.texte
        self.source = mesure.source if source is None else source
        self.commentaire = mesure.commentaire if commentaire is None else commentaire
        self.fictive = mesure.fictive

    @classmethod
    def incoming(cls, instance, row):
        snapshot = cls(instance)
        snapshot.source = instance.source if "Source" in row else None
        snapshot.commentaire = instance.commentaire if "Commentaire" in row else None
        return snapshot
