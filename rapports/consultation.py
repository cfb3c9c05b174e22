"""The consultation on the draft report (décret n° 2015-1118): the conseils municipaux of
the communes concerned and the conseils citoyens receive the draft and have at least one
month to give their opinion; no answer by the deadline counts as a favourable opinion.
Their opinions are annexed to the report, with the follow-up the assembly gives them.

The rules, read by the pages, the documents and `rapports.etats`:
- the deadline is at least one month after the draft was sent (`date_limite_minimale`:
  the same day of the next month, or that month's last day);
- a body no longer holds up the adoption once its opinion is recorded or its deadline
  has passed (`en_attente`);
- its opinion as the report prints it: the one recorded, else « réputé favorable » after
  the deadline, else « en attente » (`avis_affiche`).

Keeping the record (the consultation's pages, `rapports.views.consultation`), each
function refusing with a French `ValidationError` and changing nothing:
- `ajouter_instance`: while the report is in progress (brouillon or en consultation); the
  sending date not in the future, the deadline a month later by default, never earlier;
  `suggestions` names the bodies the décret asks for (the conseil municipal of each
  commune of the contract's quartiers, a conseil citoyen per quartier) not yet recorded;
- `enregistrer_avis` (with the signed file, `rapports.fichiers`) and `enregistrer_suite`:
  while en consultation only; an opinion given after the deadline is recorded (the pages
  say it came late);
- `supprimer_instance`: in progress, without opinion, never the last one in consultation.
Once adopted, nothing changes. A form carries the instance's `jeton`: a stale one is
refused.
"""

import calendar
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from diagnostics.text import collapse_whitespace, strip_accents, validate_text

from . import fichiers
from .contenu import edition_du_rapport
from .models import Instance, Rapport

REPUTE_FAVORABLE = "Réputé favorable (pas de réponse dans le délai)"


def date_limite_minimale(date_envoi):
    """One month after `date_envoi`: 31 January -> 28 (or 29) February."""
    annee, mois = (
        (date_envoi.year + 1, 1)
        if date_envoi.month == 12
        else (
            date_envoi.year,
            date_envoi.month + 1,
        )
    )
    jour = min(date_envoi.day, calendar.monthrange(annee, mois)[1])
    return date(annee, mois, jour)


def delai_echu(instance, aujourd_hui=None):
    """Whether the deadline has passed (the deadline's own day is still within it)."""
    return (aujourd_hui or timezone.localdate()) > instance.date_limite


def repute_favorable(instance, aujourd_hui=None):
    return not instance.avis and delai_echu(instance, aujourd_hui)


def avis_affiche(instance, aujourd_hui=None):
    """The opinion as the report and its pages print it."""
    if instance.avis:
        return f"{instance.get_avis_display()} (rendu le {instance.avis_date:%d/%m/%Y})"
    if delai_echu(instance, aujourd_hui):
        return REPUTE_FAVORABLE
    return f"En attente (jusqu'au {instance.date_limite:%d/%m/%Y})"


def en_attente(instances, aujourd_hui=None):
    """The bodies that still hold up the adoption: no opinion, deadline not passed."""
    return [
        instance
        for instance in instances
        if not instance.avis and not delai_echu(instance, aujourd_hui)
    ]


# Keeping the consultation's record ---------------------------------------------------------
# Each function checks its rule and refuses with a French `ValidationError` keyed by the
# form field it concerns (NON_FIELD_ERRORS for the report's state), changing nothing. The
# report's row is locked first, its state read again: an adoption in another request waits
# or is seen.

ADOPTE = (
    "Ce rapport est adopté : sa consultation ne peut plus changer. Commencez une nouvelle "
    "version pour la corriger."
)
PAS_EN_CONSULTATION = (
    "Le projet n'est pas encore envoyé en consultation : les avis et leurs suites "
    "s'enregistrent une fois le rapport en consultation."
)
PERIME = (
    "Cette instance a été modifiée par une autre personne depuis que vous avez ouvert la "
    "page : rechargez-la pour voir ce qui a été enregistré, puis reportez vos changements."
)
DEJA_CONSULTEE = "Cette instance est déjà consultée sur ce rapport."
TEXTE_MAX = 20_000  # characters of an opinion's text or of its follow-up
NOM_MAX = 200  # Instance.nom


@dataclass(frozen=True)
class Suggestion:
    nature: str
    nom: str


def _refus(message, champ=NON_FIELD_ERRORS, code="invalide"):
    return ValidationError({champ: ValidationError(message, code=code)})


def _verrouiller(rapport):
    """The report's row, locked for the rest of the transaction, its state read again."""
    return Rapport.objects.select_for_update().get(pk=rapport.pk)


