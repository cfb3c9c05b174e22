"""The life of an edition: brouillon → publiée → figée, and the rule of a frozen edition.

A frozen edition (figée) is archived, read-only forever: no edit, no import, no undo, no
restore. Every entry point that changes an edition's contents asks `ensure_modifiable`
(the pages through `DiagnosticAccessMixin`, the imports, the undo, the restorations); an
action on the edition itself checks its state here. Each action writes the edition's
history, with its reason.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import kinds
from ..models import Diagnostic, Import

Statut = Diagnostic.Statut

FROZEN_MESSAGE = (
    "Cette édition est figée : elle est archivée telle qu'elle a été arrêtée et ne peut plus "
    "être modifiée (ni modification, ni import, ni annulation, ni restauration)."
)


def ensure_modifiable(diagnostic):
    """Raise a French ValidationError when the edition's contents may not change."""
    if diagnostic.statut == Statut.FIGE:
        raise ValidationError(FROZEN_MESSAGE, code="figee")


def ensure_modifiable_id(diagnostic_id):
    """`ensure_modifiable` for the edition of this number (one query)."""
    if Diagnostic.objects.filter(pk=diagnostic_id, statut=Statut.FIGE).exists():
        raise ValidationError(FROZEN_MESSAGE, code="figee")


def _locked(diagnostic):
    return Diagnostic.objects.select_for_update().get(pk=diagnostic.pk)


def _set_state(diagnostic, statut, user, reason):
    diagnostic.statut = statut
    diagnostic._history_user = user
    diagnostic._change_reason = reason
    diagnostic.save(update_fields=["statut", "updated_at"])
    return diagnostic


@transaction.atomic
def publish(diagnostic, user):
    """A draft becomes readable by the partners."""
    diagnostic = _locked(diagnostic)
    if diagnostic.statut != Statut.BROUILLON:
        raise ValidationError("Seule une édition en brouillon peut être publiée.")
    return _set_state(diagnostic, Statut.PUBLIE, user, "Publication de l'édition")


@transaction.atomic
def unpublish(diagnostic, user, motif):
    """A published edition goes back to draft (the partners no longer read it), for a
    reason that the history keeps. Refused while the contract already has a draft."""
    motif = " ".join((motif or "").split())
    if not motif:
        raise ValidationError("Indiquez pourquoi l'édition est dépubliée.", code="motif")
    diagnostic = _locked(diagnostic)
    if diagnostic.statut != Statut.PUBLIE:
        raise ValidationError("Seule une édition publiée peut être dépubliée.")
    if diagnostic.contrat.editions.filter(statut=Statut.BROUILLON).exists():
        raise ValidationError(
            "Ce contrat a déjà une édition en brouillon : publiez-la ou supprimez-la avant "
            "de dépublier celle-ci."
        )
    return _set_state(diagnostic, Statut.BROUILLON, user, f"Dépublication : {motif}")


@transaction.atomic
def freeze(diagnostic, user):
    """A published edition is archived as it stands, read-only forever."""
    diagnostic = _locked(diagnostic)
    if diagnostic.statut != Statut.PUBLIE:
        raise ValidationError("Seule une édition publiée peut être figée.")
    return _set_state(diagnostic, Statut.FIGE, user, "Édition figée")


# Deleting a draft -------------------------------------------------------------------------


@dataclass
class DraftDeletion:
    """What deleting a draft edition takes with it, and why it may be refused."""

    diagnostic: Diagnostic
    counts: list  # [(Kind, number)], the kinds with something
    imports: list  # the imports of the edition not undone (undo them instead)
    edited: bool  # something was changed in the site since the edition was started

    @property
    def refusal(self):
        if self.diagnostic.statut != Statut.BROUILLON:
            return "Seule une édition en brouillon peut être supprimée."
        if self.imports:
            return (
                "Des fichiers ont été importés dans cette édition : annulez leur import "
                "plutôt que de la supprimer."
            )
        if self.edited:
            return (
                "Cette édition a été modifiée depuis qu'elle a été commencée : elle ne peut "
                "plus être supprimée."
            )
        return ""

    @property
    def liste(self):
        return [kind.nom.compte(number) for kind, number in self.counts]


def draft_deletion(diagnostic):
    """What `delete_draft` would delete, in a fixed number of queries (two per kind)."""
    counts, edited = [], False
    for kind in kinds.all_kinds():
        path = f"{kind.parent}__diagnostic" if kind.is_value else "diagnostic"
        number = kind.model.objects.filter(**{path: diagnostic}).count()
        if number:
            counts.append((kind, number))
        history = kind.model.history.model.objects
        if kind.is_value:
            ids = kind.model.objects.filter(**{path: diagnostic}).values("pk")
            changed = history.filter(id__in=ids)
        else:
            changed = history.filter(diagnostic_id=diagnostic.pk)
        edited = (
            edited
            or changed.filter(
                history_date__gt=diagnostic.created_at,
                import_source__isnull=True,
                annulation_de__isnull=True,
            ).exists()
        )
    imports = list(diagnostic.imports.filter(annule_le__isnull=True).order_by("created_at"))
    return DraftDeletion(diagnostic, counts, imports, edited)


@transaction.atomic
def delete_draft(diagnostic, user):
    """Delete a draft edition and everything in it; refused (French ValidationError) when
    it is not a draft, holds an import not undone, or was edited since it was started."""
    diagnostic = _locked(diagnostic)
    refusal = draft_deletion(diagnostic).refusal
    if refusal:
        raise ValidationError(refusal)
    Import.objects.filter(diagnostic=diagnostic).delete()
    diagnostic._history_user = user
    diagnostic._change_reason = "Suppression de l'édition en brouillon"
    diagnostic.delete()


# The journal of a contract's editions -------------------------------------------------------

JOURNAL_LENGTH = 50
DEFAULT_REASONS = {"+": "Création de l'édition", "~": "Modification", "-": "Suppression"}


@dataclass
class Evenement:
    date: object
    par: object  # the account, or None
    edition: str
    action: str


def journal(contrat):
    """What happened to the editions of `contrat`, deleted ones included: the latest
    JOURNAL_LENGTH events, newest first, from the editions' history (one query). For the
    Équipe ville and the administrators, who see the drafts."""
    rows = (
        Diagnostic.history.filter(contrat_id=contrat.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:JOURNAL_LENGTH]
    )
    return [
        Evenement(
            row.history_date,
            row.history_user,
            row.nom_edition,
            row.history_change_reason or DEFAULT_REASONS[row.history_type],
        )
        for row in rows
    ]
