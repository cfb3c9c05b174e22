"""Reconciling a source table with the edition it is imported into (`plan`), and removing
what the administrator chose to remove (`remove`).

An import only adds: what the file names and the edition holds is left as staff left it.
But an edition is edited in the site (items reworded, split, merged, moved or deleted,
levels renamed or moved): matching the file by text alone would create again, beside
its edited version, everything whose text changed — on every new run of the demonstration
and whenever an administrator imports an older spreadsheet.

So each pilier, thème, sous-thème and item of the file is, in this order:

1. *found* (FOUND): the edition holds it under its parent (a pilier by its numéro, the
   others by their key): left unchanged, as before;
2. *modifié dans le site depuis l'import* (EDITED): not found, but the edition — or an
   edition it was copied from — once held it there: a history row of one of its lineages,
   under the same parent lineage, carries its key, or comes from a source cell with the
   same column and text (the cell the file's row was imported from, whose items all share
   it). What the edition holds now of those lineages is "the site's version" (an item
   reworded, the parts of a split, an item merged or moved; nothing when deleted). It is
   not created. A level continues as the site's version: what the file holds under it is
   matched there. For the items of a cell, the administrator may take the file's version
   instead (`Choices.take_file`): the file's items of the cell are created and the site's
   version is removed;
3. *new* (NEW): created, as before.

Objects are tied to their past by lineage (`models.Lineage`), never by id: a lineage is
the same in every edition of a contract, so an item copied into a new edition is still
"the one imported from that cell". History rows written by an import that was undone, or
by an undo, are ignored: what an undo removed comes back with a new import.

What the edition holds and the file does not ("dans le site, absents du fichier") is kept,
unless the administrator ticks an item for removal (`Choices.remove`). Removals go through
`editing.delete` (history, `Suppression`), their deletion rows pointing to the import, so
that its undo puts them back (`undo`).

The plan is computed before anything is written, from the datasets of the file
(`source_table.build_datasets`), and rewrites them: what is not created is dropped, and
parents renamed or moved in the site are named as the site names them. Both writing paths
(the resources and the bulk path) then write exactly the same rows. A constant number of
queries reads the edition: per kind, its rows, its history and its source cells.
"""

from collections import Counter
from dataclasses import dataclass, field

import tablib
from django.urls import reverse

from .. import editing, kinds
from ..models import CelluleSource, Diagnostic, Import, reason_text
from ..text import normalize_key

# How a thing of the file stands against the edition.
FOUND, EDITED, NEW = "found", "edited", "new"
# What the import does to it.
KEEP, CREATE, SKIP = "keep", "create", "skip"
# Its status in the report (`Entry.status`, the preview): created, continued (existing,
# something created under it), unchanged, edited in the site since the import (the site's
# version kept), replaced (the file's version taken instead of the site's).
CREATED, CONTINUED, UNCHANGED, EDITED_IN_SITE, REPLACED = (
    "created",
    "continued",
    "unchanged",
    "edited",
    "replaced",
)

DIAGNOSTIC = ("diagnostic", None)  # the parent of every pilier, in every edition


@dataclass(frozen=True)
class Entry:
    """One pilier, thème, sous-thème or item of the file and what the import does to it."""

    line: int  # the first line of the file naming it
    libelle: str
    parents: tuple[str, ...]  # the names of its pilier, thème and sous-thème
    status: str  # CREATED, CONTINUED, UNCHANGED, EDITED_IN_SITE or REPLACED


@dataclass(frozen=True)
class Choices:
    """What the administrator ticked on the preview.

    `take_file`: the cells of the file ("difficulte:12": kind and line) whose version is
    taken instead of the site's; `remove`: the items of the edition absent from the file
    to remove ("indicateur:345": kind and id).
    """

    take_file: frozenset = frozenset()
    remove: frozenset = frozenset()

    @classmethod
    def of(cls, take_file=(), remove=()):
        return cls(frozenset(take_file), frozenset(remove))

    def __bool__(self):
        return bool(self.take_file or self.remove)


