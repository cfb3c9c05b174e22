"""The history of an indicator: the changes of its information and of its values.

Read from django-simple-history's tables in five queries at most, whatever their length:
the indicator's records, its measures' records (deleted measures included), the
quartiers, the comparison territories and the imports they name. Authors and reasons are
shown as on the history pages of the diagnostic (`diagnostics.history.reading`). The
differences between two successive records of one object are computed here, in Python
(simple-history's `diff_against` would query per record).
"""

from dataclasses import dataclass, field

from diagnostics.history.reading import describe_reason, load_imports, record_author
from diagnostics.models import Quartier

from . import secret
from .models import (
    INFORMATIONS,
    TERRITOIRE,
    Indicateur,
    Mesure,
    TerritoireComparaison,
    periode_libelle,
)

ACTIONS = {"+": "Création", "~": "Modification", "-": "Suppression"}

CHAMPS_INDICATEUR = ("libelle", *INFORMATIONS)
CHAMPS_MESURE = ("valeur", "numerateur", "denominateur", "texte", "source", "commentaire")


@dataclass
class Entree:
    date: object
    auteur: str
    raison: str
    action: str
    objet: str
    changements: list = field(default_factory=list)  # [(champ, avant, après)]
    fictive: bool = False


def _texte(model, name, value):
    if value is None or value == "":
        return ""
    model_field = model._meta.get_field(name)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "oui" if value else "non"
    if model_field.get_internal_type() == "DecimalField":
        return secret.format_decimal(value)
    return str(value)


def _changements(model, champs, avant, apres):
    rows = []
    for name in champs:
        old = _texte(model, name, getattr(avant, name)) if avant is not None else ""
        new = _texte(model, name, getattr(apres, name)) if apres is not None else ""
        if old != new:
            rows.append((str(model._meta.get_field(name).verbose_name), old, new))
    return rows


def _entrees(records, model, champs, objet_of, imports):
    """Entries of the records of one model, each compared with the previous record of
    the same object."""
    entries, previous = [], {}
    for record in records:
        before = previous.get(record.id)
        if record.history_type == "-":
            changes = _changements(model, champs, record, None)
        else:
            changes = _changements(model, champs, before, record)
        previous[record.id] = record
        if record.history_type == "~" and not changes:
            continue
        entries.append(
            Entree(
                date=record.history_date,
                auteur=record_author(record),
                raison=describe_reason(record, imports),
                action=ACTIONS.get(record.history_type, record.history_type),
                objet=objet_of(record),
                changements=changes,
                fictive=getattr(record, "fictive", False),
            )
        )
    return entries


NATURES = {
    Mesure.Nature.VALEUR: "Valeur",
    Mesure.Nature.REFERENCE: "Référence",
    Mesure.Nature.CIBLE: "Cible",
}


def history_of(indicateur):
    """The entries of the indicator's history, latest first."""
    records_indicateur = list(
        indicateur.history.select_related("history_user").order_by("history_date", "history_id")
    )
    records_mesures = list(
        Mesure.history.filter(indicateur_id=indicateur.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    quartier_ids = {r.quartier_id for r in records_mesures if r.quartier_id}
    quartiers = {q.pk: q.nom for q in Quartier.objects.filter(pk__in=quartier_ids)}
    territoire_ids = {r.territoire_id for r in records_mesures if r.territoire_id}
    territoires = {t.pk: t.nom for t in TerritoireComparaison.objects.filter(pk__in=territoire_ids)}
    imports = load_imports([*records_indicateur, *records_mesures])

    def objet_mesure(record):
        if record.quartier_id:
            serie = quartiers.get(record.quartier_id, "quartier supprimé")
        elif record.territoire_id:
            serie = territoires.get(record.territoire_id, "territoire supprimé")
        else:
            serie = TERRITOIRE.lower()
        periode = periode_libelle(record.annee, record.type_periode, record.numero_periode)
        return f"{NATURES[record.nature]} {periode}, {serie}"

    entries = _entrees(
        records_indicateur,
        Indicateur,
        CHAMPS_INDICATEUR,
        lambda record: "Informations de l'indicateur",
        imports,
    ) + _entrees(records_mesures, Mesure, CHAMPS_MESURE, objet_mesure, imports)
    entries.sort(key=lambda e: e.date, reverse=True)
    return entries
