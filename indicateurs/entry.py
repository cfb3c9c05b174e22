"""Writing the values and the information of an indicator: entry, change, deletion.

As every change to a diagnostic (`diagnostics.editing`), each function here writes all
or nothing (one transaction), records the change in the history with who made it and a
reason in French ("Saisie", "Modification", "Suppression"), and checks the version the
person started from in the UPDATE itself: if someone saved or deleted the object in
between, `StaleEdit` is raised and nothing is written.

The information of an indicator is saved by `diagnostics.editing.save_versioned`, as its
libellé is; measures, which hang from an indicator rather than from the hierarchy, are
written here the same way.
"""

from django.db import IntegrityError, transaction
from django.db.models import F

from diagnostics.editing import StaleEdit, save_versioned
from diagnostics.models import reason_text

from .models import INFORMATIONS, Indicateur, Mesure


class MesureDejaSaisie(Exception):
    """A measure was entered for the same period and quartier in the meantime."""


def _guard(mesure, version_lue):
    """The versioned UPDATE of a measure; StaleEdit when someone saved it meanwhile."""
    updated = Mesure.objects.filter(pk=mesure.pk, version=version_lue).update(
        version=F("version") + 1
    )
    if not updated:
        raise StaleEdit(Mesure, mesure.pk, Mesure.objects.filter(pk=mesure.pk).first())
    mesure.version = version_lue + 1


def _write(mesure, user, reason):
    mesure._history_user = user
    mesure._change_reason = reason_text(reason)


def save_mesures(mesures, user=None):
    """Creates these new measures (validated by the caller with `full_clean`), all or none.

    Raises MesureDejaSaisie if one was entered meanwhile for the same period and quartier.
    """
    try:
        with transaction.atomic():
            for mesure in mesures:
                mesure.saisi_par = user
                mesure.version = 1
                _write(mesure, user, "Saisie")
                mesure.save(force_insert=True)
    except IntegrityError as error:
        for mesure in mesures:
            mesure.pk = None
        raise MesureDejaSaisie from error
    return mesures


@transaction.atomic
def update_mesure(mesure, version_lue, user=None):
    """Saves the changes made to a measure (validated by the caller), if nobody else did
    in between (StaleEdit). The person who saves becomes the one who entered it."""
    _guard(mesure, version_lue)
    mesure.saisi_par = user
    _write(mesure, user, "Modification")
    mesure.save()
    return mesure


@transaction.atomic
def delete_mesure(mesure, version_lue, user=None):
    """Deletes a measure, if nobody changed it in between (StaleEdit)."""
    _guard(mesure, version_lue)
    _write(mesure, user, "Suppression")
    mesure.delete()


def update_indicateur(indicateur, version_lue, user=None):
    """Saves the information of an indicator (validated by the caller), if nobody else
    did in between (StaleEdit). Returns the indicator as saved."""
    return save_versioned(indicateur, version_lue, user, fields=INFORMATIONS)


def incompatible_mesures(indicateur, type_):
    """The measures that would not fit the indicator with this type (a number for a
    qualitative indicator, a constat for a quantitative one)."""
    if type_ == Indicateur.Type.QUANTITATIF:
        return indicateur.mesures.filter(valeur__isnull=True)
    if type_ == Indicateur.Type.QUALITATIF:
        return indicateur.mesures.filter(valeur__isnull=False)
    return Mesure.objects.none()
