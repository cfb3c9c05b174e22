"""What changed between two editions of a contract's diagnostic.

`compare(ancienne, nouvelle)` matches the levels and items of two editions by their
lineage (`lignee`), never by their text, and returns a `Comparaison`: one
`ComparaisonPilier` per pilier of either edition (matched by lineage too), in the order of
the new edition, each with its own change (a pilier added, removed, renamed or renumbered)
and the changes of what it holds. A change (`Changement`) is one level or item, listed
once with every aspect of its change (`natures`):

- AJOUTE / SUPPRIME: in one edition only;
- REFORMULE: its libellé differs (`libelle_diff`: a word-level diff, `word_diff`);
- DEPLACE: it hangs from another level (another lineage: a renamed parent is not a move;
  a reordering within the same parent is not a move), or a pilier changed number;
- DEFINITION: its information differs (`Kind.compared_fields`: an indicator's definition,
  unit, source…), each field a `Detail`;
- REPERES: the values copied with an edition differ (`Kind.copied_with_edition`: an
  indicator's references and targets), compared by `Kind.compared_key` (nature, place,
  period) and `Kind.compared_fields` (the value), each one a `Detail`.

An item split in an edition (`editing.split_element`) keeps its lineage; its new parts
start their own, and are listed as added. Should two items share a lineage all the same,
the first (by number, preferring the copy of the old one, `origine`) is matched and the
others are added, with a note naming the item they came from.

Queries: one per kind of the registry, one per kind of values copied with an edition,
whatever the size of the diagnostics. Everything returned is plain data (no model
instance is touched afterwards): a page or an export renders it without a query.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from difflib import SequenceMatcher

from django.contrib.auth.models import AnonymousUser
from django.db import models

from .. import kinds
from ..text import collapse_whitespace

# Natures of a change, in the order a pilier's changes are listed.
AJOUTE = "ajouté"
SUPPRIME = "supprimé"
REFORMULE = "reformulé"
DEPLACE = "déplacé"
DEFINITION = "définition modifiée"
REPERES = "référence ou cible modifiée"
NATURES = (AJOUTE, SUPPRIME, REFORMULE, DEPLACE, DEFINITION, REPERES)

# How the summaries count each nature: (one, several).
TITRES = {
    AJOUTE: ("ajout", "ajouts"),
    SUPPRIME: ("suppression", "suppressions"),
    REFORMULE: ("reformulation", "reformulations"),
    DEPLACE: ("déplacement", "déplacements"),
    DEFINITION: ("définition modifiée", "définitions modifiées"),
    REPERES: ("référence ou cible modifiée", "références ou cibles modifiées"),
}

VIDE = "—"  # what a missing value reads as
SECRET = "secret"  # what a value under the secret statistique reads as


def nature_label(nature, kind):
    """The nature agreed with its kind: "ajoutée" for a difficulté, "ajouté" for a thème."""
    return f"{nature}{kind.nom.e}" if nature.endswith("é") else nature


# Word-level diff --------------------------------------------------------------------------

EQUAL, INSERTED, DELETED = "equal", "inserted", "deleted"


@dataclass(frozen=True)
class Segment:
    """A run of words of a diff: kept (EQUAL), only after (INSERTED) or only before
    (DELETED). Words are separated by one space, segments too."""

    operation: str
    texte: str

    @property
    def inserted(self):
        return self.operation == INSERTED

    @property
    def deleted(self):
        return self.operation == DELETED


def word_diff(avant, apres):
    """The segments that turn `avant` into `apres`, word by word (white space ignored):
    word_diff("Accès aux soins", "Accès difficile aux soins") ==
    [Segment(EQUAL, "Accès"), Segment(INSERTED, "difficile"), Segment(EQUAL, "aux soins")]."""
    before, after = (avant or "").split(), (apres or "").split()
    segments = []

    def add(operation, words):
        if not words:
            return
        if segments and segments[-1].operation == operation:
            segments[-1] = Segment(operation, f"{segments[-1].texte} {' '.join(words)}")
        else:
            segments.append(Segment(operation, " ".join(words)))

    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation == "equal":
            add(EQUAL, before[i1:i2])
        else:  # replace, delete, insert: what goes, then what comes
            add(DELETED, before[i1:i2])
            add(INSERTED, after[j1:j2])
    return segments


def texte_de(segments, operation):
    """The text of one side of a diff: texte_de(segments, DELETED) is the text before."""
    return " ".join(s.texte for s in segments if s.operation in (EQUAL, operation))


# What is compared -------------------------------------------------------------------------


@dataclass(eq=False)
class Noeud:
    """A level or an item of one edition, as compared: plain data read in one query."""

    kind: kinds.Kind
    pk: int
    lignee: object
    origine_id: int | None
    libelle: str
    ordre: int  # a pilier's number, the position of the others
    parent: "Noeud | None" = None
    champs: dict = field(default_factory=dict)  # Kind.compared_fields: value
    # {(value kind key, Kind.compared_key values): (label, Kind.compared_fields values)}
    valeurs: dict = field(default_factory=dict)

    @property
    def is_root(self):
        return self.parent is None

    @property
    def titre(self):
        """How a place names it: a pilier with its number."""
        return f"{self.ordre}. {self.libelle}" if self.is_root else self.libelle

    @property
    def pilier(self):
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    @property
    def chemin(self):
        """The levels above it, from the pilier down."""
        path, node = [], self.parent
        while node is not None:
            path.append(node)
            node = node.parent
        return path[::-1]

    @property
    def emplacement(self):
        """Where it stands: "1. Pilier › Thème › Sous-thème"; a pilier: "Pilier n° 1"."""
        if self.is_root:
            return f"{self.kind.nom.singulier.capitalize()} n° {self.ordre}"
        return " › ".join(node.titre for node in self.chemin)

    @property
    def place(self):
        """What a move changes: the lineage of its parent (and its kind: a thème's own
        level is not one of its sous-thèmes), or a pilier's number."""
        if self.is_root:
            return self.ordre
        return (self.parent.kind.key, self.parent.lignee)

    @property
    def ordre_arbre(self):
        """Sorts the nodes of an edition as its pages show them: a thème's own items
        before its sous-thèmes."""
        rank = (0, 0) if self.kind.is_item else (1, 0)
        own = (*rank, self.ordre, self.pk)
        return (*self.parent.ordre_arbre, own) if self.parent else (own,)


