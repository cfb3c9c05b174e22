"""Reading the change history of a diagnostic (django-simple-history), for its pages.

- `records_in_diagnostic(model, diagnostic)`: the history rows of one kind of object of a
  diagnostic, deleted objects included (each row carries its object's diagnostic);
- `versions(records)`: the versions of one object, each with who, when, why and the
  changes from the version before (values as the interface shows them);
- the "Dernières modifications" page, one line per action, is read by `recent`.

Each function runs a fixed number of queries whatever the number of rows.
"""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import formats

from .. import kinds
from ..models import CelluleSource, Element, Import, Pilier, SousTheme, Theme

TYPES = {"+": "Création", "~": "Modification", "-": "Suppression"}

# Fields never shown in a diff: technical ones, and the parents (shown as "rattachement").
HIDDEN_FIELDS = {"id", "cle", "version", "created_at", "updated_at", "theme", "sous_theme"}
RATTACHEMENT = "rattachement"


def history_model(model):
    """The model of the history rows of `model` (django-simple-history)."""
    return model.history.model


def records_in_diagnostic(model, diagnostic):
    """The history rows of `model` (a level or an item) that belong to `diagnostic`, deleted
    objects included: every row carries the diagnostic of its object."""
    return history_model(model).objects.filter(diagnostic_id=diagnostic.pk)


def last_change(model, pk):
    """(who, when) of the latest history row of an object ("une autre personne", None when
    it has none)."""
    record = history_model(model).objects.filter(id=pk).select_related("history_user")
    record = record.order_by("-history_id").first()
    if record is None:
        return "une autre personne", None
    return record_author(record), record.history_date


def author(first_name, last_name, username):
    full = f"{first_name or ''} {last_name or ''}".strip()
    return full or username or "Auteur inconnu"


def record_author(record):
    user = record.history_user
    if user is None:
        return "Auteur inconnu"
    return author(user.first_name, user.last_name, user.get_username())


def load_imports(records):
    """{pk: Import} of the imports these history rows (objects, or dicts of their values)
    point to, as writer or as undone import: one query, none if there are none."""
    ids = set()
    for record in records:
        for name in ("import_source_id", "annulation_de_id"):
            value = record.get(name) if isinstance(record, dict) else getattr(record, name)
            if value is not None:
                ids.add(value)
    return Import.objects.in_bulk(ids) if ids else {}


def describe_reason(record, imports):
    """The reason of a history row (an object, or a dict of its values) as the interface
    shows it: the file of the import that wrote it, or whose undo did, by the row's links
    (`HistoryLinks`); otherwise its own reason."""

    def value(name):
        return record.get(name) if isinstance(record, dict) else getattr(record, name)

    import_id = value("import_source_id") or value("annulation_de_id")
    if import_id is not None:
        found = imports.get(import_id)
        name = f"du fichier « {found.nom_fichier} »" if found else "d'un tableau"
        return f"Annulation de l'import {name}" if value("annulation_de_id") else f"Import {name}"
    return value("history_change_reason") or ""


# The versions of one object ------------------------------------------------------------


@dataclass
class Change:
    label: str
    avant: str
    apres: str


@dataclass
class Version:
    record: object
    type: str  # "Création", "Modification", "Suppression"
    auteur: str
    raison: str
    changes: list = field(default_factory=list)
    is_last: bool = False

    @property
    def is_deletion(self):
        return self.record.history_type == "-"


