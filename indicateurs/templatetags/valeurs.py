"""Template helpers of the indicators' values."""

from django import template

from indicateurs.tableau import serie_label

register = template.Library()


@register.filter
def serie(lieu):
    """{{ mesure.lieu|serie }}: "Ensemble du territoire", the quartier's or the comparison
    territory's name."""
    return serie_label(lieu)
