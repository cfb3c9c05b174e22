"""The "Dernières modifications" page of a diagnostic: one line per user action.

A user action writes one history row or many: a move renumbers the siblings, a deletion
takes what hangs from the object, an import writes hundreds of rows. The history rows of
every level, item and value of a diagnostic (django-simple-history) are read as one UNION,
grouped by what wrote them (`grp`), first found:
- the action that wrote them (`action`, see `actions`): one request, one operation;
- the import that wrote them (`import_source`), or whose undo did (`annulation_de`);
- the deletion they belong to (`suppression`);
- otherwise (rows written before actions were recorded): their author and their second;
then the groups holding rows of an import, or of its undo, are one (`groupe`): its rows
that do not point to it (written in the same request) and those written outside a
request (each save an action of its own) go with the others.

Each group is shown by its main row (`PRIORITY`: the object moved, not the siblings
renumbered; the object deleted, not what went with it), with its nature (`NATURES`), its
latest date and its number of rows. Grouping, filtering by nature and paging are done by
the database (window functions), so that a page costs a fixed number of queries whatever
the number of rows: the page with the number of actions (`ActionsPaginator`: the
grouping of every row, the costly part, done once for both), what its lines show, the
imports it names. The grouping reads only the columns of the history tables that it needs
(`KEY_COLUMNS`); the joins and subqueries of what a line shows (`SHOWN_COLUMNS`: the
author, an item's libellé for its values, whether the object still exists) are read for
the main rows of the page only; the actions are made of the main rows of the `grp`s
(`_grouped_sql`), not of every row (bench/historique.py: page 1 in 0.40 s instead of 2.3 s
for a diagnostic of 164,000 history rows on PostgreSQL).

The values of the items (an indicator's measures) are shown when the application that
brings them registers their history (`register_values`, from its `AppConfig.ready()`).
"""

from dataclasses import dataclass
from datetime import UTC

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, Trunc
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .. import kinds
from ..imports import natures as import_natures
from ..models import Import, Pilier
from .reading import author, history_model, history_url, records_in_diagnostic

# The natures of an action, as the page and its filter name them.
AJOUT, MODIFICATION, SUPPRESSION = "ajout", "modification", "suppression"
DEPLACEMENT, IMPORT, ANNULATION = "deplacement", "import", "annulation"
NATURES = {
    AJOUT: "Ajout",
    MODIFICATION: "Modification",
    SUPPRESSION: "Suppression",
    DEPLACEMENT: "Déplacement",
    IMPORT: "Import",
    ANNULATION: "Annulation",
}
# The reasons `diagnostics.editing` writes on the rows an action changes besides its
# object: the siblings renumbered, what a deletion or a merge takes with it. Never the
# main row of an action when another row is there.
SIDE_REASON = "Ordre modifié"
SIDE_PREFIXES = ("Suppression avec ", "Fusion dans ")
# The reasons of a move (`editing.move_*`, `editing._shift`).
MOVE_PREFIX = "Déplacement"
# The reasons that only repeat the nature ("Création — Création"): not shown.
PLAIN_REASONS = {"Création", "Modification", "Suppression"}

# The columns that group the rows into actions and choose the main row of each: read for
# every history row of the diagnostic (the count and the page group them all).
KEY_COLUMNS = (
    "grp",  # the group (the action) of the row
    "prio",  # 1 for a row that may show its action, 0 for a side row
    "kind_rank",  # the kind's rank in the registry: a level before an item before a value
    "deplace",  # 1 for a row of a move (its object's, or a sibling's renumbered)
    "history_id",
    "history_date",
    "history_type",
    "import_source_id",
    "annulation_de_id",
)
# What a line shows besides: read for the main rows of one page only (their joins and
# subqueries would cost as much for every row of the history).
SHOWN_COLUMNS = (
    "modele",  # the kind's slug
    "history_change_reason",
    "id",
    "item_id",  # the item whose history shows the row (itself, or the item of a value)
    "libelle",  # a value's: its item's
    "detail",  # what tells a value apart beside its item's libellé ("2024 — Fontbouillant")
    "numero_pilier",
    "existe",
    "auteur_prenom",
    "auteur_nom",
    "auteur_identifiant",
)
COLUMNS = KEY_COLUMNS + SHOWN_COLUMNS


# The values shown beside the levels and items ----------------------------------------------

_value_sources = {}


@dataclass(frozen=True)
class ValueSource:
    kind_key: str  # a kind of values ("mesure")
    # history_url(diagnostic, item pk) -> the page of the history of an item's values
    history_url: object


def register_values(source):
    """Show the history of a kind of values on the page (from an AppConfig.ready())."""
    if source.kind_key in _value_sources:
        raise ValueError(f"The history of {source.kind_key!r} is already registered.")
    _value_sources[source.kind_key] = source


