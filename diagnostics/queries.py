"""Read queries of the consultation pages, each in a fixed number of SQL queries.

Whatever the size of a diagnostic, these functions run the same number of queries:
they fetch each level once and assemble the tree in Python. What they load is stored
on the instances under `loaded_*` attributes, so that templates never query:

- `theme.loaded_sous_themes`: its sous-thèmes, in order;
- `node.loaded_difficultes`, `node.loaded_indicateurs` on a thème (its theme-level items
  only) and on a sous-thème;
- `element.loaded_quartiers`: the quartiers an item concerns, by code;
- `indicateur.loaded_valeurs`: the latest value of each of its series, as the user may
  see it (indicateurs.tableau.attach_dernieres_mesures);
- `element.url_source`, `element.source_ligne`, `indicateur.url`: the links of an item
  (`load_elements`).

On the page of a sous-thème, items also come with their source cell (`element.source`).
"""

from collections import defaultdict

from django.db.models import CharField, F, Func, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models import Value as V
from django.db.models.functions import Coalesce
from django.urls import reverse

from indicateurs.models import Indicateur
from indicateurs.tableau import attach_dernieres_mesures

from .models import CelluleSource, Difficulte, Pilier, Quartier, SousTheme, Theme

ELEMENT_MODELS = {"difficulte": Difficulte, "indicateur": Indicateur}


def _tags(kind, element_ids):
    """(kind, item id, quartier id, code, nom) rows of one kind of item's quartier tags."""
    through = ELEMENT_MODELS[kind].quartiers.through
    return (
        through.objects.filter(**{f"{kind}_id__in": element_ids})
        .annotate(kind=V(kind, output_field=CharField()), element_id=F(f"{kind}_id"))
        .values_list("kind", "element_id", "quartier_id", "quartier__code", "quartier__nom")
    )


def attach_quartiers(difficultes, indicateurs):
    """Sets `loaded_quartiers` on every item of both lists: one query (none if both are empty).

    Both tag tables are read in one UNION, joined to the quartiers' code and name.
    """
    elements = {"difficulte": difficultes, "indicateur": indicateurs}
    selects = [_tags(kind, [e.pk for e in items]) for kind, items in elements.items() if items]
    tags = defaultdict(list)
    if selects:
        quartiers = {}
        for kind, element_id, quartier_id, code, nom in selects[0].union(*selects[1:], all=True):
            quartier = quartiers.setdefault(
                quartier_id, Quartier(pk=quartier_id, code=code, nom=nom)
            )
            tags[kind, element_id].append(quartier)
    for kind, items in elements.items():
        for element in items:
            element.loaded_quartiers = sorted(tags[kind, element.pk], key=lambda q: q.code)


def url_maker(name, slug):
    """`pk -> reverse(name, args=[slug, pk])` at the cost of one reverse, for the links of
    a page's hundred items: the pk is the URL's last argument, written as digits."""
    marker = 987654321
    before, after = reverse(name, args=[slug, marker]).rsplit(str(marker), 1)
    return lambda pk: f"{before}{pk}{after}"


def attach_links(elements):
    """Sets on each item of a list the links of its place: `url_pilier`, `url_sous_theme`
    and `url_source` ("" when it has no sous-thème or no source cell). Items come with
    the columns of their place (diagnostics.views.LIST_COLUMNS); one reverse per
    diagnostic and kind of link."""
    makers = {}

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


