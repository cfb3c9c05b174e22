"""The bulk path of the source-table import: what the resources of `diagnostics.imports.resources`
do row by row, done level by level with a few queries and bulk writes.

For each level (piliers, thèmes, sous-thèmes, difficultés, indicateurs), in order: one query
loads the level's rows of the diagnostic (natural keys and positions); each row of the
level's dataset is found among them ("unchanged") or built as the resource builds it, its
values checked by the same `clean_fields` (same French messages), then given its source cell,
its position after its last sibling's, and the normalisation its model's `save()` applies.
The new rows are written BATCH_SIZE at a time (memory stays flat), their source cells
first, each with its history row (the import's change reason and author):

- on PostgreSQL by COPY, ids taken from the tables' sequences beforehand
  (`diagnostics.history.bulk`): no model instance goes through the ORM's INSERT machinery;
- elsewhere by `bulk_create` and simple_history's `bulk_create_with_history`.

`source_table.import_source_table` takes this path for tables of more than
RESOURCE_MAX_ROWS rows, with the datasets its reconciliation with the edition rewrote
(`reconcile.plan`); tests pin that both paths write the same rows, history and report.
Measured on a table of 20,000 rows shaped like Montluçon's (66,840 objects; bench/imports.py
builds it), PostgreSQL, CPU seconds of the importing process: the resources 155 s (261 s of
wall-clock time), this path with the ORM's bulk writes 17 s, with COPY 7 s.
"""

from django.core.exceptions import ValidationError

from diagnostics.history.bulk import create_with_history
from diagnostics.models import CelluleSource, Element, NamedNode, import_change_reason
from diagnostics.text import collapse_whitespace, fingerprint, normalize_key

# New rows validated, then written, per batch.
BATCH_SIZE = 2_000


def import_levels(levels, datasets, record, natural_key):
    """Import each level's dataset; return ({level key: [created? per dataset row]},
    [(level, dataset row, error dict)] for the rows refused, in the first failing level,
    whose flag is None).

    `natural_key(level_key, row)` is the key `build_datasets` gives a row.
    """
    pks = {}  # (level key, natural key) -> pk of the row, existing or created
    created = {}
    for level in levels:
        writer = _LevelWriter(level, record, natural_key, pks)
        flags, invalid = writer.run(datasets[level.key].dict)
        created[level.key] = flags
        if invalid:
            return created, invalid
    return created, []


class _LevelWriter:
    def __init__(self, level, record, natural_key, pks):
        self.level = level
        self.record = record
        self.natural_key = natural_key
        self.pks = pks
        self.resource = level.resource(record)
        self.model = self.resource._meta.model
        self.parent_names = self.resource.parent_fields
        self.parent_attnames = [
            self.model._meta.get_field(name).attname for name in self.parent_names
        ]
        self.key_name = "numero" if level.key == "pilier" else "cle"
        self.cells = {}  # line -> the CelluleSource of this level's column
        self.reason = import_change_reason(record)

    def run(self, rows):
        existing, self.last_positions = self._existing()
        flags, invalid, pending = [], [], []
        for row in rows:
            parents = _parents(self.level.key, row, self.pks)
            pk = existing.get((*parents.values(), row[self.key_name]))
            if pk is not None:
                flags.append(False)
                self.pks[self.level.key, self.natural_key(self.level.key, row)] = pk
                continue
            values = {
                name: row[name]
                for name in self.resource._meta.fields
                if name in row and name not in self.parent_names
            }
            instance = self.model(**parents, **values)
            instance.diagnostic_id = self.record.diagnostic_id  # as `save()` would set it
            try:
                # Parents and diagnostic were just looked up: no query per row for them.
                instance.clean_fields(exclude={*self.parent_names, "diagnostic"})
            except ValidationError as error:
                flags.append(None)
                invalid.append((self.level, row, error.message_dict))
                continue
            flags.append(True)
            if not invalid:  # after a refused row, nothing more is written (rolled back)
                pending.append((row, instance))
                if len(pending) >= BATCH_SIZE:
                    self._write(pending)
                    pending = []
        if not invalid:
            self._write(pending)
        return flags, invalid

    def _existing(self):
        """({(parent pks…, numéro or clé): pk}, {parent pks: last position}) of the level's
        rows of the diagnostic (one query)."""
        has_position = self.resource.has_position
        width = len(self.parent_attnames)
        names = ["pk", *self.parent_attnames, self.key_name]
        if has_position:
            names.append("position")
        existing, last_positions = {}, {}
        rows = self.resource.diagnostic_rows(self.record.diagnostic_id).values_list(*names)
        for values in rows:
            existing[values[1 : width + 2]] = values[0]
            if has_position:
                parents = values[1 : width + 1]
                last_positions[parents] = max(last_positions.get(parents, 0), values[-1])
        return existing, last_positions

    def _write(self, batch):
        """What the resource's `before_save_instance` and the model's `save()` add to new
        rows (source cell, position, history author, libellé and clé normalised), then the
        rows, their cells first, and their history rows."""
        if not batch:
            return
        new_cells = []
        for row, _ in batch:
            if row["ligne"] not in self.cells:
                self.cells[row["ligne"]] = cell = CelluleSource(
                    import_source=self.record,
                    ligne=row["ligne"],
                    colonne=self.resource.source_column,
                    texte=row["texte"],
                )
                new_cells.append(cell)
        instances = []
        for row, instance in batch:
            instance.source = self.cells[row["ligne"]]
            if self.resource.has_position:
                parents = tuple(getattr(instance, name) for name in self.parent_attnames)
                self.last_positions[parents] = self.last_positions.get(parents, 0) + 1
                instance.position = self.last_positions[parents]
            instance._history_user = self.record.importe_par
            normalize_as_saved(instance)
            instances.append(instance)
        create_with_history(CelluleSource, new_cells, user_id=None, reason="")
        for instance in instances:
            instance.source_id = instance.source.pk
        create_with_history(
            self.model,
            instances,
            user_id=self.record.importe_par_id,
            reason=self.reason,
            links={"import_source_id": self.record.pk},
        )
        for row, instance in batch:
            self.pks[self.level.key, self.natural_key(self.level.key, row)] = instance.pk


def _parents(level_key, row, pks):
    """The row's parent foreign keys (attname: pk), as the resource's widgets find them."""
    if level_key == "pilier":
        return {"diagnostic_id": row["diagnostic"]}
    if level_key == "theme":
        return {"pilier_id": pks["pilier", (row["pilier"],)]}
    if level_key == "sous_theme":
        return {"theme_id": pks["theme", (row["pilier"], row["theme"])]}
    if row["sous_theme"]:
        sous_theme = pks["sous_theme", (row["pilier"], row["theme"], row["sous_theme"])]
        return {"theme_id": None, "sous_theme_id": sous_theme}
    return {"theme_id": pks["theme", (row["pilier"], row["theme"])], "sous_theme_id": None}


def normalize_as_saved(instance):
    """The libellé and clé as `NamedNode.save()` and `Element.save()` set them (bulk writes
    do not call `save()`).

    The datasets give each row the clé of its libellé, computed as `save()` does
    (`build_datasets`): it is computed again only when the libellé changes here.
    """
    if isinstance(instance, NamedNode):
        libelle, key = collapse_whitespace(instance.libelle), normalize_key
    elif isinstance(instance, Element):
        libelle, key = instance.libelle.strip(), fingerprint
    else:
        return
    if libelle != instance.libelle or not instance.cle:
        instance.libelle = libelle
        instance.cle = key(libelle)
