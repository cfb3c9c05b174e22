"""What an import created and changed, and how it is undone.

Every history row an import writes points to it (`import_source`, see
`models.HistoryLinks`): the rows of creation ("+") of what it created, the rows of change
("~") of what it changed, the rows of deletion ("-") of what it removed (an import of a
source table removes what the administrator ticked, see `reconcile`). Undoing an import
deletes what it created, puts back what it changed as it was just before and what it
removed (with its quartiers), in one transaction, and marks the import cancelled
(`annule_le`, `annule_par`); the history rows of the undo point to it as `annulation_de`.
An import into a frozen edition cannot be undone (`editions.states`).

The undo is refused while something was edited since: a history row written after the
import's own on one of its objects (an edit, a deletion, a later import that was not
undone since), a version that moved without a history row, or something added since
under what it created (a thème, a sous-thème, an item, a measure, which the undo would
otherwise delete with its parent). The refusal lists them, with links.

Three queries read all this whatever the size of the import, each a UNION over the
tracked models: `touched_rows` (history), `current_rows` (versions), `added_since`.
An import's page reads what it created and changed with two (`imported`).
"""

from collections import Counter
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    DateTimeField,
    F,
    IntegerField,
    Max,
    Q,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from .. import kinds
from ..editing import write
from ..editions.states import FROZEN_MESSAGE
from ..history.restore import record_quartier_ids
from ..models import Element, Import, Quartier, link_history, undo_change_reason

# Columns common to every part of the UNIONs.
COLUMNS = (
    "kind",
    "rank",  # of the kind in the registry's order, to sort a UNION
    "id",
    "history_id",
    "history_type",
    "import_source",  # the import that wrote the row (history rows only)
    "annulation_de",  # the import whose undo wrote the row (history rows only)
    "date",
    "user",
    "version",
    "libelle",
    "numero",  # of the pilier, for links
    "theme",  # id of the thème, for links
    "sous_theme",  # id of the sous-thème, for links
    "item",  # id of the item whose page shows it (itself, or the item of a value)
    "detail",  # what tells a value apart beside its item's libellé (period, place)
)


class UndoRefused(Exception):
    def __init__(self, message, plan=None):
        super().__init__(message)
        self.message = message
        self.plan = plan


@dataclass
class Item:
    """One object an import touched, or one edited or added since."""

    kind: str
    id: int
    label: str
    url: str | None
    date: object = None
    user: str | None = None
    note: str = ""  # what happened since (conflicts only)


@dataclass
class Plan:
    """What undoing an import would do, or why it cannot."""

    import_record: Import
    created: list[Item] = field(default_factory=list)
    changed: list[Item] = field(default_factory=list)
    removed: list[Item] = field(default_factory=list)  # what the import removed
    conflicts: list[Item] = field(default_factory=list)
    # (kind, id) -> history_id of the import's first row on it (to restore what it changed)
    first_rows: dict = field(default_factory=dict)

    @property
    def already_undone(self):
        return self.import_record.annule_le is not None

    @property
    def can_undo(self):
        return not self.already_undone and not self.conflicts

    def created_groups(self):
        return groups(self.created)

    def changed_groups(self):
        return groups(self.changed)

    def removed_groups(self):
        return groups(self.removed)

    def groups_of_conflicts(self):
        return groups(self.conflicts)

    def counted_conflicts(self):
        return counted(self.conflicts)

    def what_undo_does(self):
        """ "supprimera ce que l'import a créé (2 difficultés) et rétablira …", each kind
        named and counted."""
        actions = [
            f"{verb} ({counted(items)})"
            for verb, items in (
                ("supprimera ce que l'import a créé", self.created),
                ("rétablira dans son état d'avant l'import ce qu'il a modifié", self.changed),
                ("remettra dans le site ce qu'il a retiré", self.removed),
            )
            if items
        ]
        return join_words(actions) or "ne changera rien au diagnostic"


# A page lists this many objects of each kind at most (an import of measures may hold
# a hundred thousand).
DISPLAY_LIMIT = 500


@dataclass
class Group:
    label: str  # plural
    items: list[Item]  # DISPLAY_LIMIT at most
    total: int

    @property
    def hidden(self):
        return self.total - len(self.items)


def groups(items, totals=None):
    """A `Group` for each kind of these items, in the order of the registry."""
    result = []
    for kind in kinds.all_kinds():
        of_kind = [item for item in items if item.kind == kind.key]
        total = (totals or {}).get(kind.key, len(of_kind))
        if total:
            result.append(Group(kind.titre, of_kind[:DISPLAY_LIMIT], total))
    return result


