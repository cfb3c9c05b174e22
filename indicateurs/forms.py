"""Forms of the Équipe ville: an indicator's information, the values of one period for
every series at once, the change and the deletion of one measure.

Numbers are typed the French way ("12,5"; "12.5" is accepted too). Forms that change an
existing object carry the version read (`version_lue`) for `indicateurs.entry`.
"""

import re

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.html import format_html

from diagnostics.forms.fields import TextFormMixin

from .entry import incompatible_mesures, other_period_mesures, rate_incompatible_mesures
from .models import (
    INFORMATIONS,
    TYPE_PERIODE_DE,
    YEAR_VALIDATORS,
    Indicateur,
    Mesure,
    aggregate_rate,
    period_mismatch_message,
)
from .secret import format_decimal
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


class VersionMixin(TextFormMixin, forms.Form):
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
    """The information of an indicator (its libellé and place are edited elsewhere; its
    references and targets by `ReperesForm`)."""

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
            "periodicite": (
                "Toutes les valeurs de l'indicateur ont cette périodicité, pour que les "
                "évolutions comparent des périodes de même nature."
            ),
            "compte_des_personnes": (
                "Secret statistique : les valeurs inférieures au seuil sont masquées "
                "aux partenaires."
            ),
        }

    FIELDSETS = (
        (
            "Nature de l’indicateur",
            ("type", "unite", "taux", "compte_des_personnes", "seuil_secret"),
        ),
        ("Définition", ("definition", "mode_calcul", "source_donnees", "periodicite")),
        ("Objectif", ("sens_souhaite",)),
    )

    @property
    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def clean(self):
        data = super().clean()
        if not self.instance.pk:
            return data
        type_ = data.get("type")
        if type_ and type_ != self.instance.type:
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
        kind = TYPE_PERIODE_DE.get(data.get("periodicite"))
        if kind and "periodicite" in self.changed_data:
            autres = other_period_mesures(self.instance, kind).count()
            if autres:
                self.add_error(
                    "periodicite",
                    f"{autres} valeur{'s' if autres > 1 else ''} de cet indicateur "
                    f"{'portent' if autres > 1 else 'porte'} sur une autre période : "
                    "modifiez-les ou supprimez-les avant de changer la périodicité.",
                )
        if "taux" in self.changed_data and not self.has_error("type"):
            sans_termes = rate_incompatible_mesures(self.instance, data.get("taux")).count()
            if sans_termes:
                quoi = (
                    "n'ont pas de numérateur et de dénominateur"
                    if data.get("taux")
                    else "ont un numérateur et un dénominateur"
                )
                self.add_error(
                    "taux",
                    f"{sans_termes} valeur{'s' if sans_termes > 1 else ''} de cet indicateur "
                    f"{quoi} : modifiez-les ou supprimez-les d'abord.",
                )
        return data


