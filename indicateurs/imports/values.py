"""The cells of a file of measures read as periods, numbers and texts, with French messages.

These functions know nothing of files or of the database. Each raises `ValueError` with a
French message naming the cell; both import paths (the `MesureResource` and the bulk path)
call them, so that a cell gets the same answer whichever path reads it.
"""

import functools
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

from diagnostics.text import normalize_key
from indicateurs.models import Mesure, rate_of

TypePeriode = Mesure.TypePeriode
Nature = Mesure.Nature

FIRST_YEAR, LAST_YEAR = 1990, 2100  # Mesure.annee's validators
DECIMAL_PLACES = 4  # Mesure.valeur: max_digits 16, decimal_places 4
MAX_INTEGER_DIGITS = 12
SOURCE_MAX_LENGTH = Mesure._meta.get_field("source").max_length

PERIOD_FORMS = (
    "l'année (2024), le semestre (S1 2024 ou 2024-S1), le trimestre (T1 2024 ou 2024-T1) "
    "ou le mois (03/2024 ou 2024-03)"
)
# How far a rate's Valeur cell may be from the rate its terms give (in points of %).
RATE_TOLERANCE = Decimal("0.05")

# Cells that say "no value" (secret statistique, not available): skipped like empty cells.
NO_DATA = frozenset(
    {"-", "–", "—", "/", "nd", "n.d", "n.d.", "n/d", "nc", "n.c", "n.c.", "ns", "s", "secret"}
)

MONTHS = {
    "janvier": 1,
    "janv": 1,
    "jan": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "sep": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}


@dataclass(frozen=True, slots=True)
class Period:
    annee: int
    type_periode: str
    numero: int  # 0 for a year, 1–2 for a semester, 1–4 for a quarter, 1–12 for a month

    @property
    def libelle(self):
        if self.type_periode == TypePeriode.SEMESTRE:
            return f"S{self.numero} {self.annee}"
        if self.type_periode == TypePeriode.TRIMESTRE:
            return f"T{self.numero} {self.annee}"
        if self.type_periode == TypePeriode.MOIS:
            return f"{self.numero:02d}/{self.annee}"
        return str(self.annee)


# Periods, matched on the normalised text (accents removed, lower case). Each pattern gives
# the kind of period and the groups (year, number).
_Y = r"(?P<annee>\d{4})"
_PERIOD_PATTERNS = [
    (TypePeriode.ANNEE, re.compile(rf"(?:annee\s*)?{_Y}")),
    (TypePeriode.SEMESTRE, re.compile(rf"s\s*(?P<numero>\d{{1,2}})\s*[-/ ]?\s*{_Y}")),
    (TypePeriode.SEMESTRE, re.compile(rf"{_Y}\s*[-/ ]?\s*s\s*(?P<numero>\d{{1,2}})")),
    (
        TypePeriode.SEMESTRE,
        re.compile(rf"(?P<numero>\d{{1,2}})\s*(?:er|e|eme|nd)?\s*sem(?:estre)?\.?\s*{_Y}"),
    ),
    (TypePeriode.SEMESTRE, re.compile(rf"sem(?:estre)?\.?\s*(?P<numero>\d{{1,2}})\s+{_Y}")),
    (TypePeriode.TRIMESTRE, re.compile(rf"[tq]\s*(?P<numero>\d{{1,2}})\s*[-/ ]?\s*{_Y}")),
    (TypePeriode.TRIMESTRE, re.compile(rf"{_Y}\s*[-/ ]?\s*[tq]\s*(?P<numero>\d{{1,2}})")),
    (
        TypePeriode.TRIMESTRE,
        re.compile(rf"(?P<numero>\d{{1,2}})\s*(?:er|e|eme)?\s*trim(?:estre)?\.?\s*{_Y}"),
    ),
    (TypePeriode.TRIMESTRE, re.compile(rf"trim(?:estre)?\.?\s*(?P<numero>\d{{1,2}})\s+{_Y}")),
    (TypePeriode.MOIS, re.compile(rf"(?P<numero>\d{{1,2}})\s*[/.-]\s*{_Y}")),
    (TypePeriode.MOIS, re.compile(rf"{_Y}\s*[/.-]\s*(?P<numero>\d{{1,2}})")),
    (TypePeriode.MOIS, re.compile(rf"(?P<mois>[a-z]+)\.?\s*[-/ ]?\s*{_Y}")),
]
# A date typed in a period cell (Excel turns "03/2024" into 01/03/2024): its month.
_DATES = [
    re.compile(rf"{_Y}-(?P<numero>\d{{2}})-(?P<jour>\d{{2}})(?:[ t]00:00(?::00)?)?"),
    re.compile(rf"(?P<jour>\d{{2}})/(?P<numero>\d{{2}})/{_Y}"),
]