def load_elements(difficultes, indicateurs, diagnostic, user, sources=False):
    """Evaluates two item querysets (of `diagnostic`) with their quartiers, the links to
    their source cell and to each indicator's page, and the latest value of each series
    of the indicators as `user` may see them: four queries.

    Each item gets `source_ligne` and `url_source` (its cell's line and page), each
    indicator `url`; with `sources`, each item also its cell and the cell's import
    (`element.source`, see `sources_of`). What the pages never show of an item and its
    cell stays in the database: dates to parse, an import's report to decode.
    """

    def load(items):
        items = items.defer("created_at", "updated_at").annotate(source_ligne=F("source__ligne"))
        if sources:
            items = items.select_related("source__import_source").defer(
                "source__texte", "source__import_source__compte_rendu"
            )
        return list(items)

    difficultes, indicateurs = load(difficultes), load(indicateurs)
    attach_quartiers(difficultes, indicateurs)
    attach_dernieres_mesures(indicateurs, user)
    source_url = url_maker("diagnostics:source", diagnostic.slug)
    for element in (*difficultes, *indicateurs):
        element.url_source = source_url(element.source_id) if element.source_id else ""
    indicateur_url = url_maker("indicateurs:detail", diagnostic.slug)
    for indicateur in indicateurs:
        indicateur.url = indicateur_url(indicateur.pk)
    return difficultes, indicateurs


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
    """The thèmes of a pilier with their sous-thèmes and all items: six queries.

    Each thème carries its theme-level items, each sous-thème its own items.
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
    difficultes, indicateurs = load_elements(
        Difficulte.objects.du_pilier(pilier),
        Indicateur.objects.du_pilier(pilier),
        pilier.diagnostic,
        user,
    )
    difficultes_by_parent = _group_by_parent(difficultes)
    indicateurs_by_parent = _group_by_parent(indicateurs)
    for theme in themes:
        theme.loaded_difficultes = difficultes_by_parent[("theme", theme.pk)]
        theme.loaded_indicateurs = indicateurs_by_parent[("theme", theme.pk)]
        for sous_theme in theme.loaded_sous_themes:
            sous_theme.loaded_difficultes = difficultes_by_parent[("sous_theme", sous_theme.pk)]
            sous_theme.loaded_indicateurs = indicateurs_by_parent[("sous_theme", sous_theme.pk)]
    return themes


def load_sous_theme_contents(sous_theme, diagnostic, user):
    """Sets the items of a sous-thème on it, with their source cells: four queries."""
    sous_theme.loaded_difficultes, sous_theme.loaded_indicateurs = load_elements(
        sous_theme.difficultes.all(), sous_theme.indicateurs.all(), diagnostic, user, sources=True
    )
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


def diagnostic_summary(diagnostic):
    """The piliers of a diagnostic with their thèmes and counts: two queries.

    Each thème carries `nb_sous_themes`, `nb_difficultes` and `nb_indicateurs` (its
    theme-level items included); each pilier `loaded_themes` and the same totals.
    """
    themes = Theme.objects.annotate(
        nb_sous_themes=_count(SousTheme, Q(theme=OuterRef("pk"))),
        nb_difficultes=_count(Difficulte, _items_of_theme()),
        nb_indicateurs=_count(Indicateur, _items_of_theme()),
    ).order_by("position", "id")
    piliers = list(
        Pilier.objects.filter(diagnostic=diagnostic)
        .order_by("numero")
        .prefetch_related(Prefetch("themes", queryset=themes, to_attr="loaded_themes"))
    )
    for pilier in piliers:
        for total in ("nb_sous_themes", "nb_difficultes", "nb_indicateurs"):
            setattr(pilier, total, sum(getattr(theme, total) for theme in pilier.loaded_themes))
    return piliers


# The level a cell of each column names, with what its link needs.
NODE_MODELS = {
    CelluleSource.Colonne.PILIER: (Pilier, "diagnostic"),
    CelluleSource.Colonne.THEME: (Theme, "pilier"),
    CelluleSource.Colonne.SOUS_THEME: (SousTheme, "theme__pilier"),
}


def cell_contents(cellule):
    """What was made from a source cell, and the other cells of its line.

    Returns (difficultés, indicateurs, niveaux, autres cellules): four queries for a
    cell that names a level (pilier, thème or sous-thème), three for a cell of items.
    Items and levels come with what their links need (thème, pilier).
    """
    related = ("sous_theme__theme", "theme__pilier")
    difficultes = list(cellule.difficultes.select_related(*related))
    indicateurs = list(cellule.indicateurs.select_related(*related))
    niveaux = []
    if cellule.colonne in NODE_MODELS:
        model, path = NODE_MODELS[cellule.colonne]
        niveaux = list(model.objects.filter(source=cellule).select_related(path))
    autres_cellules = list(
        cellule.import_source.cellules.filter(ligne=cellule.ligne).exclude(pk=cellule.pk)
    )
    return difficultes, indicateurs, niveaux, autres_cellules
