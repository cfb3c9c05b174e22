"""Import of a source table into a diagnostic, all or nothing (see `import_source_table`).

Into an existing edition, the file is first reconciled with it (`reconcile`): what the
edition holds is left as it is, what was edited in the site since its import is not created
again (the site's version is kept, unless the administrator takes the file's), what the
edition holds and the file does not is kept (unless the administrator removes it).
"""

import hashlib
from dataclasses import dataclass, field

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from diagnostics.models import Diagnostic, Import, import_change_reason
from diagnostics.text import fingerprint, normalize_key

from .. import kinds
from ..editions.states import ensure_modifiable
from . import bulk, reconcile
from .cells import Column
from .reader import read_table
from .reconcile import (  # noqa: F401 (the statuses of the report, used by its readers)
    CONTINUED,
    CREATED,
    EDITED_IN_SITE,
    REPLACED,
    UNCHANGED,
    Choices,
    Entry,
)
from .report import message_lines, status_line

NOTHING_NEW = "Aucune modification : tout le contenu de ce fichier est déjà présent."
NOTHING_NEW_EDITED = (
    "Aucune modification : ce fichier n'apporte rien de nouveau. Ce qui a été modifié dans le "
    "site depuis l'import garde la version du site."
)
# Up to this many rows, a table goes through the resources of `diagnostics.imports.resources`,
# row by row; larger ones through the bulk path (`bulk`), which writes the same rows: the resources
# write about 430 objects (and their history) per CPU second, far too slow for a table of
# 20,000 rows (155 s of CPU; the bulk path 7 s on PostgreSQL, see `bulk`).
RESOURCE_MAX_ROWS = 200


@dataclass
class LevelCount:
    created: int = 0
    unchanged: int = 0
    edited: int = 0  # modifiés dans le site depuis l'import: the site's version kept
    removed: int = 0  # retirés du site (absent from the file, or replaced by its version)

    def summary(self):
        """As stored in `Import.compte_rendu` (the last two only when there are some)."""
        counts = {"created": self.created, "unchanged": self.unchanged}
        for name in ("edited", "removed"):
            if getattr(self, name):
                counts[name] = getattr(self, name)
        return counts


@dataclass
class ImportReport:
    """What an import did (or would do, or refused to do), with its French report."""

    filename: str
    dry_run: bool = False
    counts: dict[str, LevelCount] = field(default_factory=dict)  # by Level.key, in order
    warnings: list[tuple[int | None, str]] = field(default_factory=list)
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    import_record: Import | None = None
    # By Level.key, when the import found no error: each thing of the file and its status.
    entries: dict[str, list[Entry]] = field(default_factory=dict)
    shifted_lines: list[int] = field(default_factory=list)  # rows put back in place
    engine: str = ""  # "resource" or "bulk": which path wrote (or would write)
    # Into an existing edition (`reconcile`): the cells of the file edited in the site since
    # their import, and what the edition holds that the file does not.
    divergences: list[reconcile.Divergence] = field(default_factory=list)
    absents: list[reconcile.Absent] = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors

    def levels(self):
        """(level, its entries, {status: number}) for each level, in order (for a preview):
        created (the file's version taken counts as created), continued, unchanged, and
        edited in the site when there are some."""
        for level in kinds.source_table():
            entries = self.entries.get(level.key, [])
            totals = dict.fromkeys((CREATED, CONTINUED, UNCHANGED), 0)
            for entry in entries:
                status = CREATED if entry.status == REPLACED else entry.status
                totals[status] = totals.get(status, 0) + 1
            yield level, entries, totals

    @property
    def created(self):
        return sum(count.created for count in self.counts.values())

    @property
    def edited(self):
        return sum(count.edited for count in self.counts.values())

    @property
    def removed(self):
        return sum(count.removed for count in self.counts.values())

    @property
    def changes(self):
        """Whether the import writes anything: something created or removed."""
        return bool(self.created or self.removed)

    def divergences_by_kind(self):
        """[(level, its divergences)] for the levels that have some."""
        for level in kinds.source_table():
            found = [d for d in self.divergences if d.kind.key == level.key]
            if found:
                yield level, found

    def removable_absents(self):
        return [absent for absent in self.absents if absent.choice]

    def as_lines(self):
        """The report in French, one line of text per entry."""
        lines = [self._status()]
        for level in kinds.source_table():
            if self.ok and level.key in self.counts:
                count, feminin = self.counts[level.key], level.nom.feminin
                parts = [
                    _count(count.created, "créé", feminin),
                    _count(count.unchanged, "inchangé", feminin),
                ]
                if count.edited:
                    parts.append(
                        f"{_count(count.edited, 'modifié', feminin)} dans le site depuis "
                        "l'import (version du site conservée)"
                    )
                if count.removed:
                    parts.append(f"{_count(count.removed, 'retiré', feminin)} du site")
                lines.append(f"{level.nom.pluriel.capitalize()} : {', '.join(parts)}")
        lines.extend(message_lines(self.warnings, self.errors))
        return lines

    def summary(self):
        """The counts and warnings as stored in `Import.compte_rendu`."""
        return {
            "counts": {key: count.summary() for key, count in self.counts.items()},
            "warnings": [{"line": line, "message": message} for line, message in self.warnings],
        }

    def _status(self):
        return status_line(
            self.filename,
            ok=self.ok,
            nothing_new=bool(self.counts) and not self.changes,
            dry_run=self.dry_run,
            nothing_new_message=NOTHING_NEW_EDITED if self.edited else NOTHING_NEW,
        )


