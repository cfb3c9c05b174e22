"""Who may see and change what: the one rule of the site, in one place.

What each role may do is declared in `comptes.roles` (ROLES): the Administrateur and the
Équipe ville read every diagnostic (drafts included) and edit them; a Partenaire reads
the published ones. A signed-in account without a role reads like a partner. Anonymous
visitors read only the diagnostics that are both published and marked public.
"""

from comptes.roles import reads_drafts

from .models import Contrat, Diagnostic


def visible_diagnostics(user):
    """The diagnostics (editions) this user may read."""
    diagnostics = Diagnostic.objects.all()
    if reads_drafts(user):
        return diagnostics
    if user.is_authenticated:
        return diagnostics.publies()
    return diagnostics.publies().filter(est_public=True)


def visible_contrats(user):
    """The contracts of which this user may read at least one edition."""
    return Contrat.objects.filter(pk__in=visible_diagnostics(user).values("contrat"))


def can_view(user, diagnostic):
    if reads_drafts(user):
        return True
    if diagnostic.statut not in Diagnostic.STATUTS_PUBLICS:
        return False
    return user.is_authenticated or diagnostic.est_public
