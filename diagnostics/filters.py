"""Filters of the lists of items: difficultés here, indicateurs in `indicateurs/filters.py`.

The filters come from the URL (GET), so that a filtered list can be shared as a link.
Every list is restricted to the diagnostics the user may see (`visible_diagnostics`),
and so are the choices offered: a partner never sees a draft's pilier in a menu.

Items hang from a sous-thème or directly from a thème: filtering by pilier or thème
keeps the items at the level of the thème too.

The form's menus cost one query each at most, whatever the number of filters used
(`LoadedModelChoiceField`); the piliers and the diagnostics offered are those of the
thèmes loaded for the thème menu (a pilier without any thème holds no item).
"""

from itertools import groupby

import django_filters
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.forms.models import ModelChoiceIterator
from django_filters.fields import ModelChoiceField

from indicateurs.models import Indicateur

from . import search
from .access import visible_diagnostics
from .models import Diagnostic, Difficulte, Pilier, Quartier, SousTheme, Theme


class LoadedChoiceIterator(ModelChoiceIterator):
    """The choices of a LoadedModelChoiceField, in <optgroup>s when it has `group_by`."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        objects = self.field.objects
        if self.field.group_by is None:
            for obj in objects:
                yield self.choice(obj)
            return
        for label, group in groupby(objects, key=self.field.group_by):
            yield (label, [self.choice(obj) for obj in group])

    def __len__(self):
        return len(self.field.objects) + (1 if self.field.empty_label is not None else 0)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self.field.objects)


class LoadedModelChoiceField(ModelChoiceField):
    """A ModelChoiceField that reads its queryset once, both to validate and to render.

    Django's runs one query to check the value received and another to list the
    choices. `objects` can also be given directly, already loaded by another query.
    `group_by(obj)` gives the label of the <optgroup> of each choice (objects sorted by it).
    """

    iterator = LoadedChoiceIterator

    def __init__(self, *args, group_by=None, **kwargs):
        self.group_by = group_by
        self._objects = None
        super().__init__(*args, **kwargs)

    def _set_queryset(self, queryset):
        self._objects = None
        super()._set_queryset(queryset)

    queryset = property(ModelChoiceField._get_queryset, _set_queryset)

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result._objects = self._objects  # same queryset, same objects
        return result

    @property
    def objects(self):
        if self._objects is None:
            self._objects = list(self.queryset)
        return self._objects

    @objects.setter
    def objects(self, objects):
        self._objects = list(objects)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        key = self.to_field_name or "pk"
        if isinstance(value, self.queryset.model):
            value = getattr(value, key)
        for obj in self.objects:
            if str(getattr(obj, key)) == str(value):
                return obj
        raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")


class LoadedModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = LoadedModelChoiceField


def in_diagnostic_order(queryset):
    """Items in the order of their diagnostic: pilier, thème, then sous-thème, then position.

    Theme-level items come before the sous-thèmes of their thème.
    """

    def of_theme(path):
        return Coalesce(F(f"sous_theme__theme__{path}"), F(f"theme__{path}"))

    return queryset.order_by(
        of_theme("pilier__diagnostic__annee_debut").desc(),
        of_theme("pilier__diagnostic__titre"),
        of_theme("pilier__numero"),
        of_theme("position"),
        of_theme("id"),
        F("sous_theme__position").asc(nulls_first=True),
        "sous_theme_id",
        "position",
        "id",
    )


def parent_has(model):
    """Whether the parent of the outer item (its sous-thème, or its thème for an item at
    the level of the thème) holds at least one item of `model`."""
    return Exists(
        model.objects.filter(
            Q(sous_theme_id=OuterRef("sous_theme_id")) | Q(theme_id=OuterRef("theme_id"))
        )
    )


class ElementFilterSet(django_filters.FilterSet):
    """Filters shared by the lists of items. Subclasses set `Meta.model`."""

    diagnostic = LoadedModelChoiceFilter(
        label="Diagnostic",
        to_field_name="slug",
        method="filter_diagnostic",
        queryset=Diagnostic.objects.none(),
        empty_label="Tous les diagnostics",
    )
    pilier = LoadedModelChoiceFilter(
        label="Pilier",
        method="filter_pilier",
        queryset=Pilier.objects.none(),
        empty_label="Tous les piliers",
        group_by=lambda pilier: pilier.diagnostic.titre,
    )
    theme = LoadedModelChoiceFilter(
        label="Thème",
        method="filter_theme",
        queryset=Theme.objects.none(),
        empty_label="Tous les thèmes",
        group_by=lambda theme: str(theme.pilier),
    )
    sous_theme = LoadedModelChoiceFilter(
        label="Sous-thème",
        field_name="sous_theme",
        lookup_expr="exact",
        queryset=SousTheme.objects.none(),
        empty_label="Tous les sous-thèmes",
        group_by=lambda sous_theme: sous_theme.theme.libelle,
    )
    quartier = LoadedModelChoiceFilter(
        label="Quartier prioritaire",
        field_name="quartiers",
        lookup_expr="exact",
        to_field_name="code",
        queryset=Quartier.objects.none(),
        empty_label="Tous les quartiers",
    )
    q = django_filters.CharFilter(
        label="Mots du libellé",
        method="filter_text",
        max_length=200,
        help_text="Accents et majuscules indifférents : « sante » trouve « Santé ».",
    )

    class Meta:
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None) or AnonymousUser()
        diagnostics = visible_diagnostics(user)
        self.queryset = self.queryset.des_diagnostics(diagnostics)
        self._scope_choices(diagnostics)

    def _scope_choices(self, diagnostics):
        """The menus offer what the user may see, narrowed to the chosen diagnostic."""
        fields = self.form.fields
        slug = self.data.get(self.form.add_prefix("diagnostic")) or None

        themes = list(
            Theme.objects.filter(pilier__diagnostic__in=diagnostics)
            .select_related("pilier__diagnostic")
            .order_by(
                "-pilier__diagnostic__annee_debut",
                "pilier__diagnostic__titre",
                "pilier__numero",
                "position",
                "id",
            )
        )
        chosen = [theme for theme in themes if slug in (None, theme.pilier.diagnostic.slug)]

        fields["diagnostic"].queryset = diagnostics
        fields["diagnostic"].objects = dict.fromkeys(theme.pilier.diagnostic for theme in themes)
        fields["pilier"].queryset = Pilier.objects.filter(diagnostic__in=diagnostics)
        fields["pilier"].objects = dict.fromkeys(theme.pilier for theme in chosen)
        if len(fields["diagnostic"].objects) < 2:
            fields["pilier"].group_by = None  # no need to name the only diagnostic
        fields["theme"].queryset = Theme.objects.filter(pilier__diagnostic__in=diagnostics)
        fields["theme"].objects = chosen

        sous_themes = SousTheme.objects.filter(theme__pilier__diagnostic__in=diagnostics)
        if slug:
            sous_themes = sous_themes.filter(theme__pilier__diagnostic__slug=slug)
        fields["sous_theme"].queryset = sous_themes.select_related("theme__pilier").order_by(
            "theme__pilier__diagnostic_id", "theme__pilier__numero", "theme__position",
            "theme_id", "position", "id",
        )  # fmt: skip
        fields["quartier"].queryset = Quartier.objects.order_by("code")

    @property
    def diagnostics_offered(self):
        """The diagnostics of the menu: those the user may see that hold thèmes."""
        return self.form.fields["diagnostic"].objects

    @property
    def current_diagnostic(self):
        """The diagnostic the list is about: the chosen one, or the only one offered."""
        if self.is_bound and self.is_valid() and self.form.cleaned_data.get("diagnostic"):
            return self.form.cleaned_data["diagnostic"]
        offered = self.diagnostics_offered
        return offered[0] if len(offered) == 1 else None

    def filter_diagnostic(self, queryset, name, diagnostic):
        return queryset.du_diagnostic(diagnostic)

    def filter_pilier(self, queryset, name, pilier):
        return queryset.du_pilier(pilier)

    def filter_theme(self, queryset, name, theme):
        return queryset.filter(Q(sous_theme__theme=theme) | Q(theme=theme))

    def filter_text(self, queryset, name, text):
        return search.matching(queryset, "libelle", text)


def parent_has_filter(model, word, help_text):
    """A "with / without" filter: a `model` item under the same parent (sous-thème, or
    thème for theme-level items)."""

    def filter_parent_has(queryset, name, answer):
        has = parent_has(model)
        return queryset.filter(has if answer == "oui" else ~has)

    return django_filters.ChoiceFilter(
        label=word.capitalize(),
        choices=(("oui", f"Avec {word}"), ("non", f"Sans {word}")),
        method=filter_parent_has,
        empty_label=f"Avec ou sans {word}",
        help_text=help_text,
    )


class DifficulteFilterSet(ElementFilterSet):
    avec_indicateur = parent_has_filter(
        Indicateur,
        "indicateur",
        "Un indicateur est rattaché au même sous-thème (ou au même thème).",
    )

    class Meta(ElementFilterSet.Meta):
        model = Difficulte


class RechercheForm(forms.Form):
    """The search form: words to look for, optionally in one diagnostic."""

    q = forms.CharField(label="Mots recherchés", max_length=200, required=False)
    diagnostic = LoadedModelChoiceField(
        label="Diagnostic",
        queryset=Diagnostic.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label="Tous les diagnostics",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["diagnostic"].queryset = visible_diagnostics(user)
