"""The life of an annual report: brouillon -> en consultation -> adopté -> publié
(`Rapport.Statut`), and a new version once adopted. Each step is a function that checks
its rule and refuses with a French message (`ValidationError`), changing nothing.

- `commencer`: a report for a year of the contract, with the décret's sections (one per
  contract and year; later versions by `nouvelle_version`);
- `mettre_en_consultation`: from brouillon, once at least one body is recorded;
- `adopter`: from en consultation, once every body has given its opinion or its deadline
  has passed (`consultation.en_attente`), on the date of the assembly's deliberation
  (not in the future, not before the last opinion awaited). Its generated parts are
  frozen then;
- `publier`: from adopté: its page and PDF become public;
- `nouvelle_version`: from an adopted (or published) report: a brouillon copying its
  texts and contributions; the adopted one stays as it was (and public if it was, until
  the new one is published);
- `enregistrer_section`: a section's text, refused once the report is adopted, or when
  someone else saved it since the form was opened.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from . import balisage, consultation, document, sections
from .models import ANNEE_MAX, ANNEE_MIN, Rapport, Section

ADOPTE_FIGE = (
    "Ce rapport est adopté : il ne peut plus être modifié. Commencez une nouvelle version "
    "pour le corriger."
)
PERIME = (
    "Cette section a été modifiée par une autre personne depuis que vous l'avez ouverte : "
    "rechargez la page pour voir sa version, puis reportez vos changements."
)


def _etat(rapport, *attendus, message):
    if rapport.statut not in attendus:
        raise ValidationError(message, code="etat")


@transaction.atomic
def commencer(contrat, annee, user, dsu=False):
    if not ANNEE_MIN <= annee <= ANNEE_MAX:
        raise ValidationError(
            f"L'année doit être comprise entre {ANNEE_MIN} et {ANNEE_MAX}.", code="annee"
        )
    if Rapport.objects.filter(contrat=contrat, annee=annee).exists():
        raise ValidationError(
            f"Le rapport {annee} de ce contrat existe déjà : ouvrez-le, ou commencez-en une "
            "nouvelle version une fois adopté.",
            code="existe",
        )
    rapport = Rapport(contrat=contrat, annee=annee, dsu=dsu)
    rapport._history_user = user
    try:
        with transaction.atomic():
            rapport.save()
    except IntegrityError as error:
        raise ValidationError(f"Le rapport {annee} de ce contrat existe déjà.") from error
    Section.objects.bulk_create(
        Section(rapport=rapport, cle=s.cle, titre=s.titre, ordre=i, modifie_par=user)
        for i, s in enumerate(sections.SECTIONS)
    )
    return rapport


def _verrouiller(rapport):
    """The report's row, locked for the rest of the transaction, its state read again."""
    return Rapport.objects.select_for_update().select_related("contrat").get(pk=rapport.pk)


@transaction.atomic
def mettre_en_consultation(rapport, user):
    rapport = _verrouiller(rapport)
    _etat(
        rapport,
        Rapport.Statut.BROUILLON,
        message="Seul un rapport en brouillon peut être envoyé en consultation.",
    )
    if not rapport.instances.exists():
        raise ValidationError(
            "Indiquez d'abord les instances consultées (conseils municipaux, conseils "
            "citoyens) et la date d'envoi du projet.",
            code="instances",
        )
    return _passer(rapport, Rapport.Statut.CONSULTATION, user, "Envoyé en consultation")


@transaction.atomic
def adopter(rapport, user, date_deliberation, instance_deliberante="", aujourd_hui=None):
    aujourd_hui = aujourd_hui or timezone.localdate()
    rapport = _verrouiller(rapport)
    _etat(
        rapport,
        Rapport.Statut.CONSULTATION,
        message="Seul un rapport soumis à consultation peut être adopté.",
    )
    instances = list(rapport.instances.all())
    attente = consultation.en_attente(instances, aujourd_hui)
    if attente:
        noms = ", ".join(
            f"{instance.nom} (jusqu'au {instance.date_limite:%d/%m/%Y})" for instance in attente
        )
        raise ValidationError(
            "Le rapport ne peut pas être adopté avant la fin de la consultation : "
            f"{noms} n'{'ont' if len(attente) > 1 else 'a'} pas encore rendu d'avis.",
            code="consultation",
        )
    if date_deliberation > aujourd_hui:
        raise ValidationError(
            "La date de délibération ne peut pas être dans le futur.", code="date"
        )
    envoi = max(instance.date_envoi for instance in instances) if instances else None
    if envoi and date_deliberation < envoi:
        raise ValidationError(
            f"La délibération ne peut pas précéder l'envoi du projet ({envoi:%d/%m/%Y}).",
            code="date",
        )
    parties = document.genere(rapport)
    rapport.contenu_fige = parties
    rapport.date_deliberation = date_deliberation
    rapport.instance_deliberante = instance_deliberante
    rapport.adopte_par = user
    return _passer(rapport, Rapport.Statut.ADOPTE, user, "Adopté")


@transaction.atomic
def publier(rapport, user):
    rapport = _verrouiller(rapport)
    _etat(rapport, Rapport.Statut.ADOPTE, message="Seul un rapport adopté peut être publié.")
    rapport.date_publication = timezone.now()
    return _passer(rapport, Rapport.Statut.PUBLIE, user, "Publié")