class ReperesForm(TextFormMixin, forms.Form):
    """The reference and the target of every scope of an indicator at once: the whole
    territory, then each quartier of the diagnostic (or already holding one). A value and
    its year go together; emptying both removes it.

    `etat_lu` carries what the page showed (`entry.reperes_state`): saving checks that
    nobody changed them meanwhile."""

    etat_lu = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, indicateur, scopes, existing, data=None):
        """`scopes`: [None, Quartier…]; `existing`: {(quartier id, nature): Mesure}."""
        super().__init__(data)
        self.indicateur, self.scopes, self.existing = indicateur, scopes, existing
        self.rows = []
        for lieu in scopes:
            prefix = "territoire" if lieu is None else f"q{lieu.pk}"
            names = {}
            label = serie_label(lieu)
            for nature, mot in (
                (Mesure.Nature.REFERENCE, "Référence"),
                (Mesure.Nature.CIBLE, "Cible"),
            ):
                mesure = existing.get((lieu.pk if lieu else None, nature))
                valeur_name, annee_name = f"{prefix}-{nature}", f"{prefix}-{nature}-annee"
                self.fields[valeur_name] = decimal_field(f"{mot} — {label}")
                self.fields[annee_name] = forms.IntegerField(
                    label=f"Année de la {mot.lower()} — {label}",
                    required=False,
                    validators=YEAR_VALIDATORS,
                    widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                )
                if mesure is not None:
                    # As typed: "22,5", not "22,5000".
                    self.fields[valeur_name].initial = format_decimal(mesure.valeur, grouping=False)
                    self.fields[annee_name].initial = mesure.annee
                names[nature] = (valeur_name, annee_name)
            source_name = f"{prefix}-source"
            self.fields[source_name] = forms.CharField(
                label=f"Source de la référence — {label}", max_length=200, required=False
            )
            reference = existing.get((lieu.pk if lieu else None, Mesure.Nature.REFERENCE))
            if reference is not None:
                self.fields[source_name].initial = reference.source
            self.rows.append((lieu, label, names, source_name))

    def table(self):
        """[(label of the scope, [reference, its year, its source, target, its year])]
        as bound fields, for the template."""
        return [
            (
                label,
                [
                    self[names[Mesure.Nature.REFERENCE][0]],
                    self[names[Mesure.Nature.REFERENCE][1]],
                    self[source_name],
                    self[names[Mesure.Nature.CIBLE][0]],
                    self[names[Mesure.Nature.CIBLE][1]],
                ],
            )
            for _, label, names, source_name in self.rows
        ]

    def clean(self):
        data = super().clean()
        self.changes = []
        for lieu, _, names, source_name in self.rows:
            for nature, (valeur_name, annee_name) in names.items():
                if self.has_error(valeur_name) or self.has_error(annee_name):
                    continue
                valeur, annee = data.get(valeur_name), data.get(annee_name)
                if (valeur is None) != (annee is None):
                    manque = annee_name if annee is None else valeur_name
                    self.add_error(
                        manque, "Donnez la valeur et son année ensemble, ou aucune des deux."
                    )
                    continue
                source = data.get(source_name, "") if nature == Mesure.Nature.REFERENCE else None
                self.changes.append((lieu, nature, valeur, annee, source))
        return data

    def error_summary(self):
        return error_summary(self)


