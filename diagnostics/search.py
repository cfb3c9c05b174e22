"""French search over the libellés of the diagnostics: piliers, thèmes, sous-thèmes and items.

Accents and case never matter ("sante" finds "Santé"), plurals and simple endings are
folded ("jeunes" finds "jeune"), and every word of the query must match the beginning of
a word of the libellé, once both are reduced to their stem.

- PostgreSQL: full-text search with the text search configuration `french_unaccent`
  (French Snowball stemmer after `unaccent`, created by migration
  0003_recherche_plein_texte), prefix queries (`'mot':*`) ranked with `ts_rank`. Each
  searched table keeps its libellé's search vector in a generated column with a GIN
  index (migration 0007_recherche_vecteur_stocke): the hits come from the index and are
  ranked without computing their vector again.
- SQLite: the same rule in Python, registered as the SQL function `contrat_ville_rang`
  on each connection: words normalised with `normalize_key`, the same French stop words
  dropped, the same Snowball French stemmer (package `snowballstemmer`). Both databases
  give the same hits on the seed (tests/diagnostics/test_search.py pins them); over every word of
  the seed, the stems of the two differ for two words only (algorithm versions).

The results page is one SQL query (a UNION over the five kinds of libellés, its page of
rows carrying the number of hits), whatever the number of hits: `search()` returns a
lazy, ordered queryset of rows, `page_of_hits()` reads one page of it and the count
together, and `group_by_pilier()` groups that page.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from operator import itemgetter

import snowballstemmer
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorExact,
    SearchVectorField,
)
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.backends.signals import connection_created
from django.db.models import CharField, Expression, F, FloatField, Func, IntegerField, Value
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import GreaterThan
from django.dispatch import receiver
from django.urls import reverse

from . import kinds
from .access import can_view, visible_diagnostics
from .text import normalize_key

SEARCH_CONFIG = "french_unaccent"
SEARCH_COLUMN = "recherche"
SQLITE_FUNCTION = "contrat_ville_rang"

# PostgreSQL's French stop words (tsearch_data/french.stop) that can still match once
# `unaccent` ran first: its accented entries ("été", "à"...) never do, so they are left out
# to give SQLite the same behaviour.
_STOP_WORDS_TEXT = """
    au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me mes
    moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes
    toi ton tu un une vos votre vous c d j l m n s t y suis es est sommes sont serai
    seras sera serons serez seront serais serait serions seriez seraient fus fut furent
    sois soit soyons soyez soient fusse fusses fussions fussiez fussent ayant ayante
    ayantes ayants eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez
    auront aurais aurait aurions auriez auraient avais avait avions aviez avaient eut
    eurent aie aies ait ayons ayez aient eusse eusses eussions eussiez eussent
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

_WORD = re.compile(r"[^\W_]+")

# The Snowball French stemmer, the algorithm of PostgreSQL's `french_stem` dictionary.
_FRENCH_STEMMER = snowballstemmer.stemmer("french")


def words(text):
    """The words of a text, accents removed and case folded: 'Santé des jeunes' -> [...]."""
    return _WORD.findall(normalize_key(text))


@lru_cache(maxsize=16384)
def stem(word):
    """The French stem of a normalised word: 'jeunes' -> 'jeun', 'sante' -> 'sant'.

    The same stems as PostgreSQL, which runs the same Snowball algorithm on the same
    unaccented words. A query word matches the words of a text whose stem begins with
    its own: 'educ' finds 'éducation' and 'éducative'.
    """
    return _FRENCH_STEMMER.stemWord(word)


def query_words(query):
    """The words of a query that take part in the search (stop words dropped, no repeats)."""
    return tuple(dict.fromkeys(word for word in words(query or "") if word not in STOP_WORDS))


@lru_cache(maxsize=8192)
def _stems_of(text):
    return tuple(stem(word) for word in words(text) if word not in STOP_WORDS)


def text_rank(text, query):
    """How well `text` matches `query` (words separated by spaces), 0 when it does not.

    Every query word must begin a word of the text (both stemmed); the rank is the share
    of the text's words that match, so short libellés about the subject come first.
    """
    if not text or not query:
        return 0.0
    text_stems = _stems_of(text)
    matched = 0
    for query_stem in {stem(word) for word in query.split()}:
        hits = sum(1 for text_stem in text_stems if text_stem.startswith(query_stem))
        if not hits:
            return 0.0
        matched += hits
    return matched / len(text_stems)