def is_period(text):
    """True when a header cell names a period (a column of a wide table), even a wrong one."""
    key = normalize_key(text)
    return bool(key) and (
        any(pattern.fullmatch(key) for _, pattern in _PERIOD_PATTERNS if _plausible(pattern, key))
        or any(pattern.fullmatch(key) for pattern in _DATES)
    )


def _plausible(pattern, key):
    match = pattern.fullmatch(key)
    return match is not None and ("mois" not in match.groupdict() or match["mois"] in MONTHS)


@functools.lru_cache(maxsize=4096)
def parse_period(text):
    """The `Period` a cell names: "2023", "S1 2024", "T1 2024", "2024-T1", "03/2024",
    "mars 2024"…

    Remembered (a Period is immutable): a file names few distinct periods, and their
    reading was a fifth of the import's time in Python for 100,000 rows.
    """
    key = normalize_key(text)
    if not key:
        raise ValueError("période manquante.")
    shown = f"période « {_shorten(text.strip())} »"
    for pattern in _DATES:
        match = pattern.fullmatch(key)
        if match:
            if match["jour"] != "01":
                raise ValueError(
                    f"{shown} : c'est une date, pas une période ; écrivez {PERIOD_FORMS}."
                )
            return _period(shown, TypePeriode.MOIS, match["annee"], match["numero"])
    for type_periode, pattern in _PERIOD_PATTERNS:
        match = pattern.fullmatch(key)
        if match is None:
            continue
        groups = match.groupdict()
        if "mois" in groups:
            if groups["mois"] not in MONTHS:
                continue
            return _period(shown, type_periode, match["annee"], MONTHS[groups["mois"]])
        return _period(shown, type_periode, match["annee"], groups.get("numero", 0))
    raise ValueError(f"{shown} illisible : écrivez {PERIOD_FORMS}.")


def _period(shown, type_periode, annee, numero):
    annee, numero = int(annee), int(numero)
    if not FIRST_YEAR <= annee <= LAST_YEAR:
        raise ValueError(f"{shown} : année {annee} impossible (de {FIRST_YEAR} à {LAST_YEAR}).")
    if type_periode == TypePeriode.SEMESTRE and not 1 <= numero <= 2:
        raise ValueError(f"{shown} : semestre {numero} impossible (1 ou 2).")
    if type_periode == TypePeriode.TRIMESTRE and not 1 <= numero <= 4:
        raise ValueError(f"{shown} : trimestre {numero} impossible (de 1 à 4).")
    if type_periode == TypePeriode.MOIS and not 1 <= numero <= 12:
        raise ValueError(f"{shown} : mois {numero} impossible (de 1 à 12).")
    return Period(annee, type_periode, numero)


# Numbers ------------------------------------------------------------------------------------

_PLAIN = re.compile(r"[+-]?(?:\d+|\d*[.,]\d+)")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d+")
_DOT_GROUPS = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?")  # 1.234.567,5
_COMMA_GROUPS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # 1,234,567.5
_SPACES = re.compile(r"\s+")  # includes the no-break spaces of French thousands
_UNITS = ("%", "€")
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)


def parse_number(text):
    """The Decimal a cell writes, French or not: "1 234,5", "12,5 %", "1234.5", "1.5E-3".

    A comma is the decimal separator ("1,234" is 1.234), spaces group thousands; a
    percent or euro sign is dropped (the unit is the indicator's). Values are rounded to
    the 4 decimal places the database keeps (Excel's 0.30000000000000004 gives 0.3).
    Returns None when the cell is not a number.
    """
    compact = _SPACES.sub("", text).replace("\u2212", "-")
    for unit in _UNITS:
        compact = compact.removesuffix(unit)
    if _PLAIN.fullmatch(compact):
        normalized = compact.replace(",", ".")
    elif _SCIENTIFIC.fullmatch(compact):
        normalized = compact
    elif _DOT_GROUPS.fullmatch(compact):
        normalized = compact.replace(".", "").replace(",", ".")
    elif _COMMA_GROUPS.fullmatch(compact):
        normalized = compact.replace(",", "")
    else:
        return None
    try:
        number = Decimal(normalized)
    except InvalidOperation:  # pragma: no cover - the patterns only let numbers through
        return None
    if number.as_tuple().exponent < -DECIMAL_PLACES:
        number = number.quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    elif number.as_tuple().exponent > 0:
        number = number.quantize(Decimal(1))
    return number


def is_no_data(text):
    """True for an empty cell or one that says there is no value ("nd", "s", "-")."""
    stripped = text.strip()
    return not stripped or stripped.casefold() in NO_DATA


