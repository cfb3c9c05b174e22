"""Changes people make to a diagnostic: the operations behind the edit pages and the admin.

Every operation here:
- runs in one transaction: all or nothing;
- writes the change history (django-simple-history) with who made the change and a
  reason in French ("Modification", "Scission de « … »", "Restauration de la version
  du …");
- refuses a change with a `ValidationError` in French keyed by the form field it concerns
  (a libellé that already exists at the same level, a parent that was deleted...), never
  with an IntegrityError;
- adds one to `version` on every row it writes. When the caller knows the version the
  person started from, the check is part of the UPDATE itself
  (`UPDATE … SET version = version + 1 WHERE id = … AND version = …`): if another save
  came first, no row matches and `StaleEdit` is raised with the current values. No lock
  is held across requests.

Locking: the first statement of each transaction writes (the versioned UPDATE, or a
no-op UPDATE of the parent whose children are renumbered), so that on PostgreSQL the row
locks serialise concurrent operations on the same rows, and on SQLite the database's
write lock is taken before anything is read. A parent is always locked before its
children (no deadlock between two operations on the same list). Rows are read again
after being locked, so a concurrent change is never overwritten by an out-of-date copy.
"""

import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max

from . import kinds
from .models import (
    CelluleSource,
    Diagnostic,
    Element,
    SousTheme,
    Suppression,
    Theme,
    link_history,
    reason_text,
)
from .text import (
    ITEM_MAX_LENGTH,
    collapse_whitespace,
    fingerprint,
    join_sentences,
    normalize_key,
)

# Words ------------------------------------------------------------------------------------


def nom(obj_or_model):
    """How the interface names this kind of object (`kinds.Nom`)."""
    return kinds.of(obj_or_model).nom


def short(text, length=60):
    """A libellé cut to `length` characters for a message or a history reason."""
    text = collapse_whitespace(text or "")
    return text if len(text) <= length else f"{text[: length - 1]}…"


# Errors -----------------------------------------------------------------------------------


class StaleEdit(Exception):
    """A save made on a stale version: someone saved or deleted the object meanwhile.

    `current` is the object as it is now in the database, or None if it was deleted.
    """

    def __init__(self, model, pk, current):
        self.model, self.pk, self.current = model, pk, current
        super().__init__(
            f"{nom(model).le.capitalize()} n° {pk} a été modifié{nom(model).e} entre-temps."
        )


class DeleteChanged(ValidationError):
    """A deletion refused: what goes with the object is no longer what was confirmed."""


def integrity_as_validation_error(operation):
    """A database constraint that still fails (a race the checks could not see) becomes a
    French ValidationError; the transaction of the operation is rolled back."""

    def wrapper(*args, **kwargs):
        try:
            return operation(*args, **kwargs)
        except IntegrityError as error:
            raise ValidationError(
                "Cette modification contredit une règle du diagnostic (un libellé en double "
                "au même niveau, par exemple) : rien n'a été enregistré. Rechargez la page "
                "et réessayez."
            ) from error

    wrapper.__name__ = operation.__name__
    wrapper.__doc__ = operation.__doc__
    return wrapper


# The hierarchy ----------------------------------------------------------------------------

# Fields a person never sets (the rest is restored from a version).
TECHNICAL_FIELDS = {
    "id",
    "cle",
    "version",
    "created_at",
    "updated_at",
    "position",
    "lignee",  # a new part of a split starts its own lineage
    "origine",
}


def _level_parent(obj):
    """(parent model, foreign key attname) of a level: the level above it (its kind's
    `parent`), or the diagnostic for a pilier."""
    parent = kinds.of(obj).parent
    model = Diagnostic if parent == "diagnostic" else kinds.get(parent).model
    return model, f"{parent}_id"


def parent_key(obj):
    """(parent model, parent pk) of a level or an item."""
    if isinstance(obj, Element):
        return (SousTheme, obj.sous_theme_id) if obj.sous_theme_id else (Theme, obj.theme_id)
    model, attname = _level_parent(obj)
    return model, getattr(obj, attname)


def sibling_filter(obj):
    """The lookup of the objects ordered together with `obj` (same kind, same parent)."""
    if isinstance(obj, Element):
        return {"theme_id": obj.theme_id, "sous_theme_id": obj.sous_theme_id}
    _, attname = _level_parent(obj)
    return {attname: getattr(obj, attname)}


def siblings(obj):
    """The objects ordered together with `obj`, in order (piliers by their numéro)."""
    order = "position" if hasattr(obj, "position") else "numero"
    return type(obj).objects.filter(**sibling_filter(obj)).order_by(order, "pk")