def _en_cours(rapport):
    if rapport.arrete:
        raise _refus(ADOPTE, code="adopte")


def _en_consultation(rapport):
    _en_cours(rapport)
    if rapport.statut != rapport.Statut.CONSULTATION:
        raise _refus(PAS_EN_CONSULTATION, code="etat")


def jeton(instance):
    """The state of an instance a form was drawn from: a form posted with an older one is
    stale (someone saved the instance since)."""
    return instance.updated_at.isoformat() if instance.updated_at else ""


def _relire(instance, jeton_lu):
    """The instance's row, locked, read again; refused if it changed since `jeton_lu`."""
    actuelle = Instance.objects.select_for_update().filter(pk=instance.pk).first()
    if actuelle is None:
        raise _refus("Cette instance a été retirée de la consultation.", code="absente")
    if jeton_lu is not None and jeton_lu != jeton(actuelle):
        raise _refus(PERIME, code="perime")
    return actuelle


def _texte(texte, champ, libelle):
    texte = (texte or "").replace("\r\n", "\n").strip()
    if len(texte) > TEXTE_MAX:
        raise _refus(
            f"{libelle} dépasse {TEXTE_MAX:,} caractères.".replace(",", "\u202f"),
            champ,
            code="longueur",
        )
    try:
        validate_text(texte)
    except ValidationError as error:
        raise ValidationError({champ: error.messages}) from error
    return texte


def _date(valeur, champ):
    if not isinstance(valeur, date):
        raise _refus("Indiquez une date.", champ, code="requis")
    return valeur


def ajouter_instance(rapport, nature, nom, date_envoi, date_limite=None, *, user, aujourd_hui=None):
    """Records a body consulted on the draft: while the report is in progress only. Its
    deadline is at least a month after the draft was sent (`date_limite_minimale`, the
    default), the sending date not in the future, its name not already recorded."""
    aujourd_hui = aujourd_hui or timezone.localdate()
    if nature not in Instance.Nature.values:
        raise _refus("Choisissez la nature de l'instance.", "nature", code="nature")
    nom = collapse_whitespace(nom or "")
    if not nom:
        raise _refus("Indiquez le nom de l'instance consultée.", "nom", code="requis")
    if len(nom) > NOM_MAX:
        raise _refus(f"Le nom dépasse {NOM_MAX} caractères.", "nom", code="longueur")
    date_envoi = _date(date_envoi, "date_envoi")
    if date_envoi > aujourd_hui:
        raise _refus(
            "La date d'envoi du projet ne peut pas être dans le futur : enregistrez "
            "l'instance une fois le projet envoyé.",
            "date_envoi",
            code="futur",
        )
    minimale = date_limite_minimale(date_envoi)
    if date_limite is None:
        date_limite = minimale
    elif date_limite < minimale:
        raise _refus(
            "Le délai de consultation est d'au moins un mois : au plus tôt le "
            f"{minimale:%d/%m/%Y} pour un projet envoyé le {date_envoi:%d/%m/%Y}.",
            "date_limite",
            code="delai",
        )
    with transaction.atomic():
        rapport = _verrouiller(rapport)
        _en_cours(rapport)
        if rapport.instances.filter(nom__iexact=nom).exists():
            raise _refus(DEJA_CONSULTEE, "nom", code="unique")
        instance = Instance(
            rapport=rapport,
            nature=nature,
            nom=nom,
            date_envoi=date_envoi,
            date_limite=date_limite,
        )
        instance.full_clean(exclude=["rapport"], validate_unique=False, validate_constraints=False)
        instance._history_user = user
        instance._change_reason = "Instance consultée ajoutée"
        try:
            with transaction.atomic():
                instance.save()
        except IntegrityError as error:
            raise _refus(DEJA_CONSULTEE, "nom", code="unique") from error
    return instance


