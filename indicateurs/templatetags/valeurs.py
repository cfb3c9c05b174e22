"""Template helpers of the indicators' values: every value shown goes through
`indicateurs.secret.display_value` (French format, secret statistique)."""

from django import template
from django.contrib.auth.models import AnonymousUser

from indicateurs import secret
from indicateurs.tableau import serie_label

register = template.Library()


@register.simple_tag(takes_context=True)
def valeur(context, value, indicateur):
    """{% valeur mesure indicateur %}: the value as the current user may see it."""
    return secret.display_value(value, indicateur, context.get("user") or AnonymousUser())


@register.filter
def serie(quartier):
    """{{ mesure.quartier|serie }}: "Ensemble du territoire" or the quartier's name."""
    return serie_label(quartier)