def describe_place(obj):
    """Where an object stands, for a message: "dans le sous-thème « Santé »"."""
    model, pk = parent_key(obj)
    if model is Diagnostic:
        return "dans ce diagnostic"
    parent = model.objects.filter(pk=pk).first()
    libelle = short(parent.libelle) if parent else "supprimé"
    if isinstance(obj, Element) and model is Theme:
        return f"au niveau du thème « {libelle} »"
    return f"dans {nom(model).le} « {libelle} »"


def libelle_key(obj):
    """The comparison key the uniqueness constraint of this kind of object uses."""
    if isinstance(obj, Element):
        return fingerprint(obj.libelle.strip())
    return normalize_key(collapse_whitespace(obj.libelle))


def check_unique(obj, field="libelle", exclude=()):
    """ValidationError on `field` when the same libellé exists at the same level."""
    clash = (
        siblings(obj)
        .filter(cle=libelle_key(obj))
        .exclude(pk__in=[pk for pk in (obj.pk, *exclude) if pk is not None])
        .exists()
    )
    if clash:
        raise ValidationError(
            {
                field: f"{nom(obj).un.capitalize()} portant ce libellé existe déjà "
                f"{describe_place(obj)} (majuscules et accents ne comptent pas)."
            }
        )


# Writing ----------------------------------------------------------------------------------


def lock(model, pk):
    """Take the write lock of one row (no-op UPDATE), first statement of a transaction."""
    return model.objects.filter(pk=pk).update(updated_at=F("updated_at"))


def _fresh(model, pks):
    """Lock these rows, add one to their version and read them again: {pk: object}."""
    model.objects.filter(pk__in=pks).update(version=F("version") + 1)
    return model.objects.in_bulk(pks)


def guard(obj, expected_version):
    """The versioned UPDATE: the object as now saved, locked, its version + 1.

    Raises StaleEdit when `expected_version` is no longer the current one.
    """
    model = type(obj)
    updated = model.objects.filter(pk=obj.pk, version=expected_version).update(
        version=F("version") + 1
    )
    if not updated:
        raise StaleEdit(model, obj.pk, model.objects.filter(pk=obj.pk).first())
    return model.objects.get(pk=obj.pk)


def _set_quartiers_quietly(obj, quartiers):
    """Set the quartiers without history rows of their own: the record of the save that
    follows (or `_add_quartiers_to_last_record`) carries them."""
    obj.skip_history_when_saving = True
    try:
        obj.quartiers.set(quartiers)
    finally:
        del obj.skip_history_when_saving


def _add_quartiers_to_last_record(obj):
    """Copy the quartiers of a just created item into its creation record."""
    record = obj.history.order_by("-history_id").first()
    m2m_model = type(record).quartiers.model
    through = type(obj).quartiers.through
    attnames = [field.attname for field in through._meta.fields]
    rows = through.objects.filter(**{type(obj)._meta.model_name: obj})
    m2m_model.objects.bulk_create(
        [
            m2m_model(history=record, **{name: getattr(row, name) for name in attnames})
            for row in rows
        ]
    )


def write(obj, user, reason, *, quartiers=None, insert=False):
    """Save `obj` and its history record (who, reason); `quartiers` too when given."""
    obj._history_user = user
    obj._change_reason = reason_text(reason)
    if quartiers is not None and not insert:
        _set_quartiers_quietly(obj, quartiers)
    obj.save(force_insert=insert)
    if quartiers is not None and insert:
        _set_quartiers_quietly(obj, quartiers)
        if quartiers:
            _add_quartiers_to_last_record(obj)
    return obj


def next_position(model, lookup):
    return (model.objects.filter(**lookup).aggregate(Max("position"))["position__max"] or 0) + 1


def _renumber(model, order, positions, user, reasons, default_reason):
    """Give the objects of `order` (pks) the positions 1, 2, 3…; write only those whose
    position changes. `positions`: {pk: current position}."""
    changed = {pk: index for index, pk in enumerate(order, 1) if positions.get(pk) != index}
    if not changed:
        return
    fresh = _fresh(model, list(changed))
    for pk, position in changed.items():
        obj = fresh[pk]
        obj.position = position
        write(obj, user, reasons.get(pk, default_reason))


# Creating and editing ---------------------------------------------------------------------


@integrity_as_validation_error
def create(obj, user, *, quartiers=None, reason="Création"):
    """Save a new level or item at the end of its parent; its quartiers when given."""
    with transaction.atomic():
        parent_model, parent_pk = parent_key(obj)
        if not lock(parent_model, parent_pk):
            raise ValidationError(
                f"{nom(parent_model).le.capitalize()} de cet ajout n'existe plus : "
                "rien n'a été enregistré."
            )
        check_unique(obj)
        if hasattr(obj, "position"):
            obj.position = next_position(type(obj), sibling_filter(obj))
        obj.version = 1
        return write(obj, user, reason, quartiers=quartiers, insert=True)


