"""Indicators of the diagnostic and their measures, per scope and period.

Follows the shape of the State's performance indicators (programme 147): a unit, a
reference value, a target, a source, method notes, and yearly (or infra-annual) values.

A measure (`Mesure`) is one number (or one written constat) of an indicator, for a period
and a place, of one nature:
- the place is the whole territory of the contract (no quartier), one quartier, or a
  comparison territory (`TerritoireComparaison`: the commune, the EPCI, all the QPV of
  France, France métropolitaine…);
- the nature is an observed value (`valeur`), the reference of that scope (`reference`,
  the situation at the start, with its year) or its target (`cible`, the objective and the
  year it is set for). Each scope (the territory, each quartier) has its own reference
  and target: statuses compare a series only with those of its scope
  (`indicateurs.tableau`). Comparison territories carry observed values only.

An indicator's observed values are those of its lineage (`series`): every edition of the
contract reads the values entered in any of them, the most recent edition's for a period
and a place (see `diagnostics.editions`); its references and targets are its edition's.

An indicator has one periodicity (`Indicateur.type_periode`): its series hold one kind of
period, so that changes always compare like with like. A rate (`Indicateur.taux`) holds
its numerator and denominator, and its value is computed from them (`rate_of`).
"""

import copy
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, LPad
from simple_history.models import HistoricalRecords

from diagnostics.models import (
    Diagnostic,
    Element,
    HistoryLinks,
    Quartier,
    VersionedModel,
    element_constraints,
)
from diagnostics.text import validate_text

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
    unite = models.CharField("unité", max_length=100, blank=True, validators=[validate_text])
    definition = models.TextField("définition", blank=True, validators=[validate_text])
    mode_calcul = models.TextField("mode de calcul", blank=True, validators=[validate_text])
    source_donnees = models.CharField(
        "source des données",
        max_length=200,
        blank=True,
        help_text="Insee, CAF, France Travail, Ville…",
        validators=[validate_text],
    )
    periodicite = models.CharField(
        "périodicité", max_length=20, choices=Periodicite.choices, blank=True
    )
    sens_souhaite = models.CharField(
        "évolution souhaitée", max_length=20, choices=Sens.choices, blank=True
    )
    taux = models.BooleanField(
        "taux",
        default=False,
        help_text=(
            "Un taux se saisit par son numérateur et son dénominateur (par exemple "
            "demandeurs d'emploi / population active) ; la valeur en % en est calculée."
        ),
    )
    compte_des_personnes = models.BooleanField(
        "compte des personnes",
        default=False,
        help_text="Secret statistique : les petites valeurs sont masquées aux partenaires.",
    )
    seuil_secret = models.PositiveSmallIntegerField(
        "seuil du secret statistique",
        null=True,
        blank=True,
        validators=[MinValueValidator(2), MaxValueValidator(1000)],
        help_text=(
            "Effectif en dessous duquel une valeur est masquée aux partenaires. Vide : "
            "le seuil par défaut (5 personnes) ; 11 pour les ménages des sources fiscales."
        ),
    )

    class Meta(Element.Meta):
        verbose_name = "indicateur"
        verbose_name_plural = "indicateurs"
        constraints = [
            *element_constraints(),
            models.CheckConstraint(
                condition=Q(seuil_secret__isnull=True) | Q(seuil_secret__gte=2),
                name="%(app_label)s_%(class)s_seuil_secret_valide",
                violation_error_message="Le seuil du secret statistique est d'au moins 2.",
            ),
            models.CheckConstraint(
                condition=Q(taux=False) | Q(type="quantitatif"),
                name="%(app_label)s_%(class)s_taux_quantitatif",
                violation_error_message="Seul un indicateur quantitatif peut être un taux.",
            ),
        ]
        indexes = [
            models.Index(fields=["sous_theme", "position"], name="ind_ind_sous_theme_pos_idx"),
            models.Index(fields=["theme", "position"], name="ind_ind_theme_pos_idx"),
        ]

    @property
    def type_periode(self):
        """The kind of period of its series (`Mesure.TypePeriode`), None when any (no
        periodicity yet, or "ponctuelle")."""
        return TYPE_PERIODE_DE.get(self.periodicite)

    @property
    def seuil(self):
        """The threshold of the secret statistique for its values."""
        return self.seuil_secret or settings.SECRET_STATISTIQUE_SEUIL