class PeriodeForm(TextFormMixin, forms.Form):
    """The period of a saisie, with the source and comment given to all its values."""

    annee = forms.IntegerField(label="Année", validators=YEAR_VALIDATORS)
    type_periode = forms.ChoiceField(
        label="Période", choices=Mesure.TypePeriode.choices, initial=Mesure.TypePeriode.ANNEE
    )
    numero_periode = forms.IntegerField(
        label="Numéro du semestre, du trimestre ou du mois",
        required=False,
        min_value=1,
        max_value=12,
        help_text=(
            "1 ou 2 pour un semestre, de 1 à 4 pour un trimestre, de 1 à 12 pour un mois ; "
            "vide pour l'année."
        ),
    )
    source = forms.CharField(label="Source", max_length=200, required=False)
    commentaire = forms.CharField(
        label="Commentaire", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, indicateur, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicateur = indicateur
        if indicateur.type_periode:
            self.fields["type_periode"].initial = indicateur.type_periode
        if indicateur.taux:
            self.fields["agreger"] = forms.BooleanField(
                label="Calculer l'ensemble du territoire à partir des quartiers",
                required=False,
                help_text=(
                    "Quand le territoire est la réunion des quartiers : son numérateur et "
                    "son dénominateur sont alors les sommes de ceux des quartiers (jamais la "
                    "moyenne des taux). Laissez sa ligne vide."
                ),
            )

    def clean(self):
        data = super().clean()
        type_periode, numero = data.get("type_periode"), data.get("numero_periode")
        if type_periode and self.indicateur.type_periode not in (None, type_periode):
            message = period_mismatch_message(self.indicateur, type_periode)
            self.add_error("type_periode", message[:1].upper() + message[1:])
            return data
        if self.has_error("numero_periode"):
            return data
        if type_periode == Mesure.TypePeriode.ANNEE:
            if numero:
                self.add_error("numero_periode", "Laissez ce champ vide pour une année entière.")
            else:
                data["numero_periode"] = 0
        elif type_periode == Mesure.TypePeriode.SEMESTRE and not (numero and numero <= 2):
            self.add_error("numero_periode", "Indiquez un semestre, 1 ou 2.")
        elif type_periode == Mesure.TypePeriode.TRIMESTRE and not (numero and numero <= 4):
            self.add_error("numero_periode", "Indiquez un trimestre, de 1 à 4.")
        elif type_periode == Mesure.TypePeriode.MOIS and not numero:
            self.add_error("numero_periode", "Indiquez un mois, de 1 à 12.")
        return data


class ValeurForm(TextFormMixin, forms.Form):
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
        elif indicateur.taux:
            self.fields["numerateur"] = decimal_field(f"Numérateur — {label}")
            self.fields["denominateur"] = decimal_field(f"Dénominateur — {label}")
        else:
            # Django does not escape help texts: the unit is typed by people.
            self.fields["valeur"] = decimal_field(label)  # the unit is in the legend

    @property
    def field(self):
        return self[next(iter(self.fields))]

    def filled(self):
        data = getattr(self, "cleaned_data", {})
        return (
            data.get("valeur") is not None
            or data.get("numerateur") is not None
            or data.get("denominateur") is not None
            or bool((data.get("texte") or "").strip())
        )


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
        self.periode = PeriodeForm(data, initial=initial, indicateur=indicateur)
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
        if periode.get("agreger") and not self._aggregate(remplis):
            return False
        for form in remplis:
            mesure = Mesure(
                indicateur=self.indicateur,
                annee=periode["annee"],
                type_periode=periode["type_periode"],
                numero_periode=periode["numero_periode"],
                quartier=form.quartier,
                valeur=form.cleaned_data.get("valeur"),
                numerateur=form.cleaned_data.get("numerateur"),
                denominateur=form.cleaned_data.get("denominateur"),
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

    def _aggregate(self, remplis):
        """The territory's terms as the sums of the quartiers' (a rate): its row must be
        empty and every quartier's given. False (with the error) when it cannot be."""
        territoire = next(form for form in self.valeurs if form.quartier is None)
        quartiers = [form for form in self.valeurs if form.quartier is not None]
        if territoire in remplis:
            territoire.add_error(
                "numerateur", "Laissez cette ligne vide : elle est calculée à partir des quartiers."
            )
            return False
        manquants = [form for form in quartiers if form not in remplis]
        if not quartiers or manquants:
            self.non_field_errors.append(
                "Pour calculer l'ensemble du territoire, donnez le numérateur et le "
                "dénominateur de chaque quartier."
            )
            return False
        terms = [
            (f.cleaned_data.get("numerateur"), f.cleaned_data.get("denominateur"))
            for f in quartiers
        ]
        if any(n is None or not d for n, d in terms):
            return True  # each quartier's own error is reported by the model's rules
        numerateur, denominateur, _ = aggregate_rate(terms)
        territoire.cleaned_data.update(numerateur=numerateur, denominateur=denominateur)
        remplis.insert(0, territoire)
        return True


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
        indicateur = self.instance.indicateur
        type_ = indicateur.type
        by_terms = self.instance.nature == Mesure.Nature.VALEUR and not self.instance.territoire_id
        if indicateur.taux and by_terms:
            del self.fields["valeur"], self.fields["texte"]
            self.fields["numerateur"] = decimal_field("Numérateur", required=True)
            self.fields["denominateur"] = decimal_field("Dénominateur", required=True)
            self.initial.update(
                numerateur=self.instance.numerateur, denominateur=self.instance.denominateur
            )
            return
        if type_ == Indicateur.Type.QUANTITATIF:
            del self.fields["texte"]
        elif type_ == Indicateur.Type.QUALITATIF:
            del self.fields["valeur"]
        if "valeur" in self.fields and indicateur.unite:
            self.fields["valeur"].help_text = format_html("En {}.", indicateur.unite)

    def _post_clean(self):
        # A rate's terms are not among the model form's fields: set them before the
        # model's rules (which compute the rate) run.
        for name in ("numerateur", "denominateur"):
            if name in self.fields and name in self.cleaned_data:
                setattr(self.instance, name, self.cleaned_data[name])
        super()._post_clean()


class SuppressionForm(VersionMixin, forms.Form):
    """The confirmation of a deletion."""

    def __init__(self, *args, instance, **kwargs):
        self.instance = instance
        super().__init__(*args, **kwargs)
