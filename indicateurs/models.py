"""Indicators of the diagnostic. Measures, targets and charts come with the indicateurs issue."""

from django.db import models

from diagnostics.models import Element, element_constraints


class Indicateur(Element):
    class Meta(Element.Meta):
        verbose_name = "indicateur"
        verbose_name_plural = "indicateurs"
        constraints = element_constraints()
        indexes = [
            models.Index(fields=["sous_theme", "position"], name="ind_ind_sous_theme_pos_idx"),
            models.Index(fields=["theme", "position"], name="ind_ind_theme_pos_idx"),
        ]
