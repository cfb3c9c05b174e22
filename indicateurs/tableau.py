"""The tableau de bord of a diagnostic: each indicator's latest value, its change since the
previous period and its position against its reference and target.

The status of an indicator (`evaluate`, a pure function on Decimal values) compares its
latest value, in the series shown (the whole territory, or one quartier), to its target
(cible) according to the desired direction (sens souhaité):

- **Atteinte**: the target is reached in the desired direction: at or above it for
  "à la hausse", at or below it for "à la baisse", within 5 % of it for "stabilité"
  (`TOLERANCE_STABILITE`; for "stabilité" without a target, the reference value is the
  objective).
- **En progrès**: not reached, but closer to the objective than at the point of
  comparison: the previous period of the same series, or the reference value when there
  is no previous period. For "à la hausse" a higher value, for "à la baisse" a lower
  one, for "stabilité" a value nearer the objective.
- **En recul**: not reached, and no closer than at the point of comparison (an unchanged
  value counts as en recul: nothing brings the target nearer).
- **Sans donnée**: not evaluable, with the reason (`Evaluation.motif`): no value
  measured; a qualitative indicator (or a written constat); the desired direction not
  filled in; a single value with neither target reached, reference nor previous period.

For "stabilité" with neither target nor reference, the objective is to stay where it
was: within 5 % of the previous value is atteinte, otherwise en recul.

The status is computed on the real values, also for partners who see "< 5" instead of a
small count: it never shows a number. The change since the previous period is shown
only when neither value is masked (`indicateurs.secret`).

Loading is done in a fixed number of queries whatever the number of indicators and
measures: `latest_mesures` fetches only the latest measures of each indicator (and
series), with a window function.
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import Case, F, IntegerField, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils.text import Truncator

from diagnostics.exports import csv_table_response, neutralize_formula, xlsx_table_response

from . import secret
from .models import TERRITOIRE, Indicateur, Mesure, periode_libelle

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

# The last month each period covers, and annual before infra-annual (see periode_cle).
FIN_DE_PERIODE = Case(
    When(type_periode=Mesure.TypePeriode.TRIMESTRE, then=F("numero_periode") * 3),
    When(type_periode=Mesure.TypePeriode.MOIS, then=F("numero_periode")),
    default=Value(12),
    output_field=IntegerField(),
)
RANG_DU_TYPE = Case(
    When(type_periode=Mesure.TypePeriode.TRIMESTRE, then=Value(1)),
    When(type_periode=Mesure.TypePeriode.MOIS, then=Value(2)),
    default=Value(0),
    output_field=IntegerField(),
)
LATEST_FIRST = [F("annee").desc(), FIN_DE_PERIODE.desc(), RANG_DU_TYPE.asc()]

TOUTES_LES_SERIES = "toutes"


def latest_mesures(indicateur_ids, quartier=None, nombre=2):
    """The `nombre` latest measures of each indicator, latest first: one query.

    `quartier`: a Quartier, None for the whole territory, or TOUTES_LES_SERIES for the
    latest measures of every series (territory and each quartier). Returns
    {indicateur id: [Mesure]} (in series order then latest first for every series).
    """
    indicateur_ids = list(indicateur_ids)
    if not indicateur_ids:
        return {}
    partition = [F("indicateur_id")]
    # No ORDER BY: the window orders each series, the lists are sorted below. Mesure's
    # default ordering (by indicator: its position) would join every indicator there is.
    mesures = (
        Mesure.objects.filter(indicateur_id__in=indicateur_ids)
        .defer("created_at", "updated_at")
        .order_by()
    )
    if quartier == TOUTES_LES_SERIES:
        partition.append(F("quartier_id"))
        mesures = mesures.select_related("quartier").defer(
            "quartier__created_at", "quartier__updated_at"
        )
    elif quartier is None:
        mesures = mesures.filter(quartier__isnull=True)
    else:
        mesures = mesures.filter(quartier=quartier)
    mesures = mesures.annotate(
        rang=Window(RowNumber(), partition_by=partition, order_by=LATEST_FIRST)
    ).filter(rang__lte=nombre)
    found = {}
    for mesure in mesures:
        if quartier != TOUTES_LES_SERIES:
            mesure.quartier = quartier  # the series asked for: no need to read it again
        found.setdefault(mesure.indicateur_id, []).append(mesure)
    for liste in found.values():
        liste.sort(key=lambda m: (serie_key(m.quartier), _latest_first(m)))
    return found


def _latest_first(mesure):
    annee, fin, rang = mesure.periode_cle
    return (-annee, -fin, -rang)


def serie_key(quartier):
    """Series in order: the whole territory, then the quartiers by code."""
    return ("", "") if quartier is None else ("1", quartier.code)


def serie_label(quartier):
    return TERRITOIRE if quartier is None else quartier.nom


def attach_latest_mesures(indicateurs, user):
    """Sets on each indicator `loaded_valeurs`: the latest value of each of its series
    (territory first, then quartiers by code) as (series, period, value as `user` may see
    it, cut to 140 characters), ready to be shown; and `loaded_fictives` when one of them
    is a demonstration value. One query, none without indicators; rows rather than
    measures and quartiers (a page shows hundreds). Used by the pages of a pilier and of
    a sous-thème (diagnostics.queries)."""
    found = {}
    if indicateurs:
        rows = (
            Mesure.objects.filter(indicateur_id__in=[indicateur.pk for indicateur in indicateurs])
            .annotate(
                rang=Window(
                    RowNumber(),
                    partition_by=[F("indicateur_id"), F("quartier_id")],
                    order_by=LATEST_FIRST,
                )
            )
            .filter(rang__lte=1)
            .order_by()
            .values_list(
                "indicateur_id",
                "quartier__code",
                "quartier__nom",
                "annee",
                "type_periode",
                "numero_periode",
                "valeur",
                "texte",
                "fictive",
            )
        )
        for row in rows:
            found.setdefault(row[0], []).append(row)
    for indicateur in indicateurs:
        # The territory (no quartier) first, then the quartiers by code.
        series = sorted(
            found.get(indicateur.pk, []), key=lambda row: (row[1] is not None, row[1] or "")
        )
        indicateur.loaded_valeurs = [
            (
                nom or TERRITOIRE,
                periode_libelle(annee, type_periode, numero_periode),
                truncate(
                    texte if valeur is None else secret.display_value(valeur, indicateur, user),
                    140,
                ),
            )
            for _, _, nom, annee, type_periode, numero_periode, valeur, texte, _ in series
        ]
        indicateur.loaded_fictives = any(row[-1] for row in series)


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

    def place(indicateur):
        theme, sous_theme = indicateur.theme_effectif, indicateur.sous_theme
        return (
            theme.pilier.numero,
            theme.position,
            theme.pk,
            (1, sous_theme.position, sous_theme.pk) if sous_theme else (0,),
            indicateur.position,
            indicateur.pk,
        )

    return sorted(indicateurs, key=place)


# Rows of the tableau de bord ------------------------------------------------------------


@dataclass
class Ligne:
    """One indicator on the tableau de bord, as one user may see it."""

    indicateur: Indicateur
    derniere: Mesure | None
    precedente: Mesure | None
    evaluation: Evaluation
    valeur: str = ""  # the latest value as shown ("12,5 %", "< 5", a constat...)
    valeur_precedente: str = ""
    evolution: str = ""  # "+2,5", or "" when unknown or masked
    evolution_nombre: Decimal | None = None
    reference: str = ""
    cible: str = ""
    fictive: bool = False

    @property
    def statut(self):
        return self.evaluation.statut


def _nombre(mesure):
    return None if mesure is None else mesure.valeur


def row_of(indicateur, mesures, user):
    """The row of one indicator from its latest measures of the series (latest first)."""
    derniere = mesures[0] if mesures else None
    precedente = mesures[1] if len(mesures) > 1 else None
    if indicateur.type == Indicateur.Type.QUALITATIF or (derniere and derniere.valeur is None):
        evaluation = Evaluation(Statut.SANS_DONNEE, "Indicateur qualitatif : constat écrit.")
        if derniere is None:
            evaluation = Evaluation(Statut.SANS_DONNEE, "Aucun constat saisi.")
    else:
        evaluation = evaluate(
            indicateur.sens_souhaite,
            _nombre(derniere),
            _nombre(precedente),
            indicateur.valeur_reference,
            indicateur.valeur_cible,
        )
    row = Ligne(indicateur, derniere, precedente, evaluation)
    show = secret.display_value
    row.valeur = show(derniere, indicateur, user) if derniere else ""
    row.valeur_precedente = show(precedente, indicateur, user) if precedente else ""
    row.reference = show(indicateur.valeur_reference, indicateur, user)
    row.cible = show(indicateur.valeur_cible, indicateur, user, observed=False)
    avant, apres = _nombre(precedente), _nombre(derniere)
    if (
        avant is not None
        and apres is not None
        and not secret.is_masked(avant, indicateur, user)
        and not secret.is_masked(apres, indicateur, user)
    ):
        row.evolution_nombre = apres - avant
        row.evolution = secret.format_decimal(row.evolution_nombre, signed=True)
    row.fictive = any(m.fictive for m in mesures)
    return row


def rows_of(indicateurs, quartier, user, statut=None):
    """The rows of the tableau de bord for these indicators (evaluated, in order), in the
    series of `quartier` (None: the whole territory); only those of `statut` if given.
    One query."""
    indicateurs = list(indicateurs)
    found = latest_mesures([i.pk for i in indicateurs], quartier, nombre=2)
    rows = [row_of(indicateur, found.get(indicateur.pk, []), user) for indicateur in indicateurs]
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
    "Période précédente",
    "Valeur précédente",
    "Évolution",
    "Valeur de référence",
    "Année de référence",
    "Valeur cible",
    "Année cible",
    "Statut",
    "Explication du statut",
    "Donnée fictive",
)
COLUMN_WIDTHS = (28, 28, 28, 60, 14, 12, 20, 24, 14, 14, 16, 14, 12, 14, 12, 12, 10, 14, 40, 10)


def _cell_value(display, number, for_csv):
    """A value as shown to the user: the text shown when it is not a number ("< 5", a
    constat); else the number itself in a spreadsheet, the French number in a CSV file
    ("1234,5": no thousands separator, so that spreadsheet programs read a number)."""
    if number is None or display == secret.masked_label():
        return display
    if for_csv:
        return secret.format_decimal(number, grouping=False)
    return number


def export_rows(rows, serie, for_csv):
    """The cells of each row, in the order of HEADERS."""
    for row in rows:
        indicateur = row.indicateur
        theme = indicateur.theme_effectif
        derniere, precedente = row.derniere, row.precedente
        evolution = row.evolution_nombre
        if for_csv and evolution is not None:
            evolution = secret.format_decimal(evolution, signed=True, grouping=False)
        yield (
            str(theme.pilier),
            theme.libelle,
            indicateur.sous_theme.libelle if indicateur.sous_theme_id else "",
            indicateur.libelle,
            indicateur.get_type_display(),
            indicateur.unite,
            indicateur.source_donnees,
            serie,
            derniere.periode_libelle if derniere else "",
            _cell_value(row.valeur, _nombre(derniere), for_csv),
            precedente.periode_libelle if precedente else "",
            _cell_value(row.valeur_precedente, _nombre(precedente), for_csv),
            "" if evolution is None else evolution,
            _cell_value(row.reference, indicateur.valeur_reference, for_csv),
            str(indicateur.annee_reference or ""),
            _cell_value(row.cible, indicateur.valeur_cible, for_csv),
            str(indicateur.annee_cible or ""),
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


def export_response(rows, serie, export_format, basename):
    """The tableau de bord as a spreadsheet ("xlsx") or a CSV file, as the user sees it:
    values masked by the secret statistique stay masked. Text never becomes a formula
    (see diagnostics.exports)."""
    filename = f"{basename}.{export_format}"
    if export_format == "csv":
        cells = export_rows(rows, serie, for_csv=True)
        return csv_table_response(HEADERS, cells, filename, cell=_csv_cell)
    cells = export_rows(rows, serie, for_csv=False)
    return xlsx_table_response(HEADERS, cells, filename, "Tableau de bord", COLUMN_WIDTHS)
