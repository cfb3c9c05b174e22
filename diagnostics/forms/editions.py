"""Forms of the contract's page: starting a new edition, unpublishing one."""

from django import forms
from django.utils import timezone

from .fields import TextFormMixin

NOM_MAX_LENGTH = 200


class NouvelleEditionForm(TextFormMixin, forms.Form):
    nom = forms.CharField(
        label="Nom de l'édition",
        max_length=NOM_MAX_LENGTH,
        help_text="Par exemple « Révision à mi-parcours — 2027 ».",
        error_messages={"required": "Donnez un nom à la nouvelle édition."},
    )
    date = forms.DateField(
        label="Date de l'édition",
        help_text="Au format JJ/MM/AAAA, par exemple 15/03/2027.",
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        initial=lambda: timezone.localdate().strftime("%d/%m/%Y"),
        error_messages={
            "required": "Indiquez la date de l'édition.",
            "invalid": "Cette date n'est pas valide : écrivez-la au format JJ/MM/AAAA.",
        },
    )

    def __init__(self, *args, contrat=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.contrat = contrat

    def clean_date(self):
        date = self.cleaned_data["date"]
        if self.contrat is not None and not (
            self.contrat.annee_debut <= date.year <= self.contrat.annee_fin
        ):
            raise forms.ValidationError(
                f"La date doit tomber dans la période du contrat ({self.contrat.periode})."
            )
        return date


class DepublicationForm(TextFormMixin, forms.Form):
    motif = forms.CharField(
        label="Motif de la dépublication",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Il est gardé dans l'historique de l'édition.",
        error_messages={"required": "Indiquez pourquoi l'édition est dépubliée."},
    )
