"""Filters of the "Dernières modifications" page (diagnostics.views.history)."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from comptes.roles import MODIFIE, roles_that

from .recent import AJOUT, MODIFICATION, NATURES, SUPPRESSION

# The natures of the rows the filter took before it took the actions' ("+", "~", "-"):
# the addresses saved with them keep working.
OLD_NATURES = {"+": AJOUT, "~": MODIFICATION, "-": SUPPRESSION}


class DateInput(forms.DateInput):
    input_type = "date"


def editors(diagnostic):
    """The accounts that may change this diagnostic (its contract's Équipe ville and
    Administrateurs, the national administrators), for the "person" filter."""
    roles = [role.value for role in roles_that(MODIFIE)]
    return (
        get_user_model()
        .objects.filter(
            Q(adhesions__contrat_id=diagnostic.contrat_id, adhesions__role__in=roles)
            | Q(is_superuser=True)
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


class PersonFilter(django_filters.ModelChoiceFilter):
    field_class = PersonChoiceField


class ModificationsFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        du, au = data.get("du"), data.get("au")
        if du and au and au < du:
            self.add_error("au", "Cette date précède la date de début.")
        return data


class ModificationsFilterSet(django_filters.FilterSet):
    """Filters of the "Dernières modifications" page: the person and the dates apply to
    the rows of each history table, the nature to the actions (`recent.recent_actions`)."""

    personne = PersonFilter(
        label="Personne",
        field_name="history_user",
        queryset=get_user_model().objects.none(),  # the page's diagnostic's (`__init__`)
        empty_label="Toutes les personnes",
    )
    # The nature of an action: applied to the actions, not to their rows (`asked_nature()`).
    nature = django_filters.ChoiceFilter(
        label="Nature",
        choices=list(NATURES.items()),
        empty_label="Toutes",
        method="keep_rows",
    )
    du = django_filters.DateFilter(
        label="Depuis le", field_name="history_date", lookup_expr="date__gte", widget=DateInput
    )
    au = django_filters.DateFilter(
        label="Jusqu'au", field_name="history_date", lookup_expr="date__lte", widget=DateInput
    )

    class Meta:
        form = ModificationsFilterForm

    def __init__(self, data=None, *args, diagnostic, **kwargs):
        if data is not None and data.get("nature") in OLD_NATURES:
            data = data.copy()
            data["nature"] = OLD_NATURES[data["nature"]]
        super().__init__(data, *args, **kwargs)
        self.filters["personne"].queryset = editors(diagnostic)

    def keep_rows(self, queryset, name, value):
        return queryset

    def asked_nature(self):
        """The nature of the actions asked for, or None (all)."""
        if not self.is_bound:
            return None
        return self.form.cleaned_data.get("nature") or None
