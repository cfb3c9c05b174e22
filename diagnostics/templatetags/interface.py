"""Template helpers of the site's layout."""

from django import template

from comptes.roles import Role, is_administrateur, roles_of

register = template.Library()


@register.filter
def roles(user):
    """The user's roles as the interface names them: "Équipe ville, Administrateur"."""
    if not getattr(user, "is_authenticated", False):
        return ""
    held = roles_of(user)
    return ", ".join(role.value for role in Role if role in held)


@register.filter(name="is_administrateur")
def is_administrateur_filter(user):
    """Whether the user may enter the admin (the "Administration" link)."""
    return getattr(user, "is_authenticated", False) and is_administrateur(user)