@integrity_as_validation_error
def save_versioned(obj, expected_version, user, *, fields, quartiers=None, reason="Modification"):
    """Save the values of `fields` of `obj` (and its quartiers when given) if the object is
    still at `expected_version`, the version the person started from.

    The other fields are read again after the lock: a concurrent change to them is kept.
    Returns the saved object; raises StaleEdit (nothing written) on a stale version,
    ValidationError on a libellé that already exists at the same level.
    """
    with transaction.atomic():
        fresh = guard(obj, expected_version)
        for name in fields:
            setattr(fresh, name, getattr(obj, name))
        check_unique(fresh)
        return write(fresh, user, reason, quartiers=quartiers)


@integrity_as_validation_error
def delete(obj, user, expected_version=None, listed=None):
    """Delete a level or an item and everything under it, each deletion in the history.

    The history rows of the object and of what goes with it point to one `Suppression`,
    so that restoring the object brings them back too (`history.restore`); what goes with
    it reads "Suppression avec le thème n° 12 « … »".

    `listed` (`delete_fingerprint`) is what the confirmation listed: when what hangs
    from the object is no longer that (a colleague added or removed something since),
    nothing is deleted (`DeleteChanged`). The object and the levels under it are locked
    first: nothing can be added under them until the deletion is done.
    """
    with transaction.atomic():
        if expected_version is not None:
            obj = guard(obj, expected_version)
        if listed is not None:
            _lock_descendants(obj)
            if delete_fingerprint(obj) != listed:
                raise DeleteChanged(
                    "Ce qui serait supprimé avec "
                    f"{nom(obj).le} a changé depuis l'affichage de la confirmation (une "
                    "autre personne a ajouté ou supprimé des éléments) : rien n'a été "
                    "supprimé. Vérifiez la liste ci-dessous et confirmez à nouveau."
                )
        children_reason = f"Suppression avec {nom(obj).le} n° {obj.pk} « {short(obj.libelle)} »"
        _delete_tree(obj, user, "Suppression", children_reason, _suppression(obj, user))


def _suppression(obj, user):
    return Suppression.objects.create(diagnostic_id=obj.diagnostic_id, par=user)


def _delete_tree(obj, user, reason, children_reason, suppression):
    for child, attname in kinds.children(kinds.of(obj)):
        for child_obj in child.model.objects.filter(**{attname: obj.pk}):
            _delete_tree(child_obj, user, children_reason, children_reason, suppression)
    obj._history_user = user
    obj._change_reason = reason_text(reason)
    link_history(obj, suppression=suppression)
    obj.delete()


@dataclass
class DeleteSummary:
    """What goes with a deleted object: [(number, Nom)] of the kinds that are not empty."""

    parts: list
    empreinte: str = ""

    @property
    def liste(self):
        """ "1 sous-thème, 4 difficultés et 2 indicateurs"."""
        counts = [nom_.compte(number) for number, nom_ in self.parts]
        if len(counts) < 2:
            return "".join(counts)
        return f"{', '.join(counts[:-1])} et {counts[-1]}"

    @property
    def phrase(self):
        if not self.parts:
            return "Rien d'autre ne sera supprimé."
        return f"Seront aussi supprimés : {self.liste}."


def delete_summary(obj):
    """What deleting `obj` takes with it: sous-thèmes, items, values of indicators... One
    count for each kind that can hang from it; `empreinte`, the fingerprint of exactly
    these objects (`delete_fingerprint`)."""
    found = [
        (kind, list(queryset.values_list("pk", flat=True))) for kind, queryset in descendants(obj)
    ]
    keys = sorted(f"{kind.slug}:{pk}" for kind, pks in found for pk in pks)
    return DeleteSummary(
        [(len(pks), kind.nom) for kind, pks in found if pks],
        empreinte=hashlib.sha256("\n".join(keys).encode()).hexdigest(),
    )


def delete_fingerprint(obj):
    """What deleting `obj` takes with it, as a short text: the same for the same objects."""
    return delete_summary(obj).empreinte


def _lock_descendants(obj):
    """Lock the levels and items under `obj` that others hang from: an addition under
    them (`create` locks its parent) waits for the end of the deletion."""
    for kind, queryset in descendants(obj):
        fields = {field.name for field in kind.model._meta.get_fields()}
        if kinds.children(kind) and "updated_at" in fields:
            kind.model.objects.filter(pk__in=list(queryset.values_list("pk", flat=True))).update(
                updated_at=F("updated_at")
            )


