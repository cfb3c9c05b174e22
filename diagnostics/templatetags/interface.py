"""Template helpers of the site's layout."""

from django import template

from comptes.roles import Role, is_national_admin

from ..access import administers_somewhere, can_administer, roles_by_contract, roles_on

register = template.Library()


@register.simple_tag(takes_context=True)
def roles_utilisateur(context):
    """The user's roles as the interface names them: on the contract of the page's
    diagnostic when there is one ("Équipe ville"), else every role held on some contract."""
    user, diagnostic = context.get("user"), context.get("diagnostic")
    if not getattr(user, "is_authenticated", False):
        return ""
    if is_national_admin(user):
        return "Administration nationale"
    if diagnostic is not None and getattr(diagnostic, "contrat_id", None):
        held = roles_on(user, diagnostic.contrat_id)
    else:
        held = {role for roles in roles_by_contract(user).values() for role in roles}
    return ", ".join(role.value for role in Role if role in held)


@register.filter(name="administration_nationale")
def national_admin_filter(user):
    """Whether the user may enter the admin (the "Administration" link)."""
    return is_national_admin(user)


@register.filter
def administre(user, diagnostic=None):
    """Whether the user administers this diagnostic's contract, or (without one) some
    contract (the "Imports" menu)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if diagnostic is not None:
        return can_administer(user, diagnostic)
    return administers_somewhere(user)
