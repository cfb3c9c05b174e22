"""{% load proconnect %}{% proconnect_configure as proconnect %}: whether the login page
shows the ProConnect button (comptes.proconnect.is_configured)."""

from django import template

from comptes.proconnect import is_configured

register = template.Library()


@register.simple_tag
def proconnect_configure():
    return is_configured()
