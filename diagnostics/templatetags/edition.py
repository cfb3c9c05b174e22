"""Template helpers of the edit controls (see templates/diagnostics/edition/)."""

from django import template

from ..access import can_edit

register = template.Library()


@register.filter
def peut_modifier(user, diagnostic):
    """Whether the edit controls are shown: the contract's Équipe ville and Administrateur
    (no query: the user's roles are read once per request), never on a frozen edition."""
    if diagnostic is None or getattr(diagnostic, "est_figee", False):
        return False
    return getattr(user, "is_authenticated", False) and can_edit(user, diagnostic)