def summary(counts):
    """What an import of a source table created, in a few words ("109 éléments créés")."""
    created = sum(level.get("created", 0) for level in counts.values() if isinstance(level, dict))
    removed = sum(level.get("removed", 0) for level in counts.values() if isinstance(level, dict))
    text = f"{created} élément{'s' if created > 1 else ''} créé{'s' if created > 1 else ''}"
    if removed:
        text += f", {removed} retiré{'s' if removed > 1 else ''}"
    return text


def _count(number, adjective, feminine):
    return f"{number} {adjective}{'e' if feminine else ''}{'s' if number > 1 else ''}"


def import_source_table(
    diagnostic, filename, content, *, user=None, dry_run=False, engine=None, choices=None
):
    """Import a source table (.xlsx, .csv, .tsv, .txt) into `diagnostic`; return the report.

    All or nothing, in one transaction: the diagnostic (saved here when new), an `Import`
    record, the rows of every level, and what the administrator chose to remove
    (`choices`, a `reconcile.Choices`: the cells whose file's version is taken, the items
    absent from the file to remove). Nothing at all is written on a dry run, on any
    error, into a frozen edition, or when the file changes nothing (a second import of the
    same file, or of the file whose contents were edited in the site since).
    `engine` forces a path, "resource" or "bulk"; by default tables of up to
    RESOURCE_MAX_ROWS rows take the resources, larger ones the bulk path.
    """
    report = ImportReport(filename=filename, dry_run=dry_run)
    is_new = diagnostic.pk is None
    kept = False
    try:
        with transaction.atomic():
            _import(diagnostic, is_new, content, user, report, engine, choices or Choices())
            kept = report.ok and report.changes and not dry_run
            if not kept:
                transaction.set_rollback(True)
    finally:
        if not kept:
            report.import_record = None
            if is_new:  # the diagnostic saved in the rolled back transaction does not exist
                diagnostic.pk = None
                diagnostic._state.adding = True
    return report


def _import(diagnostic, is_new, content, user, report, engine, choices):
    known_piliers = {}
    if not is_new:
        # One import at a time per diagnostic: a concurrent one waits, then finds our rows.
        locked = Diagnostic.objects.select_for_update().filter(pk=diagnostic.pk).first()
        try:
            ensure_modifiable(locked or diagnostic)
        except ValidationError as error:
            report.errors.extend((None, message) for message in error.messages)
            return
        known_piliers = dict(diagnostic.piliers.values_list("numero", "libelle"))
    table = read_table(report.filename, content, known_piliers=known_piliers)
    report.warnings.extend(table.warnings)
    report.errors.extend(table.errors)
    report.shifted_lines.extend(table.shifted_lines)
    if report.errors:
        return
    if is_new:
        diagnostic._history_user = user
        diagnostic.save()
    datasets = build_datasets(table.rows, diagnostic.pk)
    # Read the edition before anything is written: what the file finds, what was edited.
    the_plan = reconcile.plan(None if is_new else diagnostic, datasets, choices)
    report.warnings.extend(the_plan.warnings)
    record = Import.objects.create(
        diagnostic=diagnostic,
        nom_fichier=report.filename[: Import._meta.get_field("nom_fichier").max_length],
        sha256=hashlib.sha256(content).hexdigest(),
        taille=len(content),
        importe_par=user,
    )
    if is_new:  # its history row points to the import that created it, as its contents' do
        diagnostic.history.update(
            history_change_reason=import_change_reason(record), import_source=record
        )
    report.engine = engine or ("resource" if len(table.rows) <= RESOURCE_MAX_ROWS else "bulk")
    write = _import_with_resources if report.engine == "resource" else _import_in_bulk
    write(the_plan.datasets, record, report)
    if report.errors:
        return
    try:
        removed = reconcile.remove(the_plan, record, user)
    except ValidationError as error:
        report.errors.extend((None, message) for message in error.messages)
        return
    for key, (created, unchanged, edited) in the_plan.counts().items():
        report.counts[key] = LevelCount(created, unchanged, edited, removed[key])
    report.entries = the_plan.entries
    report.divergences = the_plan.divergences
    report.absents = the_plan.absents
    record.compte_rendu = report.summary()
    record.save(update_fields=["compte_rendu"])
    report.import_record = record