@dataclass(frozen=True)
class Detail:
    """One field or one value that changed: its label, before and after as text (VIDE
    when missing); `segments` when a long text is compared word by word."""

    libelle: str
    avant: str
    apres: str
    segments: tuple = ()

    def __str__(self):
        return f"{self.libelle} : {self.avant} → {self.apres}"


@dataclass(eq=False)
class Changement:
    """A level or an item that changed between the two editions (see the module)."""

    kind: kinds.Kind
    natures: tuple
    avant: Noeud | None  # in the old edition (None: added)
    apres: Noeud | None  # in the new edition (None: removed)
    libelle_diff: list = field(default_factory=list)  # reworded: word_diff of the libellés
    definition: list = field(default_factory=list)  # [Detail] of Kind.compared_fields
    reperes: list = field(default_factory=list)  # [Detail] of the values
    note: str = ""

    @property
    def noeud(self):
        return self.apres or self.avant

    @property
    def lignee(self):
        return self.noeud.lignee

    @property
    def libelle(self):
        return self.noeud.libelle

    @property
    def libelle_avant(self):
        return self.avant.libelle if self.avant else ""

    @property
    def libelle_apres(self):
        return self.apres.libelle if self.apres else ""

    @property
    def emplacement_avant(self):
        return self.avant.emplacement if self.avant else ""

    @property
    def emplacement_apres(self):
        return self.apres.emplacement if self.apres else ""

    @property
    def labels(self):
        """The natures agreed with the kind: ["reformulée", "déplacée"]."""
        return [nature_label(nature, self.kind) for nature in self.natures]

    @property
    def label(self):
        """ "Reformulée et déplacée"."""
        labels = self.labels
        text = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} et {labels[-1]}"
        return text[:1].upper() + text[1:]

    @property
    def ajoute(self):
        return AJOUTE in self.natures

    @property
    def supprime(self):
        return SUPPRIME in self.natures

    @property
    def reformule(self):
        return REFORMULE in self.natures

    @property
    def deplace(self):
        return DEPLACE in self.natures

    @property
    def details(self):
        return [*self.definition, *self.reperes]

    @property
    def detail_texte(self):
        """Everything else that changed, as one text (a spreadsheet's cell)."""
        parts = [self.note] if self.note else []
        return " ; ".join([*parts, *(str(detail) for detail in self.details)])

    def _sort_key(self):
        return (NATURES.index(self.natures[0]), self.noeud.ordre_arbre)


