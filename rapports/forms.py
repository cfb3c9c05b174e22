"""The forms of the annual reports' pages. They check the input's shape (a date, a choice,
a length); the rules are the domain's (`rapports.consultation`, `rapports.etats`), whose
`ValidationError`s the views add to the form."""

from django import forms
from django.utils import timezone

from diagnostics.forms.fields import TextFormMixin

from . import balisage, consultation, fichiers
from .models import ANNEE_MAX, ANNEE_MIN, Instance

# Consultation -------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    """A date picker; its value in ISO format (what <input type="date"> reads)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class InstanceForm(TextFormMixin, forms.Form):
    """A body consulted on the draft report."""

    nature = forms.ChoiceField(label="Nature", choices=Instance.Nature.choices)
    nom = forms.CharField(
        label="Nom de l'instance",
        max_length=consultation.NOM_MAX,
        help_text="Par exemple « Conseil citoyen de Fontbouillant ».",
    )
    date_envoi = forms.DateField(label="Projet envoyé le", widget=DateInput())
    date_limite = forms.DateField(
        label="Date limite de l'avis",
        required=False,
        widget=DateInput(),
        help_text=(
            "Au moins un mois après l'envoi. Laissez vide pour retenir un mois exactement "
            "(le 31 janvier donne le 28 ou 29 février)."
        ),
    )


class _JetonForm(TextFormMixin, forms.Form):
    """A form on an instance: `jeton` is the state it was drawn from (stale edits). The
    page holds several of them: each has its own ids (`prefixe_ids`)."""

    prefixe_ids = ""
    jeton = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.prefixe_ids}_%s")
        super().__init__(*args, **kwargs)


class AvisForm(_JetonForm):
    """The opinion of a body: recorded (or corrected) while the report is in consultation."""

    prefixe_ids = "avis"

    avis = forms.ChoiceField(
        label="Avis rendu", choices=[("", "Choisissez…"), *Instance.Avis.choices]
    )
    avis_date = forms.DateField(label="Avis rendu le", widget=DateInput())
    avis_texte = forms.CharField(
        label="Texte de l'avis",
        required=False,
        max_length=consultation.TEXTE_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Il figure en annexe du rapport. Séparez les paragraphes par une ligne vide.",
    )
    fichier = forms.FileField(
        label="Avis signé (facultatif)",
        required=False,
        widget=forms.FileInput(attrs={"accept": fichiers.ACCEPTES}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fichier"].help_text = (
            "PDF, ODT (LibreOffice) ou DOCX (Word), sans macros, "
            f"{fichiers.file_size(fichiers.maximum())} au plus. Il remplace le fichier "
            "déjà enregistré. Il n'est lisible que par les membres du contrat."
        )


class SuiteForm(_JetonForm):
    """The follow-up the assembly gives to the opinion."""

    prefixe_ids = "suite"

    suite_donnee = forms.CharField(
        label="Suite donnée par l'assemblée",
        required=False,
        max_length=consultation.TEXTE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class SupprimerForm(_JetonForm):
    """Removes a body recorded by mistake."""

    prefixe_ids = "retirer"


# The report ---------------------------------------------------------------------------------


class CommencerForm(forms.Form):
    annee = forms.TypedChoiceField(label="Année du rapport", coerce=int)
    dsu = forms.BooleanField(
        label="Une commune du contrat perçoit la dotation de solidarité urbaine (DSU)",
        required=False,
        help_text="Le rapport comprend alors la section des actions financées par la DSU.",
    )

    def __init__(self, contrat, *args, **kwargs):
        super().__init__(*args, **kwargs)
        courante = timezone.localdate().year
        debut = max(ANNEE_MIN, contrat.annee_debut)
        fin = min(ANNEE_MAX, max(debut, min(contrat.annee_fin, courante)))
        annees = list(range(fin, debut - 1, -1))
        self.fields["annee"].choices = [(a, str(a)) for a in annees]
        self.fields["annee"].initial = courante - 1 if courante - 1 in annees else annees[0]


class SectionForm(forms.Form):
    titre = forms.CharField(label="Titre de la contribution", max_length=255, required=False)
    texte = forms.CharField(
        label="Texte",
        required=False,
        max_length=balisage.TEXTE_MAX,
        widget=forms.Textarea(attrs={"rows": 18, "aria-describedby": "aide-syntaxe"}),
        strip=False,
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31 - 1)

    def __init__(self, *args, contribution=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not contribution:
            del self.fields["titre"]
        else:
            self.fields["titre"].required = True


class ContributionForm(forms.Form):
    membre = forms.TypedChoiceField(label="Partenaire sollicité", coerce=int)
    titre = forms.CharField(
        label="Titre de la contribution",
        max_length=255,
        help_text="Par exemple « Actions de la CAF dans les quartiers en 2025 ».",
    )

    def __init__(self, partenaires, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.partenaires = {membre.pk: membre for membre in partenaires}
        self.fields["membre"].choices = [(membre.pk, membre.titulaire) for membre in partenaires]

    def clean_membre(self):
        pk = self.cleaned_data["membre"]
        if pk not in self.partenaires:
            raise forms.ValidationError("Ce partenaire n'est pas membre de ce contrat.")
        return self.partenaires[pk]


class AdoptionForm(forms.Form):
    date_deliberation = forms.DateField(
        label="Date de la délibération",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Indiquez la date de la délibération.",
            "invalid": "La date de la délibération est illisible (jj/mm/aaaa).",
        },
    )
    instance_deliberante = forms.CharField(
        label="Assemblée délibérante",
        max_length=200,
        required=False,
        help_text="Par exemple « Conseil communautaire de Montluçon Communauté ».",
    )
