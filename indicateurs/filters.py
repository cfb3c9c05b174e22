"""Filters of the list of indicateurs (those of every list of items) and of the tableau de
bord of a diagnostic."""

import django_filters
from django.db.models import Exists, OuterRef

from diagnostics.filters import ElementFilterSet, FilterForm, LoadedModelChoiceFilter
from diagnostics.models import Pilier, Quartier, Theme

from .models import TERRITOIRE, Indicateur, Mesure, TerritoireComparaison
from .tableau import Statut


class IndicateurFilterSet(ElementFilterSet):
    class Meta(ElementFilterSet.Meta):
        model = Indicateur


class TableauFilterSet(django_filters.FilterSet):
    """Filters of the tableau de bord of one diagnostic (`diagnostic=`).

    Pilier, thème, source and type filter the indicators in SQL. `quartier` chooses the
    scope the values, references and targets come from (empty: the whole territory),
    `comparaison` the comparison territory each value is compared with, and `statut` keeps
    the rows of one status: they are computed in Python from the measures
    (`indicateurs.tableau`), so their filters leave the queryset as it is and the view
    applies them.

    The menus cost four queries: the thèmes (with their piliers), the quartiers of the
    diagnostic, the comparison territories its indicators have values for, the sources
    named by its indicators.
    """

    pilier = LoadedModelChoiceFilter(
        label="Pilier",
        method="filter_pilier",
        queryset=Pilier.objects.none(),
        empty_label="Tous les piliers",
    )
    theme = LoadedModelChoiceFilter(
        label="Thème",
        method="filter_theme",
        queryset=Theme.objects.none(),
        empty_label="Tous les thèmes",
        group_by=lambda theme: str(theme.pilier),
    )
    quartier = LoadedModelChoiceFilter(
        label="Valeurs de",
        method="keep_all",
        to_field_name="code",
        queryset=Quartier.objects.none(),
        empty_label=TERRITOIRE,
        help_text="L'ensemble du territoire ou un quartier prioritaire.",
    )
    comparaison = LoadedModelChoiceFilter(
        label="Comparer à",
        method="keep_all",
        to_field_name="code",
        queryset=TerritoireComparaison.objects.none(),
        empty_label="Aucun territoire de comparaison",
        help_text="L'écart avec ce territoire pour la même période.",
    )
    statut = django_filters.ChoiceFilter(
        label="Statut",
        choices=Statut.choices,
        method="keep_all",
        empty_label="Tous les statuts",
    )
    source = django_filters.ChoiceFilter(
        label="Source des données",
        field_name="source_donnees",
        lookup_expr="exact",
        choices=(),
        empty_label="Toutes les sources",
    )
    type = django_filters.ChoiceFilter(
        label="Type d'indicateur",
        field_name="type",
        lookup_expr="exact",
        choices=Indicateur.Type.choices,
        empty_label="Tous les types",
    )

    class Meta:
        model = Indicateur
        fields = []
        form = FilterForm

    def __init__(self, data=None, queryset=None, *, diagnostic, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.diagnostic = diagnostic
        self.queryset = self.queryset.du_diagnostic(diagnostic)
        fields = self.form.fields
        themes = list(
            Theme.objects.filter(diagnostic=diagnostic)
            .select_related("pilier")
            .order_by("pilier__numero", "position", "id")
        )
        fields["pilier"].queryset = Pilier.objects.filter(diagnostic=diagnostic)
        fields["pilier"].objects = dict.fromkeys(theme.pilier for theme in themes)
        fields["theme"].queryset = Theme.objects.filter(diagnostic=diagnostic)
        fields["theme"].objects = themes
        self.themes = themes  # with their piliers: the places of the rows (tableau)
        fields["quartier"].queryset = diagnostic.quartiers.order_by("code")
        # The territories its indicators' lineages have values for: a value entered in
        # an earlier edition of the contract is one of theirs (`models.series`).
        lignees = Indicateur.objects.du_diagnostic(diagnostic).values("lignee")
        fields["comparaison"].queryset = TerritoireComparaison.objects.filter(
            Exists(Mesure.objects.filter(territoire=OuterRef("pk"), indicateur__lignee__in=lignees))
        ).order_by("echelon", "nom")
        sources = (
            Indicateur.objects.du_diagnostic(diagnostic)
            .exclude(source_donnees="")
            .order_by("source_donnees")
            .values_list("source_donnees", flat=True)
            .distinct()
        )
        fields["source"].choices = [(source, source) for source in sources]

    @property
    def valid(self):
        return not self.is_bound or self.is_valid()

    def choice(self, name):
        """The cleaned value of a filter (None when absent or invalid)."""
        if not self.is_bound or not self.is_valid():
            return None
        return self.form.cleaned_data.get(name) or None

    def filter_pilier(self, queryset, name, pilier):
        return queryset.du_pilier(pilier)

    def filter_theme(self, queryset, name, theme):
        return queryset.du_theme(theme)

    def keep_all(self, queryset, name, value):
        return queryset