def _count(changements):
    counts = defaultdict(int)
    for changement in changements:
        for nature in changement.natures:
            counts[nature] += 1
    return [
        (nature, TITRES[nature][counts[nature] > 1], counts[nature])
        for nature in NATURES
        if counts[nature]
    ]


@dataclass(eq=False)
class ComparaisonPilier:
    """A pilier of either edition: its own change (or None) and those of what it holds."""

    avant: Noeud | None
    apres: Noeud | None
    changement: Changement | None = None
    changements: list = field(default_factory=list)

    @property
    def noeud(self):
        return self.apres or self.avant

    @property
    def lignee(self):
        return self.noeud.lignee

    @property
    def numero(self):
        return self.noeud.ordre

    @property
    def libelle(self):
        return self.noeud.libelle

    @property
    def titre(self):
        """ "Pilier 2 : Emploi et développement économique"."""
        return f"{self.noeud.kind.nom.singulier.capitalize()} {self.numero} : {self.libelle}"

    @property
    def ancre(self):
        return f"pilier-{self.lignee.hex}"

    @property
    def tous(self):
        """Its own change first, then those of what it holds."""
        return [self.changement, *self.changements] if self.changement else self.changements

    @property
    def resume(self):
        """[(nature, its heading agreed with the number, number)] of the natures present:
        [("ajouté", "ajouts", 2), ("supprimé", "suppression", 1)]."""
        return _count(self.tous)


@dataclass(eq=False)
class Comparaison:
    ancienne: object  # Diagnostic
    nouvelle: object  # Diagnostic
    piliers: list

    @property
    def changements(self):
        return [changement for pilier in self.piliers for changement in pilier.tous]

    @property
    def resume(self):
        return _count(self.changements)

    @property
    def nombre(self):
        return sum(len(pilier.tous) for pilier in self.piliers)

    def rows(self):
        """One tuple of text per change, in the order of EXPORT_HEADERS."""
        for pilier in self.piliers:
            for changement in pilier.tous:
                yield (
                    pilier.titre,
                    changement.label,
                    changement.kind.nom.singulier.capitalize(),
                    changement.libelle_avant,
                    changement.libelle_apres,
                    changement.emplacement_avant,
                    changement.emplacement_apres,
                    changement.detail_texte,
                )


EXPORT_HEADERS = (
    "Pilier",
    "Nature",
    "Élément",
    "Libellé avant",
    "Libellé après",
    "Emplacement avant",
    "Emplacement après",
    "Détail",
)


# Reading two editions ---------------------------------------------------------------------


def _parents():
    """{kind: [(parent kind, foreign key attname)]}: where each kind hangs from."""
    found = defaultdict(list)
    for level in kinds.levels():
        for child, attname in kinds.children(level):
            found[child].append((level, attname))
    return found


def _order_field(model):
    names = {f.name for f in model._meta.concrete_fields}
    return "position" if "position" in names else "numero"


def _attname(model, name):
    return model._meta.get_field(name).attname