def choice_id(kind_key, number):
    return f"{kind_key}:{number}"


@dataclass
class Version:
    """What the site holds now of something of the file, or holds that the file does not."""

    kind: object  # a kinds.Kind
    pk: int
    libelle: str
    place: str  # where it stands: "1. COHESION SOCIALE › Santé › Accès aux soins"
    url: str | None


@dataclass
class Divergence:
    """A cell of the file (a line, a column) whose contents were edited in the site since
    they were imported: the file's version and the site's."""

    kind: object  # a kinds.Kind
    line: int
    parents: tuple[str, ...]  # as the file names them
    fichier: list[str]  # the file's libellés the site no longer holds there
    site: list[Version]  # the site's version now (empty: deleted)
    note: str  # when the site holds nothing: how it went ("Fusion dans « … »")
    choice: str  # the id of "prendre la version du fichier" ("" for a level: not offered)
    taken: bool = False  # the file's version is taken (at the confirmation)

    @property
    def deleted(self):
        return not self.site


@dataclass
class Absent(Version):
    """Something of the edition the file does not hold."""

    choice: str = ""  # the id of "retirer" ("" for a level: not offered)
    removed: bool = False  # removed by the import (at the confirmation)


# Natural keys of the datasets ---------------------------------------------------------------


def natural_key(level_key, row):
    """The key `build_datasets` gives a row: its parents' keys, then its own."""
    if level_key == "pilier":
        return (row["numero"],)
    if level_key == "theme":
        return (row["pilier"], row["cle"])
    if level_key == "sous_theme":
        return (row["pilier"], row["theme"], row["cle"])
    return (row["pilier"], row["theme"], row["sous_theme"], row["cle"])


def ancestors(key):
    """The keys of the pilier, thème and sous-thème (if any) above a key."""
    return [key[:end] for end in range(1, len(key)) if key[end - 1] != ""]


def _parent_key(level_key, key):
    if level_key == "pilier":
        return None
    return ancestors(key)[-1]


_LEVEL_OF_LENGTH = {1: "pilier", 2: "theme", 3: "sous_theme"}


def _with_key(level_key, row, key):
    """The dataset row under the natural key `key` (its parents' columns and its own)."""
    row = dict(row)
    if level_key == "pilier":
        (row["numero"],) = key
    elif level_key == "theme":
        row["pilier"], row["cle"] = key
    elif level_key == "sous_theme":
        row["pilier"], row["theme"], row["cle"] = key
    else:
        row["pilier"], row["theme"], row["sous_theme"], row["cle"] = key
    return row


# The edition as it stands, and its past -----------------------------------------------------


@dataclass(eq=False)
class SiteRow:
    kind: str
    pk: int
    lignee: object
    parent: tuple  # (kind key, pk) of its parent; DIAGNOSTIC for a pilier
    key: object  # numéro of a pilier, clé of the others
    libelle: str


def _parent_fields(kind_key):
    return {
        "pilier": ("diagnostic_id",),
        "theme": ("pilier_id",),
        "sous_theme": ("theme_id",),
    }.get(kind_key, ("sous_theme_id", "theme_id"))


def _parent_ref(kind_key, values):
    """(kind key, pk) of the parent of a row, from the values of `_parent_fields`."""
    if kind_key == "pilier":
        return DIAGNOSTIC
    if kind_key == "theme":
        return ("pilier", values[0])
    if kind_key == "sous_theme":
        return ("theme", values[0])
    sous_theme, theme = values
    return ("sous_theme", sous_theme) if sous_theme else ("theme", theme)


def _key_field(kind_key):
    return "numero" if kind_key == "pilier" else "cle"