def descendants(obj):
    """[(kind, queryset of its objects under `obj`)] for every kind that can hang from
    `obj` at any depth, in the order of the registry."""
    found = {}

    def walk(kind, queryset):
        for child, attname in kinds.children(kind):
            rows = child.model.objects.filter(**{f"{attname}__in": queryset.values("pk")})
            found[child] = found[child] | rows if child in found else rows
            walk(child, rows)

    kind = kinds.of(obj)
    walk(kind, kind.model.objects.filter(pk=obj.pk))
    return [(child, found[child]) for child in kinds.below(kind)]


# Order and moves --------------------------------------------------------------------------


def move_up(obj, user):
    """Swap an item, a sous-thème or a thème with the one before it. False at the top."""
    return _shift(obj, -1, user)


def move_down(obj, user):
    """Swap with the one after it. False at the bottom."""
    return _shift(obj, 1, user)


@integrity_as_validation_error
def _shift(obj, step, user):
    with transaction.atomic():
        # The parent's lock serialises every change of order among its children.
        lock(*parent_key(obj))
        positions = dict(siblings(obj).values_list("pk", "position"))
        order = list(positions)
        if obj.pk not in positions:  # moved elsewhere meanwhile
            return False
        index = order.index(obj.pk)
        target = index + step
        if not 0 <= target < len(order):
            return False
        other = order[target]
        order[index], order[target] = other, obj.pk
        direction = "vers le haut" if step < 0 else "vers le bas"
        _renumber(
            type(obj),
            order,
            positions,
            user,
            reasons={obj.pk: f"Déplacement {direction}", other: "Ordre modifié"},
            default_reason="Ordre modifié",
        )
        return True


def _same_diagnostic(obj, destination, field):
    """An object never leaves its diagnostic."""
    if obj.diagnostic_id != destination.diagnostic_id:
        raise ValidationError({field: "Cette destination n'appartient pas à ce diagnostic."})


@integrity_as_validation_error
def move_element(element, destination, user, expected_version):
    """Move an item to a sous-thème, or to a thème's own level, of the same diagnostic;
    it goes last there."""
    with transaction.atomic():
        fresh = guard(element, expected_version)
        _same_diagnostic(fresh, destination, "destination")
        if isinstance(destination, SousTheme):
            fresh.theme, fresh.sous_theme = None, destination
        else:
            fresh.theme, fresh.sous_theme = destination, None
        if not lock(type(destination), destination.pk):
            raise ValidationError({"destination": "Cette destination n'existe plus."})
        check_unique(fresh, field="destination")
        fresh.position = next_position(type(fresh), sibling_filter(fresh))
        return write(fresh, user, f"Déplacement vers « {short(destination.libelle)} »")


@integrity_as_validation_error
def move_sous_theme(sous_theme, theme, user, expected_version):
    """Move a sous-thème, with its items, to another thème of the same diagnostic."""
    with transaction.atomic():
        fresh = guard(sous_theme, expected_version)
        _same_diagnostic(fresh, theme, "theme")
        fresh.theme = theme
        if not lock(Theme, theme.pk):
            raise ValidationError({"theme": "Ce thème n'existe plus."})
        check_unique(fresh, field="theme")
        fresh.position = next_position(SousTheme, sibling_filter(fresh))
        return write(fresh, user, f"Déplacement vers « {short(theme.libelle)} »")


# Split and merge --------------------------------------------------------------------------


# Fields of an item that the parts of a split copy from the original (an indicator's
# metadata included): everything but identity, libellé and order.
def copied_fields(model):
    return [
        field.attname
        for field in model._meta.concrete_fields
        if field.name not in TECHNICAL_FIELDS | {"libelle"}
    ]


def clean_libelles(libelles):
    """The non-empty libellés, stripped, in order."""
    return [collapse_whitespace(text) for text in libelles if collapse_whitespace(text)]


