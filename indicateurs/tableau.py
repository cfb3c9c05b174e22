"""The tableau de bord of a diagnostic: each indicator's latest value in one scope (the
whole territory, or one quartier), its change since the comparable previous period, its
position against the reference and target **of the same scope**, and its gap to a
comparison territory.

The status of an indicator (`evaluate`, a pure function on Decimal values) compares its
latest value, in the series shown, to its target (cible) according to the desired
direction (sens souhaité):

- **Atteinte**: the target is reached in the desired direction: at or above it for
  "à la hausse", at or below it for "à la baisse", within 5 % of it for "stabilité"
  (`TOLERANCE_STABILITE`; for "stabilité" without a target, the reference value is the
  objective).
- **En progrès**: not reached, but closer to the objective than at the point of
  comparison: the comparable previous period of the same series, or the reference value
  when there is none. For "à la hausse" a higher value, for "à la baisse" a lower one, for
  "stabilité" a value nearer the objective.
- **En recul**: not reached, and no closer than at the point of comparison (an unchanged
  value counts as en recul: nothing brings the target nearer).
- **Sans donnée**: not evaluable, with the reason (`Evaluation.motif`): no value
  measured; a qualitative indicator (or a written constat); the desired direction not
  filled in; a single value with neither target reached, reference nor previous period;
  a value covered by the secret statistique.

For "stabilité" with neither target nor reference, the objective is to stay where it
was: within 5 % of the previous value is atteinte, otherwise en recul.

Scopes: a quartier's series is compared only with that quartier's reference and target; a
quartier without a target of its own says so ("pas de cible pour ce quartier") and is
never measured against the territory's.

Comparable periods: an indicator's series holds one kind of period (its periodicity);
the previous period of a value is the same period of an earlier year (the same quarter,
the same month, the year before). Values of another kind of period, left by older
imports, are not compared.

Secret statistique (`indicateurs.secret`): what a user may not see is never used for what
they are shown: the status is evaluated on the values shown (a hidden latest value gives
"sans donnée"; a hidden previous value or reference is not a point of comparison), and
neither a change nor a gap is given when either value is hidden.

Loading is done in a fixed number of queries whatever the number of indicators, measures
and editions (`load`): the scope's latest measures of each kind with a window function, then
for a reader who does not see secrets the groups of the periods shown (secondary secrecy
needs the territory and every quartier), then the comparison territory's values.

Editions (`diagnostics.editions`): an indicator's values are those of its lineage, in
every edition of its contract (`indicateurs.models.series`): for a period and a place, the
value of the most recent edition; its references and targets are those of its own
edition. Every value read here (latest ones, groups of the secret, comparison) is read so.
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db import models
from django.db.models import Case, F, Q, Value, When, Window
from django.db.models.functions import DenseRank
from django.utils.text import Truncator

from diagnostics.exports import csv_table_response, neutralize_formula, xlsx_table_response

from . import secret
from .models import (
    EDITION,
    Indicateur,
    Mesure,
    TerritoireComparaison,
    assign_series,
    place_label,
    series_queryset,
)

TOLERANCE_STABILITE = Decimal("0.05")


class Statut(models.TextChoices):
    ATTEINTE = "atteinte", "Atteinte"
    EN_PROGRES = "en_progres", "En progrès"
    EN_RECUL = "en_recul", "En recul"
    SANS_DONNEE = "sans_donnee", "Sans donnée"


@dataclass(frozen=True)
class Evaluation:
    statut: Statut
    motif: str

    @property
    def libelle(self):
        return self.statut.label


def _atteint(sens, valeur, objectif, tolerance):
    if sens == Indicateur.Sens.HAUSSE:
        return valeur >= objectif
    if sens == Indicateur.Sens.BAISSE:
        return valeur <= objectif
    return abs(valeur - objectif) <= tolerance * abs(objectif)


def evaluate(
    sens,
    derniere,
    precedente=None,
    reference=None,
    cible=None,
    tolerance=TOLERANCE_STABILITE,
):
    """The status of a latest value (see the module's docstring). Values are Decimal or None."""
    if derniere is None:
        return Evaluation(Statut.SANS_DONNEE, "Aucune valeur chiffrée.")
    if not sens:
        return Evaluation(Statut.SANS_DONNEE, "L'évolution souhaitée n'est pas renseignée.")
    stabilite = sens == Indicateur.Sens.STABILITE
    objectif = cible if cible is not None else (reference if stabilite else None)
    if objectif is not None and _atteint(sens, derniere, objectif, tolerance):
        nom = "Cible atteinte." if objectif is cible else "Stable autour de la référence."
        return Evaluation(Statut.ATTEINTE, nom)
    if precedente is not None:
        point, depuis = precedente, "depuis la période précédente"
    elif reference is not None:
        point, depuis = reference, "depuis la valeur de référence"
    else:
        motif = "Une seule valeur, sans référence : pas d'évolution à mesurer."
        return Evaluation(Statut.SANS_DONNEE, motif)
    if stabilite:
        if objectif is None:
            if _atteint(sens, derniere, point, tolerance):
                return Evaluation(Statut.ATTEINTE, f"Stable {depuis}.")
            return Evaluation(Statut.EN_RECUL, f"A varié {depuis}.")
        progres = abs(derniere - objectif) < abs(point - objectif)
    elif sens == Indicateur.Sens.HAUSSE:
        progres = derniere > point
    else:
        progres = derniere < point
    if progres:
        return Evaluation(Statut.EN_PROGRES, f"Se rapproche de l'objectif {depuis}.")
    if derniere == point:
        return Evaluation(Statut.EN_RECUL, f"Inchangé {depuis}, objectif non atteint.")
    return Evaluation(Statut.EN_RECUL, f"S'éloigne de l'objectif {depuis}.")


# Loading ----------------------------------------------------------------------------------

LATEST_YEAR_FIRST = [F("annee").desc()]
LATEST_FIRST = [F("annee").desc(), F("numero_periode").desc()]  # within one kind of period
OBSERVED = (Mesure.Nature.VALEUR, Mesure.Nature.REFERENCE)


def serie_key(lieu):
    """Series in order: the whole territory, the quartiers by code, then the comparison
    territories by échelon (commune first)."""
    if lieu is None:
        return ("0", "", "")
    if isinstance(lieu, TerritoireComparaison):
        return ("2", ECHELONS.index(lieu.echelon), lieu.code)
    return ("1", lieu.code, "")


ECHELONS = list(TerritoireComparaison.Echelon.values)


def serie_label(lieu):
    return place_label(lieu)


def comparable(mesures, indicateur):
    """The measures of its series' kind of period, latest first: the indicator's
    periodicity, else the kind of its latest measure (older imports may have mixed kinds)."""
    mesures = sorted(mesures, key=_latest_first)
    kind = indicateur.type_periode or (mesures[0].type_periode if mesures else None)
    return [mesure for mesure in mesures if mesure.type_periode == kind]


def latest_pair(mesures, indicateur):
    """(latest, previous comparable) of one series: the previous is the same period of
    the latest earlier year (the same quarter, the same month)."""
    mesures = comparable(mesures, indicateur)
    if not mesures:
        return None, None
    latest = mesures[0]
    previous = next(
        (
            mesure
            for mesure in mesures[1:]
            if mesure.numero_periode == latest.numero_periode and mesure.annee < latest.annee
        ),
        None,
    )
    return latest, previous


def latest_of(mesures):
    """The latest of some measures (a scope's references, or targets), or None."""
    return min(mesures, key=_latest_first) if mesures else None


def _latest_first(mesure):
    annee, fin, rang = mesure.periode_cle
    return (-annee, -fin, -rang)


@dataclass
class Portee:
    """What the tableau de bord reads of one indicator in one scope."""

    derniere: Mesure | None = None
    precedente: Mesure | None = None
    reference: Mesure | None = None
    cible: Mesure | None = None
    comparaison: Mesure | None = None
    secret: object = None  # the secret.Secret of what it read, for the user


def load(indicateurs, quartier, user, comparaison=None, annee_max=None):
    """{indicator pk: Portee} for these indicators in the scope of `quartier` (None: the
    whole territory), with the value of `comparaison` (a TerritoireComparaison) for the
    same period; only the years up to `annee_max` when given (an annual report). Two
    queries, three for a reader who does not see secrets, one more with a
    comparison territory; none without indicators."""
    indicateurs = list(indicateurs)
    if not indicateurs:
        return {}
    scope = Mesure.objects.filter(territoire__isnull=True).defer(
        "created_at", "updated_at", "commentaire"
    )
    scope = scope.filter(quartier=quartier) if quartier else scope.filter(quartier__isnull=True)
    if annee_max is not None:  # a target is an objective: whatever its year
        scope = scope.filter(Q(annee__lte=annee_max) | Q(nature=Mesure.Nature.CIBLE))
    # No ORDER BY: the window orders each partition. The two latest years of each kind and
    # number of period: enough for a latest value, its previous comparable one, and the
    # latest reference and target. Values are ranked over the whole lineage (every
    # edition's value of those years is read, `assign_series` keeps one), references and
    # targets over each indicator.
    scope = (
        series_queryset(indicateurs, reperes=True, queryset=scope)
        .order_by()
        .annotate(
            rang=Window(
                DenseRank(),
                partition_by=[
                    F("lignee"),
                    Case(
                        When(nature=Mesure.Nature.VALEUR, then=Value(0)),
                        default="indicateur_id",
                        output_field=models.BigIntegerField(),
                    ),
                    F("nature"),
                    F("type_periode"),
                    F("numero_periode"),
                ],
                order_by=LATEST_YEAR_FIRST,
            )
        )
        .filter(rang__lte=2)
    )
    found = assign_series(indicateurs, scope)
    for mesures in found.values():
        for mesure in mesures:
            mesure.quartier = quartier  # the scope asked for: no need to read it again
    portees = {}
    for indicateur in indicateurs:
        mesures = found.get(indicateur.pk, [])
        by_nature = {nature: [] for nature in Mesure.Nature.values}
        for mesure in mesures:
            by_nature[mesure.nature].append(mesure)
        derniere, precedente = latest_pair(by_nature[Mesure.Nature.VALEUR], indicateur)
        portees[indicateur.pk] = Portee(
            derniere,
            precedente,
            latest_of(by_nature[Mesure.Nature.REFERENCE]),
            latest_of(by_nature[Mesure.Nature.CIBLE]),
        )
    if comparaison is not None:
        _load_comparison(indicateurs, portees, comparaison)
    groups = _secret_groups(indicateurs, portees, user)
    for indicateur in indicateurs:
        portee = portees[indicateur.pk]
        shown = [portee.derniere, portee.precedente, portee.reference, portee.comparaison]
        mesures = groups.get(indicateur.pk, []) + [m for m in shown if m is not None]
        portee.secret = secret.Secret(indicateur, mesures, user)
    return portees


def _periods(mesures):
    return {(m.annee, m.type_periode, m.numero_periode) for m in mesures if m is not None}


def _load_comparison(indicateurs, portees, comparaison):
    """The comparison territory's value of the period of each latest value (of the
    indicator's lineage)."""
    wanted = {
        pk: (p.derniere.annee, p.derniere.type_periode, p.derniere.numero_periode)
        for pk, p in portees.items()
        if p.derniere is not None
    }
    if not wanted:
        return
    concerned = [indicateur for indicateur in indicateurs if indicateur.pk in wanted]
    rows = series_queryset(
        concerned,
        queryset=Mesure.objects.filter(
            territoire=comparaison, annee__in={period[0] for period in wanted.values()}
        ),
    ).order_by()
    for pk, mesures in assign_series(concerned, rows).items():
        for mesure in mesures:
            if wanted[pk] == (mesure.annee, mesure.type_periode, mesure.numero_periode):
                mesure.territoire = comparaison
                portees[pk].comparaison = mesure


def _secret_groups(indicateurs, portees, user):
    """For a reader who does not see secrets: the measures of the groups (territory and
    every quartier, values and references of one period) of the values shown, which
    secondary secrecy needs. One query, none for staff or when no indicator counts people."""
    concerned = [
        i
        for i in indicateurs
        if i.compte_des_personnes and not secret.sees_secrets(user, i.diagnostic_id)
    ]
    if not concerned:
        return {}
    wanted = {}
    for indicateur in concerned:
        portee = portees[indicateur.pk]
        periods = _periods([portee.derniere, portee.precedente, portee.reference])
        if periods:
            wanted[indicateur.pk] = periods
    return _groups(concerned, wanted)


# What `secret.hidden_measures` reads of a measure.
SECRET_FIELDS = (
    "pk",
    "indicateur_id",
    "quartier_id",
    "territoire_id",
    "nature",
    "annee",
    "type_periode",
    "numero_periode",
    "valeur",
    "numerateur",
    "denominateur",
)


class Cellule(NamedTuple):
    """A measure of a secrecy group as `secret.hidden_measures` reads it: a row, not a
    model instance (a tableau de bord reads thousands); with its edition, as
    `models.assign_series` reads it."""

    pk: int
    indicateur_id: int
    quartier_id: int | None
    territoire_id: int | None
    nature: str
    annee: int
    type_periode: str
    numero_periode: int
    valeur: Decimal | None
    numerateur: Decimal | None
    denominateur: Decimal | None
    lignee: object
    edition_pk: int
    edition_date: object
    edition_nom: str
    edition_statut: str


def _groups(indicateurs, wanted):
    """{indicator pk: its observed measures (values of its lineage and its references,
    territory and quartiers) of the periods wanted {indicator pk: {(annee, type,
    numero)}}} for these indicators: one query."""
    indicateurs = [indicateur for indicateur in indicateurs if indicateur.pk in wanted]
    if not indicateurs:
        return {}
    rows = (
        series_queryset(
            indicateurs,
            reperes=True,
            queryset=Mesure.objects.filter(
                territoire__isnull=True,
                nature__in=OBSERVED,
                annee__in={period[0] for periods in wanted.values() for period in periods},
            ),
        )
        .order_by()
        .values_list(*SECRET_FIELDS, *EDITION)
    )
    groups = {}
    for pk, cellules in assign_series(indicateurs, [Cellule(*row) for row in rows]).items():
        for cellule in cellules:
            period = (cellule.annee, cellule.type_periode, cellule.numero_periode)
            if period in wanted[pk]:
                groups.setdefault(pk, []).append(cellule)
    return groups


def attach_latest_mesures(indicateurs, user):
    """Sets on each indicator `loaded_valeurs`: the latest value of each of its series
    (territory first, then quartiers by code) as (series, period, value as `user` may see
    it, cut to 140 characters), ready to be shown; and `loaded_fictives` when one of them
    is a demonstration value. One query, two for a reader who does not see secrets, none
    without indicators. Used by the pages of a pilier and of a sous-thème
    (diagnostics.queries)."""
    found = {}
    if indicateurs:
        # The latest period of each series of the lineage: every edition's value of it is
        # read, `assign_series` keeps one.
        rows = (
            series_queryset(indicateurs, queryset=Mesure.objects.filter(territoire__isnull=True))
            .annotate(
                rang=Window(
                    DenseRank(),
                    partition_by=[F("lignee"), F("quartier_id"), F("type_periode")],
                    order_by=LATEST_FIRST,
                )
            )
            .filter(rang__lte=1)
            .select_related("quartier")
            .only(*SECRET_FIELDS, "quartier__code", "quartier__nom", "texte", "fictive")
            .order_by()
        )
        found = assign_series(indicateurs, rows)
    latest = {}
    for indicateur in indicateurs:
        series = {}
        for mesure in found.get(indicateur.pk, []):
            series.setdefault(mesure.quartier_id, []).append(mesure)
        firsts = (comparable(mesures, indicateur)[:1] for mesures in series.values())
        latest[indicateur.pk] = [first[0] for first in firsts if first]
    groups = _latest_groups(indicateurs, latest, user)
    for indicateur in indicateurs:
        # The territory (no quartier) first, then the quartiers by code.
        series = sorted(latest[indicateur.pk], key=lambda m: serie_key(m.quartier))
        hidden = secret.Secret(indicateur, groups.get(indicateur.pk, series), user)
        indicateur.loaded_valeurs = [
            (serie_label(m.quartier), m.periode_libelle, truncate(hidden.show(m), 140))
            for m in series
        ]
        indicateur.loaded_fictives = any(m.fictive for m in series)


def _latest_groups(indicateurs, latest, user):
    """The groups of the periods of these latest values, for secondary secrecy (one query,
    none for staff or when no indicator counts people)."""
    wanted = {
        i.pk: _periods(latest[i.pk])
        for i in indicateurs
        if i.compte_des_personnes
        and latest[i.pk]
        and not secret.sees_secrets(user, i.diagnostic_id)
    }
    if not wanted:
        return {}
    return _groups(indicateurs, wanted)


def truncate(text, length):
    """Django's `truncatechars` filter, without going through every character of a text
    that is short enough (most values: "12,5 %")."""
    if len(text) <= length and unicodedata.is_normalized("NFC", text):
        return text
    return Truncator(text).chars(length)


def in_diagnostic_order(indicateurs, diagnostic, themes):
    """The indicators of one diagnostic (a queryset, with `select_related("sous_theme")`)
    in the order of the diagnostic, each with its thème and pilier: those of `themes`, its
    thèmes with their piliers, already loaded for the menus.

    Ordered in Python rather than by joining every level in SQL
    (diagnostics.filters.in_diagnostic_order): for a hundred indicators, PostgreSQL would
    hash the whole tables of thèmes and piliers of every diagnostic to sort them.
    """
    themes = {theme.pk: theme for theme in themes}
    for theme in themes.values():
        theme.pilier.diagnostic = diagnostic
    indicateurs = list(indicateurs.order_by())
    for indicateur in indicateurs:
        if indicateur.sous_theme_id:
            indicateur.sous_theme.theme = themes[indicateur.sous_theme.theme_id]
        else:
            indicateur.theme = themes[indicateur.theme_id]

    return sorted(indicateurs, key=place_in_diagnostic)


def place_in_diagnostic(indicateur):
    """The sort key of an indicator (its thème and pilier loaded) in the order of its
    diagnostic: pilier, thème, the thème's own level before its sous-thèmes, position."""
    theme, sous_theme = indicateur.theme_effectif, indicateur.sous_theme
    return (
        theme.pilier.numero,
        theme.position,
        theme.pk,
        (1, sous_theme.position, sous_theme.pk) if sous_theme else (0,),
        indicateur.position,
        indicateur.pk,
    )


# Rows of the tableau de bord ------------------------------------------------------------

SECRET_MOTIF = "Valeur couverte par le secret statistique."


@dataclass
class Ligne:
    """One indicator on the tableau de bord, in one scope, as one user may see it."""

    indicateur: Indicateur
    portee: Portee
    evaluation: Evaluation
    valeur: str = ""  # the latest value as shown ("12,5 %", "secret", a constat...)
    valeur_precedente: str = ""
    termes: str = ""  # a rate's terms as shown ("12 / 48")
    evolution: str = ""  # "+2,5", or "" when unknown or hidden
    evolution_nombre: Decimal | None = None
    reference: str = ""
    cible: str = ""
    comparaison: str = ""  # the comparison territory's value for the same period
    ecart: str = ""  # latest value minus the comparison's, when both are shown
    ecart_nombre: Decimal | None = None
    fictive: bool = False  # the latest value is a demonstration one
    precedente_fictive: bool = False

    @property
    def statut(self):
        return self.evaluation.statut

    @property
    def derniere(self):
        return self.portee.derniere

    @property
    def precedente(self):
        return self.portee.precedente


def row_of(indicateur, portee, quartier):
    """The row of one indicator from what `load` read of its scope."""
    hidden = portee.secret
    derniere, precedente = portee.derniere, portee.precedente
    if indicateur.type == Indicateur.Type.QUALITATIF or (derniere and derniere.valeur is None):
        evaluation = Evaluation(Statut.SANS_DONNEE, "Indicateur qualitatif : constat écrit.")
        if derniere is None:
            evaluation = Evaluation(Statut.SANS_DONNEE, "Aucun constat saisi.")
    elif hidden.hides(derniere):
        evaluation = Evaluation(Statut.SANS_DONNEE, SECRET_MOTIF)
    else:
        cible = portee.cible.valeur if portee.cible else None
        evaluation = evaluate(
            indicateur.sens_souhaite,
            hidden.number(derniere),
            hidden.number(precedente),
            hidden.number(portee.reference),
            cible,
        )
        if quartier is not None and cible is None and derniere is not None:
            evaluation = Evaluation(
                evaluation.statut, f"{evaluation.motif} Pas de cible pour ce quartier."
            )
    row = Ligne(indicateur, portee, evaluation)
    row.valeur = hidden.show(derniere)
    row.valeur_precedente = hidden.show(precedente)
    row.termes = hidden.terms(derniere)
    # A quartier without its own reference or target says so (it never borrows the
    # territory's); the territory's are simply left empty when not set.
    absent = "{} pour ce quartier" if quartier is not None else ""
    row.reference = hidden.show(portee.reference) or absent.format("pas de référence")
    row.cible = (
        secret.display_value(portee.cible.valeur, indicateur)
        if portee.cible
        else absent.format("pas de cible")
    )
    avant, apres = hidden.number(precedente), hidden.number(derniere)
    if avant is not None and apres is not None:
        row.evolution_nombre = apres - avant
        row.evolution = secret.format_decimal(row.evolution_nombre, signed=True)
    if portee.comparaison is not None:
        row.comparaison = hidden.show(portee.comparaison)
        autre = hidden.number(portee.comparaison)
        if apres is not None and autre is not None:
            row.ecart_nombre = apres - autre
            row.ecart = secret.format_decimal(row.ecart_nombre, signed=True)
    row.fictive = bool(derniere and derniere.fictive)
    row.precedente_fictive = bool(precedente and precedente.fictive)
    return row


def rows_of(indicateurs, quartier, user, statut=None, comparaison=None, annee_max=None):
    """The rows of the tableau de bord for these indicators (evaluated, in order), in the
    scope of `quartier` (None: the whole territory), with the gap to `comparaison`; only
    those of `statut` if given (statuses are those shown: a filter never tells more); the
    years up to `annee_max` only, when given."""
    indicateurs = list(indicateurs)
    portees = load(indicateurs, quartier, user, comparaison, annee_max)
    rows = [row_of(indicateur, portees[indicateur.pk], quartier) for indicateur in indicateurs]
    if statut:
        rows = [row for row in rows if row.statut == statut]
    return rows


def count_statuts(rows):
    """[(Statut, number of rows)] in the order of Statut."""
    counts = dict.fromkeys(Statut, 0)
    for row in rows:
        counts[row.statut] += 1
    return list(counts.items())


# Exports ----------------------------------------------------------------------------------

HEADERS = (
    "Pilier",
    "Thème",
    "Sous-thème",
    "Indicateur",
    "Type",
    "Unité",
    "Source des données",
    "Série",
    "Dernière période",
    "Dernière valeur",
    "Numérateur / dénominateur",
    "Période précédente",
    "Valeur précédente",
    "Évolution",
    "Valeur de référence",
    "Période de référence",
    "Valeur cible",
    "Période cible",
    "Territoire de comparaison",
    "Valeur de comparaison",
    "Écart",
    "Statut",
    "Explication du statut",
    "Donnée fictive",
)
COLUMN_WIDTHS = (
    28, 28, 28, 60, 14, 12, 20, 24, 14, 14, 18, 16, 14, 12, 14, 12, 12, 10, 24, 14, 12, 14, 40, 10,
)  # fmt: skip


def _cell_value(display, number, for_csv):
    """A value as shown to the user: the text shown when it is not a number ("secret", a
    constat, "pas de cible…"); else the number itself in a spreadsheet, the French number
    in a CSV file ("1234,5": no thousands separator, so that spreadsheet programs read a
    number)."""
    if number is None or display == secret.MASKED_LABEL:
        return display
    if for_csv:
        return secret.format_decimal(number, grouping=False)
    return number


def _signed(number, for_csv):
    if number is None:
        return ""
    return secret.format_decimal(number, signed=True, grouping=False) if for_csv else number


def export_rows(rows, serie, for_csv, comparaison=None):
    """The cells of each row, in the order of HEADERS."""
    for row in rows:
        indicateur = row.indicateur
        theme = indicateur.theme_effectif
        portee = row.portee
        derniere, precedente = portee.derniere, portee.precedente
        reference, cible = portee.reference, portee.cible
        shown = portee.secret.number
        yield (
            str(theme.pilier),
            theme.libelle,
            indicateur.sous_theme.libelle if indicateur.sous_theme_id else "",
            indicateur.libelle,
            indicateur.get_type_display(),
            secret.unit_of(indicateur),
            indicateur.source_donnees,
            serie,
            derniere.periode_libelle if derniere else "",
            _cell_value(row.valeur, shown(derniere), for_csv),
            row.termes,
            precedente.periode_libelle if precedente else "",
            _cell_value(row.valeur_precedente, shown(precedente), for_csv),
            _signed(row.evolution_nombre, for_csv),
            _cell_value(row.reference, shown(reference), for_csv),
            reference.periode_libelle if reference else "",
            _cell_value(row.cible, cible.valeur if cible else None, for_csv),
            cible.periode_libelle if cible else "",
            str(comparaison) if comparaison else "",
            _cell_value(row.comparaison, shown(portee.comparaison), for_csv),
            _signed(row.ecart_nombre, for_csv),
            row.evaluation.libelle,
            row.evaluation.motif,
            "oui" if row.fictive else "non",
        )


NOMBRE_CSV = re.compile(r"^[+-]?\d+(,\d+)?$")


def _csv_cell(value):
    """Text of a CSV cell: a number stays as it is ("-2,5"), any other text that a
    spreadsheet would read as a formula is neutralized (diagnostics.exports)."""
    value = str(value)
    return value if NOMBRE_CSV.match(value) else neutralize_formula(value)


def export_response(rows, serie, export_format, basename, comparaison=None):
    """The tableau de bord as a spreadsheet ("xlsx") or a CSV file, as the user sees it:
    values hidden by the secret statistique stay hidden. Text never becomes a formula
    (see diagnostics.exports)."""
    filename = f"{basename}.{export_format}"
    if export_format == "csv":
        cells = export_rows(rows, serie, for_csv=True, comparaison=comparaison)
        return csv_table_response(HEADERS, cells, filename, cell=_csv_cell)
    cells = export_rows(rows, serie, for_csv=False, comparaison=comparaison)
    return xlsx_table_response(HEADERS, cells, filename, "Tableau de bord", COLUMN_WIDTHS)