class Site:
    """What an edition holds now (its rows) and held before (the history of its lineages,
    in this edition and the editions it was copied from)."""

    def __init__(self, diagnostic):
        self.diagnostic = diagnostic
        self.rows = {}  # kind key -> [SiteRow], current rows of the edition
        self.by_pk = {}  # (kind key, pk) -> SiteRow
        self.current = {}  # kind key -> {(parent ref, key): SiteRow}
        self.by_lineage = {}  # kind key -> {lignee: [SiteRow]}
        self.past_keys = {}  # kind key -> {(parent lineage, key): {lignee}}
        self.past_cells = {}  # kind key -> {(parent lineage, cell): {lignee}}
        self.deletions = {}  # kind key -> {lignee: reason of its deletion in this edition}
        self._lineage_of = {}  # (kind key, id) -> lignee, any edition of the chain
        if diagnostic is None:  # a new diagnostic: nothing yet, no past
            for kind in kinds.source_table():
                self.rows[kind.key] = []
                for index in (self.current, self.by_lineage, self.past_keys, self.past_cells):
                    index[kind.key] = {}
                self.deletions[kind.key] = {}
            return
        chain = _chain(diagnostic)
        ignored = set(
            Import.objects.filter(diagnostic_id__in=chain, annule_le__isnull=False).values_list(
                "pk", flat=True
            )
        )
        for kind in kinds.source_table():
            self._load(kind, chain, ignored)

    def _load(self, kind, chain, ignored):
        key = kind.key
        parents = _parent_fields(key)
        key_field = _key_field(key)
        model = kind.model
        live = model.objects.filter(diagnostic_id=self.diagnostic.pk)
        history = model.history.model.objects.filter(diagnostic_id__in=chain)
        cells = {}
        if kind.colonne and key != "pilier":
            cells = {
                pk: (colonne, normalize_key(texte))
                for pk, colonne, texte in CelluleSource.objects.filter(
                    pk__in=history.exclude(source_id=None).values("source_id")
                ).values_list("pk", "colonne", "texte")
            }
        self.rows[key], self.current[key], self.by_lineage[key] = [], {}, {}
        past_keys, past_cells, deletions = {}, {}, {}
        self.past_keys[key], self.past_cells[key], self.deletions[key] = (
            past_keys,
            past_cells,
            deletions,
        )

        def remember(lignee, parent_lineage, own_key, source_id):
            past_keys.setdefault((parent_lineage, own_key), set()).add(lignee)
            cell = cells.get(source_id)
            if cell is not None:
                past_cells.setdefault((parent_lineage, cell), set()).add(lignee)

        rows = history.order_by("history_id").values_list(
            "id",
            "lignee",
            *parents,
            key_field,
            "source_id",
            "history_type",
            "import_source_id",
            "annulation_de_id",
            "history_change_reason",
            "diagnostic_id",
        )
        width = len(parents)
        for values in rows:
            pk, lignee = values[0], values[1]
            parent = _parent_ref(key, values[2 : 2 + width])
            own_key, source_id, history_type, import_id, undo_of, reason, diagnostic_id = values[
                2 + width :
            ]
            self._lineage_of[key, pk] = lignee
            if import_id in ignored or undo_of is not None:
                continue  # written by an import since undone, or by an undo
            remember(lignee, self._lineage(parent), own_key, source_id)
            if diagnostic_id == self.diagnostic.pk:
                if history_type == "-":
                    deletions[lignee] = reason or "Suppression"
                else:
                    deletions.pop(lignee, None)
        for values in live.values_list("pk", "lignee", *parents, key_field, "libelle", "source_id"):
            pk, lignee = values[0], values[1]
            own_key, libelle, source_id = values[2 + width :]
            row = SiteRow(
                key, pk, lignee, _parent_ref(key, values[2 : 2 + width]), own_key, libelle
            )
            self._lineage_of[key, pk] = lignee
            self.rows[key].append(row)
            self.by_pk[key, pk] = row
            self.current[key][row.parent, own_key] = row
            self.by_lineage[key].setdefault(lignee, []).append(row)
            remember(lignee, self._lineage(row.parent), own_key, source_id)

    def _lineage(self, parent):
        """The lineage of a parent (tagged with its kind: a lineage derived from an id,
        `lignee_of_pk`, may be shared by two kinds)."""
        if parent == DIAGNOSTIC:
            return DIAGNOSTIC
        kind_key, pk = parent
        lignee = self._lineage_of.get((kind_key, pk))
        return None if lignee is None else (kind_key, lignee)

    def natural_key(self, row):
        """The natural key of a level of the edition, as a dataset names it."""
        if row.kind == "pilier":
            return (row.key,)
        return (*self.natural_key(self.by_pk[row.parent]), row.key)

    def place(self, row):
        """ "1. COHESION SOCIALE › Santé › Accès aux soins": where a row stands."""
        names = []
        parent = row.parent
        while parent != DIAGNOSTIC:
            above = self.by_pk.get(parent)
            if above is None:
                break
            names.append(_name(above))
            parent = above.parent
        return " › ".join(reversed(names))

    def url(self, row):
        """A page showing the row (its own page, or where it stands)."""
        slug = self.diagnostic.slug
        kind = kinds.get(row.kind)
        if kind.is_item and kind.detail_url_name:
            return reverse(kind.detail_url_name, kwargs={"slug": slug, "pk": row.pk})
        if row.kind == "sous_theme":
            return reverse("diagnostics:sous_theme", kwargs={"slug": slug, "pk": row.pk})
        if kind.is_item and row.parent[0] == "sous_theme":
            return reverse("diagnostics:sous_theme", kwargs={"slug": slug, "pk": row.parent[1]})
        theme = row.pk if row.kind == "theme" else row.parent[1] if kind.is_item else None
        pilier = row
        while pilier.kind != "pilier":
            pilier = self.by_pk[pilier.parent]
        url = reverse("diagnostics:pilier", kwargs={"slug": slug, "numero": pilier.key})
        return f"{url}#theme-{theme}" if theme else url

    def version(self, row):
        return Version(kinds.get(row.kind), row.pk, _name(row), self.place(row), self.url(row))


