"""Forms of the edit pages: French labels, a hidden version, choices scoped to the diagnostic.

Every form that changes an existing object carries the `version` the person started
from (hidden). When the save finds another version (`editing.StaleEdit`), the view calls
`show_stale()`: the form is shown again with the person's input, the values saved by
the other person beside each field, and the current version, so that a deliberate
second submit wins.
"""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Exists, Q

from ..editing import clean_libelles, short
from ..imports.cells import split_items
from ..models import Diagnostic, Difficulte, Quartier, SousTheme, Theme
from ..text import ITEM_MAX_LENGTH
from .fields import TextFormMixin

MISSING_VERSION = (
    "Ce formulaire est incomplet (numéro de version absent) : rechargez la page et recommencez."
)
ELEMENT_MAX_LENGTH = ITEM_MAX_LENGTH  # the model's limit (Element.libelle)


class VersionedForm(TextFormMixin, forms.Form):
    """A hidden `version` field and what the page needs to show a conflict."""

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": MISSING_VERSION,
            "invalid": MISSING_VERSION,
            "min_value": MISSING_VERSION,
        },
    )

    def __init__(self, *args, current_version=None, **kwargs):
        super().__init__(*args, **kwargs)
        if current_version is not None:
            self.fields["version"].initial = current_version
        self.stale = None
        self.current_values = {}

    def show_stale(self, current, changed_by, changed_at):
        """Show the form again after a save refused on a stale version."""
        self.stale = {"par": changed_by, "le": changed_at}
        data = self.data.copy()
        data["version"] = current.version
        self.data = data
        self.current_values = {
            name: value
            for name, value in self.current_display(current).items()
            if name in self.fields
        }

    def current_display(self, current):
        """{field name: the value saved now, as text}; forms override it."""
        return {}

    def rows(self):
        """(bound field, value saved by the other person or None) for the template."""
        return [(field, self.current_values.get(field.name)) for field in self.visible_fields()]

    def hidden_errors(self):
        return [error for field in self.hidden_fields() for error in field.errors]

    def add_validation_error(self, error):
        """Attach a ValidationError from `diagnostics.editing` to the field it names."""
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                target = name if name in self.fields and name != "version" else None
                for message in messages:
                    self.add_error(None if name == NON_FIELD_ERRORS else target, message)
        else:
            for message in error.messages:
                self.add_error(None, message)


def quartier_choices(diagnostic, element=None):
    """The diagnostic's quartiers (all quartiers when it names none), and those the item
    is already tagged with, in one query."""
    through = Diagnostic.quartiers.through
    condition = Q(pk__in=through.objects.filter(diagnostic=diagnostic).values("quartier_id")) | ~Q(
        Exists(through.objects.filter(diagnostic=diagnostic))
    )
    if element is not None and element.pk:
        tags = type(element).quartiers.through.objects.filter(
            **{type(element)._meta.model_name: element.pk}
        )
        condition |= Q(pk__in=tags.values("quartier_id"))
    return Quartier.objects.filter(condition).order_by("nom")


def quartiers_text(quartiers):
    return ", ".join(q.nom for q in quartiers) or "aucun (tout le territoire)"


# Items ----------------------------------------------------------------------------------


