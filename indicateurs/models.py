"""Indicators of the diagnostic and their measures, per quartier and period.

Follows the shape of the State's performance indicators (programme 147): a unit, a
reference value, a target, a source, method notes, and yearly (or infra-annual) values.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from diagnostics.models import Element, Quartier, VersionedModel, element_constraints

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


class Mesure(VersionedModel):
    """One value of an indicator for a period and a quartier (no quartier: the whole territory).

    The period is a year, or a quarter (numero 1–4) or a month (numero 1–12) within a year.
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

    history = HistoricalRecords()

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
        lieu = self.quartier.nom if self.quartier_id else "ensemble du territoire"
        return f"{self.indicateur} — {self.periode_libelle} — {lieu}"

    @property
    def periode_libelle(self):
        if self.type_periode == self.TypePeriode.TRIMESTRE:
            return f"T{self.numero_periode} {self.annee}"
        if self.type_periode == self.TypePeriode.MOIS:
            return f"{self.numero_periode:02d}/{self.annee}"
        return str(self.annee)