def value_kinds():
    return [kind for kind in kinds.values() if kind.key in _value_sources]


# The query ----------------------------------------------------------------------------------


def _text(expression):
    return Cast(expression, CharField())


def _group():
    return Case(
        When(action__isnull=False, then=Concat(Value("x"), _text("action"))),
        When(import_source_id__isnull=False, then=Concat(Value("i"), _text("import_source_id"))),
        When(annulation_de_id__isnull=False, then=Concat(Value("a"), _text("annulation_de_id"))),
        When(suppression_id__isnull=False, then=Concat(Value("s"), _text("suppression_id"))),
        default=Concat(
            Value("u"),
            Coalesce(_text("history_user_id"), Value("")),
            Value("|"),
            _text(Trunc("history_date", "second")),
        ),
        output_field=CharField(),
    )


def _moved():
    moved = Q(history_change_reason=SIDE_REASON) | Q(history_change_reason__startswith=MOVE_PREFIX)
    return Case(When(moved, then=Value(1)), default=Value(0), output_field=IntegerField())


def _priority():
    side = Q(history_change_reason=SIDE_REASON)
    for prefix in SIDE_PREFIXES:
        side |= Q(history_change_reason__startswith=prefix)
    return Case(When(side, then=Value(0)), default=Value(1), output_field=IntegerField())


def _sources(diagnostic, filter_queryset):
    """[(rank, kind, its history rows in `diagnostic` filtered by `filter_queryset`)] for
    every level and item, then every kind of values registered (`register_values`)."""
    sources = []
    for rank, kind in enumerate(kinds.structure()):
        queryset = records_in_diagnostic(kind.model, diagnostic)
        sources.append((rank, kind, filter_queryset(queryset)))
    for rank, kind in enumerate(value_kinds(), len(sources)):
        item_history = history_model(kinds.get(kind.parent).model).objects
        queryset = history_model(kind.model).objects.filter(
            **{
                f"{kind.parent}_id__in": item_history.filter(diagnostic_id=diagnostic.pk).values(
                    "id"
                )
            }
        )
        sources.append((rank, kind, filter_queryset(queryset)))
    return sources


def _keys(rank, kind, queryset):
    """The KEY_COLUMNS of the rows of `queryset` (no join: the columns of the table)."""
    return (
        queryset.annotate(
            grp=_group(),
            prio=_priority(),
            kind_rank=Value(rank, IntegerField()),
            deplace=_moved(),
        )
        .values_list(*KEY_COLUMNS)
        .order_by()
    )


def _shown(kind, queryset):
    """The modele, history_id and SHOWN_COLUMNS of the rows of `queryset`."""
    annotations = {
        "modele": Value(kind.slug, CharField()),
        "existe": Exists(kind.model.objects.filter(pk=OuterRef("id")), output_field=BooleanField()),
        "auteur_prenom": F("history_user__first_name"),
        "auteur_nom": F("history_user__last_name"),
        "auteur_identifiant": F("history_user__username"),
    }
    if kind.is_value:
        parent = f"{kind.parent}_id"
        latest_libelle = (
            history_model(kinds.get(kind.parent).model)
            .objects.filter(id=OuterRef(parent))
            .order_by("-history_id")
            .values("libelle")[:1]
        )
        annotations |= {
            "item_id": F(parent),
            "libelle": Subquery(latest_libelle, output_field=CharField()),
            "detail": kind.detail() if kind.detail else Value("", CharField()),
            "numero_pilier": Value(0, IntegerField()),
        }
    else:
        annotations |= {
            "item_id": F("id"),
            "detail": Value("", CharField()),
            "numero_pilier": F("numero") if kind.model is Pilier else Value(0, IntegerField()),
        }
    return queryset.annotate(**annotations).values_list("history_id", *SHOWN_COLUMNS).order_by()


def _with_shown(rows):
    """`rows` (dicts of the KEY_COLUMNS) with their SHOWN_COLUMNS, read in one query."""
    ranked = [*kinds.structure(), *value_kinds()]  # by kind_rank, as `_sources`
    wanted = {}
    for row in rows:
        wanted.setdefault(row["kind_rank"], []).append(row["history_id"])
    if not wanted:
        return rows
    selects = [
        _shown(kind, history_model(kind.model).objects.filter(history_id__in=wanted[rank]))
        for rank, kind in enumerate(ranked)
        if rank in wanted
    ]
    union = selects[0].union(*selects[1:], all=True) if len(selects) > 1 else selects[0]
    shown = {}
    for history_id, *columns in union:
        shown[columns[0], history_id] = columns  # by modele (the first) and history_id
    for row in rows:
        columns = shown[ranked[row["kind_rank"]].slug, row["history_id"]]
        row.update(zip(SHOWN_COLUMNS, columns, strict=True))
    return rows