def _name(row):
    return f"{row.key}. {row.libelle}" if row.kind == "pilier" else row.libelle


def _chain(diagnostic):
    """The edition and those it was copied from, latest first."""
    chain, pk = [], diagnostic.pk
    while pk is not None and pk not in chain:
        chain.append(pk)
        pk = Diagnostic.objects.filter(pk=pk).values_list("precedente_id", flat=True).first()
    return chain


# The plan ------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Node:
    """A pilier, thème, sous-thème or item of the file, as the plan sees it."""

    kind: object
    row: dict
    key: tuple  # its natural key in the file
    parent: "_Node | None"
    match: str = NEW
    target: SiteRow | None = None  # the row of the edition it is (a level: continues)
    lineages: set = field(default_factory=set)  # (kind key, lignee) it stands for
    versions: list = field(default_factory=list)  # the site's version (EDITED)
    taken: bool = False  # the file's version is taken (an EDITED item)
    creates_below: bool = False  # something is created under it
    action: str = SKIP
    final_key: tuple = ()  # its natural key as written (parents as the site names them)
    duplicate: bool = False  # another row of the file is written under the same key

    @property
    def own_key(self):
        return self.row["numero"] if self.kind.key == "pilier" else self.row["cle"]


@dataclass
class Plan:
    """What importing the file into the edition does, computed before anything is written."""

    datasets: dict  # level key -> the tablib Dataset to write
    entries: dict  # level key -> [Entry], each thing of the file
    divergences: list  # [Divergence]
    absents: list  # [Absent]
    removals: list  # [(kind key, pk, reason)] what the import removes, in order
    warnings: list  # [(None, message)] choices that no longer apply

    def counts(self):
        """{level key: (created, unchanged, edited in the site)}."""
        result = {}
        for key, entries in self.entries.items():
            statuses = Counter(entry.status for entry in entries)
            result[key] = (
                statuses[CREATED] + statuses[REPLACED],
                statuses[UNCHANGED] + statuses[CONTINUED],
                statuses[EDITED_IN_SITE],
            )
        return result