def _import_with_resources(datasets, record, report):
    """Each level through its resource, row by row."""
    for level in kinds.source_table():
        result = level.resource(record).import_data(
            datasets[level.key], dry_run=False, use_transactions=False
        )
        report.errors.extend(_row_errors(level, datasets[level.key], result))
        if report.errors:
            break  # the next levels would only repeat the missing parents


def _import_in_bulk(datasets, record, report):
    """Every level by the bulk path (`bulk`)."""
    _, invalid = bulk.import_levels(kinds.source_table(), datasets, record, reconcile.natural_key)
    errors = [
        (row["ligne"], _row_message(level, row, _messages(level, error_dict)))
        for level, row, error_dict in invalid
    ]
    report.errors.extend(sorted(errors, key=lambda error: error[0] or 0))


def build_datasets(rows, diagnostic_id):
    """One tablib Dataset per level, each pilier, thème, sous-thème and item once.

    Names are compared by `normalize_key` and items by `fingerprint` within their parent:
    a repeated row continues what it names, a repeated item is not added twice. The
    first row naming something gives its line and source cell.
    """
    found = {level.key: {} for level in kinds.source_table()}
    item_kinds = [kind for kind in kinds.source_table() if kind.is_item]

    def add(level, key, row, column, libelle, cle, **parents):
        found[level].setdefault(
            key,
            {
                "ligne": row.line,
                "diagnostic": diagnostic_id,
                **parents,
                "libelle": libelle,
                "cle": cle,
                "texte": row.cells.get(column, ""),
            },
        )

    for row in rows:
        pilier = row.pilier.numero
        libelle = row.pilier.libelle
        add("pilier", pilier, row, Column.PILIER, libelle, normalize_key(libelle), numero=pilier)
        if row.theme is None:
            continue
        theme = normalize_key(row.theme)
        add("theme", (pilier, theme), row, Column.THEME, row.theme, theme, pilier=pilier)
        sous_theme = ""
        if row.sous_theme is not None:
            sous_theme = normalize_key(row.sous_theme)
            key = (pilier, theme, sous_theme)
            add(
                "sous_theme",
                key,
                row,
                Column.SOUS_THEME,
                row.sous_theme,
                sous_theme,
                pilier=pilier,
                theme=theme,
            )
        parents = {"pilier": pilier, "theme": theme, "sous_theme": sous_theme}
        for kind in item_kinds:
            for item in row.items_in(kind.colonne):
                cle = fingerprint(item)
                add(
                    kind.key,
                    (pilier, theme, sous_theme, cle),
                    row,
                    kind.colonne,
                    item,
                    cle,
                    **parents,
                )
    return {
        level.key: _dataset(level.resource.columns, found[level.key].values())
        for level in kinds.source_table()
    }


def _dataset(columns, entries):
    return tablib.Dataset(
        *(tuple(entry[column] for column in columns) for entry in entries), headers=list(columns)
    )


def _row_errors(level, dataset, result):
    """(line, French message) for each row a resource refused, and each general error."""
    errors = [
        (None, f"{level.nom.pluriel.capitalize()} : {error.error}") for error in result.base_errors
    ]
    rows = dataset.dict
    for invalid in result.invalid_rows:
        row = rows[invalid.number - 1]
        errors.append(
            (row["ligne"], _row_message(level, row, _messages(level, invalid.error_dict)))
        )
    for error_row in result.error_rows:
        row = rows[error_row.number - 1]
        messages = [f"erreur inattendue ({error.error})" for error in error_row.errors]
        errors.append((row["ligne"], _row_message(level, row, messages)))
    return sorted(errors, key=lambda error: error[0] or 0)


def _messages(level, error_dict):
    """The messages of a row's validation errors, each after its field's name."""
    messages = []
    for name, field_messages in error_dict.items():
        prefix = "" if name == NON_FIELD_ERRORS else f"{_field_name(level, name)} : "
        messages.extend(f"{prefix}{message}" for message in field_messages)
    return messages


def _field_name(level, name):
    model = level.resource._meta.model
    # `cle` derives from the libellé: its errors are the libellé's.
    return str(model._meta.get_field("libelle" if name == "cle" else name).verbose_name)


def _row_message(level, row, messages):
    libelle = row["libelle"] if len(row["libelle"]) <= 60 else f"{row['libelle'][:59]}…"
    unique = list(dict.fromkeys(messages))
    return f"{level.nom.singulier} « {libelle} » : {' '.join(unique)}"