@transaction.atomic
def nouvelle_version(rapport, user):
    rapport = _verrouiller(rapport)
    _etat(
        rapport,
        *Rapport.ARRETES,
        message="Une nouvelle version se commence à partir d'un rapport adopté.",
    )
    if Rapport.objects.filter(
        contrat=rapport.contrat_id, annee=rapport.annee, statut__in=Rapport.EN_COURS
    ).exists():
        raise ValidationError("Une version de ce rapport est déjà en cours.", code="en_cours")
    if hasattr(rapport, "suivante"):
        raise ValidationError("Cette version a déjà une version suivante.", code="suivante")
    version = (
        Rapport.objects.filter(contrat=rapport.contrat_id, annee=rapport.annee).aggregate(
            Max("version")
        )["version__max"]
        + 1
    )
    nouveau = Rapport(
        contrat=rapport.contrat,
        annee=rapport.annee,
        version=version,
        precedente=rapport,
        dsu=rapport.dsu,
    )
    nouveau._history_user = user
    nouveau._change_reason = f"Nouvelle version du rapport (version {rapport.version})"
    nouveau.save()
    Section.objects.bulk_create(
        Section(
            rapport=nouveau,
            cle=s.cle,
            titre=s.titre,
            texte=s.texte,
            ordre=s.ordre,
            membre_id=s.membre_id,
            auteur=s.auteur,
            demandee_le=s.demandee_le,
            rendue_le=s.rendue_le,
            modifie_par=user,
        )
        for s in rapport.sections.all()
    )
    return nouveau


def _passer(rapport, statut, user, motif):
    rapport.statut = statut
    rapport._history_user = user
    rapport._change_reason = motif
    rapport.full_clean(exclude=["contrat", "precedente", "adopte_par"], validate_unique=False)
    rapport.save()
    return rapport


def enregistrer_section(section, saisie, revision, user, titre=None):
    """Saves a section's text typed in the plain syntax (or HTML, cleaned): refused once
    the report is adopted, or when the section changed since `revision` was read."""
    if len(saisie) > balisage.TEXTE_MAX:
        raise ValidationError(
            f"Le texte dépasse {balisage.TEXTE_MAX:,} caractères.".replace(",", "\u202f"),
            code="longueur",
        )
    texte = balisage.depuis_saisie(saisie)
    with transaction.atomic():
        rapport = _verrouiller(section.rapport)
        if rapport.arrete:
            raise ValidationError(ADOPTE_FIGE, code="adopte")
        changes = {
            "texte": texte,
            "revision": F("revision") + 1,
            "modifie_par": user,
            "updated_at": timezone.now(),
        }
        if titre is not None and section.est_contribution:
            changes["titre"] = titre
        if section.est_contribution and texte and section.rendue_le is None:
            changes["rendue_le"] = timezone.now()
        updated = Section.objects.filter(pk=section.pk, revision=revision).update(**changes)
        if not updated:
            raise ValidationError(PERIME, code="perime")
        section.refresh_from_db()
        # The history row of the change (update() does not write one).
        section._history_user = user
        section.save(update_fields=["updated_at"])
    return section


@transaction.atomic
def demander_contribution(rapport, membre_du_contrat, titre, user):
    """Asks a partner (a membership of the contract) for a section of their own."""
    rapport = _verrouiller(rapport)
    if rapport.arrete:
        raise ValidationError(ADOPTE_FIGE, code="adopte")
    if membre_du_contrat.contrat_id != rapport.contrat_id:
        raise ValidationError("Ce partenaire n'est pas membre de ce contrat.", code="membre")
    titre = " ".join(titre.split())
    if not titre:
        raise ValidationError("Donnez un titre à la contribution demandée.", code="titre")
    ordre = (rapport.sections.aggregate(Max("ordre"))["ordre__max"] or 0) + 1
    section = Section(
        rapport=rapport,
        cle=sections.CONTRIBUTION,
        titre=titre,
        ordre=ordre,
        membre=membre_du_contrat,
        auteur=membre_du_contrat.titulaire,
        demandee_le=timezone.now(),
        modifie_par=user,
    )
    section._history_user = user
    section.full_clean(exclude=["rapport", "membre", "modifie_par"])
    section.save()
    transaction.on_commit(lambda: _prevenir(section, rapport, user))
    return section


def destinataires(membre_du_contrat):
    """The addresses of the accounts holding a membership: the person's, or every active
    account of the organisation."""
    if membre_du_contrat.compte_id:
        comptes = [membre_du_contrat.compte]
    else:
        comptes = [
            profil.compte
            for profil in membre_du_contrat.organisation.profils.select_related("compte")
        ]
    return sorted({c.email for c in comptes if c.is_active and c.email})


def _prevenir(section, rapport, user):
    """E-mails the partner asked for a contribution, with the link of its editor."""
    adresses = destinataires(section.membre)
    if not adresses:
        return
    chemin = reverse(
        "rapports:section",
        args=[rapport.contrat.slug, rapport.annee, rapport.version, section.pk],
    )
    send_mail(
        # One line: a header never holds a line break.
        subject=" ".join(
            f"Contribution demandée : rapport annuel {rapport.annee}, {rapport.contrat.nom}".split()
        ),
        message=render_to_string(
            "rapports/contribution_email.txt",
            {
                "section": section,
                "rapport": rapport,
                "demandeur": user,
                "lien": settings.SITE_URL + chemin,
            },
        ),
        from_email=None,
        recipient_list=adresses,
        fail_silently=True,
    )