def plan(diagnostic, datasets, choices=None):
    """The `Plan` of importing `datasets` (`build_datasets`) into `diagnostic` (None: a
    new diagnostic, where everything is created) with the administrator's `choices`."""
    choices = choices or Choices()
    site = Site(diagnostic)
    nodes = _match(site, datasets, choices)
    _decide(nodes)
    write_rows = _write_rows(site, nodes, datasets)
    entries = _entries(nodes)
    divergences = _divergences(site, nodes)
    absents = _absents(site, nodes, choices)
    removals, warnings = _removals(divergences, absents, nodes, choices)
    columns = {kind.key: datasets[kind.key].headers for kind in kinds.source_table()}
    return Plan(
        datasets={
            key: tablib.Dataset(
                *(tuple(row[column] for column in columns[key]) for row in rows),
                headers=columns[key],
            )
            for key, rows in write_rows.items()
        },
        entries=entries,
        divergences=divergences,
        absents=absents,
        removals=removals,
        warnings=warnings,
    )


def _match(site, datasets, choices):
    """Each thing of the file, level by level, found, edited in the site, or new."""
    nodes = {}
    by_key = {}
    for kind in kinds.source_table():
        level = []
        for row in datasets[kind.key].dict:
            key = natural_key(kind.key, row)
            parent_key = _parent_key(kind.key, key)
            parent = by_key[_LEVEL_OF_LENGTH[len(parent_key)], parent_key] if parent_key else None
            node = _Node(kind, row, key, parent)
            by_key[kind.key, key] = node
            level.append(node)
            if parent is None:
                found = site.current[kind.key].get((DIAGNOSTIC, node.own_key))
            elif parent.target is not None:
                found = site.current[kind.key].get(
                    ((parent.kind.key, parent.target.pk), node.own_key)
                )
            else:
                found = None
            if found is not None:
                node.match, node.target = FOUND, found
                node.lineages = {(kind.key, found.lignee)}
        taken = {node.target.lignee for node in level if node.match == FOUND}
        for node in level:
            if node.match == FOUND:
                continue
            lineages = _past(site, kind, node) - taken
            if not lineages:
                continue
            node.match = EDITED
            node.lineages = {(kind.key, lignee) for lignee in lineages}
            node.versions = sorted(
                (row for lignee in lineages for row in site.by_lineage[kind.key].get(lignee, ())),
                key=lambda row: row.pk,
            )
            if kind.is_level and node.versions:
                node.target = node.versions[0]  # the level continues as the site's version
            if kind.is_item:
                node.taken = choice_id(kind.key, node.row["ligne"]) in choices.take_file
        nodes[kind.key] = level
    return nodes


def _past(site, kind, node):
    """The lineages that held this thing of the file under its parent: by its key, or by
    the source cell it came from (same column, same text)."""
    parents = {DIAGNOSTIC} if node.parent is None else node.parent.lineages
    cell = None
    if kind.key != "pilier" and node.row.get("texte"):
        cell = (kind.colonne, normalize_key(node.row["texte"]))
    lineages = set()
    for parent in parents:
        lineages |= site.past_keys[kind.key].get((parent, node.own_key), set())
        if cell is not None:
            lineages |= site.past_cells[kind.key].get((parent, cell), set())
    return lineages


def _decide(nodes):
    """What the import does to each thing of the file, items first: an item is created
    when new or when the file's version is taken; a level is kept when the edition holds
    it (or its version), created when new, or when something is created under the level
    that was deleted in the site."""
    for kind in reversed(kinds.source_table()):
        for node in nodes[kind.key]:
            if kind.is_item:
                if node.match == NEW or node.taken:
                    node.action = CREATE
                else:
                    node.action = KEEP if node.match == FOUND else SKIP
            elif node.target is not None:
                node.action = KEEP
            elif node.match == NEW or node.creates_below:
                node.action = CREATE
            else:
                node.action = SKIP
            if node.parent is not None and (node.action == CREATE or node.creates_below):
                node.parent.creates_below = True


