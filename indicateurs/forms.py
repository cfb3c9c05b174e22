"""Forms of the Équipe ville: an indicator's information, the values of one period for
every series at once, the change and the deletion of one measure.

Numbers are typed the French way ("12,5"; "12.5" is accepted too). Forms that change an
existing object carry the version read (`version_lue`) for `indicateurs.entry`.
"""

import re

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.html import format_html

from .entry import incompatible_mesures
from .models import INFORMATIONS, YEAR_VALIDATORS, Indicateur, Mesure
from .tableau import serie_label

DECIMAL_ATTRS = {"inputmode": "decimal", "autocomplete": "off"}


class FrenchDecimalField(forms.DecimalField):
    """A number typed the French way: "1 234,5" (spaces between thousands, of any kind)."""

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"[\s\u00a0\u202f]", "", value)
        return super().to_python(value)


def decimal_field(label, required=False, help_text=""):
    return FrenchDecimalField(
        label=label,
        required=required,
        max_digits=16,
        decimal_places=4,
        localize=True,
        help_text=help_text,
        widget=forms.TextInput(attrs=DECIMAL_ATTRS),
        error_messages={
            "invalid": "Saisissez un nombre, par exemple 12,5.",
            "max_decimal_places": "Quatre chiffres après la virgule au plus.",
            "max_digits": "Ce nombre est trop long.",
            "max_whole_digits": "Ce nombre est trop grand.",
        },
    )


def error_summary(*forms):
    """[(label, message, id of the field)] of every error of these forms, for the summary
    at the top of the page (the id is "" for an error of the whole form)."""
    summary = []
    for form in forms:
        summary += [("", message, "") for message in form.non_field_errors()]
        for name, errors in form.errors.items():
            if name == NON_FIELD_ERRORS:
                continue
            bound = form[name]
            ident = "" if bound.is_hidden else bound.id_for_label
            summary += [("" if bound.is_hidden else bound.label, m, ident) for m in errors]
    return summary


class VersionMixin(forms.Form):
    version_lue = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version_lue"].initial = self.instance.version
        self.fields["version_lue"].error_messages["required"] = (
            "Le formulaire est incomplet : rechargez la page et recommencez."
        )

    def error_summary(self):
        return error_summary(self)


class IndicateurForm(VersionMixin, forms.ModelForm):
    """The information of an indicator (its libellé and place are edited elsewhere)."""

    valeur_reference = decimal_field("Valeur de référence")
    valeur_cible = decimal_field("Valeur cible")

    class Meta:
        model = Indicateur
        fields = INFORMATIONS
        widgets = {
            "definition": forms.Textarea(attrs={"rows": 3}),
            "mode_calcul": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "unite": "Par exemple « % », « personnes », « € ».",
            "sens_souhaite": "Sert à situer la dernière valeur par rapport à la cible.",
            "compte_des_personnes": (
                "Secret statistique : les valeurs inférieures au seuil sont masquées "
                "aux partenaires."
            ),
        }

    FIELDSETS = (
        ("Nature de l’indicateur", ("type", "unite", "compte_des_personnes")),
        ("Définition", ("definition", "mode_calcul", "source_donnees", "periodicite")),
        (
            "Objectif",
            ("sens_souhaite", "valeur_reference", "annee_reference", "valeur_cible", "annee_cible"),
        ),
    )

    @property
    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def clean(self):
        data = super().clean()
        for valeur, annee, nom in (
            ("valeur_reference", "annee_reference", "référence"),
            ("valeur_cible", "annee_cible", "cible"),
        ):
            if (data.get(valeur) is None) != (data.get(annee) is None) and not (
                self.has_error(valeur) or self.has_error(annee)
            ):
                champ = annee if data.get(annee) is None else valeur
                self.add_error(
                    champ, f"Donnez la valeur {nom} et son année ensemble, ou aucune des deux."
                )
        type_ = data.get("type")
        if type_ and type_ != self.instance.type and self.instance.pk:
            incompatibles = incompatible_mesures(self.instance, type_).count()
            if incompatibles:
                nature = (
                    "un constat écrit" if type_ == Indicateur.Type.QUANTITATIF else "une valeur"
                )
                self.add_error(
                    "type",
                    f"{incompatibles} mesure{'s' if incompatibles > 1 else ''} de cet "
                    f"indicateur {'ont' if incompatibles > 1 else 'a'} {nature} : "
                    "modifiez-les ou supprimez-les avant de changer le type.",
                )
        return data