def _register_sqlite_function(connection):
    connection.connection.create_function(SQLITE_FUNCTION, 2, text_rank, deterministic=True)


@receiver(connection_created)
def _on_connection_created(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        _register_sqlite_function(connection)


def _ensure_sqlite_function(alias):
    """Register the function on a connection opened before this module was imported."""
    connection = connections[alias]
    connection.ensure_connection()
    _register_sqlite_function(connection)


class StoredSearchVector(Expression):
    """The search vector of the libellé of the queried table's rows, stored by PostgreSQL.

    Migration 0007 keeps `to_tsvector('french_unaccent', COALESCE(libelle, ''))` in a
    generated column, `recherche`, with the GIN index on it: the hits are found from the
    index and ranked without computing each one's vector again. A column of the database
    only, not of the models (SQLite has none).
    """

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.base_table)
        return f"{table}.{connection.ops.quote_name(SEARCH_COLUMN)}", []


def searched_models():
    """The tables whose rows hold their libellé's search vector (migration 0007): every
    level and kind of item."""
    return {kind.model for kind in kinds.structure()}


def matching(queryset, field_name, query):
    """`queryset` restricted to the rows whose `field_name` matches `query`, annotated `rang`.

    A query without any searchable word matches nothing.
    """
    terms = query_words(query)
    if not terms:
        return queryset.annotate(rang=Value(0.0, output_field=FloatField())).none()
    if connections[queryset.db].vendor == "postgresql":
        if field_name == "libelle" and queryset.model in searched_models():
            vector = StoredSearchVector()
        else:
            vector = SearchVector(field_name, config=SEARCH_CONFIG)
        # Words hold letters and digits only: quoting them is enough to keep the raw
        # tsquery syntax safe. `:*` makes each word a prefix of the text's lexemes.
        tsquery = SearchQuery(
            " & ".join(f"'{term}':*" for term in terms), search_type="raw", config=SEARCH_CONFIG
        )
        return queryset.filter(SearchVectorExact(vector, tsquery)).annotate(
            # normalization 2: divided by the length of the libellé, as on SQLite.
            rang=SearchRank(vector, tsquery, normalization=2)
        )
    _ensure_sqlite_function(queryset.db)
    rank = Func(
        F(field_name), Value(" ".join(terms)), function=SQLITE_FUNCTION, output_field=FloatField()
    )
    return queryset.annotate(rang=rank).filter(GreaterThan(F("rang"), 0))


# The search over every level ----------------------------------------------------------

COLUMNS = (
    "hit_kind",
    "hit_kind_order",
    "hit_id",
    "hit_libelle",
    "hit_diagnostic_slug",
    "hit_diagnostic_titre",
    "hit_diagnostic_annee",
    "hit_pilier_numero",
    "hit_pilier_libelle",
    "hit_theme_id",
    "hit_theme_libelle",
    "hit_sous_theme_id",
    "hit_sous_theme_libelle",
    "rang",
)

# Typed NULLs: PostgreSQL must know a UNION column's type from its first SELECT.
_NO_ID = Cast(Value(None), IntegerField())
_NO_TEXT = Cast(Value(None), CharField())


def kind_label(kind):
    """How a hit names its kind: "Sous-thème", "Difficulté"."""
    return kind.nom.singulier.capitalize()


def _columns(kind, *, diagnostic, pilier, theme_id, theme, sous_theme_id, sous_theme):
    """The annotations of one kind of hit, in the order of COLUMNS (a UNION needs it)."""
    return {
        "hit_kind": Value(kind_label(kind), output_field=CharField()),
        "hit_kind_order": Value(kinds.structure().index(kind), output_field=IntegerField()),
        "hit_id": F("pk"),
        "hit_libelle": F("libelle"),
        "hit_diagnostic_slug": F(f"{diagnostic}__slug"),
        "hit_diagnostic_titre": F(f"{diagnostic}__titre"),
        "hit_diagnostic_annee": F(f"{diagnostic}__annee_debut"),
        "hit_pilier_numero": pilier("numero"),
        "hit_pilier_libelle": pilier("libelle"),
        "hit_theme_id": theme_id,
        "hit_theme_libelle": theme,
        "hit_sous_theme_id": sous_theme_id,
        "hit_sous_theme_libelle": sous_theme,
    }


