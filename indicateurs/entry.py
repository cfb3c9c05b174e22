"""Writing the values and the information of an indicator: entry, change, deletion.

As every change to a diagnostic (`diagnostics.editing`), each function here writes all
or nothing (one transaction), records the change in the history with who made it and a
reason in French ("Saisie", "Modification", "Suppression"), and checks the version the
person started from in the UPDATE itself: if someone saved or deleted the object in
between, `StaleEdit` is raised and nothing is written.

The information of an indicator is saved by `diagnostics.editing.save_versioned`, as its
libellé is; measures, which hang from an indicator rather than from the hierarchy, are
written here the same way.

Editions: everything here writes and checks the indicator's own measures, those of its
edition. Its pages show the values of its whole lineage (`models.series`), but a value
entered in an earlier edition is changed only from that edition: a value entered here
for the same period and place is a new measure of this indicator, which its series shows
from then on. So the checks of a change of its information (`incompatible_mesures`,
`other_period_mesures`, `rate_incompatible_mesures`) count the measures that can be
changed or deleted here, as their messages ask: a value of an earlier edition that no
longer fits stays as it was entered there (a value of another kind of period is shown out
of the series, `charts.Donnees.shows`).
"""

import hashlib

from django.db import IntegrityError, transaction
from django.db.models import F

from diagnostics.editing import StaleEdit, save_versioned
from diagnostics.models import reason_text

from .models import INFORMATIONS, PERIODICITE_DE, Indicateur, Mesure, latest_reperes


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
            if mesures:
                take_periodicity(mesures[0].indicateur, mesures[0].type_periode, user)
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
    """Its own measures that would not fit the indicator with this type (a number for a
    qualitative indicator, a constat for a quantitative one)."""
    if type_ == Indicateur.Type.QUANTITATIF:
        return indicateur.mesures.filter(valeur__isnull=True)
    if type_ == Indicateur.Type.QUALITATIF:
        return indicateur.mesures.filter(valeur__isnull=False)
    return Mesure.objects.none()


def take_periodicity(indicateur, type_periode, user=None, reason="Saisie"):
    """An indicator without a periodicity takes the one of its first value (with its
    history record); one that has one keeps it."""
    if indicateur.periodicite or type_periode not in PERIODICITE_DE:
        return
    indicateur.periodicite = PERIODICITE_DE[type_periode]
    _write(indicateur, user, reason)
    indicateur.save(update_fields=["periodicite", "updated_at"])


def other_period_mesures(indicateur, type_periode):
    """Its own observed values of another kind of period than `type_periode`."""
    return indicateur.mesures.filter(nature=Mesure.Nature.VALEUR).exclude(type_periode=type_periode)


def rate_incompatible_mesures(indicateur, taux):
    """Its own values that would not fit the indicator once it is (`taux`) or is no
    longer a rate: observed values of its scopes without terms, or any measure with
    terms."""
    if taux:
        return indicateur.mesures.filter(
            nature=Mesure.Nature.VALEUR, territoire__isnull=True, numerateur__isnull=True
        )
    return indicateur.mesures.filter(numerateur__isnull=False)


# References and targets ----------------------------------------------------------------


def reperes_of(indicateur):
    """{(quartier id or None, nature): the latest reference or target of that scope}."""
    rows = indicateur.mesures.filter(
        nature__in=(Mesure.Nature.REFERENCE, Mesure.Nature.CIBLE), territoire__isnull=True
    ).select_related("quartier")
    return latest_reperes(rows)


def reperes_scopes(diagnostic, reperes):
    """The scopes references and targets are set for: the whole territory (None), then the
    diagnostic's quartiers and any other quartier already holding one (`reperes`, as
    `reperes_of` gives them), by code. One query."""
    quartiers = {q.pk: q for q in diagnostic.quartiers.all()}
    for mesure in reperes.values():
        if mesure.quartier_id:
            quartiers.setdefault(mesure.quartier_id, mesure.quartier)
    return [None, *sorted(quartiers.values(), key=lambda q: q.code)]


def reperes_state(reperes):
    """A short fingerprint of the references and targets a page showed (ids and
    versions): saving refuses when it changed meanwhile."""
    text = ",".join(f"{m.pk}:{m.version}" for m in sorted(reperes.values(), key=lambda m: m.pk))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@transaction.atomic
def save_reperes(indicateur, changes, etat_lu, user=None):
    """Writes the references and targets of every scope at once (ReperesForm.changes:
    [(quartier or None, nature, valeur or None, annee or None, source or None)]): each
    replaces the latest of its scope, an empty one removes it. All or nothing; StaleEdit
    when someone changed them since the page was read. Returns the number of changes."""
    Indicateur.objects.select_for_update().filter(pk=indicateur.pk).first()
    existing = reperes_of(indicateur)
    if reperes_state(existing) != etat_lu:
        raise StaleEdit(Indicateur, indicateur.pk, indicateur)
    written = 0
    for quartier, nature, valeur, annee, source in changes:
        mesure = existing.get((quartier.pk if quartier else None, nature))
        if valeur is None:
            if mesure is not None:
                _write(mesure, user, "Suppression")
                mesure.delete()
                written += 1
            continue
        if mesure is None:
            mesure = Mesure(indicateur=indicateur, quartier=quartier, nature=nature, version=0)
        elif (
            mesure.valeur == valeur
            and mesure.annee == annee
            and (source is None or mesure.source == source)
        ):
            continue
        if mesure.annee != annee:
            mesure.annee, mesure.type_periode, mesure.numero_periode = (
                annee,
                Mesure.TypePeriode.ANNEE,
                0,
            )
        mesure.valeur = valeur
        mesure.numerateur = mesure.denominateur = None
        if source is not None:
            mesure.source = source
        mesure.fictive = False
        mesure.saisi_par = user
        creation = mesure.pk is None
        mesure.version += 1
        mesure.full_clean(exclude=["saisi_par"])
        _write(mesure, user, "Saisie" if creation else "Modification")
        mesure.save()
        written += 1
    return written
