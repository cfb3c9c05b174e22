"""Indicators of the diagnostic and their measures, per quartier and period.

Follows the shape of the State's performance indicators (programme 147): a unit, a
reference value, a target, a source, method notes, and yearly (or infra-annual) values.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, LPad
from simple_history.models import HistoricalRecords

from diagnostics.models import (
    Element,
    HistoryLinks,
    Quartier,
    VersionedModel,
    element_constraints,
)

DECIMAL = {"max_digits": 16, "decimal_places": 4}
YEAR_VALIDATORS = [MinValueValidator(1990), MaxValueValidator(2100)]


class Indicateur(Element):
    class Type(models.TextChoices):
        A_PRECISER = "a_preciser", "À préciser"
        QUANTITATIF = "quantitatif", "Quantitatif"
        QUALITATIF = "qualitatif", "Qualitatif"

    class Periodicite(models.TextChoices):
        ANNUELLE = "annuelle", "Annuelle"
        SEMESTRIELLE = "semestrielle", "Semestrielle"
        TRIMESTRIELLE = "trimestrielle", "Trimestrielle"
        MENSUELLE = "mensuelle", "Mensuelle"
        PONCTUELLE = "ponctuelle", "Ponctuelle"

    class Sens(models.TextChoices):
        HAUSSE = "hausse", "À la hausse"
        BAISSE = "baisse", "À la baisse"
        STABILITE = "stabilite", "Stabilité"

    type = models.CharField("type", max_length=20, choices=Type.choices, default=Type.A_PRECISER)
    unite = models.CharField("unité", max_length=100, blank=True)
    definition = models.TextField("définition", blank=True)
    mode_calcul = models.TextField("mode de calcul", blank=True)
    source_donnees = models.CharField(
        "source des données",
        max_length=200,
        blank=True,
        help_text="Insee, CAF, France Travail, Ville…",
    )
    periodicite = models.CharField(
        "périodicité", max_length=20, choices=Periodicite.choices, blank=True
    )
    sens_souhaite = models.CharField(
        "évolution souhaitée", max_length=20, choices=Sens.choices, blank=True
    )
    valeur_reference = models.DecimalField("valeur de référence", null=True, blank=True, **DECIMAL)
    annee_reference = models.PositiveSmallIntegerField(
        "année de référence", null=True, blank=True, validators=YEAR_VALIDATORS
    )
    valeur_cible = models.DecimalField("valeur cible", null=True, blank=True, **DECIMAL)
    annee_cible = models.PositiveSmallIntegerField(
        "année cible", null=True, blank=True, validators=YEAR_VALIDATORS
    )
    compte_des_personnes = models.BooleanField(
        "compte des personnes",
        default=False,
        help_text="Secret statistique : les petites valeurs sont masquées aux partenaires.",
    )

    class Meta(Element.Meta):
        verbose_name = "indicateur"
        verbose_name_plural = "indicateurs"
        constraints = element_constraints()
        indexes = [
            models.Index(fields=["sous_theme", "position"], name="ind_ind_sous_theme_pos_idx"),
            models.Index(fields=["theme", "position"], name="ind_ind_theme_pos_idx"),
        ]


# The information of an indicator that staff complete (its form, history, exports).
INFORMATIONS = (
    "type",
    "unite",
    "definition",
    "mode_calcul",
    "source_donnees",
    "periodicite",
    "sens_souhaite",
    "valeur_reference",
    "annee_reference",
    "valeur_cible",
    "annee_cible",
    "compte_des_personnes",
)


class Mesure(VersionedModel):
    """One value of an indicator for a period and a quartier (no quartier: the whole territory).

    The period is a year, or a quarter (numero 1–4) or a month (numero 1–12) within a year.

    What a measure holds depends on its indicator's type (`clean()`):
    - quantitatif: a numeric `valeur` (a Decimal) and no `texte`;
    - qualitatif: a `texte` (the constat) and no `valeur`;
    - à préciser (the seed's indicators, until staff complete them): either a `valeur` or a
      `texte`, not both, so that the type, once chosen, fits what was already entered.

    `fictive` marks the demonstration's invented values (command `demo_mesures`): every
    page that shows one says so.
    """

    class TypePeriode(models.TextChoices):
        ANNEE = "annee", "Année"
        TRIMESTRE = "trimestre", "Trimestre"
        MOIS = "mois", "Mois"

    indicateur = models.ForeignKey(
        Indicateur, verbose_name="indicateur", on_delete=models.CASCADE, related_name="mesures"
    )
    annee = models.PositiveSmallIntegerField("année", validators=YEAR_VALIDATORS)
    type_periode = models.CharField(
        "type de période", max_length=10, choices=TypePeriode.choices, default=TypePeriode.ANNEE
    )
    numero_periode = models.PositiveSmallIntegerField(
        "numéro de la période",
        default=0,
        help_text="0 pour l'année entière, 1 à 4 pour un trimestre, 1 à 12 pour un mois.",
    )
    quartier = models.ForeignKey(
        Quartier,
        verbose_name="quartier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mesures",
        help_text="Vide : l'ensemble du territoire.",
    )
    valeur = models.DecimalField("valeur", null=True, blank=True, **DECIMAL)
    texte = models.TextField("constat (indicateur qualitatif)", blank=True)
    source = models.CharField("source", max_length=200, blank=True)
    commentaire = models.TextField("commentaire", blank=True)
    saisi_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisi par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    fictive = models.BooleanField(
        "donnée fictive de démonstration",
        default=False,
        editable=False,
        help_text="Valeur inventée pour la démonstration, jamais chargée en production.",
    )

    history = HistoricalRecords(bases=[HistoryLinks])

    class Meta:
        verbose_name = "mesure"
        verbose_name_plural = "mesures"
        ordering = ["indicateur", "annee", "type_periode", "numero_periode", "quartier"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicateur", "annee", "type_periode", "numero_periode", "quartier"],
                condition=Q(quartier__isnull=False),
                name="%(app_label)s_%(class)s_unique_indicateur_periode_quartier",
                violation_error_message=(
                    "Une mesure existe déjà pour cet indicateur, cette période et ce quartier."
                ),
            ),
            models.UniqueConstraint(
                fields=["indicateur", "annee", "type_periode", "numero_periode"],
                condition=Q(quartier__isnull=True),
                name="%(app_label)s_%(class)s_unique_indicateur_periode_territoire",
                violation_error_message=(
                    "Une mesure existe déjà pour cet indicateur et cette période "
                    "sur l'ensemble du territoire."
                ),
            ),
            models.CheckConstraint(
                condition=(
                    Q(type_periode="annee", numero_periode=0)
                    | Q(type_periode="trimestre", numero_periode__gte=1, numero_periode__lte=4)
                    | Q(type_periode="mois", numero_periode__gte=1, numero_periode__lte=12)
                ),
                name="%(app_label)s_%(class)s_periode_valide",
                violation_error_message=(
                    "Période impossible : trimestre de 1 à 4, mois de 1 à 12, 0 pour l'année."
                ),
            ),
        ]
        indexes = [
            models.Index(
                fields=["indicateur", "quartier", "annee"], name="ind_mesure_ind_quartier_idx"
            ),
        ]

    def __str__(self):
        lieu = self.quartier.nom if self.quartier_id else TERRITOIRE.lower()
        return f"{self.indicateur} — {self.periode_libelle} — {lieu}"

    def clean(self):
        super().clean()
        if not self.indicateur_id:
            return
        type_ = self.indicateur.type
        a_valeur, a_texte = self.valeur is not None, bool(self.texte.strip())
        errors = {}
        if type_ == Indicateur.Type.QUANTITATIF:
            if not a_valeur:
                errors["valeur"] = "Un indicateur quantitatif attend une valeur numérique."
            if a_texte:
                errors["texte"] = (
                    "Un indicateur quantitatif n'a pas de constat écrit : "
                    "mettez ce texte en commentaire."
                )
        elif type_ == Indicateur.Type.QUALITATIF:
            if not a_texte:
                errors["texte"] = "Un indicateur qualitatif attend un constat écrit."
            if a_valeur:
                errors["valeur"] = "Un indicateur qualitatif n'a pas de valeur numérique."
        elif a_valeur == a_texte:
            message = (
                "Pour un indicateur dont le type est à préciser, donnez soit une valeur "
                "numérique, soit un constat écrit"
            )
            errors["valeur"] = f"{message}, pas les deux." if a_valeur else f"{message}."
        if errors:
            raise ValidationError(errors)

    @property
    def periode_cle(self):
        """The key that sorts periods in time (see `periode_cle`)."""
        return periode_cle(self.annee, self.type_periode, self.numero_periode)

    @property
    def periode_libelle(self):
        return periode_libelle(self.annee, self.type_periode, self.numero_periode)


PERIODE_RANG = {
    Mesure.TypePeriode.ANNEE: 0,
    Mesure.TypePeriode.TRIMESTRE: 1,
    Mesure.TypePeriode.MOIS: 2,
}


def periode_cle(annee, type_periode, numero_periode):
    """The key that orders periods in time: by year, then by the last month each covers.

    When a year and its last quarter or month end together, the year counts as the later
    one: the figure of the whole year is the reference (see `indicateurs.tableau`).
    """
    if type_periode == Mesure.TypePeriode.TRIMESTRE:
        fin = 3 * numero_periode
    elif type_periode == Mesure.TypePeriode.MOIS:
        fin = numero_periode
    else:
        fin = 12
    return (annee, fin, -PERIODE_RANG.get(type_periode, 0))


def periode_libelle(annee, type_periode, numero_periode):
    """ "2024", "T2 2024", "03/2024"."""
    if type_periode == Mesure.TypePeriode.TRIMESTRE:
        return f"T{numero_periode} {annee}"
    if type_periode == Mesure.TypePeriode.MOIS:
        return f"{numero_periode:02d}/{annee}"
    return str(annee)


def periode_libelle_sql():
    """`periode_libelle` computed by the database, for the rows of a measure table (its
    history table included)."""
    annee = Cast("annee", models.CharField())
    numero = Cast("numero_periode", models.CharField())
    return Case(
        When(
            type_periode=Mesure.TypePeriode.TRIMESTRE,
            then=Concat(Value("T"), numero, Value(" "), annee),
        ),
        When(
            type_periode=Mesure.TypePeriode.MOIS,
            then=Concat(LPad(numero, 2, Value("0")), Value("/"), annee),
        ),
        default=annee,
        output_field=models.CharField(),
    )


TERRITOIRE = "Ensemble du territoire"  # where a value without quartier is measured


def mesure_detail_sql():
    """The period and the place of a measure, as the lists of an import name it:
    "T2 2024 — Fontbouillant", "2024 — ensemble du territoire"."""
    return Concat(
        periode_libelle_sql(),
        Value(" — "),
        Coalesce("quartier__nom", Value(TERRITOIRE.lower())),
        output_field=models.CharField(),
    )