# The information of an indicator that staff complete (its form, history, exports).
INFORMATIONS = (
    "type",
    "unite",
    "definition",
    "mode_calcul",
    "source_donnees",
    "periodicite",
    "sens_souhaite",
    "taux",
    "compte_des_personnes",
    "seuil_secret",
)


class TerritoireComparaisonManager(models.Manager):
    def get_by_natural_key(self, code):
        return self.get(code=code)


class TerritoireComparaison(models.Model):
    """A territory whose values are compared with the quartiers': the commune, the EPCI,
    the département, all the QPV of France, France métropolitaine… One référentiel for the
    whole deployment; its measures belong to each indicator that carries them."""

    class Echelon(models.TextChoices):
        COMMUNE = "commune", "Commune"
        EPCI = "epci", "EPCI"
        DEPARTEMENT = "departement", "Département"
        REGION = "region", "Région"
        QPV_FRANCE = "qpv_france", "Ensemble des QPV"
        FRANCE = "france", "France"
        AUTRE = "autre", "Autre territoire"

    code = models.CharField(
        "code",
        max_length=20,
        unique=True,
        help_text="Code Insee de la commune, Siren de l'EPCI, ou un code court (FM, QPV).",
    )
    nom = models.CharField("nom", max_length=200, validators=[validate_text])
    echelon = models.CharField("échelon", max_length=20, choices=Echelon.choices)

    objects = TerritoireComparaisonManager()

    class Meta:
        verbose_name = "territoire de comparaison"
        verbose_name_plural = "territoires de comparaison"
        ordering = ["echelon", "nom"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(code="") & ~Q(nom=""),
                name="%(app_label)s_%(class)s_code_et_nom",
                violation_error_message="Un territoire de comparaison a un code et un nom.",
            ),
        ]

    def __str__(self):
        return self.nom

    def natural_key(self):
        return (self.code,)


