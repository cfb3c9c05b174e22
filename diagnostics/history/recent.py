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
the database (window functions), so that a page costs a fixed number of queries (the
count, the page, the imports it names) whatever the number of rows.

The values of the items (an indicator's measures) are shown when the application that
brings them registers their history (`register_values`, from its `AppConfig.ready()`).
"""

from dataclasses import dataclass
from datetime import UTC

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

COLUMNS = (
    "grp",  # the group (the action) of the row
    "prio",  # 1 for a row that may show its action, 0 for a side row
    "kind_rank",  # the kind's rank in the registry: a level before an item before a value
    "modele",  # the kind's slug
    "history_id",
    "id",
    "item_id",  # the item whose history shows the row (itself, or the item of a value)
    "history_date",
    "history_type",
    "history_change_reason",
    "import_source_id",
    "annulation_de_id",
    "libelle",  # a value's: its item's
    "detail",  # what tells a value apart beside its item's libellé ("2024 — Fontbouillant")
    "numero_pilier",
    "existe",
    "auteur_prenom",
    "auteur_nom",
    "auteur_identifiant",
)


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


def _priority():
    side = Q(history_change_reason=SIDE_REASON)
    for prefix in SIDE_PREFIXES:
        side |= Q(history_change_reason__startswith=prefix)
    return Case(When(side, then=Value(0)), default=Value(1), output_field=IntegerField())


def _common(rank, kind):
    return {
        "grp": _group(),
        "prio": _priority(),
        "kind_rank": Value(rank, IntegerField()),
        "modele": Value(kind.slug, CharField()),
        "existe": Exists(kind.model.objects.filter(pk=OuterRef("id")), output_field=BooleanField()),
        "auteur_prenom": F("history_user__first_name"),
        "auteur_nom": F("history_user__last_name"),
        "auteur_identifiant": F("history_user__username"),
    }


def _selects(diagnostic, filter_queryset):
    selects = []
    for rank, kind in enumerate(kinds.structure()):
        queryset = filter_queryset(records_in_diagnostic(kind.model, diagnostic))
        selects.append(
            queryset.annotate(
                **_common(rank, kind),
                item_id=F("id"),
                detail=Value("", CharField()),
                numero_pilier=F("numero") if kind.model is Pilier else Value(0, IntegerField()),
            )
            .values_list(*COLUMNS)
            .order_by()
        )
    for rank, kind in enumerate(value_kinds(), len(selects)):
        item = kinds.get(kind.parent)
        parent = f"{kind.parent}_id"
        item_history = history_model(item.model).objects
        queryset = history_model(kind.model).objects.filter(
            **{f"{parent}__in": item_history.filter(diagnostic_id=diagnostic.pk).values("id")}
        )
        latest_libelle = (
            item_history.filter(id=OuterRef(parent)).order_by("-history_id").values("libelle")[:1]
        )
        selects.append(
            filter_queryset(queryset)
            .annotate(
                **_common(rank, kind),
                item_id=F(parent),
                libelle=Subquery(latest_libelle, output_field=CharField()),
                detail=kind.detail() if kind.detail else Value("", CharField()),
                numero_pilier=Value(0, IntegerField()),
            )
            .values_list(*COLUMNS)
            .order_by()
        )
    return selects


def _nature_sql():
    """The nature of an action from its main row and its group's links (SQL)."""
    return (
        "CASE WHEN w.import_id IS NOT NULL THEN %s"
        " WHEN w.annulation_id IS NOT NULL THEN %s"
        " WHEN w.history_change_reason = %s OR w.history_change_reason LIKE %s THEN %s"
        " WHEN w.history_type = '+' THEN %s"
        " WHEN w.history_type = '-' THEN %s"
        " ELSE %s END",
        [IMPORT, ANNULATION, SIDE_REASON, f"{MOVE_PREFIX}%", DEPLACEMENT, AJOUT, SUPPRESSION]
        + [MODIFICATION],
    )


def _merged_sql(union_sql):
    """The rows of `union_sql` with their `groupe`: their import's or their undo's when a
    row of their `grp` has one (an import's rows written by a save outside a request are
    each an action of their own, and it may link them after writing them), else their
    `grp`."""
    merged = []
    for link, prefix in (("annulation_de_id", "a"), ("import_source_id", "i")):
        found = f"MAX(u.{link}) OVER (PARTITION BY u.grp)"
        merged.append(f"WHEN {found} IS NOT NULL THEN '{prefix}' || CAST({found} AS TEXT)")
    return f"SELECT u.*, CASE {' '.join(merged)} ELSE u.grp END AS groupe FROM ({union_sql}) u"


class RecentActions:
    """The actions of a diagnostic, newest first, as a Paginator takes them (`count()`,
    slices): each a dict of the COLUMNS of its main row, with `nombre` (its rows),
    `derniere` (its latest date), `import_id`, `annulation_id` and `nature`."""

    def __init__(self, diagnostic, filter_queryset=lambda queryset: queryset, nature=None):
        selects = _selects(diagnostic, filter_queryset)
        union = selects[0].union(*selects[1:], all=True)
        self.using = union.db
        union_sql, union_params = union.query.get_compiler(using=self.using).as_sql()
        nature_sql, nature_params = _nature_sql()
        self.sql = (
            f"SELECT * FROM (SELECT w.*, {nature_sql} AS nature FROM ("
            "SELECT g.*,"
            " ROW_NUMBER() OVER (PARTITION BY g.groupe"
            "  ORDER BY g.prio DESC, g.history_date, g.kind_rank, g.history_id) AS rang,"
            " COUNT(*) OVER (PARTITION BY g.groupe) AS nombre,"
            " MAX(g.history_date) OVER (PARTITION BY g.groupe) AS derniere,"
            " MAX(g.import_source_id) OVER (PARTITION BY g.groupe) AS import_id,"
            " MAX(g.annulation_de_id) OVER (PARTITION BY g.groupe) AS annulation_id"
            f" FROM ({_merged_sql(union_sql)}) g) w WHERE w.rang = 1) t"
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
        start = bounds.start or 0
        with connections[self.using].cursor() as cursor:
            cursor.execute(
                f"{self.sql} ORDER BY t.derniere DESC, t.groupe DESC LIMIT %s OFFSET %s",
                [*self.params, bounds.stop - start, start],
            )
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


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
