"""{% load noms %}{{ model|ce_element }}: "cette difficulté", "cet indicateur": one object
of a registered kind, as a sentence names it (`diagnostics.kinds.Nom.ce`)."""

from django import template

from .. import kinds

register = template.Library()


@register.filter
def ce_element(model):
    """`model`: a model or one of its objects (a template calls a class it is given)."""
    try:
        return kinds.of(model).nom.ce
    except LookupError:
        return "ce résultat"
