"""Filters of the list of indicateurs: those of the difficultés, plus "avec / sans difficulté"."""

import django_filters

from diagnostics.filters import ElementFilterSet
from diagnostics.models import Difficulte

from .models import Indicateur


class IndicateurFilterSet(ElementFilterSet):
    avec_difficulte = django_filters.ChoiceFilter(
        label="Difficulté",
        choices=(("oui", "Avec difficulté"), ("non", "Sans difficulté")),
        method="filter_avec_difficulte",
        empty_label="Avec ou sans difficulté",
        help_text="Une difficulté est rattachée au même sous-thème (ou au même thème).",
    )

    class Meta(ElementFilterSet.Meta):
        model = Indicateur

    def filter_avec_difficulte(self, queryset, name, answer):
        return self.filter_parent_has(Difficulte, queryset, answer)
