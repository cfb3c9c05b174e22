"""Read queries of the consultation pages, each in a fixed number of SQL queries.

Whatever the size of a diagnostic, these functions run the same number of queries:
they fetch each level once and assemble the tree in Python. What they load is stored
on the instances under `loaded_*` attributes, so that templates never query:

- `theme.loaded_sous_themes`: its sous-thèmes, in order;
- `node.loaded_groups` on a thème (its theme-level items only) and on a sous-thème: an
  `ItemGroup` per kind of item (difficultés, indicateurs: `diagnostics.kinds`);
- `element.loaded_quartiers`: the quartiers an item concerns, by code, each with `url`,
  its fiche quartier in the page's edition;
- what each kind adds to its items (`Kind.load`: an indicator's latest values as the user
  may see them, `loaded_valeurs`);
- `element.url_source`, `element.source_ligne`, `element.url`: the links of an item
  (`load_elements`);
- `element.source_run`, `element.source_continues`: where a page links an item's source
  cell once for the run of items made from it (`mark_source_runs`).

On the page of a sous-thème, items also come with their source cell (`element.source`).
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import CharField, F, Func, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models import Value as V
from django.db.models.functions import Coalesce
from django.urls import reverse

from . import kinds
from .models import CelluleSource, Pilier, Quartier, SousTheme, Theme


@dataclass
class ItemGroup:
    """The items of one kind under a thème's own level or a sous-thème, as a page shows them."""

    kind: kinds.Kind
    elements: list


def _tags(kind, element_ids):
    """(kind, item id, quartier id, code, nom) rows of one kind of item's quartier tags."""
    through = kind.model.quartiers.through
    model_name = kind.model._meta.model_name
    return (
        through.objects.filter(**{f"{model_name}_id__in": element_ids})
        .annotate(kind=V(kind.key, output_field=CharField()), element_id=F(f"{model_name}_id"))
        .values_list("kind", "element_id", "quartier_id", "quartier__code", "quartier__nom")
    )


def attach_quartiers(elements):
    """Sets `loaded_quartiers` on every item of `elements` ({kind: [items]}): one query (none
    if there are no items). The tag tables of every kind are read in one UNION, joined to
    the quartiers' code and name."""
    selects = [_tags(kind, [e.pk for e in items]) for kind, items in elements.items() if items]
    tags = defaultdict(list)
    if selects:
        quartiers = {}
        for key, element_id, quartier_id, code, nom in selects[0].union(*selects[1:], all=True):
            quartier = quartiers.setdefault(
                quartier_id, Quartier(pk=quartier_id, code=code, nom=nom)
            )
            tags[key, element_id].append(quartier)
    for kind, items in elements.items():
        for element in items:
            element.loaded_quartiers = sorted(tags[kind.key, element.pk], key=lambda q: q.code)


def url_maker(name, slug):
    """`pk -> reverse(name, args=[slug, pk])` at the cost of one reverse, for the links of
    a page's hundred items: the pk is the URL's last argument, written as digits."""
    marker = 987654321
    before, after = reverse(name, args=[slug, marker]).rsplit(str(marker), 1)
    return lambda pk: f"{before}{pk}{after}"


def fiche_url_maker(slug):
    """`code -> the URL of that quartier's fiche in the edition `slug`` (the page lives in
    indicateurs, reached by its name), at the cost of one reverse."""
    marker = "QN99999Z"
    before, after = reverse("fiche_quartier", args=[slug, marker]).rsplit(marker, 1)
    return lambda code: f"{before}{code}{after}"


def attach_fiche_urls(quartiers, slug, maker=None):
    """Sets `url` on each quartier: its fiche in the edition `slug`. No query."""
    maker = maker or fiche_url_maker(slug)
    for quartier in quartiers:
        quartier.url = maker(quartier.code)


def attach_links(elements):
    """Sets on each item of a list the links of its place: `url_pilier`, `url_sous_theme`
    and `url_source` ("" when it has no sous-thème or no source cell), and `url`, its own
    page ("" when its kind has none, `Kind.detail_url_name`); and on each of its quartiers
    (prefetched `quartiers`) `url`, its fiche in the item's edition. Items come with the
    columns of their place (diagnostics.views.LIST_COLUMNS); one reverse per diagnostic
    and kind of link, no query."""
    makers = {}
    detail_url_names = {kind.model: kind.detail_url_name for kind in kinds.items()}

    def url(name, slug, arg):
        if (name, slug) not in makers:
            makers[name, slug] = url_maker(name, slug)
        return makers[name, slug](arg)

    for element in elements:
        slug = element.place_diagnostic_slug
        element.url_pilier = url("diagnostics:pilier", slug, element.place_pilier_numero)
        element.url_sous_theme = (
            url("diagnostics:sous_theme", slug, element.sous_theme_id)
            if element.sous_theme_id
            else ""
        )
        element.url_source = (
            url("diagnostics:source", slug, element.source_id) if element.source_id else ""
        )
        detail_url_name = detail_url_names.get(type(element), "")
        element.url = url(detail_url_name, slug, element.pk) if detail_url_name else ""
        if ("fiche", slug) not in makers:
            makers["fiche", slug] = fiche_url_maker(slug)
        attach_fiche_urls(element.quartiers.all(), slug, makers["fiche", slug])