class Mesure(VersionedModel):
    """One value of an indicator for a period and a place (see the module's documentation):
    an observed value, or the reference or target of a scope.

    The period is a year, or a semester (numero 1–2), a quarter (1–4) or a month (1–12)
    within a year. An observed value's kind of period is its indicator's
    (`Indicateur.type_periode`).

    A rate's measure holds its `numerateur` and `denominateur` and its `valeur` is computed
    from them on save (`rate_of`); a reference, a target or a comparison territory's value
    of a rate may give the rate alone.

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
        SEMESTRE = "semestre", "Semestre"
        TRIMESTRE = "trimestre", "Trimestre"
        MOIS = "mois", "Mois"

    class Nature(models.TextChoices):
        VALEUR = "valeur", "Valeur"
        REFERENCE = "reference", "Référence"
        CIBLE = "cible", "Cible"

    # References and targets are set by each edition of the diagnostic (a revision moves
    # them): a new edition copies them. Measured values are facts of the indicator's
    # lineage, which every edition sees (`series`).
    NATURES_DE_L_EDITION = (Nature.REFERENCE, Nature.CIBLE)

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
        help_text=(
            "0 pour l'année entière, 1 ou 2 pour un semestre, 1 à 4 pour un trimestre, "
            "1 à 12 pour un mois."
        ),
    )
    nature = models.CharField(
        "nature", max_length=10, choices=Nature.choices, default=Nature.VALEUR
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
    territoire = models.ForeignKey(
        TerritoireComparaison,
        verbose_name="territoire de comparaison",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mesures",
    )
    valeur = models.DecimalField("valeur", null=True, blank=True, **DECIMAL)
    numerateur = models.DecimalField("numérateur", null=True, blank=True, **DECIMAL)
    denominateur = models.DecimalField("dénominateur", null=True, blank=True, **DECIMAL)
    texte = models.TextField(
        "constat (indicateur qualitatif)", blank=True, validators=[validate_text]
    )
    source = models.CharField("source", max_length=200, blank=True, validators=[validate_text])
    commentaire = models.TextField("commentaire", blank=True, validators=[validate_text])
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
                fields=[
                    "indicateur",
                    "nature",
                    "annee",
                    "type_periode",
                    "numero_periode",
                    "quartier",
                ],
                condition=Q(quartier__isnull=False),
                name="%(app_label)s_%(class)s_unique_periode_quartier",
                violation_error_message=(
                    "Une mesure existe déjà pour cet indicateur, cette période et ce quartier."
                ),
            ),
            models.UniqueConstraint(
                fields=[
                    "indicateur",
                    "nature",
                    "annee",
                    "type_periode",
                    "numero_periode",
                    "territoire",
                ],
                condition=Q(territoire__isnull=False),
                name="%(app_label)s_%(class)s_unique_periode_comparaison",
                violation_error_message=(
                    "Une mesure existe déjà pour cet indicateur, cette période et ce "
                    "territoire de comparaison."
                ),
            ),
            models.UniqueConstraint(
                fields=["indicateur", "nature", "annee", "type_periode", "numero_periode"],
                condition=Q(quartier__isnull=True, territoire__isnull=True),
                name="%(app_label)s_%(class)s_unique_periode_territoire",
                violation_error_message=(
                    "Une mesure existe déjà pour cet indicateur et cette période sur "
                    "l'ensemble du territoire."
                ),
            ),
            models.CheckConstraint(
                condition=(
                    Q(type_periode="annee", numero_periode=0)
                    | Q(type_periode="semestre", numero_periode__gte=1, numero_periode__lte=2)
                    | Q(type_periode="trimestre", numero_periode__gte=1, numero_periode__lte=4)
                    | Q(type_periode="mois", numero_periode__gte=1, numero_periode__lte=12)
                ),
                name="%(app_label)s_%(class)s_periode_valide",
                violation_error_message=(
                    "Période impossible : semestre 1 ou 2, trimestre de 1 à 4, mois de 1 à 12, "
                    "0 pour l'année."
                ),
            ),
            models.CheckConstraint(
                condition=Q(quartier__isnull=True) | Q(territoire__isnull=True),
                name="%(app_label)s_%(class)s_un_seul_lieu",
                violation_error_message=(
                    "Une mesure porte sur un quartier ou sur un territoire de comparaison, "
                    "pas les deux."
                ),
            ),
            models.CheckConstraint(
                condition=Q(territoire__isnull=True) | Q(nature="valeur"),
                name="%(app_label)s_%(class)s_comparaison_observee",
                violation_error_message=(
                    "Un territoire de comparaison n'a que des valeurs observées, ni référence "
                    "ni cible."
                ),
            ),
            models.CheckConstraint(
                condition=Q(numerateur__isnull=True, denominateur__isnull=True)
                | Q(numerateur__isnull=False, denominateur__gt=0),
                name="%(app_label)s_%(class)s_termes_du_taux",
                violation_error_message=(
                    "Un taux a un numérateur et un dénominateur (positif), ou aucun des deux."
                ),
            ),
        ]
        indexes = [
            models.Index(
                fields=["indicateur", "quartier", "annee"], name="ind_mesure_ind_quartier_idx"
            ),
        ]

    def __str__(self):
        nature = "" if self.nature == self.Nature.VALEUR else f"{self.get_nature_display()} "
        return f"{self.indicateur} — {nature}{self.periode_libelle} — {place_label(self.lieu)}"

    @property
    def lieu(self):
        """Where it is measured: a Quartier, a TerritoireComparaison, or None (the whole
        territory)."""
        if self.quartier_id:
            return self.quartier
        if self.territoire_id:
            return self.territoire
        return None

    def save(self, *args, **kwargs):
        if self.numerateur is not None and self.denominateur:
            self.valeur = rate_of(self.numerateur, self.denominateur)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if not self.indicateur_id:
            return
        indicateur = self.indicateur
        type_ = indicateur.type
        errors = {}
        if self.nature == self.Nature.VALEUR and indicateur.type_periode not in (
            None,
            self.type_periode,
        ):
            errors["type_periode"] = period_mismatch_message(indicateur, self.type_periode)
        if indicateur.taux:
            a_termes = self.numerateur is not None or self.denominateur is not None
            if a_termes and (self.numerateur is None or not self.denominateur):
                errors["denominateur"] = (
                    "Un taux se donne par son numérateur et son dénominateur (positif)."
                )
            elif a_termes:
                self.valeur = rate_of(self.numerateur, self.denominateur)
            elif self.nature == self.Nature.VALEUR and not self.territoire_id:
                errors["numerateur"] = (
                    "Cet indicateur est un taux : donnez son numérateur et son dénominateur."
                )
        elif self.numerateur is not None or self.denominateur is not None:
            errors["numerateur"] = (
                "Cet indicateur n'est pas un taux : il n'a ni numérateur ni dénominateur."
            )
        if self.territoire_id and self.nature != self.Nature.VALEUR:
            errors["nature"] = "Un territoire de comparaison n'a ni référence ni cible."
        if self.quartier_id and self.territoire_id:
            errors["territoire"] = "Un quartier ou un territoire de comparaison, pas les deux."
        a_valeur, a_texte = self.valeur is not None, bool(self.texte.strip())
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
        if self.nature != self.Nature.VALEUR and a_texte:
            errors["texte"] = "Une référence ou une cible est un nombre."
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
    Mesure.TypePeriode.SEMESTRE: 1,
    Mesure.TypePeriode.TRIMESTRE: 2,
    Mesure.TypePeriode.MOIS: 3,
}

# The kind of period of each periodicity (none for "ponctuelle": any period).
TYPE_PERIODE_DE = {
    Indicateur.Periodicite.ANNUELLE: Mesure.TypePeriode.ANNEE,
    Indicateur.Periodicite.SEMESTRIELLE: Mesure.TypePeriode.SEMESTRE,
    Indicateur.Periodicite.TRIMESTRIELLE: Mesure.TypePeriode.TRIMESTRE,
    Indicateur.Periodicite.MENSUELLE: Mesure.TypePeriode.MOIS,
}
PERIODICITE_DE = {
    type_periode: periodicite for periodicite, type_periode in TYPE_PERIODE_DE.items()
}


def period_mismatch_message(indicateur, type_periode):
    """Why a value of this kind of period does not fit the indicator's series."""
    attendu = Mesure.TypePeriode(indicateur.type_periode).label.lower()
    recu = Mesure.TypePeriode(type_periode).label.lower()
    return (
        f"cet indicateur est suivi par {attendu} (périodicité "
        f"{indicateur.get_periodicite_display().lower()}) : une valeur par {recu} ne se "
        "compare pas à sa série."
    )