def counted(items):
    """What these items are, counted by kind in the order of the registry: "3 valeurs
    d'indicateurs et 1 indicateur" ("" when there are none)."""
    return counted_numbers(Counter(item.kind for item in items))


def counted_numbers(numbers):
    """ "3 valeurs d'indicateurs et 1 indicateur" from {kind key: number}."""
    return join_words(
        [kind.nom.compte(numbers[kind.key]) for kind in kinds.all_kinds() if numbers[kind.key]]
    )


def join_words(parts):
    """ "a", "a et b", "a, b et c"."""
    if len(parts) < 2:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} et {parts[-1]}"


# Reading -----------------------------------------------------------------------------------


def _null(output_field):
    """A typed NULL: PostgreSQL resolves the types of a UNION part by part, and an untyped
    NULL in the first parts would be taken for text."""
    return Cast(Value(None), output_field=output_field)


def _item_columns(prefix=""):
    """Where an item stands (`prefix`: the path to it from a value)."""
    return {
        "numero": Coalesce(
            F(f"{prefix}sous_theme__theme__pilier__numero"), F(f"{prefix}theme__pilier__numero")
        ),
        "theme": Coalesce(F(f"{prefix}sous_theme__theme_id"), F(f"{prefix}theme_id")),
        "sous_theme": F(f"{prefix}sous_theme_id"),
    }


# Where each level stands, for its links.
LEVEL_COLUMNS = {
    "pilier": {"numero": F("numero")},
    "theme": {"numero": F("pilier__numero"), "theme": F("id")},
    "sous_theme": {
        "numero": F("theme__pilier__numero"),
        "theme": F("theme_id"),
        "sous_theme": F("id"),
    },
}


def _own_columns(kind):
    if kind.is_level:
        return {"libelle": F("libelle"), **LEVEL_COLUMNS[kind.key]}
    if kind.is_item:
        return {"libelle": F("libelle"), **_item_columns(), "item": F("id")}
    return {
        "libelle": F(f"{kind.parent}__libelle"),
        **_item_columns(f"{kind.parent}__"),
        "item": F(f"{kind.parent}_id"),
        "detail": kind.detail(),
    }


def _columns(kind, *, historical, date="created_at"):
    """Expressions of COLUMNS for a kind (its history table, or its live table, whose
    `date` column is this field)."""
    history = (
        {
            "history_id": F("history_id"),
            "history_type": F("history_type"),
            "import_source": F("import_source_id"),
            "annulation_de": F("annulation_de_id"),
            "date": F("history_date"),
            "user": F("history_user__username"),
        }
        if historical
        else {
            "history_id": _null(BigIntegerField()),
            "history_type": _null(CharField()),
            "import_source": _null(BigIntegerField()),
            "annulation_de": _null(BigIntegerField()),
            "date": F(date),
            "user": _null(CharField()),
        }
    )
    defaults = {
        "kind": Value(kind.key, output_field=CharField()),
        "rank": Value(kinds.all_kinds().index(kind), output_field=IntegerField()),
        "id": F("id"),
        "version": F("version"),
        "libelle": _null(TextField()),
        "numero": _null(IntegerField()),
        "theme": _null(BigIntegerField()),
        "sous_theme": _null(BigIntegerField()),
        "item": _null(BigIntegerField()),
        "detail": _null(CharField()),
        "date": _null(DateTimeField()),
    }
    merged = {**defaults, **history, **_own_columns(kind)}
    return {f"u_{name}": merged[name] for name in COLUMNS}


def _rows(querysets, limit=None):
    """The rows of a UNION ALL of querysets annotated with `_columns`, as dicts; with a
    `limit`, the first rows in the order of the kinds, then of ids."""
    names = [f"u_{name}" for name in COLUMNS]
    parts = [queryset.order_by().values_list(*names) for queryset in list(querysets)]
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    if limit is not None:
        union = union.order_by("u_rank", "u_id", "u_history_id")[:limit]
    return [dict(zip(COLUMNS, row, strict=True)) for row in union]


def _history(kind):
    return kind.model.history.model.objects


def _written_by(kind, import_record, history_type=None):
    """The history rows of `kind` that the import wrote (its indexed link)."""
    rows = _history(kind).filter(import_source_id=import_record.pk)
    if history_type:
        rows = rows.filter(history_type=history_type)
    return rows