def load_elements(querysets, diagnostic, user, sources=False):
    """Evaluates item querysets of `diagnostic` ({kind: queryset}) with their quartiers, the
    links to their source cell and to their own page, and what each kind adds for `user`
    (`Kind.load`: an indicator's latest values): one query per kind, one for all the
    quartiers, one per kind that adds something. Returns {kind: [items]}.

    Each item gets `source_ligne` and `url_source` (its cell's line and page), and `url`
    (its own page, "" when its kind has none); with `sources`, each item also its cell and
    the cell's import (`element.source`, see `sources_of`). What the pages never show of an
    item and its cell stays in the database: dates to parse, an import's report to decode.
    """

    def load(items):
        items = items.defer("created_at", "updated_at").annotate(source_ligne=F("source__ligne"))
        if sources:
            items = items.select_related("source__import_source").defer(
                "source__texte", "source__import_source__compte_rendu"
            )
        return list(items)

    elements = {kind: load(queryset) for kind, queryset in querysets.items()}
    attach_quartiers(elements)
    fiche_url = fiche_url_maker(diagnostic.slug)
    source_url = url_maker("diagnostics:source", diagnostic.slug)
    for kind, items in elements.items():
        if kind.load is not None:
            kind.load(items, user)
        page_url = (
            url_maker(kind.detail_url_name, diagnostic.slug) if kind.detail_url_name else None
        )
        for element in items:
            element.url_source = source_url(element.source_id) if element.source_id else ""
            element.url = page_url(element.pk) if page_url else ""
            attach_fiche_urls(element.loaded_quartiers, diagnostic.slug, fiche_url)
        mark_source_runs(items)
    return elements


def mark_source_runs(items):
    """Marks where a page links the source cells of a list of items of one kind (in their
    order): a run is the consecutive items of the same level (a thème's own level or a
    sous-thème) made from the same source cell, and its cell is linked once, after its
    last item. No query.

    Sets on each item `source_run`, the number of items of the run it ends (0 on the other
    items of a run and on items without a source cell), and `source_continues`, whether
    the next item of its level comes from the same cell.
    """
    for siblings in _group_by_parent(items).values():
        run = 0
        for element, following in zip(siblings, [*siblings[1:], None], strict=True):
            run = run + 1 if element.source_id else 0
            continues = bool(
                element.source_id and following and following.source_id == element.source_id
            )
            element.source_continues = continues
            element.source_run = 0 if continues else run
            if not continues:
                run = 0


def item_groups(elements):
    """[ItemGroup] of loaded items ({kind: [items]}), in the order of the registry."""
    return [ItemGroup(kind, items) for kind, items in elements.items()]


def _group_by_parent(elements):
    """{("theme", pk) or ("sous_theme", pk): [items in order]}."""
    groups = defaultdict(list)
    for element in elements:
        key = (
            ("sous_theme", element.sous_theme_id)
            if element.sous_theme_id
            else ("theme", element.theme_id)
        )
        groups[key].append(element)
    return groups


def pilier_tree(pilier, user):
    """The thèmes of a pilier with their sous-thèmes and all items: a fixed number of
    queries (the thèmes and sous-thèmes, then `load_elements`).

    Each thème carries its theme-level items, each sous-thème its own items, as
    `loaded_groups` ([ItemGroup], one per kind of item) and `has_items`.
    """
    themes = list(
        pilier.themes.prefetch_related(
            Prefetch(
                "sous_themes",
                queryset=SousTheme.objects.order_by("position", "id"),
                to_attr="loaded_sous_themes",
            )
        ).order_by("position", "id")
    )
    elements = load_elements(
        {kind: kind.model.objects.du_pilier(pilier) for kind in kinds.items()},
        pilier.diagnostic,
        user,
    )
    by_parent = {kind: _group_by_parent(items) for kind, items in elements.items()}

    def attach(node, key):
        node.loaded_groups = [ItemGroup(kind, by_parent[kind][key]) for kind in elements]
        node.has_items = any(group.elements for group in node.loaded_groups)

    for theme in themes:
        attach(theme, ("theme", theme.pk))
        for sous_theme in theme.loaded_sous_themes:
            attach(sous_theme, ("sous_theme", sous_theme.pk))
    return themes


