"""Filters of the lists of items: difficultés here, indicateurs in `indicateurs/filters.py`.
Each list can also keep the items whose parent holds, or does not hold, an item of each
other kind ("avec / sans indicateur").

The filters come from the URL (GET), so that a filtered list can be shared as a link.
Every list is restricted to the diagnostics the user may see (`visible_diagnostics`),
and so are the choices offered: a partner never sees a draft's pilier in a menu.

Items hang from a sous-thème or directly from a thème: filtering by pilier or thème
keeps the items at the level of the thème too.

The form's menus cost one query each at most, whatever the number of filters used
(`LoadedModelChoiceField`), and list what the diagnostic the list is about holds: the
piliers offered are those of the thèmes loaded for the thème menu (a pilier without any
thème holds no item), the diagnostics offered those that hold thèmes. Menus are written
by `FastSelect`, without one template rendering per option.
"""

from itertools import groupby

import django_filters
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.forms.models import ModelChoiceIterator
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django_filters.fields import ModelChoiceField

from . import kinds, search
from .access import visible_diagnostics
from .forms.fields import TextFormMixin, is_clean_key
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


def _html_attrs(attrs):
    """Attributes as Django's widgets/attrs.html writes them."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class FastSelect(forms.Select):
    """Django's Select, written in Python: the HTML of its templates (widgets/select.html
    and select_option.html) and the choice of the selected option of `optgroups`, without
    a template rendering nor a dictionary per option. A menu of 435 diagnostics costs
    about 20 ms through the templates, 1 ms here."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            attrs["multiple"] = True
        values = set(self.format_value(value))
        has_selected = False
        html = [f'<select name="{conditional_escape(name)}"{_html_attrs(attrs)}>']
        for option_value, option_label in self.choices:
            if isinstance(option_label, (list, tuple)):
                group_name, options = option_value, option_label
            else:
                group_name, options = None, [(option_value, option_label)]
            if group_name:
                html.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for subvalue, sublabel in options:
                subvalue = "" if subvalue is None else str(subvalue)
                selected = (not has_selected or self.allow_multiple_selected) and (
                    subvalue in values
                )
                has_selected |= selected
                html.append(
                    f'\n  <option value="{conditional_escape(subvalue)}"'
                    f"{' selected' if selected else ''}>{conditional_escape(sublabel)}</option>\n"
                )
            if group_name:
                html.append("\n  </optgroup>")
        html.append("\n</select>")
        return mark_safe("".join(html))


class LoadedModelChoiceField(ModelChoiceField):
    """A ModelChoiceField that reads its queryset once, both to validate and to render.

    Django's runs one query to check the value received and another to list the
    choices. `objects` can also be given directly, already loaded by another query.
    `group_by(obj)` gives the label of the <optgroup> of each choice (objects sorted by it).

    `complete = False` when `objects` (the menu) is only part of the valid choices: a
    value that is not among them is then looked up in the queryset (one query), and
    added to the menu so that it shows as selected.
    """

    iterator = LoadedChoiceIterator
    widget = FastSelect

    def __init__(self, *args, group_by=None, **kwargs):
        self.group_by = group_by
        self.complete = True
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
        if not is_clean_key(self, value):  # a control character, '١٢٣' for a pk…
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        for obj in self.objects:
            if str(getattr(obj, key)) == str(value):
                return obj
        if not self.complete:
            try:
                obj = self.queryset.filter(**{key: value}).first()
            except (ValueError, TypeError, ValidationError):
                obj = None
            if obj is not None:
                self.objects.append(obj)
                return obj
        raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")


class LoadedModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = LoadedModelChoiceField


# The URL parameter `perimetre` of the quartier filter: by default an item that names no
# quartier is kept too, since it concerns the whole territory, the quartier included.
QUARTIER_ET_TERRITOIRE, QUARTIER_SEULEMENT = "quartier-et-territoire", "quartier-seulement"
PERIMETRES = (
    (QUARTIER_ET_TERRITOIRE, "Ce quartier et l'ensemble du territoire"),
    (QUARTIER_SEULEMENT, "Ce quartier seulement"),
)


