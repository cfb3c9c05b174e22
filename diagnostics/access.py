"""Who may see and change what: the one rule of the site, in one place.

A role is held on a contract (`Membre`: a person's own, or their organisation's for a
partner) and what it allows is declared in `comptes.roles.ROLES`:
- Administrateur and Équipe ville read every edition of their contract (drafts
  included) and edit it; the Administrateur also imports, publishes and manages members;
- a Partenaire reads the published (and frozen) editions of their contract;
- anyone, anonymous visitors included, reads the published editions marked public;
- the national administrator (superuser) may do everything everywhere.
A signed-in account reads nothing else: another contract's editions do not exist for it.

The user's roles are read once per request (one query) and kept on the user object.
"""

from django.db.models import Q

from comptes.roles import ADMINISTRE, LIT_LES_BROUILLONS, MODIFIE, Role, holds, is_national_admin

from .models import Contrat, Diagnostic, Membre

_CACHE = "_contrat_ville_roles"


def _memberships(user):
    """({contract id: frozenset of Role}, {diagnostic id: contract id}) of this user's
    contracts: one query, kept on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}, {}
    if not hasattr(user, _CACHE):
        roles, contracts = {}, {}
        rows = Membre.objects.du_compte(user).values_list(
            "contrat_id", "role", "contrat__editions__pk"
        )
        for contrat_id, role, diagnostic_id in rows:
            roles.setdefault(contrat_id, set()).add(Role(role))
            if diagnostic_id is not None:
                contracts[diagnostic_id] = contrat_id
        roles = {pk: frozenset(held) for pk, held in roles.items()}
        setattr(user, _CACHE, (roles, contracts))
    return getattr(user, _CACHE)


def roles_by_contract(user):
    """{contract id: frozenset of Role} of this user (empty for an anonymous visitor)."""
    return _memberships(user)[0]


def forget_roles(user):
    """After a membership of this user changed during the request."""
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def roles_on(user, contrat):
    """The roles of the user on this contract (a Contrat, or its id)."""
    if is_national_admin(user):
        return frozenset(Role)
    pk = getattr(contrat, "pk", contrat)
    return roles_by_contract(user).get(pk, frozenset())


def roles_on_diagnostic(user, diagnostic_id):
    """The roles of the user on the contract of this diagnostic (by its id: no query
    beyond the user's memberships)."""
    if is_national_admin(user):
        return frozenset(Role)
    roles, contracts = _memberships(user)
    return roles.get(contracts.get(diagnostic_id), frozenset())


def edits_diagnostic(user, diagnostic_id):
    """`can_edit` by the diagnostic's id (the statistical secrecy asks it per indicator)."""
    return holds(roles_on_diagnostic(user, diagnostic_id), MODIFIE)


def contracts_where(user, capability):
    """The ids of the contracts on which the user holds a capability of `Droits`."""
    return {pk for pk, roles in roles_by_contract(user).items() if holds(roles, capability)}


def _contract_of(diagnostic_or_contrat):
    if isinstance(diagnostic_or_contrat, Contrat):
        return diagnostic_or_contrat.pk
    return diagnostic_or_contrat.contrat_id


def _may(user, capability, diagnostic_or_contrat):
    return holds(roles_on(user, _contract_of(diagnostic_or_contrat)), capability)


def can_edit(user, diagnostic):
    """Edits this diagnostic (edition) and enters its indicators' values."""
    return _may(user, MODIFIE, diagnostic)


def can_administer(user, diagnostic_or_contrat):
    """Imports, publishing, editions and members of this contract."""
    return _may(user, ADMINISTRE, diagnostic_or_contrat)


def reads_drafts(user, diagnostic):
    return _may(user, LIT_LES_BROUILLONS, diagnostic)


def edits_somewhere(user):
    """Whether the user edits at least one contract (the edit links of the layout)."""
    return is_national_admin(user) or bool(contracts_where(user, MODIFIE))


def administers_somewhere(user):
    """Whether the user administers at least one contract (the "Imports" menu)."""
    return is_national_admin(user) or bool(contracts_where(user, ADMINISTRE))


def visible_diagnostics(user):
    """The diagnostics (editions) this user may read."""
    diagnostics = Diagnostic.objects.all()
    if is_national_admin(user):
        return diagnostics
    public = Q(statut__in=Diagnostic.STATUTS_PUBLICS, est_public=True)
    roles = roles_by_contract(user)
    if not roles:
        return diagnostics.filter(public)
    drafts = contracts_where(user, LIT_LES_BROUILLONS)
    return diagnostics.filter(
        public
        | Q(contrat_id__in=drafts)
        | Q(statut__in=Diagnostic.STATUTS_PUBLICS, contrat_id__in=set(roles))
    )


def _diagnostics_where(user, capability):
    if is_national_admin(user):
        return Diagnostic.objects.all()
    return Diagnostic.objects.filter(contrat_id__in=contracts_where(user, capability))


def editable_diagnostics(user):
    """The diagnostics this user may edit (frozen editions included: `editions.states`
    refuses their changes with its own message)."""
    return _diagnostics_where(user, MODIFIE)


def administered_diagnostics(user):
    """The diagnostics of the contracts this user administers."""
    return _diagnostics_where(user, ADMINISTRE)


def visible_contrats(user):
    """The contracts of which this user may read at least one edition."""
    return Contrat.objects.filter(pk__in=visible_diagnostics(user).values("contrat"))


def can_view(user, diagnostic):
    """`visible_diagnostics` for one diagnostic already loaded (no query beyond the
    user's memberships)."""
    if diagnostic.statut in Diagnostic.STATUTS_PUBLICS and diagnostic.est_public:
        return True
    roles = roles_on(user, diagnostic.contrat_id)
    if diagnostic.statut in Diagnostic.STATUTS_PUBLICS:
        return bool(roles)
    return holds(roles, LIT_LES_BROUILLONS)