def touched_rows(import_record):
    """Every history row, from the import's first on, of every object the import touched."""
    querysets = []
    for kind in kinds.all_kinds():
        own = _written_by(kind, import_record)
        first = own.order_by("history_id").values("history_id")[:1]
        querysets.append(
            _history(kind)
            .filter(id__in=own.values("id"), history_id__gte=first)
            .annotate(**_columns(kind, historical=True))
        )
    return sorted(_rows(querysets), key=lambda row: (row["kind"], row["id"], row["history_id"]))


def added_since(import_record):
    """What was added since (by staff or another import) under what the import created."""

    def created(kind):
        return _written_by(kind, import_record, "+").values("id")

    under = {}  # kind -> the condition "its parent was created by the import"
    for parent in kinds.all_kinds():
        for child, attname in kinds.children(parent):
            condition = Q(**{f"{attname}__in": created(parent)})
            under[child] = under[child] | condition if child in under else condition
    return _rows(
        kind.model.objects.filter(condition)
        .exclude(id__in=created(kind))
        .annotate(**_columns(kind, historical=False))
        for kind, condition in sorted(
            under.items(), key=lambda pair: kinds.all_kinds().index(pair[0])
        )
    )


@dataclass
class Imported:
    """What an import created and changed, as its page lists them (`DISPLAY_LIMIT`)."""

    created_groups: list[Group]
    changed_groups: list[Group]
    removed_groups: list[Group] = field(default_factory=list)


def imported(import_record):
    """What the import created and changed: two queries, whatever its size. The objects
    listed are the first DISPLAY_LIMIT × 4 (a large import of measures shows the first
    of its values); the totals count them all."""
    totals = _rows_by_kind(
        _written_by(kind, import_record)
        .annotate(u_kind=Value(kind.key, output_field=CharField()))
        .values("u_kind")
        .annotate(
            u_total=Count("id", distinct=True),
            u_created=Count("id", distinct=True, filter=Q(history_type="+")),
            u_removed=Count("id", distinct=True, filter=Q(history_type="-")),
        )
        .values_list("u_kind", "u_total", "u_created", "u_removed")
        .order_by()
        for kind in kinds.all_kinds()
    )
    rows = _rows(
        (
            _written_by(kind, import_record).annotate(**_columns(kind, historical=True))
            for kind in kinds.all_kinds()
        ),
        limit=DISPLAY_LIMIT * 4,
    )
    first_rows = {}  # the import's first row on each object
    for row in rows:
        first_rows.setdefault((row["kind"], row["id"]), row)
    slug = import_record.diagnostic.slug
    undone = import_record.annule_le is not None
    created, changed, removed = [], [], []
    for row in first_rows.values():
        if row["history_type"] == "-":  # removed by the import: no page to link to
            removed.append(_item(row, slug, with_link=False))
            continue
        item = _item(row, slug, with_link=not undone)
        (created if row["history_type"] == "+" else changed).append(item)
    return Imported(
        created_groups=groups(created, {k: t[1] for k, t in totals.items()}),
        changed_groups=groups(changed, {k: t[0] - t[1] - t[2] for k, t in totals.items()}),
        removed_groups=groups(removed, {k: t[2] for k, t in totals.items()}),
    )


def _rows_by_kind(querysets):
    """{kind: (total, created, removed)} from a UNION of per-kind counts."""
    querysets = list(querysets)
    union = querysets[0].union(*querysets[1:], all=True)
    return {kind: (total, created, removed) for kind, total, created, removed in union}


def current_rows(import_record):
    """The live rows of what the import touched (their version, when last saved)."""
    return _rows(
        kind.model.objects.filter(id__in=_written_by(kind, import_record).values("id")).annotate(
            **_columns(kind, historical=False, date="updated_at")
        )
        for kind in kinds.all_kinds()
    )


