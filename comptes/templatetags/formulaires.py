"""{% load formulaires %}{{ form|champs_en_erreur }}: the fields of a bound form that hold
an error, in the form's order (the summary above a form links to each of them)."""

from django import template

register = template.Library()


@register.filter
def champs_en_erreur(form):
    return [field for field in form if field.errors]