def _write_rows(site, nodes, datasets):
    """The rows to write, level by level: the levels kept (named as the site names them,
    so that both paths find them) and created, the items created. A level kept under a
    parent the file does not name (a sous-thème moved in the site) brings its parents."""
    write_rows = {kind.key: [] for kind in kinds.source_table()}
    written = {kind.key: set() for kind in kinds.source_table()}
    diagnostic_id = site.diagnostic.pk if site.diagnostic else None

    def bring(level_key, row, line):
        key = site.natural_key(row)
        if key in written[level_key]:
            return
        if row.parent != DIAGNOSTIC:
            bring(row.parent[0], site.by_pk[row.parent], line)
        written[level_key].add(key)
        values = {
            "ligne": line,
            "diagnostic": diagnostic_id,
            "libelle": row.libelle,
            "cle": normalize_key(row.libelle),  # a pilier's; the others' come with `key`
            "texte": "",
        }
        write_rows[level_key].append(_with_key(level_key, values, key))

    for kind in kinds.source_table():
        for node in nodes[kind.key]:
            if node.action == SKIP or (node.action == KEEP and kind.is_item):
                continue
            if node.action == KEEP:
                node.final_key = site.natural_key(node.target)
            elif node.parent is None:
                node.final_key = node.key
            elif kind.is_item and node.parent.kind.key == "theme":
                node.final_key = (*node.parent.final_key, "", node.own_key)
            else:
                node.final_key = (*node.parent.final_key, node.own_key)
            if node.final_key in written[kind.key]:
                node.duplicate = True
                continue
            if node.action == KEEP and node.target.parent != DIAGNOSTIC:
                parent = site.by_pk[node.target.parent]
                bring(parent.kind, parent, node.row["ligne"])
            written[kind.key].add(node.final_key)
            row = _with_key(kind.key, node.row, node.final_key)
            if node.action == KEEP:
                row["libelle"] = node.target.libelle
            write_rows[kind.key].append(row)
    return write_rows


def _status(node):
    if node.duplicate:
        return UNCHANGED
    if node.kind.is_item:
        if node.match == EDITED:
            return REPLACED if node.taken else EDITED_IN_SITE
        return CREATED if node.match == NEW else UNCHANGED
    if node.action == CREATE:
        return CREATED
    if node.match == EDITED:
        return EDITED_IN_SITE
    return CONTINUED if node.creates_below else UNCHANGED


def _names(nodes):
    names = {}
    for kind in kinds.levels():
        for node in nodes.get(kind.key, ()):
            row = node.row
            names[node.key] = (
                f"{row['numero']}. {row['libelle']}" if kind.key == "pilier" else row["libelle"]
            )
    return names


def _entries(nodes):
    names = _names(nodes)
    return {
        kind.key: [
            Entry(
                line=node.row["ligne"],
                libelle=node.row["libelle"],
                parents=tuple(names[ancestor] for ancestor in ancestors(node.key)),
                status=_status(node),
            )
            for node in nodes[kind.key]
        ]
        for kind in kinds.source_table()
    }


def _divergences(site, nodes):
    """The cells of the file edited in the site since their import, with both versions."""
    names = _names(nodes)
    divergences = []
    for kind in kinds.source_table():
        cells = {}
        for node in nodes[kind.key]:
            if node.match == EDITED and not node.duplicate:
                cells.setdefault(node.row["ligne"], []).append(node)
        for line, group in cells.items():
            versions = {row.pk: row for node in group for row in node.versions}
            reasons = sorted(
                {
                    site.deletions[kind.key][lignee]
                    for node in group
                    for _, lignee in node.lineages
                    if lignee in site.deletions[kind.key]
                }
            )
            divergences.append(
                Divergence(
                    kind=kind,
                    line=line,
                    parents=tuple(names[ancestor] for ancestor in ancestors(group[0].key)),
                    fichier=[_file_name(node) for node in group],
                    site=[site.version(row) for row in versions.values()],
                    note=" ; ".join(reasons),
                    choice=choice_id(kind.key, line) if kind.is_item else "",
                    taken=kind.is_item and group[0].taken,
                )
            )
    return divergences


def _file_name(node):
    row = node.row
    return f"{row['numero']}. {row['libelle']}" if node.kind.key == "pilier" else row["libelle"]