def enregistrer_avis(
    instance,
    avis,
    avis_date,
    texte="",
    fichier=None,
    *,
    user,
    jeton_lu=None,
    aujourd_hui=None,
):
    """Records (or corrects) the opinion of a body, while the report is in consultation.
    Its date is not before the draft was sent nor in the future; an opinion given after the
    deadline is recorded all the same (the pages say it came late). `fichier`, an uploaded
    file, is the signed opinion (`rapports.fichiers`): it replaces the previous one."""
    aujourd_hui = aujourd_hui or timezone.localdate()
    if avis not in Instance.Avis.values:
        raise _refus("Choisissez l'avis rendu.", "avis", code="avis")
    avis_date = _date(avis_date, "avis_date")
    if avis_date > aujourd_hui:
        raise _refus("La date de l'avis ne peut pas être dans le futur.", "avis_date", "futur")
    texte = _texte(texte, "avis_texte", "Le texte de l'avis")
    verifie = None
    if fichier is not None:
        try:
            verifie = fichiers.verifier(fichier)
        except ValidationError as error:
            raise ValidationError({"fichier": error.messages}) from error
    ancien, nouveau = "", ""
    try:
        with transaction.atomic():
            rapport = _verrouiller(instance.rapport)
            _en_consultation(rapport)
            instance = _relire(instance, jeton_lu)
            if avis_date < instance.date_envoi:
                raise _refus(
                    "L'avis ne peut pas précéder l'envoi du projet "
                    f"({instance.date_envoi:%d/%m/%Y}).",
                    "avis_date",
                    code="avant_envoi",
                )
            instance.avis = avis
            instance.avis_date = avis_date
            instance.avis_texte = texte
            if verifie is not None:
                ancien = instance.fichier.name
                nom, type_ = verifie
                fichier.seek(0)
                instance.fichier.save(fichiers.nom_stocke(nom), fichier, save=False)
                nouveau = instance.fichier.name
                instance.fichier_nom, instance.fichier_type = nom, type_
            instance._history_user = user
            instance._change_reason = "Avis enregistré"
            instance.save()
    except BaseException:
        if nouveau:
            instance.fichier.storage.delete(nouveau)
        raise
    if ancien and ancien != nouveau:
        stockage = instance.fichier.storage
        transaction.on_commit(lambda: stockage.delete(ancien))
    return instance


def enregistrer_suite(instance, texte, *, user, jeton_lu=None):
    """The follow-up the assembly gives to a body's opinion (or silence): while the report
    is in consultation, up to its adoption; never after."""
    texte = _texte(texte, "suite_donnee", "La suite donnée")
    with transaction.atomic():
        rapport = _verrouiller(instance.rapport)
        _en_consultation(rapport)
        instance = _relire(instance, jeton_lu)
        instance.suite_donnee = texte
        instance._history_user = user
        instance._change_reason = "Suite donnée enregistrée"
        instance.save()
    return instance


def supprimer_instance(instance, *, user, jeton_lu=None):
    """Removes a body recorded by mistake: while the report is in progress, and only if
    it has given no opinion; a report in consultation keeps at least one body."""
    with transaction.atomic():
        rapport = _verrouiller(instance.rapport)
        _en_cours(rapport)
        instance = _relire(instance, jeton_lu)
        if instance.avis:
            raise _refus(
                "L'avis de cette instance est enregistré : elle reste dans la consultation.",
                code="avis",
            )
        if (
            rapport.statut == rapport.Statut.CONSULTATION
            and not rapport.instances.exclude(pk=instance.pk).exists()
        ):
            raise _refus(
                "Un rapport en consultation garde au moins une instance consultée.",
                code="derniere",
            )
        instance._history_user = user
        instance._change_reason = "Instance retirée de la consultation"
        instance.delete()
    return instance


# The bodies to consult ------------------------------------------------------------------------

_ELISIONS = (("les ", "des "), ("le ", "du "), ("la ", "de la "), ("l'", "de l'"), ("l’", "de l’"))


def _de(nom):
    """ "de Montluçon", "d'Ambert", "des Îlets", "du Marais"."""
    minuscule = nom.lower()
    for article, contraction in _ELISIONS:
        if minuscule.startswith(article):
            return contraction + nom[len(article) :]
    if strip_accents(minuscule[:1]) in "aeiouyh" and minuscule[:1]:
        return f"d'{nom}"
    return f"de {nom}"


def suggestions(rapport):
    """The bodies the décret asks to consult and not recorded yet: the conseil municipal of
    each commune of the contract's quartiers, a conseil citoyen per quartier (the quartiers
    of the edition the report reads)."""
    edition = edition_du_rapport(rapport.contrat, rapport.annee)
    if edition is None:
        return []
    quartiers = list(edition.quartiers.order_by("nom", "code").prefetch_related("communes"))
    communes = {}
    for quartier in quartiers:
        for commune in quartier.communes.all():
            communes.setdefault(commune.code, commune)
    proposees = [
        Suggestion(Instance.Nature.CONSEIL_MUNICIPAL, f"Conseil municipal {_de(c.nom or c.code)}")
        for c in sorted(communes.values(), key=lambda c: (c.nom or c.code).lower())
    ] + [
        Suggestion(Instance.Nature.CONSEIL_CITOYEN, f"Conseil citoyen {_de(q.nom)}")
        for q in quartiers
    ]
    deja = {nom.casefold() for nom in rapport.instances.values_list("nom", flat=True)}
    vues = set()
    out = []
    for suggestion in proposees:
        cle = suggestion.nom.casefold()
        if cle not in deja and cle not in vues and len(suggestion.nom) <= NOM_MAX:
            vues.add(cle)
            out.append(suggestion)
    return out
