"""Who may read and do what on a contract's annual reports: the roles of the contract
(`comptes.roles`, read through `diagnostics.access`), in one place.

- the Équipe ville and the Administrateurs (those who edit the diagnostic, MODIFIE) write
  the report's sections, ask partners for contributions and keep the consultation's record
  (bodies, opinions, follow-up); they read every version;
- the Administrateurs (ADMINISTRE) start a report or a new version, send it to
  consultation, record its adoption and publish it;
- a partner of the contract reads the report once it is sent to consultation, downloads
  the opinions' files, and writes the contributions asked of them while the report is in
  progress;
- a published report is public: anyone reads it and its PDF.
"""

from django.db.models import Q

from comptes.roles import ADMINISTRE, MODIFIE, holds
from diagnostics.access import roles_on
from diagnostics.models import Membre

from .models import Rapport


def ecrit(user, contrat):
    return holds(roles_on(user, contrat), MODIFIE)


def decide(user, contrat):
    return holds(roles_on(user, contrat), ADMINISTRE)


def membre(user, contrat):
    return bool(roles_on(user, contrat))


def lit(user, rapport):
    if rapport.statut == Rapport.Statut.PUBLIE:
        return True
    if rapport.statut == Rapport.Statut.BROUILLON:
        return ecrit(user, rapport.contrat_id) or bool(contributions_de(user, rapport))
    return membre(user, rapport.contrat_id)


def lit_les_fichiers(user, rapport):
    """The signed opinions' files: members of the contract only, whatever the state."""
    return membre(user, rapport.contrat_id)


def contributions_de(user, rapport):
    """The contributions of this report asked of the user (as a person or through their
    organisation)."""
    if not getattr(user, "is_authenticated", False):
        return []
    membres = Membre.objects.du_compte(user).filter(contrat_id=rapport.contrat_id)
    return list(rapport.sections.filter(membre__in=membres.values("pk")))


def rapports_lisibles(user, contrat):
    """The reports of a contract this user may read (a queryset, with their contract)."""
    rapports = Rapport.objects.filter(contrat=contrat).select_related("contrat")
    if ecrit(user, contrat):
        return rapports
    if membre(user, contrat):
        # A draft: only those asked for a contribution to it.
        membres = Membre.objects.du_compte(user).filter(contrat=contrat).values("pk")
        return rapports.filter(
            ~Q(statut=Rapport.Statut.BROUILLON) | Q(sections__membre__in=membres)
        ).distinct()
    return rapports.filter(statut=Rapport.Statut.PUBLIE)
