"""Template helpers of the edit controls (see templates/diagnostics/edition/)."""

from django import template

from comptes.roles import can_edit

register = template.Library()


@register.filter
def peut_modifier(user, diagnostic=None):
    """Whether the edit controls are shown: Équipe ville and Administrateur (no query: the
    roles are cached on the user by the layout), never on a frozen edition."""
    if getattr(diagnostic, "est_figee", False):
        return False
    return getattr(user, "is_authenticated", False) and can_edit(user)