def latest_reperes(mesures):
    """{(quartier id or None, nature): the latest reference or target of each scope} among
    these measures of one indicator (values and comparison territories are left aside)."""
    found = {}
    for mesure in mesures:
        if mesure.nature == Mesure.Nature.VALEUR or mesure.territoire_id:
            continue
        key = (mesure.quartier_id, mesure.nature)
        if key not in found or mesure.periode_cle > found[key].periode_cle:
            found[key] = mesure
    return found


# The series of an indicator across the editions of its contract ---------------------------

# What a measure of a series says of its edition (annotations of `series_queryset`): its
# indicator's lineage, and the edition that holds it, which decides between editions.
EDITION = {
    "lignee": F("indicateur__lignee"),
    "edition_pk": F("indicateur__diagnostic_id"),
    "edition_date": F("indicateur__diagnostic__date_edition"),
    "edition_nom": F("indicateur__diagnostic__nom_edition"),
    "edition_statut": F("indicateur__diagnostic__statut"),
}


def lignees_of(indicateurs):
    """{indicator pk: its lineage} of these indicators (instances): read from them, or
    in one query for those loaded without it."""
    found, missing = {}, []
    for indicateur in indicateurs:
        loaded = vars(indicateur)  # a deferred field is not among its attributes
        if "lignee" in loaded:
            found[indicateur.pk] = loaded["lignee"]
        else:
            missing.append(indicateur.pk)
    if missing:
        found.update(Indicateur.objects.filter(pk__in=missing).values_list("pk", "lignee"))
        for indicateur in indicateurs:
            indicateur.lignee = found[indicateur.pk]  # read once
    return found


