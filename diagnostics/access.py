"""Who may see and change what: the one rule of the site, in one place.

Roles are Django groups created by a migration:
- Administrateur: everything, imports, accounts;
- Équipe ville: reads every diagnostic (drafts included) and edits them;
- Partenaire: reads published diagnostics.
A signed-in account without a role reads like a partner. Anonymous visitors read
only the diagnostics that are both published and marked public.
"""

from enum import StrEnum

from .models import Diagnostic


class Role(StrEnum):
    ADMINISTRATEUR = "Administrateur"
    EQUIPE_VILLE = "Équipe ville"
    PARTENAIRE = "Partenaire"


def roles_of(user):
    """The set of Role of a user (cached on the user object for the request)."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_contrat_ville_roles"):
        names = {group.name for group in user.groups.all()}
        roles = {role for role in Role if role.value in names}
        if user.is_superuser:
            roles.add(Role.ADMINISTRATEUR)
        user._contrat_ville_roles = frozenset(roles)
    return user._contrat_ville_roles


def is_administrateur(user):
    return Role.ADMINISTRATEUR in roles_of(user)


def can_edit(user):
    """Équipe ville and Administrateur edit the diagnostics."""
    return bool(roles_of(user) & {Role.ADMINISTRATEUR, Role.EQUIPE_VILLE})


def visible_diagnostics(user):
    """The diagnostics this user may read."""
    diagnostics = Diagnostic.objects.all()
    if can_edit(user):
        return diagnostics
    if user.is_authenticated:
        return diagnostics.publies()
    return diagnostics.publies().filter(est_public=True)


def can_view(user, diagnostic):
    if can_edit(user):
        return True
    if diagnostic.statut != Diagnostic.Statut.PUBLIE:
        return False
    return user.is_authenticated or diagnostic.est_public