def _load(editions, user):
    """{edition pk: {kind: [Noeud]}} of both editions, one query per kind."""
    loaded = {pk: defaultdict(list) for pk in editions}
    index = {}  # (kind key, pk) -> Noeud
    parents = _parents()
    for kind in kinds.structure():
        model = kind.model
        ordre = _order_field(model)
        links = parents.get(kind, [])
        compared = [(name, _attname(model, name)) for name in kind.compared_fields]
        columns = [
            "pk",
            "diagnostic_id",
            "lignee",
            "origine_id",
            "libelle",
            ordre,
            *(attname for _, attname in links),
            *(attname for _, attname in compared),
        ]
        rows = model.objects.filter(diagnostic__in=editions).order_by("pk").values(*columns)
        for row in rows:
            parent = None
            for parent_kind, attname in links:
                if row[attname] is not None:
                    parent = index[parent_kind.key, row[attname]]
            node = Noeud(
                kind=kind,
                pk=row["pk"],
                lignee=row["lignee"],
                origine_id=row["origine_id"],
                libelle=row["libelle"],
                ordre=row[ordre],
                parent=parent,
                champs={name: row[attname] for name, attname in compared},
            )
            index[kind.key, node.pk] = node
            loaded[row["diagnostic_id"]][kind].append(node)
        if kind.is_item:
            for value_kind in kinds.values_of(kind):
                _load_values(value_kind, kind, editions, index, user)
    return loaded


def _load_values(value_kind, item_kind, editions, index, user):
    """Attach to the items of both editions their values copied with an edition; a value
    this user may not read (`Kind.hidden`) is compared and shown as SECRET, so that no
    change reveals it."""
    if value_kind.copied_with_edition is None or not value_kind.compared_key:
        return
    model = value_kind.model
    parent = _attname(model, value_kind.parent)
    key = [_attname(model, name) for name in value_kind.compared_key]
    compared = [_attname(model, name) for name in value_kind.compared_fields]
    rows = model.objects.filter(value_kind.copied_with_edition).filter(
        **{f"{value_kind.parent}__diagnostic__in": editions}
    )
    if value_kind.detail is not None:
        rows = rows.annotate(diff_libelle=value_kind.detail())
    labelled = value_kind.detail is not None
    columns = ["pk", parent, *key, *compared, *(["diff_libelle"] if labelled else [])]
    rows = list(rows.order_by("pk").values(*columns))
    hidden = set()
    if value_kind.hidden is not None and rows:
        hidden = value_kind.hidden({row[parent] for row in rows}, user)
    for row in rows:
        node = index.get((item_kind.key, row[parent]))
        if node is None:
            continue
        label = row["diff_libelle"] if labelled else ", ".join(str(row[name]) for name in key)
        label = label[:1].upper() + label[1:]
        amounts = (SECRET,) if row["pk"] in hidden else tuple(row[name] for name in compared)
        node.valeurs[value_kind.key, tuple(row[name] for name in key)] = (label, amounts)


# Comparing ------------------------------------------------------------------------------


def _match(olds, news):
    """([(old, new)], [added new], [removed old]) of one kind, by lineage (module)."""
    by_lignee = defaultdict(list)
    for old in olds:
        by_lignee[old.lignee].append(old)
    pairs, added, taken = [], [], set()
    for new in news:
        candidates = [old for old in by_lignee[new.lignee] if old.pk not in taken]
        if not candidates:
            added.append(new)
            continue
        old = next((c for c in candidates if c.pk == new.origine_id), candidates[0])
        taken.add(old.pk)
        pairs.append((old, new))
    removed = [old for old in olds if old.pk not in taken]
    return pairs, added, removed


def _same_text(a, b):
    return collapse_whitespace(a or "") == collapse_whitespace(b or "")


def _display(model_field, value):
    """A value of a field as a reader reads it."""
    if value is None or value == "":
        return VIDE
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.replace(".", ",")
    return str(value)