def series_queryset(indicateurs, reperes=False, queryset=None):
    """The measures that make the series of these indicators (instances), not yet
    assigned to them (`assign_series`): the measured values (nature valeur) of every
    indicator of their lineages, in every edition of their contract, and with `reperes`
    their own references and targets (those of their edition). `queryset` (of Mesure)
    narrows them: a scope, some years. Each row is annotated with its edition (`EDITION`).
    One query, whatever the number of indicators and editions."""
    indicateurs = list(indicateurs)
    base = Mesure.objects.all() if queryset is None else queryset
    if not indicateurs:
        return base.none()
    lignees = set(lignees_of(indicateurs).values())
    of_edition = Q(nature=Mesure.Nature.VALEUR)
    if reperes:
        # The lineage has one indicator per edition: those of the indicators' editions
        # are the indicators themselves (`assign_series` checks it).
        editions = {indicateur.diagnostic_id for indicateur in indicateurs}
        of_edition |= Q(
            nature__in=Mesure.NATURES_DE_L_EDITION, indicateur__diagnostic_id__in=editions
        )
    return base.filter(of_edition, indicateur__lignee__in=lignees).annotate(**EDITION)


def value_key(mesure):
    """What one value of a series is of: its period and its place (the whole territory,
    a quartier or a comparison territory)."""
    return (
        mesure.annee,
        mesure.type_periode,
        mesure.numero_periode,
        mesure.quartier_id,
        mesure.territoire_id,
    )


def _precedence(row, indicateur):
    """Which of two values of one period and place an indicator shows: its own when its
    edition is frozen (a frozen edition keeps its values), else the one of the most recent
    edition (a correction), by date of edition then creation."""
    own_and_frozen = (
        row.indicateur_id == indicateur.pk and row.edition_statut == Diagnostic.Statut.FIGE
    )
    return (own_and_frozen, row.edition_date, row.edition_pk)


def assign_series(indicateurs, rows):
    """{indicator pk: its measures among `rows`} (rows of `series_queryset`: measures, or
    any rows with their fields and `EDITION`'s), in the order of `rows`: the values of its
    lineage, one per period and place (`value_key`, the winner of `_precedence`), and its
    own references and targets. A value of another edition's indicator is `heritee` (a
    Mesure gets the attribute): it is shown, never changed from this edition."""
    indicateurs = list(indicateurs)
    lignees = lignees_of(indicateurs)
    askers = {}
    for indicateur in indicateurs:
        askers.setdefault(lignees[indicateur.pk], []).append(indicateur)
    kept = {indicateur.pk: {} for indicateur in indicateurs}  # key -> (index, row)
    for index, row in enumerate(rows):
        for indicateur in askers.get(row.lignee, ()):
            own = row.indicateur_id == indicateur.pk
            if row.nature != Mesure.Nature.VALEUR:
                if own:  # references and targets: those of its edition only
                    kept[indicateur.pk][("repere", row.pk)] = (index, row)
                continue
            if not own and row.edition_pk == indicateur.diagnostic_id:
                continue  # a lineage has one indicator per edition
            key = value_key(row)
            held = kept[indicateur.pk].get(key)
            if held is None or _precedence(row, indicateur) > _precedence(held[1], indicateur):
                kept[indicateur.pk][key] = (index, row)
    found, given = {}, set()
    for indicateur in indicateurs:
        mesures = []
        for _, row in sorted(kept[indicateur.pk].values(), key=lambda held: held[0]):
            if isinstance(row, Mesure):
                if id(row) in given:  # one row in the series of two indicators
                    row = copy.copy(row)
                given.add(id(row))
                row.heritee = row.indicateur_id != indicateur.pk
            mesures.append(row)
        found[indicateur.pk] = mesures
    return found


