"""The form of the référentiel's page (diagnostics.views.referentiel)."""

from django import forms

from ..quartiers.referentiel import GARDE_MINIMUM, max_file_size
from ..text import file_size


class ReferentielForm(forms.Form):
    fichier = forms.FileField(
        label="Fichier du référentiel",
        widget=forms.ClearableFileInput(attrs={"accept": ".geojson,.json,.csv,.txt"}),
    )
    forcer = forms.BooleanField(
        label="Forcer l’import d’un fichier qui décrit bien moins de quartiers qu’aujourd’hui",
        required=False,
        help_text=(
            f"Quand le référentiel compte au moins {GARDE_MINIMUM} quartiers, un fichier qui en "
            "décrit moins de la moitié est refusé : c’est souvent un extrait ou un téléchargement "
            "interrompu. Cochez pour le charger quand même ; les quartiers absents du fichier "
            "restent tels quels."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fichier"].help_text = (
            "Le GeoJSON des quartiers prioritaires publié par l’ANCT (WGS 84), ou la liste en "
            f"CSV (colonnes code_qp, lib_qp, insee_com), sans contours ; "
            f"{file_size(max_file_size())} au plus."
        )

    def clean_fichier(self):
        fichier = self.cleaned_data["fichier"]
        if fichier.size > max_file_size():
            raise forms.ValidationError(
                f"Le fichier dépasse la taille maximale acceptée ({file_size(max_file_size())})."
            )
        return fichier