def _absents(site, nodes, choices):
    """What the edition holds that the file does not name (nor the site's version of a
    thing it names): the items may be removed, the levels are listed."""
    absents = []
    for kind in kinds.source_table():
        covered = {lineage for node in nodes[kind.key] for lineage in node.lineages}
        for row in site.rows[kind.key]:
            if (kind.key, row.lignee) in covered:
                continue
            version = site.version(row)
            choice = choice_id(kind.key, row.pk) if kind.is_item else ""
            absents.append(
                Absent(
                    **vars(version),
                    choice=choice,
                    removed=bool(choice) and choice in choices.remove,
                )
            )
    order = {kind.key: index for index, kind in enumerate(kinds.source_table())}
    absents.sort(key=lambda absent: (order[absent.kind.key], absent.place, absent.pk))
    return absents


def _removals(divergences, absents, nodes, choices):
    """What the import removes: the site's version of the cells whose file's version is
    taken, the items absent from the file ticked for removal; and a warning for each
    choice that no longer applies (the edition changed since the preview)."""
    removals, seen, warnings = [], set(), []
    for divergence in divergences:
        if divergence.taken:
            for version in divergence.site:
                if (version.kind.key, version.pk) not in seen:
                    seen.add((version.kind.key, version.pk))
                    removals.append((version.kind.key, version.pk, REPLACED))
    for absent in absents:
        if absent.removed and (absent.kind.key, absent.pk) not in seen:
            seen.add((absent.kind.key, absent.pk))
            removals.append((absent.kind.key, absent.pk, "absent"))
    offered = {divergence.choice for divergence in divergences if divergence.choice}
    for choice in sorted(choices.take_file - offered):
        warnings.append(
            (
                None,
                f"Le choix « prendre la version du fichier » coché pour {_describe(choice)} ne "
                "s'applique plus : le site a changé depuis l'aperçu. Rien n'a été fait pour elle.",
            )
        )
    removable = {absent.choice for absent in absents if absent.choice}
    for choice in sorted(choices.remove - removable):
        warnings.append(
            (
                None,
                f"Le retrait coché de {_describe(choice, line=False)} ne s'applique plus : "
                "cet élément a changé depuis l'aperçu (supprimé, ou de nouveau dans le "
                "fichier). Il n'a pas été retiré.",
            )
        )
    return removals, warnings


def _describe(choice, line=True):
    kind_key, _, number = choice.partition(":")
    try:
        nom = kinds.get(kind_key).nom
    except LookupError:
        return f"« {choice} »"
    if line:
        return f"la ligne {number} ({nom.pluriel})"
    return f"{nom.le} n° {number}"


# Removing ------------------------------------------------------------------------------------


def remove(the_plan, record, user):
    """Remove what the plan removes, each through `editing.delete` (history, with what goes
    with it); the deletion rows point to the import, so that its undo brings them back.
    Returns {kind key: number removed}. Raises the French `ValidationError` of `editing`."""
    removed = Counter()
    reasons = {
        REPLACED: reason_text(
            f"Remplacé par la version du fichier « {record.nom_fichier} » (import)"
        ),
        "absent": reason_text(f"Retiré par l'import du fichier « {record.nom_fichier} »"),
    }
    for kind_key, pk, why in the_plan.removals:
        kind = kinds.get(kind_key)
        obj = kind.model.objects.filter(pk=pk).first()
        if obj is None:
            continue
        editing.delete(obj, user)
        history = kind.model.history.model.objects
        deletion = (
            history.filter(id=pk, history_type="-")
            .order_by("-history_id")
            .values_list("history_id", "suppression_id")
            .first()
        )
        history_id, suppression_id = deletion
        history.filter(history_id=history_id).update(history_change_reason=reasons[why])
        for each in (kind, *kinds.below(kind)):
            each.model.history.model.objects.filter(
                history_type="-", suppression_id=suppression_id
            ).update(import_source_id=record.pk)
        removed[kind_key] += 1
    return removed