class Presenter:
    """The values of history rows as the interface shows them.

    Loads at once, for all the rows given, what they point to: the quartiers of each
    version, the parents, the source cells and the imports named by the reasons (at
    most five queries, none for what no row needs).
    """

    def __init__(self, records):
        self.records = sorted(records, key=lambda record: record.history_id)
        self.model = self.records[0].instance_type
        self.is_element = issubclass(self.model, Element)
        self.tags = {}
        if self.is_element:
            m2m_model = type(self.records[0]).quartiers.model
            for history_id, nom in (
                m2m_model.objects.filter(history__in=[r.history_id for r in self.records])
                .order_by("quartier__nom")
                .values_list("history_id", "quartier__nom")
            ):
                self.tags.setdefault(history_id, []).append(nom)
        ids = {name: set() for name in ("theme", "sous_theme", "source", "pilier")}
        for record in self.records:
            for name, found in ids.items():
                found.add(getattr(record, f"{name}_id", None))
        for found in ids.values():
            found.discard(None)
        self.sous_themes = _in_bulk(SousTheme.objects.select_related("theme"), ids["sous_theme"])
        self.themes = _in_bulk(Theme.objects, ids["theme"])
        self.sources = _in_bulk(
            CelluleSource.objects.select_related("import_source"), ids["source"]
        )
        self.piliers = _in_bulk(Pilier.objects, ids["pilier"])
        self.imports = load_imports(self.records)
        self.names = self._names()

    def _names(self):
        """The fields shown, in order: where it stands, its libellé, the rest."""
        first = {Pilier: [], Theme: ["pilier"]}.get(self.model, [RATTACHEMENT])
        shown = [
            f.name
            for f in self.model._meta.concrete_fields
            if f.editable and f.name not in HIDDEN_FIELDS | {"libelle", "diagnostic", *first}
        ]
        return [*first, "libelle", *shown, *(["quartiers"] if self.is_element else [])]

    def label(self, name):
        if name == RATTACHEMENT:
            return "Rattachement" if self.is_element else "Thème"
        if name == "quartiers":
            return "Quartiers concernés"
        if name == "position":
            return "Position dans la liste"
        if name == "source":
            return "Provenance"
        return str(self.model._meta.get_field(name).verbose_name).capitalize()

    def values(self, record):
        """{field name: displayed value} of one version."""
        return {name: self.display(record, name) for name in self.names}

    def display(self, record, name):
        if name == RATTACHEMENT:
            return self._rattachement(record)
        if name == "quartiers":
            source = record
            if record.history_type == "-":  # tags are removed before the row
                earlier = [r for r in self.records if r.history_id < record.history_id]
                source = earlier[-1] if earlier else record
            return ", ".join(self.tags.get(source.history_id, [])) or "aucun (tout le territoire)"
        if name == "source":
            if record.source_id is None:
                return "saisie directe"
            cellule = self.sources.get(record.source_id)
            if cellule is None:
                return f"cellule n° {record.source_id} (supprimée)"
            return f"ligne {cellule.ligne} de « {cellule.import_source.nom_fichier} »"
        if name == "pilier":
            pilier = self.piliers.get(record.pilier_id)
            return str(pilier) if pilier else f"pilier n° {record.pilier_id} (supprimé)"
        model_field = record._meta.get_field(name)
        raw = getattr(record, model_field.attname)
        if raw is None or raw == "":
            return "—"
        if model_field.choices:
            return str(dict(model_field.flatchoices).get(raw, raw))
        if isinstance(raw, bool):
            return "oui" if raw else "non"
        return raw if isinstance(raw, str) else str(formats.localize(raw))

    def _rattachement(self, record):
        if getattr(record, "sous_theme_id", None):
            sous_theme = self.sous_themes.get(record.sous_theme_id)
            if sous_theme is None:
                return f"sous-thème n° {record.sous_theme_id} (supprimé)"
            return f"{sous_theme.theme.libelle} › {sous_theme.libelle}"
        theme = self.themes.get(record.theme_id)
        if theme is None:
            return f"thème n° {record.theme_id} (supprimé)"
        return f"{theme.libelle} (niveau du thème)" if self.is_element else theme.libelle

    def changes(self, before, after):
        """[Change] from the values `before` (None: nothing) to the values `after`."""
        return [
            Change(self.label(name), before[name] if before else "—", value)
            for name, value in after.items()
            if (before[name] if before else "—") != value
        ]


def _in_bulk(queryset, ids):
    return queryset.in_bulk(ids) if ids else {}


def versions(records):
    """The versions of one object, newest first, from all its history rows.

    A creation lists the values it set; a modification what changed from the version
    before; a deletion nothing.
    """
    if not records:
        return []
    presenter = Presenter(records)
    result, previous = [], None
    for record in presenter.records:
        current = presenter.values(record)
        changes = [] if record.history_type == "-" else presenter.changes(previous, current)
        result.append(
            Version(
                record=record,
                type=TYPES[record.history_type],
                auteur=record_author(record),
                raison=describe_reason(record, presenter.imports),
                changes=changes,
            )
        )
        previous = current
    result[-1].is_last = True
    return list(reversed(result))


def restore_preview(record, records):
    """What restoring `record` changes: [Change] from the object as it is now (its last
    version among `records`, all the rows of the object) to the values of `record`; for a
    deleted object, the values it comes back with."""
    presenter = Presenter(records)
    latest = presenter.records[-1]
    target = presenter.values(record)
    if record.history_type == "-":
        return presenter.changes(None, target)
    return presenter.changes(presenter.values(latest), target)


def history_url(diagnostic, model, pk, numero=None):
    """The page of the history of one object (a pilier is named by its numéro)."""
    slug = diagnostic.slug
    if model is Pilier:
        return reverse("diagnostics:pilier_historique", args=[slug, numero])
    if model is Theme:
        return reverse("diagnostics:theme_historique", args=[slug, pk])
    if model is SousTheme:
        return reverse("diagnostics:sous_theme_historique", args=[slug, pk])
    return reverse("diagnostics:element_historique", args=[slug, kinds.of(model).nature, pk])