def parse_value(text, indicator, period_text):
    """(valeur, texte) of a value cell for `indicator` (an `IndicatorRef`).

    Quantitative indicators take numbers; qualitative ones take text (the constat, a
    number included, kept as written); "à préciser" ones (the seed's, until staff choose
    their type) take either, as `Mesure.clean` allows: a cell that reads as a number is a
    valeur, any other text a constat.
    """
    stripped = text.strip()
    if indicator.type == "qualitatif":
        return None, _limited(stripped, "constat")
    number = parse_number(stripped)
    if number is not None:
        if abs(number) >= 10**MAX_INTEGER_DIGITS:
            raise ValueError(
                f"valeur « {_shorten(stripped)} » ({_shorten(period_text.strip())}) trop grande : "
                f"{MAX_INTEGER_DIGITS} chiffres avant la virgule au plus."
            )
        return number, ""
    if indicator.type == "quantitatif":
        raise ValueError(
            f"valeur « {_shorten(stripped)} » ({_shorten(period_text.strip())}) : l'indicateur "
            f"« {_shorten(indicator.libelle)} » est quantitatif, sa valeur doit être un nombre "
            "(par exemple 1 234,5 ou 12,5 %)."
        )
    return None, _limited(stripped, "constat")


# Natures ------------------------------------------------------------------------------------

NATURE_WORDS = {
    "valeur": Nature.VALEUR,
    "reference": Nature.REFERENCE,
    "ref": Nature.REFERENCE,
    "cible": Nature.CIBLE,
    "objectif": Nature.CIBLE,
}


def parse_nature(text):
    """The `Mesure.Nature` a Nature cell names (empty: an observed value), accents and case
    ignored: "valeur", "référence" (or "réf"), "cible" (or "objectif")."""
    key = normalize_key(text).rstrip(".").strip()
    if not key:
        return Nature.VALEUR
    nature = NATURE_WORDS.get(key)
    if nature is None:
        raise ValueError(
            f"nature « {_shorten(text.strip())} » inconnue : écrivez valeur, référence ou "
            "cible (une case vide est une valeur)."
        )
    return nature


# The terms of a rate -------------------------------------------------------------------------

TERM_NAMES = {"numerateur": "numérateur", "denominateur": "dénominateur"}


def parse_term(text, name, period_text):
    """The Decimal of a Numérateur or Dénominateur cell (`name`), None when empty or when
    it says there is no value."""
    if text is None or is_no_data(text):
        return None
    stripped = text.strip()
    shown = f"{TERM_NAMES[name]} « {_shorten(stripped)} » ({_shorten(period_text.strip())})"
    number = parse_number(stripped)
    if number is None:
        raise ValueError(f"{shown} : ce doit être un nombre (par exemple 1 234 ou 12,5).")
    if abs(number) >= 10**MAX_INTEGER_DIGITS:
        raise ValueError(
            f"{shown} trop grand : {MAX_INTEGER_DIGITS} chiffres avant la virgule au plus."
        )
    if name == "denominateur" and number <= 0:
        raise ValueError(f"{shown} : un dénominateur est un nombre positif.")
    return number


def rate_from_terms(numerateur, denominateur, valeur, period_text):
    """The rate (in %) of these terms; `valeur`, when the file gives it too, must agree with
    it to within RATE_TOLERANCE point."""
    rate = rate_of(numerateur, denominateur)
    shown = _shorten(period_text.strip())
    if abs(rate) >= 10**MAX_INTEGER_DIGITS:
        raise ValueError(
            f"taux ({shown}) : {format_number(numerateur)} / {format_number(denominateur)} "
            "donne un taux trop grand ; vérifiez le numérateur et le dénominateur."
        )
    if valeur is not None and abs(valeur - rate) > RATE_TOLERANCE:
        raise ValueError(
            f"valeur « {format_number(valeur)} » ({shown}) : le numérateur et le dénominateur "
            f"donnent un taux de {format_number(rate)} % ({format_number(numerateur)} / "
            f"{format_number(denominateur)}), écart de plus de "
            f"{format_number(RATE_TOLERANCE)} point ; corrigez la valeur ou laissez-la vide."
        )
    return rate


def clean_source(text):
    stripped = text.strip()
    if len(stripped) > SOURCE_MAX_LENGTH:
        raise ValueError(f"source trop longue ({SOURCE_MAX_LENGTH} caractères au plus).")
    return stripped


def clean_commentaire(text):
    return _limited(text.strip(), "commentaire")


def _limited(text, name):
    maximum = settings.IMPORT_MAX_CELL_LENGTH
    if len(text) > maximum:
        raise ValueError(f"{name} trop long ({maximum} caractères au plus).")
    return text


def _shorten(text, length=60):
    return text if len(text) <= length else f"{text[: length - 1]}…"


def format_number(value):
    """A Decimal written the French way, without useless zeros: 1234,5."""
    if value is None:
        return ""
    normalized = value.normalize()
    if normalized == normalized.to_integral_value():
        normalized = normalized.quantize(Decimal(1))
    return format(normalized, "f").replace(".", ",")