def series(indicateurs, reperes=False, queryset=None):
    """{indicator pk: [Mesure]} for these indicators (instances): the measured values of
    each one's lineage, de-duplicated per period and place (the value of the most recent
    edition counts; a frozen edition keeps its own), and with `reperes` its own
    references and targets. `queryset` narrows the measures read (a scope, some years,
    select_related). One query (see the docstring of `diagnostics.editions`)."""
    indicateurs = list(indicateurs)
    if not indicateurs:
        return {}
    return assign_series(indicateurs, series_queryset(indicateurs, reperes, queryset))


RATE_FACTOR = Decimal(100)  # rates are shown in %
RATE_PLACES = Decimal("0.0001")


def rate_of(numerateur, denominateur):
    """The rate in % of two terms: rate_of(12, 48) == Decimal("25.0000")."""
    value = Decimal(numerateur) * RATE_FACTOR / Decimal(denominateur)
    return value.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def aggregate_rate(terms):
    """The rate of a whole from its parts' terms [(numerateur, denominateur)]: the sums'
    ratio, never the average of the rates. (numerateur, denominateur, rate)."""
    numerateur = sum((Decimal(n) for n, _ in terms), Decimal(0))
    denominateur = sum((Decimal(d) for _, d in terms), Decimal(0))
    if not denominateur:
        return numerateur, denominateur, None
    return numerateur, denominateur, rate_of(numerateur, denominateur)


def periode_cle(annee, type_periode, numero_periode):
    """The key that orders periods in time: by year, then by the last month each covers.

    When a year and its last quarter or month end together, the year counts as the later
    one: the figure of the whole year is the reference (see `indicateurs.tableau`).
    """
    if type_periode == Mesure.TypePeriode.TRIMESTRE:
        fin = 3 * numero_periode
    elif type_periode == Mesure.TypePeriode.SEMESTRE:
        fin = 6 * numero_periode
    elif type_periode == Mesure.TypePeriode.MOIS:
        fin = numero_periode
    else:
        fin = 12
    return (annee, fin, -PERIODE_RANG.get(type_periode, 0))


def periode_libelle(annee, type_periode, numero_periode):
    """ "2024", "S1 2024", "T2 2024", "03/2024"."""
    if type_periode == Mesure.TypePeriode.SEMESTRE:
        return f"S{numero_periode} {annee}"
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
            type_periode=Mesure.TypePeriode.SEMESTRE,
            then=Concat(Value("S"), numero, Value(" "), annee),
        ),
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


def place_label(lieu):
    """The name of where a measure is taken: a quartier, a comparison territory, or the
    whole territory (None)."""
    return TERRITOIRE if lieu is None else lieu.nom


def mesure_detail_sql():
    """The period and the place of a measure, as the lists of an import name it:
    "T2 2024 — Fontbouillant", "2024 — ensemble du territoire", "cible 2030 — …"."""
    return Concat(
        Case(
            When(nature=Mesure.Nature.REFERENCE, then=Value("référence ")),
            When(nature=Mesure.Nature.CIBLE, then=Value("cible ")),
            default=Value(""),
            output_field=models.CharField(),
        ),
        periode_libelle_sql(),
        Value(" — "),
        Coalesce("quartier__nom", "territoire__nom", Value(TERRITOIRE.lower())),
        output_field=models.CharField(),
    )
