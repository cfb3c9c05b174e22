"""{% load second_facteur %}{{ user|second_facteur_requis }}: whether the user menu links
to the second factor's page (comptes.second_factor.required: no query beyond the
user's roles, read once per request)."""

from django import template

from comptes.second_factor import required

register = template.Library()


@register.filter
def second_facteur_requis(user):
    return bool(getattr(user, "is_authenticated", False)) and required(user)
