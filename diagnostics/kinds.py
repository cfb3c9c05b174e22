"""The kinds of things a diagnostic holds, each declared once, in this registry.

A diagnostic is a hierarchy of *levels* (pilier > thème > sous-thème); *items* hang from a
sous-thème, or directly from a thème (the difficultés prégnantes, the indicateurs);
*values* hang from an item (the measures of an indicator). This application registers
the levels and the difficultés, the `indicateurs` application its indicators and their
values, each from its `AppConfig.ready()`. Everything that lists kinds reads the
registry: the edit pages and their URLs, the history and its restorations, the imports
and their undo, the search, the lists' filters, the backup, the admin. A new kind of item
(an objective, an action) is declared by the application that brings it, in one place.

Read the registry at run time (in functions), never when a module is imported: it is
filled once every application is loaded.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

LEVEL, ITEM, VALUE = "niveau", "element", "valeur"


@dataclass(frozen=True)
class Nom:
    """How the interface names a kind of object, with its French grammar."""

    singulier: str  # "difficulté"
    pluriel: str  # "difficultés"
    le: str  # "la difficulté", "l'indicateur"
    du: str  # "de la difficulté", "de l'indicateur"
    ce: str  # "cette difficulté"
    un: str  # "une difficulté"
    feminin: bool

    @property
    def e(self):
        """The agreement of a past participle: "modifiée" or "modifié"."""
        return "e" if self.feminin else ""

    def compte(self, nombre):
        return f"{nombre} {self.singulier if nombre == 1 else self.pluriel}"


@dataclass(frozen=True, eq=False)
class Kind:
    """A kind of thing of a diagnostic, with everything the site needs to handle it."""

    key: str  # in code, plans and reports: "sous_theme"
    model: type
    nom: Nom
    category: str  # LEVEL, ITEM or VALUE
    slug: str  # in the URLs of the history: "sous-theme"
    titre: str = ""  # the heading of its lists (default: its plural, capitalised)
    # Levels and items ------------------------------------------------------------------
    resource: type | None = None  # its resource in the import of a source table
    parent: str = ""  # the foreign key to the level above (levels) or to its item (values)
    # Items -------------------------------------------------------------------------------
    nature: str = ""  # in the URLs of items: "difficultes"
    detail_url_name: str = ""  # the page of one item, when it has one: "indicateurs:detail"
    details_template: str = ""  # shown under the item on the pages of the diagnostic
    # load(items, user): sets on the items what `details_template` shows (one query).
    load: Callable | None = None
    # Values ------------------------------------------------------------------------------
    # detail(): an expression of the text that tells a value apart beside its item's
    # libellé ("2024 — Fontbouillant"), for lists of what an import wrote.
    detail: Callable | None = None
    merge_refused: str = ""  # why items holding such values cannot be merged away
    # The values copied with their item into a new edition (a Q on the values; None: none).
    # The others belong to the item's lineage, seen by every edition (`diagnostics.editions`).
    copied_with_edition: object = None
    # Comparing two editions (`diagnostics.editions.diff`). Items: the fields of their
    # information whose change is reported ("définition modifiée"). Values copied with an
    # edition: the fields that tell one apart within its item (`compared_key`: nature,
    # place, period) and those whose change is reported (`compared_fields`).
    compared_fields: tuple = ()
    compared_key: tuple = ()
    # hidden(item pks, user): the pks of their values this user may not read (the secret
    # statistique, declared by the app that brings the values), in a fixed number of
    # queries; None: every value is shown.
    hidden: Callable | None = None

    def __post_init__(self):
        if not self.titre:
            object.__setattr__(self, "titre", self.nom.pluriel.capitalize())

    def __str__(self):
        return self.nom.singulier

    @property
    def colonne(self):
        """Its column in a source table (a CelluleSource.Colonne), or ""."""
        return getattr(self.resource, "source_column", "") or ""

    @property
    def is_level(self):
        return self.category == LEVEL

    @property
    def is_item(self):
        return self.category == ITEM

    @property
    def is_value(self):
        return self.category == VALUE

    @property
    def aucun(self):
        """ "Aucune difficulté renseignée."."""
        aucun = "Aucune" if self.nom.feminin else "Aucun"
        return f"{aucun} {self.nom.singulier} renseigné{self.nom.e}."


@dataclass
class _Registry:
    kinds: list[Kind] = field(default_factory=list)

    def register(self, kind):
        for other in self.kinds:
            for name in ("key", "model", "slug", "nature", "resource"):
                value = getattr(kind, name)
                if value and value == getattr(other, name):
                    raise ValueError(f"Kind {kind.key}: its {name} is already {other.key}'s.")
        if kind.is_value and self.get(kind.parent) is None:
            raise ValueError(f"Kind {kind.key}: register its item {kind.parent!r} first.")
        self.kinds.append(kind)

    def get(self, key):
        return next((kind for kind in self.kinds if kind.key == key), None)


_registry = _Registry()


def register(kind):
    """Declare a kind (from an AppConfig.ready()); levels first, a value after its item."""
    _registry.register(kind)


def all_kinds():
    """Every kind, levels first, then items, then values, each in registration order."""
    order = {LEVEL: 0, ITEM: 1, VALUE: 2}
    return sorted(_registry.kinds, key=lambda kind: order[kind.category])


def levels():
    return [kind for kind in _registry.kinds if kind.is_level]


def items():
    return [kind for kind in _registry.kinds if kind.is_item]


def values():
    return [kind for kind in _registry.kinds if kind.is_value]


def structure():
    """The levels and the items: what a diagnostic's pages, search and history show."""
    return [*levels(), *items()]


def source_table():
    """The kinds a source table holds, in the order of its columns."""
    return [kind for kind in structure() if kind.colonne]


def get(key):
    kind = _registry.get(key)
    if kind is None:
        raise LookupError(f"Unknown kind: {key!r}")
    return kind


def of(model_or_object):
    """The kind of a model, of one of its instances or of one of its history rows."""
    model = model_or_object if isinstance(model_or_object, type) else type(model_or_object)
    model = getattr(model, "instance_type", model)  # a history row: its model
    for kind in _registry.kinds:
        if kind.model is model:
            return kind
    raise LookupError(f"No kind for {model!r}")


def is_registered(model):
    return any(kind.model is model for kind in _registry.kinds)


def by_nature(nature):
    """The kind of item a URL names ("difficultes"), or None."""
    return next((kind for kind in items() if kind.nature == nature), None)


def by_slug(slug):
    """The kind a URL of the history names ("sous-theme"), or None."""
    return next((kind for kind in structure() if kind.slug == slug), None)


def children(kind):
    """[(child kind, foreign key attname)]: what hangs directly from an object of `kind`
    (and goes with it when it is deleted). An item hangs from a sous-thème, or from a
    thème at its own level."""
    if kind.is_level:
        below = [(other, f"{other.parent}_id") for other in levels() if other.parent == kind.key]
        if kind.key in ("theme", "sous_theme"):
            below += [(item, f"{kind.key}_id") for item in items()]
        return below
    if kind.is_item:
        return [(value, f"{value.parent}_id") for value in values() if value.parent == kind.key]
    return []


def below(kind):
    """Every kind that can hang, at any depth, from an object of `kind`, in order."""
    found = []
    for child, _ in children(kind):
        for descendant in (child, *below(child)):
            if descendant not in found:
                found.append(descendant)
    return sorted(found, key=all_kinds().index)


def values_of(kind):
    """The kinds of values that hang from an item of `kind`."""
    return [value for value in values() if value.parent == kind.key]
