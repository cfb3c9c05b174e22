"""django-import-export resource of the measures: a flat table with natural keys.

Columns (as exported, and as `indicateurs.imports` hands the rows of any file to it):
Identifiant, Indicateur, Quartier, Période, Valeur, Source, Commentaire (plus Ligne, the
line of the original file, when the importer gives it). Each cell is read by the same
functions as the importer's bulk path (`indicateurs.imports.keys` and `.values`), so
both paths give the same measures and the same French messages.

Per-row cost (each new or changed row: one INSERT or UPDATE and one history row) makes
this the path for small files only: see `indicateurs.imports.measures`.
"""

from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.instance_loaders import BaseInstanceLoader

from diagnostics.models import import_change_reason, link_history
from indicateurs.imports.keys import TERRITOIRE, Resolver
from indicateurs.imports.rows import duplicate_message, is_changed
from indicateurs.imports.values import (
    clean_commentaire,
    clean_source,
    format_number,
    parse_period,
    parse_value,
)
from indicateurs.models import Mesure

COLUMNS = ("Identifiant", "Indicateur", "Quartier", "Période", "Valeur", "Source", "Commentaire")


class MesureInstanceLoader(BaseInstanceLoader):
    """Finds the existing measure a row names, by its natural key.

    The measures of the indicators the dataset names are loaded once, in one query, and
    looked up by (indicator, quartier, period). Unlike `CachedInstanceLoader`, which looks
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
    valeur = fields.Field(attribute="valeur", column_name="Valeur")
    source = fields.Field(attribute="source", column_name="Source")
    commentaire = fields.Field(attribute="commentaire", column_name="Commentaire")

    class Meta:
        model = Mesure
        fields = (
            "identifiant",
            "indicateur",
            "quartier",
            "periode",
            "valeur",
            "source",
            "commentaire",
        )
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
        self._setters = {
            "Indicateur": self._set_indicateur,
            "Quartier": self._set_quartier,
            "Période": self._set_periode,
            "Valeur": self._set_valeur,
            "Source": self._set_source,
            "Commentaire": self._set_commentaire,
        }

    @property
    def resolver(self):
        if self._resolver is None:
            if self.diagnostic is None:
                raise ValueError("Importer des mesures demande un diagnostic.")
            self._resolver = Resolver(self.diagnostic)
        return self._resolver

    # Export -------------------------------------------------------------------------------

    def get_queryset(self):
        return super().get_queryset().select_related("indicateur", "quartier")

    def dehydrate_indicateur(self, mesure):
        return mesure.indicateur.libelle

    def dehydrate_quartier(self, mesure):
        return mesure.quartier.code if mesure.quartier_id else TERRITOIRE

    def dehydrate_valeur(self, mesure):
        return format_number(mesure.valeur) if mesure.valeur is not None else mesure.texte

    # Import: natural keys -----------------------------------------------------------------

    def row_key(self, row):
        """(indicator pk, quartier pk, year, period type, number) of a row, or None."""
        try:
            indicator = self.resolver.indicator(row.get("Identifiant", ""), row["Indicateur"])
            quartier = self.resolver.quartier(row.get("Quartier", ""))
            period = parse_period(row["Période"])
        except ValueError:
            return None  # import_instance reports why
        return (indicator.pk, quartier, period.annee, period.type_periode, period.numero)

    def existing_measures(self, dataset):
        ids = set()
        for row in dataset.dict:
            key = self.row_key(row)
            if key is not None:
                ids.add(key[0])
        measures = Mesure.objects.filter(indicateur_id__in=ids)
        return {
            (m.indicateur_id, m.quartier_id, m.annee, m.type_periode, m.numero_periode): m
            for m in measures
        }

    # Import: cells ------------------------------------------------------------------------

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        setter = self._setters.get(field.column_name)
        if setter is None:  # Identifiant: read along with Indicateur
            return
        if field.column_name in row:
            setter(instance, str(row[field.column_name] or ""), row)

    def _set_indicateur(self, instance, text, row):
        indicator = self.resolver.indicator(str(row.get("Identifiant") or ""), text)
        instance.indicateur_id = indicator.pk

    def _set_quartier(self, instance, text, row):
        instance.quartier_id = self.resolver.quartier(text)

    def _set_periode(self, instance, text, row):
        period = parse_period(text)
        instance.annee = period.annee
        instance.type_periode = period.type_periode
        instance.numero_periode = period.numero

    def _set_valeur(self, instance, text, row):
        indicator = self.resolver.indicators.get(instance.indicateur_id)
        if indicator is None:
            return  # the indicator's own error says why
        instance.valeur, instance.texte = parse_value(text, indicator, str(row["Période"]))

    def _set_source(self, instance, text, row):
        instance.source = clean_source(text)

    def _set_commentaire(self, instance, text, row):
        instance.commentaire = clean_commentaire(text)

    # Import: rows -------------------------------------------------------------------------

    def after_init_instance(self, instance, new, row, **kwargs):
        if not new:
            instance._imported_over = _Snapshot(instance)

    def import_instance(self, instance, row, **kwargs):
        """Set the cells; then refuse a row naming the same measure as an earlier row."""
        super().import_instance(instance, row, **kwargs)
        key = (
            instance.indicateur_id,
            instance.quartier_id,
            instance.annee,
            instance.type_periode,
            instance.numero_periode,
        )
        number = kwargs["row_number"]
        first_number, first_line = self._first_rows.setdefault(key, (number, line_of(row, number)))
        if first_number != number:
            raise ValidationError(duplicate_message(first_line))

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


def line_of(row, number):
    """The line of the original file (the importer's Ligne column), else the table's."""
    line = row.get("Ligne")
    return int(line) if line not in (None, "") else number + 1


class _Snapshot:
    """The cells of a measure compared by `is_changed` (same rule as the bulk path)."""

    def __init__(self, mesure, source=None, commentaire=None):
        self.valeur = mesure.valeur
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