class ElementForm(VersionedForm, forms.ModelForm):
    """Add or edit a difficulté or an indicateur: its libellé and quartiers."""

    class Meta:
        model = Difficulte
        fields = ["libelle", "quartiers"]
        widgets = {
            "libelle": forms.Textarea(attrs={"rows": 4}),
            "quartiers": forms.CheckboxSelectMultiple,
        }
        labels = {"libelle": "Libellé", "quartiers": "Quartiers concernés"}
        help_texts = {
            "quartiers": "Cochez les quartiers prioritaires concernés ; aucun : tout le territoire."
        }

    def __init__(self, *args, diagnostic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quartiers"].queryset = quartier_choices(diagnostic, self.instance)
        if self.instance.pk is None:
            del self.fields["version"]

    def clean_libelle(self):
        libelle = self.cleaned_data["libelle"].strip()
        if not libelle:
            raise ValidationError("Le libellé ne peut pas être vide.")
        return libelle

    def current_display(self, current):
        return {
            "libelle": current.libelle,
            "quartiers": quartiers_text(current.quartiers.order_by("nom")),
        }


def element_form_class(model):
    return forms.modelform_factory(model, form=ElementForm, fields=ElementForm.Meta.fields)


# Piliers, thèmes, sous-thèmes -----------------------------------------------------------


class NodeForm(VersionedForm, forms.ModelForm):
    """Add or rename a pilier, a thème or a sous-thème."""

    class Meta:
        model = Theme
        fields = ["libelle"]
        labels = {"libelle": "Libellé"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["libelle"].widget.attrs.update({"size": 60})
        if self.instance.pk is None:
            del self.fields["version"]

    def clean_libelle(self):
        libelle = " ".join(self.cleaned_data["libelle"].split())
        if not libelle:
            raise ValidationError("Le libellé ne peut pas être vide.")
        return libelle

    def current_display(self, current):
        return {"libelle": current.libelle}


def node_form_class(model):
    return forms.modelform_factory(model, form=NodeForm, fields=NodeForm.Meta.fields)


# Moves ----------------------------------------------------------------------------------


def _pilier_label(pilier):
    return f"Pilier {pilier.numero} : {pilier.libelle}"


class MoveElementForm(VersionedForm):
    """Move an item to a sous-thème or a thème's own level of the diagnostic."""

    destination = forms.ChoiceField(
        label="Nouvel emplacement",
        help_text="L'élément sera placé en dernier à cet emplacement.",
    )

    def __init__(self, *args, element, diagnostic, **kwargs):
        super().__init__(*args, **kwargs)
        self.element = element
        themes = list(
            Theme.objects.filter(diagnostic=diagnostic)
            .select_related("pilier")
            .order_by("pilier__numero", "position", "pk")
        )
        by_theme = {}
        for sous_theme in SousTheme.objects.filter(diagnostic=diagnostic).order_by(
            "position", "pk"
        ):
            by_theme.setdefault(sous_theme.theme_id, []).append(sous_theme)
        self.destinations, groups = {}, {}
        for theme in themes:
            options = groups.setdefault(_pilier_label(theme.pilier), [])
            key = f"theme-{theme.pk}"
            self.destinations[key] = theme
            options.append((key, f"{theme.libelle} — au niveau du thème"))
            for sous_theme in by_theme.get(theme.pk, []):
                key = f"sous_theme-{sous_theme.pk}"
                sous_theme.theme = theme
                self.destinations[key] = sous_theme
                options.append((key, f"{theme.libelle} › {sous_theme.libelle}"))
        self.fields["destination"].choices = [("", "Choisissez un emplacement")] + list(
            groups.items()
        )
        self.fields["destination"].initial = self.key_of(element)

    @staticmethod
    def key_of(element):
        if element.sous_theme_id:
            return f"sous_theme-{element.sous_theme_id}"
        return f"theme-{element.theme_id}"

    def clean_destination(self):
        key = self.cleaned_data["destination"]
        if key == self.key_of(self.element):
            raise ValidationError("C'est l'emplacement actuel : choisissez-en un autre.")
        return self.destinations[key]

    def current_display(self, current):
        destination = self.destinations.get(self.key_of(current))
        if destination is None:
            return {}
        if isinstance(destination, SousTheme):
            return {"destination": f"{destination.theme.libelle} › {destination.libelle}"}
        return {"destination": f"{destination.libelle} — au niveau du thème"}


class MoveSousThemeForm(VersionedForm):
    """Move a sous-thème, with its items, to another thème of the diagnostic."""

    theme = forms.ChoiceField(
        label="Nouveau thème",
        help_text="Le sous-thème et ses éléments seront placés en dernier dans ce thème.",
    )

    def __init__(self, *args, sous_theme, diagnostic, **kwargs):
        super().__init__(*args, **kwargs)
        self.sous_theme = sous_theme
        self.themes, groups = {}, {}
        for theme in (
            Theme.objects.filter(diagnostic=diagnostic)
            .select_related("pilier")
            .order_by("pilier__numero", "position", "pk")
        ):
            self.themes[str(theme.pk)] = theme
            groups.setdefault(_pilier_label(theme.pilier), []).append(
                (str(theme.pk), theme.libelle)
            )
        self.fields["theme"].choices = [("", "Choisissez un thème")] + list(groups.items())
        self.fields["theme"].initial = str(sous_theme.theme_id)

    def clean_theme(self):
        key = self.cleaned_data["theme"]
        if key == str(self.sous_theme.theme_id):
            raise ValidationError("C'est le thème actuel : choisissez-en un autre.")
        return self.themes[key]

    def current_display(self, current):
        theme = self.themes.get(str(current.theme_id))
        return {"theme": theme.libelle} if theme else {}


# Split and merge ------------------------------------------------------------------------


class SplitForm(VersionedForm):
    libelles = forms.CharField(
        label="Libellés, un par ligne",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=ELEMENT_MAX_LENGTH * 4,
    )

    def __init__(self, *args, element, **kwargs):
        super().__init__(*args, **kwargs)
        nom = "difficulté" if isinstance(element, Difficulte) else "indicateur"
        self.fields["libelles"].help_text = (
            f"La première ligne remplace le libellé actuel ; chaque ligne suivante devient "
            f"{'une nouvelle' if nom == 'difficulté' else 'un nouvel'} {nom}, placé"
            f"{'e' if nom == 'difficulté' else ''} juste après, avec la même provenance et "
            "les mêmes quartiers."
        )
        parts = split_items(element.libelle)
        self.fields["libelles"].initial = "\n".join(parts if len(parts) > 1 else [element.libelle])

    def clean_libelles(self):
        libelles = clean_libelles(self.cleaned_data["libelles"].splitlines())
        if len(libelles) < 2:
            raise ValidationError("Indiquez au moins deux libellés, un par ligne, pour scinder.")
        for number, libelle in enumerate(libelles, start=1):
            if len(libelle) > ELEMENT_MAX_LENGTH:
                raise ValidationError(
                    f"Le libellé n° {number} fait {len(libelle)} caractères : "
                    f"{ELEMENT_MAX_LENGTH} au plus."
                )
        return libelles

    def current_display(self, current):
        return {"libelles": current.libelle}


class VersionedChoices(forms.MultipleChoiceField):
    """Choices "pk:version": a choice made on an older version of an item stays valid
    here, so that the operation reports the change (StaleEdit) instead of a bare error."""

    def valid_value(self, value):
        pk = str(value).split(":")[0]
        return any(str(choice).split(":")[0] == pk for choice, _ in self.choices)


class MergeForm(VersionedForm):
    autres = VersionedChoices(
        label="Éléments à fusionner avec celui-ci",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Cochez au moins un élément à fusionner avec celui-ci."},
    )
    libelle = forms.CharField(
        label="Libellé de l'élément fusionné",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=ELEMENT_MAX_LENGTH,
        help_text="Laissez vide pour joindre les libellés en phrases, dans leur ordre.",
    )

    def __init__(self, *args, element, **kwargs):
        super().__init__(*args, **kwargs)
        self.element = element
        self.candidates = list(
            type(element)
            .objects.filter(theme_id=element.theme_id, sous_theme_id=element.sous_theme_id)
            .exclude(pk=element.pk)
            .order_by("position", "pk")
        )
        # A choice carries the version the person saw: a merge of an item changed since
        # is refused (StaleEdit) rather than losing that change.
        self.fields["autres"].choices = [
            (f"{item.pk}:{item.version}", short(item.libelle, 200)) for item in self.candidates
        ]

    def clean_autres(self):
        try:
            return {
                int(pk): int(version)
                for pk, version in (value.split(":") for value in self.cleaned_data["autres"])
            }
        except ValueError as error:
            raise ValidationError(MISSING_VERSION) from error

    def current_display(self, current):
        return {"libelle": current.libelle}


# Deletion and restoration ---------------------------------------------------------------


class DeleteForm(VersionedForm):
    """A confirmation: the version checks that what is deleted is what was shown."""


class RestoreForm(VersionedForm):
    """A confirmation; the version is that of the object as shown (none if deleted)."""

    def __init__(self, *args, deleted, **kwargs):
        super().__init__(*args, **kwargs)
        if deleted:
            del self.fields["version"]