def _nature_sql():
    """The nature of an action from its main row and its group's links (SQL)."""
    return (
        "CASE WHEN w.import_id IS NOT NULL THEN %s"
        " WHEN w.annulation_id IS NOT NULL THEN %s"
        " WHEN w.deplace = 1 THEN %s"
        " WHEN w.history_type = '+' THEN %s"
        " WHEN w.history_type = '-' THEN %s"
        " ELSE %s END",
        [IMPORT, ANNULATION, DEPLACEMENT, AJOUT, SUPPRESSION] + [MODIFICATION],
    )


# The main row of an action: a row that may show it (`prio`), then the first written.
ORDER = "{0}.prio DESC, {0}.history_date, {0}.kind_rank, {0}.history_id"


def _grouped_sql(union_sql):
    """The main row of each `grp` of the rows of `union_sql` (`rang_grp` = 1, see
    `ORDER`), with the group's number of rows (`n`), latest date (`d`), import (`imp`),
    undo (`ann`), and its `groupe`: its import's or its undo's when a row of the `grp`
    has one (an import's rows written by a save outside a request are each an action of
    their own, and it may link them after writing them), else its `grp`.

    Each `groupe` is then made of the main rows of its `grp`s only (a few per action):
    its main row is the first of theirs, its figures theirs summed up."""
    merged = []
    for link, prefix in (("ann", "a"), ("imp", "i")):
        merged.append(f"WHEN g.{link} IS NOT NULL THEN '{prefix}' || CAST(g.{link} AS TEXT)")
    return (
        f"SELECT g.*, CASE {' '.join(merged)} ELSE g.grp END AS groupe FROM ("
        "SELECT u.*,"
        f" ROW_NUMBER() OVER (PARTITION BY u.grp ORDER BY {ORDER.format('u')}) AS rang_grp,"
        " COUNT(*) OVER (PARTITION BY u.grp) AS n,"
        " MAX(u.history_date) OVER (PARTITION BY u.grp) AS d,"
        " MAX(u.import_source_id) OVER (PARTITION BY u.grp) AS imp,"
        " MAX(u.annulation_de_id) OVER (PARTITION BY u.grp) AS ann"
        f" FROM ({union_sql}) u) g WHERE g.rang_grp = 1"
    )


class RecentActions:
    """The actions of a diagnostic, newest first, as a Paginator takes them (`count()`,
    slices): each a dict of the COLUMNS of its main row, with `nombre` (its rows),
    `derniere` (its latest date), `import_id`, `annulation_id` and `nature`."""

    def __init__(self, diagnostic, filter_queryset=lambda queryset: queryset, nature=None):
        selects = [_keys(*source) for source in _sources(diagnostic, filter_queryset)]
        union = selects[0].union(*selects[1:], all=True)
        self.using = union.db
        union_sql, union_params = union.query.get_compiler(using=self.using).as_sql()
        nature_sql, nature_params = _nature_sql()
        self.sql = (
            f"SELECT * FROM (SELECT w.*, {nature_sql} AS nature FROM ("
            "SELECT h.*,"
            f" ROW_NUMBER() OVER (PARTITION BY h.groupe ORDER BY {ORDER.format('h')}) AS rang,"
            " SUM(h.n) OVER (PARTITION BY h.groupe) AS nombre,"
            " MAX(h.d) OVER (PARTITION BY h.groupe) AS derniere,"
            " MAX(h.imp) OVER (PARTITION BY h.groupe) AS import_id,"
            " MAX(h.ann) OVER (PARTITION BY h.groupe) AS annulation_id"
            f" FROM ({_grouped_sql(union_sql)}) h) w WHERE w.rang = 1) t"
        )
        self.params = [*nature_params, *union_params]
        if nature:
            self.sql += " WHERE t.nature = %s"
            self.params.append(nature)

    def count(self):
        with connections[self.using].cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({self.sql}) c", self.params)
            return cursor.fetchone()[0]

    def __getitem__(self, bounds):
        if not isinstance(bounds, slice):
            raise TypeError("RecentActions: slices only")
        return self.page(bounds.start or 0, bounds.stop)[0]

    def page(self, start, stop):
        """(the actions start to stop, the number of actions): one query, the grouping
        done once for both (None for the number when the page is past the last)."""
        with connections[self.using].cursor() as cursor:
            cursor.execute(
                f"SELECT p.*, COUNT(*) OVER () AS total_actions FROM ({self.sql}) p"
                " ORDER BY p.derniere DESC, p.groupe DESC LIMIT %s OFFSET %s",
                [*self.params, stop - start, start],
            )
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        total = rows[0]["total_actions"] if rows else None
        for row in rows:
            del row["total_actions"]
        return _with_shown(rows), total


