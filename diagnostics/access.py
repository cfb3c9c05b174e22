"""Who may see and change what: the one rule of the site, in one place.

What each role may do is declared in `comptes.roles` (ROLES): the Administrateur and the
Équipe ville read every diagnostic (drafts included) and edit them; a Partenaire reads
the published ones. A signed-in account without a role reads like a partner. Anonymous
visitors read only the diagnostics that are both published and marked public.
"""

from comptes.roles import reads_drafts

from .models import Diagnostic


def visible_diagnostics(user):
    """The diagnostics this user may read."""
    diagnostics = Diagnostic.objects.all()
    if reads_drafts(user):
        return diagnostics
    if user.is_authenticated:
        return diagnostics.publies()
    return diagnostics.publies().filter(est_public=True)


def can_view(user, diagnostic):
    if reads_drafts(user):
        return True
    if diagnostic.statut != Diagnostic.Statut.PUBLIE:
        return False
    return user.is_authenticated or diagnostic.est_public