def load_sous_theme_contents(sous_theme, diagnostic, user):
    """Sets the items of a sous-thème on it (`loaded_groups`), with their source cells; a
    fixed number of queries (see `load_elements`)."""
    elements = load_elements(
        {kind: kind.model.objects.filter(sous_theme=sous_theme) for kind in kinds.items()},
        diagnostic,
        user,
        sources=True,
    )
    sous_theme.loaded_groups = item_groups(elements)
    sous_theme.has_items = any(elements.values())
    sous_theme.loaded_elements = [element for items in elements.values() for element in items]
    return sous_theme


def quartiers_of(elements):
    """The quartiers concerned by any of these (loaded) items, by code."""
    quartiers = {q.pk: q for element in elements for q in element.loaded_quartiers}
    return sorted(quartiers.values(), key=lambda q: q.code)


def sources_of(elements):
    """The distinct source cells of these items, in file and line order."""
    cells = {element.source_id: element.source for element in elements if element.source_id}
    return sorted(
        cells.values(),
        key=lambda c: (c.import_source.created_at, c.import_source_id, c.ligne, c.colonne),
    )


def _count(model, theme_filter):
    """A subquery counting the rows of `model` that belong to the outer thème."""
    return Coalesce(
        Subquery(
            model.objects.filter(theme_filter)
            .order_by()
            # COUNT as a plain function: no GROUP BY, one row per outer thème.
            .annotate(n=Func(F("pk"), function="COUNT"))
            .values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def _items_of_theme():
    return Q(theme=OuterRef("pk")) | Q(sous_theme__theme=OuterRef("pk"))


def summary_kinds():
    """What the summary of a diagnostic counts under each thème: its sous-thèmes and each
    kind of item."""
    return [kinds.get("sous_theme"), *kinds.items()]


def diagnostic_summary(diagnostic):
    """The piliers of a diagnostic with their thèmes and counts: two queries.

    Each thème carries `totaux`, the number of each of `summary_kinds()` under it (its
    theme-level items included); each pilier `loaded_themes` and the same `totaux`.
    """
    counted = summary_kinds()
    themes = Theme.objects.annotate(
        **{
            f"nb_{kind.key}": _count(
                kind.model, _items_of_theme() if kind.is_item else Q(theme=OuterRef("pk"))
            )
            for kind in counted
        }
    ).order_by("position", "id")
    piliers = list(
        Pilier.objects.filter(diagnostic=diagnostic)
        .order_by("numero")
        .prefetch_related(Prefetch("themes", queryset=themes, to_attr="loaded_themes"))
    )
    for pilier in piliers:
        for theme in pilier.loaded_themes:
            theme.totaux = [getattr(theme, f"nb_{kind.key}") for kind in counted]
        pilier.totaux = [
            sum(theme.totaux[index] for theme in pilier.loaded_themes)
            for index in range(len(counted))
        ]
        pilier.resume = [kind.nom.compte(n) for kind, n in zip(counted, pilier.totaux, strict=True)]
    return piliers


# The level a cell of each column names, with what its link needs.
NODE_MODELS = {
    CelluleSource.Colonne.PILIER: (Pilier, "diagnostic"),
    CelluleSource.Colonne.THEME: (Theme, "pilier"),
    CelluleSource.Colonne.SOUS_THEME: (SousTheme, "theme__pilier"),
}


def cell_contents(cellule):
    """What was made from a source cell, and the other cells of its line.

    Returns ([ItemGroup] of the items made from it, niveaux, autres cellules): one query
    per kind of item and two more, and one for a cell that names a level (pilier, thème
    or sous-thème). Items and levels come with what their links need (thème, pilier).
    """
    related = ("sous_theme__theme", "theme__pilier")
    groups = [
        ItemGroup(kind, list(kind.model.objects.filter(source=cellule).select_related(*related)))
        for kind in kinds.items()
    ]
    niveaux = []
    if cellule.colonne in NODE_MODELS:
        model, path = NODE_MODELS[cellule.colonne]
        niveaux = list(model.objects.filter(source=cellule).select_related(path))
    autres_cellules = list(
        cellule.import_source.cellules.filter(ligne=cellule.ligne).exclude(pk=cellule.pk)
    )
    return [group for group in groups if group.elements], niveaux, autres_cellules