@integrity_as_validation_error
def split_element(element, libelles, user, expected_version):
    """Split an item into several: it keeps the first libellé, new items take the others
    right after it. All keep its provenance (`source`), its quartiers and, for an
    indicator, its metadata; its values (mesures) stay with it.
    Returns the items in order, the original first.
    """
    libelles = clean_libelles(libelles)
    if len(libelles) < 2:
        raise ValidationError(
            {"libelles": "Indiquez au moins deux libellés, un par ligne, pour scinder."}
        )
    keys = [fingerprint(text) for text in libelles]
    if len(set(keys)) < len(keys):
        raise ValidationError(
            {"libelles": "Deux lignes portent le même libellé : chaque partie doit différer."}
        )
    model = type(element)
    with transaction.atomic():
        lock(*parent_key(element))  # the parent first: its children are renumbered
        fresh = guard(element, expected_version)
        reason = f"Scission de « {short(fresh.libelle)} »"
        clash = siblings(fresh).exclude(pk=fresh.pk).filter(cle__in=keys).exists()
        if clash:
            raise ValidationError(
                {
                    "libelles": f"{nom(model).un.capitalize()} portant l'un de ces libellés "
                    f"existe déjà {describe_place(fresh)} : modifiez cette ligne, ou fusionnez "
                    "plutôt les deux."
                }
            )
        quartiers = list(fresh.quartiers.all())
        # The new items follow the original; those after it move down.
        positions = dict(siblings(fresh).values_list("pk", "position"))
        order = list(positions)
        index = order.index(fresh.pk)
        fresh.libelle = libelles[0]
        fresh.position = index + 1
        write(fresh, user, reason)
        copied = {name: getattr(fresh, name) for name in copied_fields(model)}
        parts = [fresh]
        for offset, libelle in enumerate(libelles[1:], 2):
            part = model(**copied, libelle=libelle, position=index + offset, version=1)
            write(part, user, reason, quartiers=quartiers, insert=True)
            parts.append(part)
        others = order[index + 1 :]
        order = order[: index + 1] + [part.pk for part in parts[1:]] + others
        positions.update({part.pk: part.position for part in parts})
        _renumber(model, order, positions, user, reasons={}, default_reason="Ordre modifié")
        return parts


@integrity_as_validation_error
def merge_elements(element, expected_version, others, libelle, user):
    """Merge items of the same kind and level into `element`, which is kept.

    `others`: {pk: version the person saw} of the items merged into it; each is checked
    like `element` (StaleEdit if it changed meanwhile). The merged item gets `libelle`
    (or, when empty, the libellés joined as sentences in their order, `join_sentences`),
    the union of the quartiers, and keeps its provenance, or the first one's when it has
    none; the other items are deleted, the history of each saying into what ("Fusion dans
    « … »") and the reason of the merged item naming the source lines of the others.
    """
    if not others:
        raise ValidationError({"autres": "Cochez au moins un élément à fusionner avec celui-ci."})
    model = type(element)
    for value in kinds.values_of(kinds.of(model)):
        if value.model.objects.filter(**{f"{value.parent}__in": list(others)}).exists():
            raise ValidationError({"autres": value.merge_refused})
    with transaction.atomic():
        lock(*parent_key(element))  # the parent first, as when its children are reordered
        fresh = guard(element, expected_version)
        merged = []
        for pk, version in sorted(others.items()):
            merged.append(guard(model(pk=pk), version))
        if any(sibling_filter(item) != sibling_filter(fresh) for item in merged):
            raise ValidationError(
                {"autres": "On ne fusionne que des éléments du même niveau : déplacez-les d'abord."}
            )
        ordered = sorted([fresh, *merged], key=lambda item: (item.position, item.pk))
        fresh.libelle = collapse_whitespace(libelle or "") or join_sentences(
            item.libelle for item in ordered
        )
        if len(fresh.libelle) > ITEM_MAX_LENGTH:
            raise ValidationError(
                {
                    "libelle": (
                        f"Les libellés joints font {len(fresh.libelle)} caractères, "
                        f"au-delà de la limite de {ITEM_MAX_LENGTH} : écrivez le libellé de "
                        "l'élément fusionné."
                    )
                }
            )
        check_unique(fresh, exclude=[item.pk for item in merged])
        sources = [item.source_id for item in ordered if item.source_id]
        if fresh.source_id is None and sources:
            fresh.source_id = sources[0]
        lignes = sorted(
            set(
                CelluleSource.objects.filter(
                    pk__in=[s for s in sources if s != fresh.source_id]
                ).values_list("ligne", flat=True)
            )
        )
        quartiers = set(fresh.quartiers.values_list("pk", flat=True))
        for item in merged:
            quartiers.update(item.quartiers.values_list("pk", flat=True))
        into = f"Fusion dans « {short(fresh.libelle)} »"
        suppression = _suppression(fresh, user)
        for item in merged:
            _delete_tree(item, user, into, into, suppression)
        mention = f" (sources : lignes {', '.join(map(str, lignes))})" if lignes else ""
        return write(
            fresh,
            user,
            f"Fusion de {len(merged) + 1} éléments{mention}",
            quartiers=sorted(quartiers),
        )