def _either(path):
    """Items hang from a sous-thème or from a thème: take the path that exists."""
    return Coalesce(F(f"sous_theme__theme__{path}"), F(f"theme__{path}"))


# What each level's hits show of where they stand.
LEVEL_COLUMNS = {
    "pilier": lambda kind: _columns(
        kind,
        diagnostic="diagnostic",
        pilier=lambda name: F(name),
        theme_id=_NO_ID,
        theme=_NO_TEXT,
        sous_theme_id=_NO_ID,
        sous_theme=_NO_TEXT,
    ),
    "theme": lambda kind: _columns(
        kind,
        diagnostic="diagnostic",
        pilier=lambda name: F(f"pilier__{name}"),
        theme_id=F("pk"),
        theme=F("libelle"),
        sous_theme_id=_NO_ID,
        sous_theme=_NO_TEXT,
    ),
    "sous_theme": lambda kind: _columns(
        kind,
        diagnostic="diagnostic",
        pilier=lambda name: F(f"theme__pilier__{name}"),
        theme_id=F("theme_id"),
        theme=F("theme__libelle"),
        sous_theme_id=F("pk"),
        sous_theme=F("libelle"),
    ),
}


def _element_columns(kind):
    """The annotations of the hits of one kind of item (see `_columns`)."""
    return _columns(
        kind,
        diagnostic="diagnostic",
        pilier=lambda name: _either(f"pilier__{name}"),
        theme_id=_either("id"),
        theme=_either("libelle"),
        sous_theme_id=F("sous_theme_id"),
        sous_theme=F("sous_theme__libelle"),
    )


def _searched_querysets(diagnostics, diagnostic):
    """(queryset, columns) of each kind of libellé, in `diagnostics` (those the user may
    see), or in `diagnostic` only (one of them) when it is given."""
    for kind in kinds.structure():
        rows = kind.model.objects
        if diagnostic is not None:
            # From the diagnostic's index, combined with the full-text index's hits.
            rows = rows.filter(diagnostic=diagnostic)
        else:
            rows = rows.filter(diagnostic__in=diagnostics.order_by().values("pk"))
        columns = LEVEL_COLUMNS[kind.key](kind) if kind.is_level else _element_columns(kind)
        yield rows, columns


def search(user, query, diagnostic=None):
    """The hits of `query` in the diagnostics `user` may see (or in `diagnostic` only).

    A lazy queryset of dicts (keys: COLUMNS), ordered by diagnostic, pilier, then rank:
    paginate it, then give a page to `group_by_pilier`.
    """
    diagnostics = visible_diagnostics(user)
    if diagnostic is not None:
        if not can_view(user, diagnostic):
            diagnostics, diagnostic = diagnostics.none(), None
        else:
            diagnostics = diagnostics.filter(pk=diagnostic.pk)
    parts = [
        matching(queryset.order_by(), "libelle", query).annotate(**columns).values(*COLUMNS)
        for queryset, columns in _searched_querysets(diagnostics, diagnostic)
    ]
    first, *others = parts
    return first.union(*others, all=True).order_by(*HIT_ORDER)


HIT_ORDER = (
    "-hit_diagnostic_annee",
    "hit_diagnostic_titre",
    "hit_pilier_numero",
    "-rang",
    "hit_kind_order",
    "hit_id",
)


MAX_PAGE = 10**9


class _CountedPaginator(Paginator):
    """A Paginator told its count (it came with the rows of the page)."""

    def __init__(self, count, per_page):
        super().__init__([], per_page)
        self.__dict__["count"] = count  # Paginator.count is a cached_property