class ActionsPaginator(Paginator):
    """A Paginator of `RecentActions` whose `get_page` reads the page and the number of
    actions in one query (the grouping of every history row, the costly part, done once);
    a page past the last falls back to Paginator's own (the count, then the last page)."""

    def get_page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        if number < 1:
            return super().get_page(number)
        start = (number - 1) * self.per_page
        rows, total = self.object_list.page(start, start + self.per_page)
        if total is None and number > 1:
            return super().get_page(number)
        self.__dict__["count"] = total or 0  # Paginator.count is a cached_property
        return self._get_page(rows, number, self)


def recent_actions(diagnostic, filter_queryset=lambda queryset: queryset, nature=None):
    """The actions on `diagnostic`, newest first (`RecentActions`): rows filtered by
    `filter_queryset` (person, dates), actions by `nature` (a key of NATURES)."""
    return RecentActions(diagnostic, filter_queryset, nature)


# The lines of the page ------------------------------------------------------------------------


def _datetime(value):
    """A date read by a raw query: SQLite gives text (UTC), PostgreSQL a datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def _kind(slug):
    return next(kind for kind in kinds.all_kinds() if kind.slug == slug)


@dataclass
class Action:
    """One line of the "Dernières modifications" page."""

    date: object
    auteur: str
    nature: str  # a key of NATURES
    kind: object  # of the main row's object
    libelle: str
    detail: str  # a value's period and place
    motif: str  # the reason, when it says more than the nature
    autres: int  # the other objects the action changed
    import_record: Import | None = None
    import_resultat: str = ""
    import_link: str = ""
    history_link: str = ""
    restore_link: str = ""

    @property
    def nature_label(self):
        return NATURES[self.nature]

    @property
    def nom(self):
        return self.kind.nom

    @property
    def autres_texte(self):
        """ "et 3 autres éléments concernés", "et 2 autres valeurs"."""
        s = "s" if self.autres > 1 else ""
        if self.kind.is_value:
            return f"et {self.autres} autre{s} valeur{s}"
        return f"et {self.autres} autre{s} élément{s} concerné{s}"


def _motif(data):
    reason = data["history_change_reason"] or ""
    return "" if reason in PLAIN_REASONS else reason


def actions(values, diagnostic, *, import_links=False):
    """The lines of one page of `recent_actions`, the imports they name loaded at once
    (one query, none without imports). `import_links`: link to the imports' pages (their
    reader is an administrator of the diagnostic)."""
    ids = {data[name] for data in values for name in ("import_id", "annulation_id")}
    ids.discard(None)
    imports = Import.objects.select_related("importe_par", "annule_par").in_bulk(ids) if ids else {}
    result = []
    for data in values:
        kind = _kind(data["modele"])
        line = Action(
            date=_datetime(data["derniere"]),
            auteur=author(data["auteur_prenom"], data["auteur_nom"], data["auteur_identifiant"])
            if data["auteur_identifiant"]
            else "Auteur inconnu",
            nature=data["nature"],
            kind=kind,
            libelle=data["libelle"] or "",
            detail=data["detail"] or "",
            motif=_motif(data),
            # A move's renumbered siblings are not worth a mention.
            autres=0 if data["nature"] == DEPLACEMENT else data["nombre"] - 1,
        )
        import_id = data["import_id"] or data["annulation_id"]
        if import_id is not None:
            line.import_record = imports.get(import_id)
            line.motif = ""
            if line.import_record is not None:
                # Who imported, or who undid the import.
                person = (
                    line.import_record.annule_par
                    if data["annulation_id"]
                    else line.import_record.importe_par
                )
                if person is not None:
                    line.auteur = author(person.first_name, person.last_name, person.get_username())
                nature = import_natures.get(line.import_record.nature)
                counts = line.import_record.compte_rendu.get("counts", {})
                line.import_resultat = nature.summary(counts) if nature else ""
                if import_links:
                    line.import_link = reverse("diagnostics:import_detail", args=[import_id])
        elif kind.is_value:
            line.history_link = _value_sources[kind.key].history_url(diagnostic, data["item_id"])
        else:
            line.history_link = history_url(
                diagnostic, kind.model, data["id"], data["numero_pilier"]
            )
            if data["history_type"] == "-" and not data["existe"]:
                line.restore_link = reverse(
                    "diagnostics:restaurer", args=[diagnostic.slug, kind.slug, data["history_id"]]
                )
        result.append(line)
    return result