def _definition(kind, old, new):
    details = []
    for name in kind.compared_fields:
        before, after = old.champs.get(name), new.champs.get(name)
        if before == after or (isinstance(before, str) and _same_text(before, after)):
            continue
        model_field = kind.model._meta.get_field(name)
        segments = ()
        if isinstance(model_field, models.TextField) and (before or after):
            segments = tuple(word_diff(before, after))
        details.append(
            Detail(
                str(model_field.verbose_name).capitalize(),
                _display(model_field, before),
                _display(model_field, after),
                segments,
            )
        )
    return details


def _amount(value_kind, amounts):
    """A value's compared fields as text: "12" alone, or "valeur 25, numérateur 12…"."""
    if amounts == (SECRET,):
        return SECRET
    present = [
        (name, value)
        for name, value in zip(value_kind.compared_fields, amounts, strict=True)
        if value not in (None, "")
    ]
    if not present:
        return VIDE
    if len(present) == 1 and present[0][0] == value_kind.compared_fields[0]:
        return _display(None, present[0][1])
    model = value_kind.model
    return ", ".join(
        f"{model._meta.get_field(name).verbose_name} {_display(None, value)}"
        for name, value in present
    )


def _reperes(old, new):
    if old.valeurs == new.valeurs:
        return []
    details = []
    for key in [*old.valeurs, *(k for k in new.valeurs if k not in old.valeurs)]:
        before, after = old.valeurs.get(key), new.valeurs.get(key)
        if before == after:
            continue
        value_kind, label = kinds.get(key[0]), (after or before)[0]
        details.append(
            Detail(
                label,
                _amount(value_kind, before[1]) if before else VIDE,
                _amount(value_kind, after[1]) if after else VIDE,
            )
        )
    return details


def _changement(kind, old, new):
    """The change of a matched node, or None when nothing of it changed."""
    natures, diff = [], []
    if not _same_text(old.libelle, new.libelle):
        natures.append(REFORMULE)
        diff = word_diff(old.libelle, new.libelle)
    if old.place != new.place:
        natures.append(DEPLACE)
    definition = _definition(kind, old, new) if kind.compared_fields else []
    if definition:
        natures.append(DEFINITION)
    reperes = _reperes(old, new)
    if reperes:
        natures.append(REPERES)
    if not natures:
        return None
    return Changement(kind, tuple(natures), old, new, diff, definition, reperes)


def compare(ancienne, nouvelle, user=None):
    """What changed from the edition `ancienne` to the edition `nouvelle` (module), as
    `user` may read it (without one: as an anonymous reader, every secret kept)."""
    loaded = _load([ancienne.pk, nouvelle.pk], user or AnonymousUser())
    olds, news = loaded[ancienne.pk], loaded[nouvelle.pk]
    root = kinds.structure()[0]  # the pilier
    groups = {}  # pilier lineage -> ComparaisonPilier
    changements = []
    for kind in kinds.structure():
        pairs, added, removed = _match(olds[kind], news[kind])
        matched_by_lignee = {new.lignee: old for old, new in pairs}
        if kind is root:
            for old, new in pairs:
                groups[new.lignee] = ComparaisonPilier(old, new)
            for new in added:
                groups.setdefault(new.lignee, ComparaisonPilier(None, new))
            for old in removed:
                groups.setdefault(old.lignee, ComparaisonPilier(old, None))
        for old, new in pairs:
            if changement := _changement(kind, old, new):
                changements.append(changement)
        for new in added:
            note = ""
            if (origin := matched_by_lignee.get(new.lignee)) is not None:
                note = f"Issu{kind.nom.e} de la scission de « {origin.libelle} »"
            changements.append(Changement(kind, (AJOUTE,), None, new, note=note))
        for old in removed:
            changements.append(Changement(kind, (SUPPRIME,), old, None))
    for changement in changements:
        if changement.kind is root:
            groups[changement.lignee].changement = changement
        else:
            groups[changement.noeud.pilier.lignee].changements.append(changement)
    for group in groups.values():
        group.changements.sort(key=Changement._sort_key)
    ordered = sorted(
        groups.values(),
        key=lambda group: (group.apres is None, group.numero, group.noeud.pk),
    )
    return Comparaison(ancienne, nouvelle, ordered)