def _page_number(value):
    """The page asked for, as Paginator.get_page reads it: 1 when it is not a number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 1
    if not number.is_integer():
        return 1
    return int(min(number, MAX_PAGE))  # beyond: the last page, with no overflow in SQL


def page_of_hits(hits, number, per_page):
    """The page `number` of `search()` hits, with the number of hits: one query.

    Paginating the queryset would run the whole search twice, once to count the hits and
    once for the page, and each time rank every hit. Here the rows of the page carry the
    count (`COUNT(*) OVER ()`). A page number out of range (as Paginator.get_page: the
    last page) costs a count and a second page query.
    """
    number = _page_number(number)
    connection = connections[hits.db]
    try:
        sql, params = hits.order_by().query.get_compiler(hits.db).as_sql()
    except EmptyResultSet:  # no searchable word: nothing to ask the database
        return Page([], 1, _CountedPaginator(0, per_page))
    quote = connection.ops.quote_name
    order = ", ".join(
        f"{quote(name.lstrip('-'))} {'DESC' if name.startswith('-') else 'ASC'}"
        for name in HIT_ORDER
    )
    rows = []
    if number >= 1:
        sql = (
            f"SELECT hits.*, COUNT(*) OVER () AS hit_total FROM ({sql}) hits "
            f"ORDER BY {order} LIMIT %s OFFSET %s"
        )
        postgresql = connection.vendor == "postgresql"
        if postgresql:
            # One statement, not compiled: with thousands of hits the planner's estimate
            # passes `jit_above_cost`, and compiling the plan (about 100 ms) would cost
            # ten times running it. SET LOCAL lasts as long as the implicit transaction
            # of this one message (psycopg binds parameters on the client side).
            sql = f"SET LOCAL jit = off; {sql}"
        with connection.cursor() as cursor:
            cursor.execute(sql, (*params, per_page, (number - 1) * per_page))
            if postgresql:
                cursor.cursor.nextset()  # past the SET, to the rows
            columns = [column[0] for column in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    if rows:
        paginator = _CountedPaginator(rows[0]["hit_total"], per_page)
        return Page(rows, number, paginator)
    total = 0 if number == 1 else hits.count()
    if total == 0:
        return Page([], 1, _CountedPaginator(0, per_page))
    return page_of_hits(hits, _CountedPaginator(total, per_page).num_pages, per_page)


# Presenting one page of hits ----------------------------------------------------------


@dataclass
class Hit:
    kind: str
    libelle: str
    path: list
    url: str


@dataclass
class PilierGroup:
    diagnostic_titre: str
    numero: int
    libelle: str
    url: str
    hits: list = field(default_factory=list)


def _kind_of(row):
    return kinds.structure()[row["hit_kind_order"]]


def _url_of(row):
    slug = row["hit_diagnostic_slug"]
    pilier_url = reverse(
        "diagnostics:pilier", kwargs={"slug": slug, "numero": row["hit_pilier_numero"]}
    )
    kind = _kind_of(row).key
    if kind == "pilier":
        return pilier_url
    if kind == "theme":
        return f"{pilier_url}#theme-{row['hit_id']}"
    sous_theme_id = row["hit_sous_theme_id"]
    if sous_theme_id is None:  # an item at the level of its thème
        return f"{pilier_url}#theme-{row['hit_theme_id']}"
    return reverse("diagnostics:sous_theme", kwargs={"slug": slug, "pk": sous_theme_id})


def _path_of(row):
    """The levels above the hit, below its pilier (the pilier is the group's heading)."""
    levels = {
        "pilier": [],
        "theme": [],
        "sous_theme": [row["hit_theme_libelle"]],
    }.get(_kind_of(row).key)
    if levels is None:
        levels = [row["hit_theme_libelle"], row["hit_sous_theme_libelle"]]
    return [level for level in levels if level]


def group_by_pilier(rows):
    """One page of `search()` rows as a list of PilierGroup, in the rows' order."""
    groups = []
    # The rows come sorted by diagnostic, then pilier.
    for _, pilier_rows in groupby(rows, key=itemgetter("hit_diagnostic_slug", "hit_pilier_numero")):
        pilier_rows = list(pilier_rows)
        first = pilier_rows[0]
        group = PilierGroup(
            diagnostic_titre=first["hit_diagnostic_titre"],
            numero=first["hit_pilier_numero"],
            libelle=first["hit_pilier_libelle"],
            url=reverse(
                "diagnostics:pilier",
                kwargs={"slug": first["hit_diagnostic_slug"], "numero": first["hit_pilier_numero"]},
            ),
        )
        group.hits = [
            Hit(
                kind=row["hit_kind"],
                libelle=row["hit_libelle"],
                path=_path_of(row),
                url=_url_of(row),
            )
            for row in pilier_rows
        ]
        groups.append(group)
    return groups