def in_diagnostic_order(queryset):
    """Items in the order of their diagnostic: pilier, thème, then sous-thème, then position.

    Theme-level items come before the sous-thèmes of their thème.
    """

    def of_theme(path):
        return Coalesce(F(f"sous_theme__theme__{path}"), F(f"theme__{path}"))

    return queryset.order_by(
        F("diagnostic__annee_debut").desc(),
        F("diagnostic__titre"),
        "diagnostic_id",
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


class FilterForm(TextFormMixin, forms.Form):
    """The form of the filter sets: the text rule on its fields (a bad value is ignored)."""


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
        method="filter_quartier",
        to_field_name="code",
        queryset=Quartier.objects.none(),
        empty_label="Tous les quartiers",
        help_text="Un élément rattaché à aucun quartier concerne l'ensemble du territoire.",
    )
    perimetre = django_filters.ChoiceFilter(
        label="Périmètre",
        choices=PERIMETRES,
        method="keep_all",  # read by filter_quartier
        empty_label=None,  # the first choice is the default
        help_text="Quand un quartier est choisi.",
    )
    q = django_filters.CharFilter(
        label="Mots du libellé",
        method="filter_text",
        max_length=200,
        help_text="Accents et majuscules indifférents : « sante » trouve « Santé ».",
    )

    class Meta:
        fields = []
        form = FilterForm

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        for kind in kinds.items():
            if kind.model is not self.queryset.model:
                name = f"avec_{kind.key}"
                self.filters[name] = parent_has_filter(kind)
                self.filters[name].field_name = name
                self.filters[name].model, self.filters[name].parent = self.queryset.model, self
        user = getattr(request, "user", None) or AnonymousUser()
        diagnostics = visible_diagnostics(user)
        self.queryset = self.queryset.des_diagnostics(diagnostics)
        self._scope_choices(diagnostics)

    def _scope_choices(self, diagnostics):
        """The menus offer what the user may see, narrowed to the list's diagnostic.

        The diagnostic menu offers those the user may see that hold thèmes. The pilier,
        thème, sous-thème and quartier menus are those of the diagnostic the list is
        about (the chosen one, or the only one offered): at national scale, those of
        every diagnostic would be thousands of entries. With several diagnostics and
        none chosen they only say to choose one first; a pilier, thème, sous-thème or
        quartier given in the URL is still accepted, looked up among those the user may
        see (one query each). Queries: the diagnostics offered, then, for the list's
        diagnostic, its thèmes (with their piliers), its sous-thèmes and its quartiers.
        """
        fields = self.form.fields
        slug = self.data.get(self.form.add_prefix("diagnostic")) or None

        fields["diagnostic"].queryset = diagnostics
        offered = list(
            diagnostics.filter(Exists(Theme.objects.filter(diagnostic=OuterRef("pk"))))
            .defer("created_at", "updated_at")
            .order_by("-annee_debut", "titre", "pk")
        )
        fields["diagnostic"].objects = offered
        if slug is None:
            current = offered[0] if len(offered) == 1 else None
        else:
            current = next((d for d in offered if d.slug == slug), None)

        fields["pilier"].queryset = Pilier.objects.filter(diagnostic__in=diagnostics)
        fields["pilier"].group_by = None  # the piliers of one diagnostic
        fields["theme"].queryset = Theme.objects.filter(diagnostic__in=diagnostics).select_related(
            "pilier"
        )
        fields["sous_theme"].queryset = SousTheme.objects.filter(
            diagnostic__in=diagnostics
        ).select_related("theme")
        fields["quartier"].queryset = Quartier.objects.order_by("code")
        fields["quartier"].complete = False  # any quartier, as before: tagged items may
        # name one that their diagnostic no longer lists
        if current is None:
            for name in ("pilier", "theme", "sous_theme", "quartier"):
                fields[name].objects = []
                fields[name].complete = False
                if len(offered) > 1:
                    fields[name].help_text = "Choisissez d'abord un diagnostic."
            return

        themes = list(
            Theme.objects.filter(diagnostic=current)
            .select_related("pilier")
            .order_by("pilier__numero", "position", "id")
        )
        for theme in themes:
            theme.pilier.diagnostic = current
        fields["pilier"].objects = dict.fromkeys(theme.pilier for theme in themes)
        fields["theme"].objects = themes
        fields["sous_theme"].objects = (
            SousTheme.objects.filter(diagnostic=current)
            .select_related("theme")
            .order_by("theme__pilier__numero", "theme__position", "theme_id", "position", "id")
        )
        through = Diagnostic.quartiers.through
        fields["quartier"].objects = Quartier.objects.filter(
            Q(pk__in=through.objects.filter(diagnostic=current).values("quartier_id"))
            | ~Q(Exists(through.objects.filter(diagnostic=current)))
        ).order_by("code")

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
        return queryset.du_theme(theme)

    def filter_text(self, queryset, name, text):
        return search.matching(queryset, "libelle", text)

    def filter_quartier(self, queryset, name, quartier):
        """The items tagged with the quartier and, unless `perimetre` asks for the quartier
        only, those tagged with no quartier at all: they concern the whole territory."""
        tags = queryset.model.quartiers.through.objects
        item = queryset.model.quartiers.field.m2m_field_name()
        tagged = Exists(tags.filter(**{item: OuterRef("pk")}, quartier=quartier))
        if self.form.cleaned_data.get("perimetre") == QUARTIER_SEULEMENT:
            return queryset.filter(tagged)
        return queryset.filter(tagged | ~Exists(tags.filter(**{item: OuterRef("pk")})))

    def keep_all(self, queryset, name, value):
        return queryset


def parent_has_filter(kind):
    """A "with / without" filter: an item of `kind` under the same parent (sous-thème, or
    thème for theme-level items)."""
    word = kind.nom.singulier

    def filter_parent_has(queryset, name, answer):
        has = parent_has(kind.model)
        return queryset.filter(has if answer == "oui" else ~has)

    return django_filters.ChoiceFilter(
        label=word.capitalize(),
        choices=(("oui", f"Avec {word}"), ("non", f"Sans {word}")),
        method=filter_parent_has,
        empty_label=f"Avec ou sans {word}",
        help_text=(
            f"{kind.nom.un.capitalize()} est rattaché{kind.nom.e} au même sous-thème "
            "(ou au même thème)."
        ),
    )


class DifficulteFilterSet(ElementFilterSet):
    class Meta(ElementFilterSet.Meta):
        model = Difficulte


class RechercheForm(TextFormMixin, forms.Form):
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
