"""The forms of the import screens (diagnostics.views.imports)."""

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from ..editions.states import ensure_modifiable
from ..imports import formats, natures, upload
from ..imports.reconcile import Choices
from ..models import Diagnostic, Import
from ..text import file_size
from .fields import TextFormMixin


def max_file_size(nature):
    """The size limit of a file of this nature (bytes)."""
    registered = natures.get(nature)
    return registered.max_file_size if registered else settings.IMPORT_MAX_FILE_SIZE


class UploadForm(TextFormMixin, forms.Form):
    nature = forms.ChoiceField(
        label="Nature du fichier",
        initial=Import.Nature.DIAGNOSTIC,
        widget=forms.RadioSelect,
    )
    diagnostic = forms.ModelChoiceField(
        label="Diagnostic",
        queryset=Diagnostic.objects.order_by("-annee_debut", "titre"),
        required=False,
        empty_label="Nouveau diagnostic, créé par l'import",
    )
    titre = forms.CharField(
        label="Titre du nouveau diagnostic",
        required=False,
        max_length=Diagnostic._meta.get_field("titre").max_length,
    )
    slug = forms.SlugField(
        label="Identifiant court du nouveau diagnostic",
        required=False,
        max_length=Diagnostic._meta.get_field("slug").max_length,
        help_text="Lettres minuscules sans accents, chiffres et tirets : montlucon-2024.",
    )
    territoire = forms.CharField(
        label="Territoire du nouveau diagnostic",
        required=False,
        max_length=Diagnostic._meta.get_field("territoire").max_length,
        help_text="Commune ou intercommunalité signataire, ex. Montluçon Communauté.",
    )
    annee_debut = forms.IntegerField(
        label="Année de début", required=False, initial=2024, min_value=1990, max_value=2100
    )
    annee_fin = forms.IntegerField(
        label="Année de fin", required=False, initial=2030, min_value=1990, max_value=2100
    )
    fichier = forms.FileField(
        label="Fichier",
        # What the file chooser offers first; any file may still be sent (and is checked).
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(formats.ACCEPTED_TYPES)}),
    )

    NEW_FIELDS = upload.NEW_DIAGNOSTIC_FIELDS

    def __init__(self, *args, diagnostics, too_large=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        # Only the diagnostics the user administers.
        self.fields["diagnostic"].queryset = diagnostics.order_by("-annee_debut", "titre")
        offered = natures.all_natures()
        self.fields["nature"].choices = [(nature.key, nature.label) for nature in offered]
        aide = " ; ".join(nature.aide for nature in offered)
        self.fields["diagnostic"].help_text = f"{aide[:1].upper()}{aide[1:]}."
        limits = [f"{file_size(nature.max_file_size)} pour {nature.pour}" for nature in offered]
        limits[0] = limits[0].replace(" pour ", " au plus pour ", 1)
        self.fields["fichier"].help_text = (
            f"Classeur Excel (.xlsx) ou ODS (LibreOffice, .ods), ou tableau texte (.csv, .tsv, "
            f".txt) ; {', '.join(limits)}."
        )

    def full_clean(self):
        super().full_clean()
        if self.too_large and self.is_bound:
            # The file was not received: say why, rather than "required".
            self.cleaned_data.pop("fichier", None)
            self._errors["fichier"] = self.error_class([self.too_large_message()])

    def too_large_message(self):
        limit = max_file_size(self.data.get("nature"))
        return f"Le fichier dépasse la taille maximale acceptée ({file_size(limit)})."

    def clean(self):
        data = super().clean()
        fichier = data.get("fichier")
        if fichier is not None and fichier.size > max_file_size(data.get("nature")):
            self.add_error("fichier", self.too_large_message())
        if data.get("diagnostic") is not None:
            try:  # nothing goes into a frozen edition
                ensure_modifiable(data["diagnostic"])
            except ValidationError as error:
                self.add_error("diagnostic", error)
            return data
        nature = natures.get(data.get("nature"))
        if nature is not None and not nature.creates_diagnostic:
            self.add_error("diagnostic", nature.diagnostic_required)
            return data
        missing = [name for name in self.NEW_FIELDS if data.get(name) in (None, "")]
        for name in missing:
            self.add_error(name, "Ce champ est obligatoire pour créer un nouveau diagnostic.")
        if not missing:
            self._check_new_diagnostic(data)
        return data

    def _check_new_diagnostic(self, data):
        diagnostic = Diagnostic(**{name: data[name] for name in self.NEW_FIELDS})
        try:
            # Its contract is created with it (`Diagnostic.save`).
            diagnostic.full_clean(exclude=["statut", "est_public", "contrat"])
        except ValidationError as error:
            for name, field_messages in error.message_dict.items():
                for message in field_messages:
                    self.add_error(name if name in self.fields else None, message)

    def new_diagnostic(self):
        return {name: self.cleaned_data[name] for name in self.NEW_FIELDS}


# The choices of the preview ------------------------------------------------------------------

CHOICE = re.compile(r"^[a-z_]{1,30}:[0-9]{1,12}$")
MAX_CHOICES = 20_000


class ChoicesField(forms.Field):
    """The values of the boxes ticked under one name ("difficulte:12"), checked for their
    form only: the import applies those that still apply, and warns of the others."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        return [] if not value else [str(item) for item in value]

    def validate(self, value):
        super().validate(value)
        if len(value) > MAX_CHOICES:
            raise ValidationError("Trop de cases cochées.")
        if any(not CHOICE.match(item) for item in value):
            raise ValidationError("Une case cochée n'est pas reconnue : rechargez l'aperçu.")


class ReconciliationForm(TextFormMixin, forms.Form):
    """What the administrator ticks on the preview of a source table for an existing
    edition: the cells whose file's version is taken, the items absent from the file
    to remove."""

    version_fichier = ChoicesField(label="Prendre la version du fichier", required=False)
    retirer = ChoicesField(label="Retirer du site", required=False)

    def choices(self):
        return Choices.of(self.cleaned_data["version_fichier"], self.cleaned_data["retirer"])