def plan(import_record):
    """What undoing the import would do: what it created, changed, and the conflicts."""
    result = Plan(import_record)
    slug = import_record.diagnostic.slug
    undone = import_record.annule_le is not None  # then what it created is gone: no links
    by_object = {}
    touched = touched_rows(import_record)
    cancelled = _cancelled_imports(touched, import_record)
    current = {} if undone else {(r["kind"], r["id"]): r for r in current_rows(import_record)}
    for row in touched:
        by_object.setdefault((row["kind"], row["id"]), []).append(row)
    for key, rows in by_object.items():
        own = [row for row in rows if row["import_source"] == import_record.pk]
        last_own = own[-1]["history_id"]
        later = [
            row
            for row in rows
            if row["history_id"] > last_own
            and not {row["import_source"], row["annulation_de"]} & cancelled
        ]
        first = own[0]
        result.first_rows[key] = first["history_id"]
        removed = own[-1]["history_type"] == "-"  # the import removed it
        if first["history_type"] == "-":
            result.removed.append(_item(first, slug, with_link=False))
        else:
            item = _item(first, slug, with_link=not undone)
            (result.created if first["history_type"] == "+" else result.changed).append(item)
        if undone:
            continue
        if later:
            since = later[0]
            result.conflicts.append(
                _item(since, slug, with_link=since["history_type"] != "-", note=_note(since))
            )
        elif removed:
            if key in current:  # back without a trace in the history
                result.conflicts.append(
                    _item(current[key], slug, with_link=True, note="rétabli depuis")
                )
        elif key not in current:  # gone without a trace in the history
            result.conflicts.append(_item(own[-1], slug, with_link=False, note="supprimé depuis"))
        elif current[key]["version"] != rows[-1]["version"]:  # saved without a history row
            result.conflicts.append(
                _item(current[key], slug, with_link=True, note="modifié depuis")
            )
    if not undone:
        for row in added_since(import_record):
            result.conflicts.append(
                _item(row, slug, with_link=True, note="ajouté depuis, sous un élément de l'import")
            )
    order = [kind.key for kind in kinds.all_kinds()]
    for items in (result.created, result.changed, result.removed, result.conflicts):
        items.sort(key=lambda item: (order.index(item.kind), item.id))
    return result


def _cancelled_imports(rows, import_record):
    """The later imports whose changes cancel out, since they were undone: their rows and
    those of their undo do not count as changes made since (one query, only when later
    imports touched the same objects)."""
    later = {row["import_source"] for row in rows} - {None, import_record.pk}
    if not later:
        return set()
    return set(
        Import.objects.filter(pk__in=later, annule_le__isnull=False).values_list("pk", flat=True)
    )


def _note(row):
    if row["import_source"]:
        action = "supprimé" if row["history_type"] == "-" else "modifié"
        return f"{action} depuis par l'import n° {row['import_source']}"
    if row["annulation_de"]:
        return "modifié depuis par l'annulation d'un autre import"
    return "supprimé depuis" if row["history_type"] == "-" else "modifié depuis"


def _item(row, slug, *, with_link, note=""):
    return Item(
        kind=row["kind"],
        id=row["id"],
        label=_label(row),
        url=_url(row, slug) if with_link else None,
        date=row["date"],
        user=row["user"],
        note=note,
    )


def _label(row):
    kind = kinds.get(row["kind"])
    if kind.key == "pilier":
        return f"{row['numero']}. {row['libelle']}"
    if kind.is_value:
        item = kinds.get(kind.parent).nom
        libelle = row["libelle"] or f"{item.singulier.capitalize()} supprimé{item.e}"
        return f"{libelle} — {row['detail']}"
    return row["libelle"]


def _url(row, slug):
    """A page showing the object (None when its parents are gone): its item's own page when
    it has one, else where it stands in the diagnostic."""
    kind, numero = kinds.get(row["kind"]), row["numero"]
    page = kinds.get(kind.parent) if kind.is_value else kind
    if page.detail_url_name and row["item"]:
        try:
            return reverse(page.detail_url_name, kwargs={"slug": slug, "pk": row["item"]})
        except NoReverseMatch:
            pass
    if row["sous_theme"] and kind.key != "theme":
        return reverse("diagnostics:sous_theme", kwargs={"slug": slug, "pk": row["sous_theme"]})
    if numero is None:
        return None
    url = reverse("diagnostics:pilier", kwargs={"slug": slug, "numero": numero})
    return f"{url}#theme-{row['theme']}" if row["theme"] else url


# Undoing -----------------------------------------------------------------------------------


@dataclass
class UndoResult:
    deleted: Counter  # {kind key: number of objects deleted}
    restored: Counter  # {kind key: number of objects put back as they were}

    def message(self):
        """ "Import annulé : suppression de 3 piliers et 45 difficultés ; rétablissement de
        1 indicateur." — what was undone, counted by kind."""

        parts = []
        if sum(self.deleted.values()):
            parts.append(f"suppression de {counted_numbers(self.deleted)}")
        if sum(self.restored.values()):
            parts.append(f"rétablissement de {counted_numbers(self.restored)}")
        return f"Import annulé : {' ; '.join(parts) or 'rien à défaire'}."


