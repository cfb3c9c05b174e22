"""The roles of the site and what each may do: declared once here, read everywhere.

A role is held on one contrat de ville (on every edition of its diagnostic), through a
membership (`diagnostics.Membre`, given to a person or, for partners, to their whole
organisation). `ROLES` says what each role may do there; `diagnostics.access` reads it
with the memberships of the user. The platform's national administrator (an active
superuser) manages accounts, organisations and contracts in the admin, and may do
everything on every contract.
"""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATEUR = "Administrateur"
    EQUIPE_VILLE = "Équipe ville"
    PARTENAIRE = "Partenaire"


@dataclass(frozen=True)
class Droits:
    """What a role may do on its contract."""

    lit_les_brouillons: bool  # reads the editions that are not published
    modifie: bool  # edits the diagnostic and enters indicators' values
    administre: bool  # imports, publishing, editions, members
    description: str  # what the members' page says of the role


ROLES = {
    Role.ADMINISTRATEUR: Droits(
        lit_les_brouillons=True,
        modifie=True,
        administre=True,
        description="importe, publie, ouvre les éditions et gère les membres",
    ),
    Role.EQUIPE_VILLE: Droits(
        lit_les_brouillons=True,
        modifie=True,
        administre=False,
        description="modifie le diagnostic et saisit les valeurs des indicateurs",
    ),
    Role.PARTENAIRE: Droits(
        lit_les_brouillons=False,
        modifie=False,
        administre=False,
        description="consulte les éditions publiées",
    ),
}

# The capabilities of `Droits`, as `diagnostics.access` asks for them.
LIT_LES_BROUILLONS, MODIFIE, ADMINISTRE = "lit_les_brouillons", "modifie", "administre"


def roles_that(capability):
    """The roles holding a capability of `Droits` (MODIFIE, ADMINISTRE...)."""
    return [role for role, droits in ROLES.items() if getattr(droits, capability)]


def holds(roles, capability):
    """Whether any of these roles holds the capability."""
    return any(getattr(ROLES[role], capability) for role in roles)


def is_national_admin(user):
    """The platform's administrator: accounts, organisations, contracts, the admin."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)
