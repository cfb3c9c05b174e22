"""{% load tailles %}{{ octets|taille }}: a size in bytes in French units ("10 Ko",
"2,5 Mo"), as every message of the site writes it (`diagnostics.text.file_size`)."""

from django import template

from ..text import file_size

register = template.Library()


@register.filter
def taille(octets):
    return file_size(octets)
