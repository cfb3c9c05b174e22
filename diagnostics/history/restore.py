"""Restoring what the history keeps: an object to one of its versions, a deleted object with
what was deleted together with it. Each operation follows the rules of
`diagnostics.editing` (one transaction, history written, version checked in the UPDATE,
French `ValidationError`s)."""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from .. import kinds
from ..editing import (
    DeleteSummary,
    check_unique,
    copied_fields,
    guard,
    integrity_as_validation_error,
    lock,
    next_position,
    nom,
    parent_key,
    short,
    sibling_filter,
    write,
)
from ..editions.states import ensure_modifiable_id
from ..models import Element, NamedNode, Quartier
from .reading import history_model

# Restoring --------------------------------------------------------------------------------


def record_quartier_ids(record):
    """The quartiers an item had at this version (a deletion record carries none: the
    tags are removed before the row, so the version before it is read)."""
    if record.history_type == "-":
        record = (
            type(record)
            .objects.filter(id=record.id, history_id__lt=record.history_id)
            .exclude(history_type="-")
            .order_by("-history_id")
            .first()
        )
        if record is None:
            return []
    m2m_model = type(record).quartiers.model
    return list(m2m_model.objects.filter(history=record).values_list("quartier_id", flat=True))


def _latest_libelle(model, pk):
    record = history_model(model).objects.filter(id=pk).order_by("-history_id").first()
    return short(record.libelle) if record else f"n° {pk}"


def _check_references(obj):
    """Foreign keys of a restored object: a deleted source or author is left empty; a
    deleted parent refuses the restoration (restore the parent first)."""
    for field in obj._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey):
            continue
        value = getattr(obj, field.attname)
        if value is None or field.related_model.objects.filter(pk=value).exists():
            continue
        if field.null and field.remote_field.on_delete is models.SET_NULL:
            setattr(obj, field.attname, None)
            continue
        related = field.related_model
        if kinds.is_registered(related):
            pronoun = "la" if nom(related).feminin else "le"
            message = (
                f"{nom(related).le.capitalize()} « {_latest_libelle(related, value)} » a été "
                f"supprimé{nom(related).e} : restaurez-{pronoun} d'abord."
            )
        else:
            message = (
                f"{related._meta.verbose_name.capitalize()} n° {value} n'existe plus : "
                "cette version ne peut pas être restaurée."
            )
        raise ValidationError(message)


def restore_reason(record):
    return (
        f"Restauration de la version du {timezone.localtime(record.history_date):%d/%m/%Y à %H:%M}"
    )


@integrity_as_validation_error
def restore_version(record, user, expected_version):
    """Give an existing object the values of one of its earlier versions (libellé,
    parent, quartiers, provenance, an indicator's metadata). Its position is kept, or it
    goes last when the version puts it back under another parent.
    """
    model = record.instance_type
    if record.history_type == "-":
        raise ValidationError("Cette version est une suppression : restaurez l'élément supprimé.")
    ensure_modifiable_id(record.diagnostic_id)
    with transaction.atomic():
        fresh = guard(model(pk=record.id), expected_version)
        old_parent = sibling_filter(fresh)
        for name in copied_fields(model) + ["libelle"]:
            if name in ("numero", "diagnostic_id"):
                continue
            setattr(fresh, name, getattr(record, name))
        _check_references(fresh)
        if sibling_filter(fresh) != old_parent:
            lock(*parent_key(fresh))
            fresh.position = next_position(model, sibling_filter(fresh))
        check_unique(fresh, field="__all__")
        quartiers = None
        if issubclass(model, Element):
            quartiers = list(Quartier.objects.filter(pk__in=record_quartier_ids(record)))
        return write(fresh, user, restore_reason(record), quartiers=quartiers)


@integrity_as_validation_error
def restore_deleted(record, user):
    """Bring a deleted object back from its deletion record, with its id, its last
    values, its quartiers, and what was deleted with it (the sous-thèmes and items of a
    thème, the values of an indicator...). Returns the restored object.
    """
    model = record.instance_type
    if record.history_type != "-":
        raise ValidationError("Cette version n'est pas une suppression.")
    ensure_modifiable_id(record.diagnostic_id)
    with transaction.atomic():
        if model.objects.filter(pk=record.id).exists():
            raise ValidationError(
                f"{nom(model).ce.capitalize()} a déjà été restauré{nom(model).e}."
            )
        restored = _restore_one(record, user)
        _restore_deleted_with(record, user)
        return restored


def _restore_one(record, user):
    model = record.instance_type
    obj = record.instance
    obj.version = (record.version or 0) + 1
    obj._state.adding = True
    _check_references(obj)
    if isinstance(obj, NamedNode | Element):
        lock(*parent_key(obj))
        check_unique(obj, field="__all__")
    quartiers = None
    if issubclass(model, Element):
        quartiers = list(Quartier.objects.filter(pk__in=record_quartier_ids(record)))
    return write(obj, user, "Restauration après suppression", quartiers=quartiers, insert=True)


def _deleted_with(record):
    """[(kind, history rows)] of what was deleted together with the object of a deletion
    record (see `editing.delete`): the deletion rows of the same `Suppression`, of the
    kinds that hang from it, that are still deleted; parents first."""
    below = kinds.below(kinds.of(record.instance_type))
    if not below or record.suppression_id is None:
        return []
    return [
        (
            child,
            history_model(child.model)
            .objects.filter(history_type="-", suppression_id=record.suppression_id)
            .exclude(id__in=child.model.objects.values("pk"))
            .order_by("history_id"),
        )
        for child in below
    ]


def deleted_with_summary(record):
    """What comes back with a deleted object when it is restored."""
    return DeleteSummary(
        [(number, kind.nom) for kind, rows in _deleted_with(record) if (number := rows.count())]
    )


def _restore_deleted_with(record, user):
    for _, rows in _deleted_with(record):
        for child in rows:
            _restore_one(child, user)