def undo(import_record, user):
    """Undo the import, all or nothing; raise `UndoRefused` (French message) when refused."""
    with transaction.atomic():
        record = (
            Import.objects.select_for_update(of=("self",))
            .select_related("diagnostic")
            .get(pk=import_record.pk)
        )
        if record.annule_le is not None:
            when = timezone.localtime(record.annule_le)
            raise UndoRefused(
                f"Cet import a déjà été annulé le {when:%d/%m/%Y à %H:%M} : "
                "il n'y a plus rien à annuler."
            )
        if record.diagnostic.est_figee:
            raise UndoRefused(FROZEN_MESSAGE)
        the_plan = plan(record)
        if the_plan.conflicts:
            raise UndoRefused(
                "Annulation impossible : depuis cet import, ce qu'il a écrit a été modifié "
                f"ou complété ({counted(the_plan.conflicts)}). Annulez d'abord ces "
                "modifications (ou l'import qui les a faites), ou corrigez à la main.",
                the_plan,
            )
        deleted = _delete_created(the_plan, record)
        try:
            with transaction.atomic():
                restored = _restore(the_plan, record, user)
        except IntegrityError as error:
            raise UndoRefused(
                "Annulation impossible : un élément retiré par cet import ne peut pas être "
                "remis, un autre porte désormais son libellé au même endroit. Renommez ou "
                "déplacez cet autre élément, puis réessayez.",
                the_plan,
            ) from error
        record.annule_le = timezone.now()
        record.annule_par = user
        record.save(update_fields=["annule_le", "annule_par"])
        import_record.annule_le, import_record.annule_par = record.annule_le, user
    return UndoResult(deleted=deleted, restored=restored)


def _restore(the_plan, record, user):
    """Put back what the import changed as it was just before its first change, and what
    it removed (parents first: the kinds' order); the history rows point to the undone
    import (`annulation_de`)."""
    reason = undo_change_reason(record)
    restored = Counter()
    order = [kind.key for kind in kinds.all_kinds()]
    items = sorted(
        [*the_plan.changed, *the_plan.removed], key=lambda item: (order.index(item.kind), item.id)
    )
    for item in items:
        model = kinds.get(item.kind).model
        before = (
            model.history.model.objects.filter(
                id=item.id, history_id__lt=the_plan.first_rows[item.kind, item.id]
            )
            .order_by("-history_id")
            .first()
        )
        if before is None:
            continue
        instance = before.instance
        current = model.objects.filter(pk=item.id).values_list("version", flat=True).first()
        # A save that changes the object: a form opened before the undo is now stale.
        instance.version = (current or before.version) + 1
        link_history(instance, annulation_de=record)
        if current is None:  # removed by the import: back with its id and quartiers
            _put_back(instance, before, user, reason)
        else:
            instance._change_reason = reason
            instance.save()
        restored[item.kind] += 1
    return restored


def _put_back(instance, before, user, reason):
    """Insert again an object the import removed, as it was (`before`: its last version)."""
    instance._state.adding = True
    quartiers = None
    if isinstance(instance, Element):
        quartiers = list(Quartier.objects.filter(pk__in=record_quartier_ids(before)))
    write(instance, user, reason, quartiers=quartiers, insert=True)
    created_at = getattr(before, "created_at", None)
    if created_at is not None:  # its creation date, which the insertion set to now
        type(instance).objects.filter(pk=instance.pk).update(created_at=created_at)


def _delete_created(the_plan, record):
    """Delete what the import created, children first; its history rows point to the undone
    import (`annulation_de`)."""
    reason = undo_change_reason(record)
    deleted = Counter()
    for kind in reversed(kinds.all_kinds()):
        ids = [item.id for item in the_plan.created if item.kind == kind.key]
        if not ids:
            continue
        model = kind.model
        history = model.history.model.objects
        last = history.aggregate(last=Max("history_id"))["last"] or 0
        _, per_model = model.objects.filter(pk__in=ids).delete()
        deleted[kind.key] += per_model.get(model._meta.label, 0)
        history.filter(id__in=ids, history_type="-", history_id__gt=last).update(
            history_change_reason=reason, annulation_de_id=record.pk
        )
    return deleted