class PeriodeForm(forms.Form):
    """The period of a saisie, with the source and comment given to all its values."""

    annee = forms.IntegerField(label="Année", validators=YEAR_VALIDATORS)
    type_periode = forms.ChoiceField(
        label="Période", choices=Mesure.TypePeriode.choices, initial=Mesure.TypePeriode.ANNEE
    )
    numero_periode = forms.IntegerField(
        label="Numéro du trimestre ou du mois",
        required=False,
        min_value=1,
        max_value=12,
        help_text="De 1 à 4 pour un trimestre, de 1 à 12 pour un mois ; vide pour l'année.",
    )
    source = forms.CharField(label="Source", max_length=200, required=False)
    commentaire = forms.CharField(
        label="Commentaire", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        type_periode, numero = data.get("type_periode"), data.get("numero_periode")
        if self.has_error("numero_periode"):
            return data
        if type_periode == Mesure.TypePeriode.ANNEE:
            if numero:
                self.add_error("numero_periode", "Laissez ce champ vide pour une année entière.")
            else:
                data["numero_periode"] = 0
        elif type_periode == Mesure.TypePeriode.TRIMESTRE and not (numero and numero <= 4):
            self.add_error("numero_periode", "Indiquez un trimestre, de 1 à 4.")
        elif type_periode == Mesure.TypePeriode.MOIS and not numero:
            self.add_error("numero_periode", "Indiquez un mois, de 1 à 12.")
        return data


class ValeurForm(forms.Form):
    """The value of one series (the whole territory or one quartier) in a saisie."""

    def __init__(self, *args, quartier=None, indicateur=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.quartier = quartier
        label = serie_label(quartier)
        if quartier is not None:
            label = f"{label} ({quartier.code})"
        if indicateur.type == Indicateur.Type.QUALITATIF:
            self.fields["texte"] = forms.CharField(
                label=label, required=False, widget=forms.Textarea(attrs={"rows": 3})
            )
        else:
            # Django does not escape help texts: the unit is typed by people.
            self.fields["valeur"] = decimal_field(label)  # the unit is in the legend

    @property
    def field(self):
        return self[next(iter(self.fields))]

    def filled(self):
        data = getattr(self, "cleaned_data", {})
        return data.get("valeur") is not None or bool((data.get("texte") or "").strip())


class BaseValeurFormSet(forms.BaseFormSet):
    """One ValeurForm per series; the series come from the view, never from the form."""

    def __init__(self, *args, series, indicateur, **kwargs):
        self.series, self.indicateur = series, indicateur
        super().__init__(*args, **kwargs)

    def total_form_count(self):
        return len(self.series)

    def get_form_kwargs(self, index):
        return {"quartier": self.series[index], "indicateur": self.indicateur}


ValeurFormSet = forms.formset_factory(ValeurForm, formset=BaseValeurFormSet, extra=0)


class SaisieForm:
    """The saisie of one period: the period (PeriodeForm) and a value per series.

    `is_valid()` also checks each new measure against the model's rules (a value that
    already exists for this period and quartier is reported beside its field);
    `mesures` are then ready for `indicateurs.entry.save_mesures`.
    """

    def __init__(self, indicateur, series, data=None, initial=None):
        self.indicateur = indicateur
        self.periode = PeriodeForm(data, initial=initial)
        self.valeurs = ValeurFormSet(data, series=series, indicateur=indicateur, prefix="valeurs")
        self.mesures = []
        self.non_field_errors = []

    def error_summary(self):
        summary = [("", message, "") for message in self.non_field_errors]
        summary += [("", message, "") for message in self.valeurs.non_form_errors()]
        return summary + error_summary(self.periode, *self.valeurs)

    def is_valid(self):
        periode_ok = self.periode.is_valid()
        valeurs_ok = self.valeurs.is_valid()
        if not (periode_ok and valeurs_ok):
            return False
        remplis = [form for form in self.valeurs if form.filled()]
        if not remplis:
            self.non_field_errors.append("Saisissez au moins une valeur.")
            return False
        periode = self.periode.cleaned_data
        for form in remplis:
            mesure = Mesure(
                indicateur=self.indicateur,
                annee=periode["annee"],
                type_periode=periode["type_periode"],
                numero_periode=periode["numero_periode"],
                quartier=form.quartier,
                valeur=form.cleaned_data.get("valeur"),
                texte=(form.cleaned_data.get("texte") or "").strip(),
                source=periode["source"],
                commentaire=periode["commentaire"],
            )
            try:
                mesure.full_clean(exclude=["saisi_par"])
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(next(iter(form.fields)), message)
            self.mesures.append(mesure)
        return not any(form.errors for form in remplis)


class MesureForm(VersionMixin, forms.ModelForm):
    """The change of one measure: its value (or constat), source and comment."""

    valeur = decimal_field("Valeur")

    class Meta:
        model = Mesure
        fields = ["valeur", "texte", "source", "commentaire"]
        widgets = {
            "texte": forms.Textarea(attrs={"rows": 4}),
            "commentaire": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        type_ = self.instance.indicateur.type
        if type_ == Indicateur.Type.QUANTITATIF:
            del self.fields["texte"]
        elif type_ == Indicateur.Type.QUALITATIF:
            del self.fields["valeur"]
        if "valeur" in self.fields and self.instance.indicateur.unite:
            self.fields["valeur"].help_text = format_html("En {}.", self.instance.indicateur.unite)


class SuppressionForm(VersionMixin, forms.Form):
    """The confirmation of a deletion."""

    def __init__(self, *args, instance, **kwargs):
        self.instance = instance
        super().__init__(*args, **kwargs)
