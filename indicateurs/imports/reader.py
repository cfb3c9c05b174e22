"""Reader of files of measures: the bytes of a file in, one `MeasureRow` per value out.

Two layouts are recognised by their header row (found below any title rows):
- long: one row per value, with columns Indicateur (or Identifiant), Quartier, Période (or
  Année, with Trimestre or Mois beside it), Valeur, and optionally Nature (valeur,
  référence, cible), Numérateur and Dénominateur (the terms of a rate: Valeur may then be
  empty), Source, Commentaire;
- wide, as partners' spreadsheets often are: one row per indicator and quartier (and
  nature, when the table has a Nature column), one column per period ("2021", "2022",
  "T1 2024"…).
The Quartier column also names the whole territory and comparison territories (resolved
later, `keys.Resolver`). Empty cells and cells saying there is no value ("nd", "s", "-")
are skipped (a row of a rate: when its value and its terms all are). The reader
writes nothing and knows no diagnostic: problems are (line, French message) pairs.
"""

import re
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings

from diagnostics.imports.formats import UnreadableFile, read_raw_tables
from diagnostics.text import control_character, describe_character, normalize_key

from .values import is_no_data, is_period

HEADER_SEARCH_ROWS = 30


class Role(StrEnum):
    IDENTIFIANT = "Identifiant"
    INDICATEUR = "Indicateur"
    QUARTIER = "Quartier"
    NATURE = "Nature"
    PERIODE = "Période"
    ANNEE = "Année"
    TRIMESTRE = "Trimestre"
    MOIS = "Mois"
    VALEUR = "Valeur"
    NUMERATEUR = "Numérateur"
    DENOMINATEUR = "Dénominateur"
    SOURCE = "Source"
    COMMENTAIRE = "Commentaire"
    IGNORED = "ignorée"  # known columns that carry nothing to import (unité, thème…)


class Layout(StrEnum):
    LONG = "long"
    WIDE = "large"


_HEADERS = {
    Role.IDENTIFIANT: r"(?:identifiant|id)(?: (?:de l'|d'|de l’)?indicateur)?",
    Role.INDICATEUR: (
        r"(?:indicateurs?|(?:libelle|intitule|nom)(?: (?:de l'|de l’|d'|d’)?indicateur)?)"
    ),
    Role.QUARTIER: r"(?:quartiers?|qpv|quartier prioritaire|code qpv|territoire|lieu)",
    Role.NATURE: r"(?:nature|nature de la valeur|type de valeur)",
    Role.PERIODE: r"(?:periode|date|millesime)",
    Role.ANNEE: r"(?:annee|an)",
    Role.TRIMESTRE: r"trimestre",
    Role.MOIS: r"mois",
    Role.VALEUR: r"(?:valeurs?|resultats?|donnees?|mesures?)",
    Role.NUMERATEUR: r"numerateurs?",
    Role.DENOMINATEUR: r"denominateurs?",
    Role.SOURCE: r"(?:sources?|source des donnees|producteur)",
    Role.COMMENTAIRE: r"(?:commentaires?|remarques?|observations?|notes?)",
    Role.IGNORED: (
        r"(?:unite|type|type de periode|sous[- ]?themes?|themes?|thematiques?|piliers?|axes?"
        r"|definition|mode de calcul|periodicite|code)"
    ),
}
_HEADER_PATTERNS = {role: re.compile(pattern) for role, pattern in _HEADERS.items()}
_PARENTHESES = re.compile(r"\([^)]*\)")
_TRAILING = re.compile(r"[\s:.*]+$")
_QUARTER_PREFIX = re.compile(r"^(?:t|q|trim(?:estre)?\.?)\s*", re.IGNORECASE)

EXPECTED_COLUMNS = (
    "une colonne Indicateur (ou Identifiant) et, soit des colonnes Période (ou Année) et "
    "Valeur (une ligne par valeur), soit une colonne par année ou par trimestre (2023, "
    "2024, T1 2024…) ; Quartier, Nature, Numérateur, Dénominateur, Source et Commentaire "
    "sont facultatives"
)


@dataclass(slots=True)
class MeasureRow:
    """One value of the file with the texts that locate it (nothing resolved yet)."""

    line: int
    identifiant: str
    indicateur: str
    quartier: str
    periode: str
    valeur: str
    source: str | None  # None: the file has no such column (the measure's is kept)
    commentaire: str | None
    nature: str = ""  # empty: an observed value
    numerateur: str | None = None  # None: the file has no such column
    denominateur: str | None = None


@dataclass
class MeasuresTable:
    rows: list[MeasureRow] = field(default_factory=list)
    layout: Layout | None = None
    has_source: bool = False
    has_commentaire: bool = False
    has_nature: bool = False
    has_terms: bool = False  # Numérateur and Dénominateur columns
    skipped_no_data: int = 0
    warnings: list[tuple[int | None, str]] = field(default_factory=list)
    errors: list[tuple[int | None, str]] = field(default_factory=list)


_OPTIONAL = (Role.SOURCE, Role.COMMENTAIRE, Role.NUMERATEUR, Role.DENOMINATEUR)
_TERMS = (Role.NUMERATEUR, Role.DENOMINATEUR)


def header_role(text):
    """The role of a header cell ("Valeur (en %)" -> VALEUR), "period" for a period, or None."""
    key = _TRAILING.sub("", _PARENTHESES.sub("", normalize_key(text))).strip()
    if not key:
        return None
    for role, pattern in _HEADER_PATTERNS.items():
        if pattern.fullmatch(key):
            return role
    if is_period(text):
        return "period"
    return None


def read_measures(filename, content):
    """Read a file of measures (.xlsx, .ods, .csv, .tsv, .txt) into a `MeasuresTable`."""
    table = MeasuresTable()
    try:
        tables, warnings = read_raw_tables(
            filename,
            content,
            max_size=settings.IMPORT_MESURES_MAX_FILE_SIZE,
            max_rows=settings.IMPORT_MESURES_MAX_ROWS,
            merged_cells=False,
        )
        table.warnings.extend(warnings)
        for rows in tables:
            header = _find_header(rows)
            if header is None:
                continue
            if table.layout is not None:
                table.warnings.append(
                    (
                        None,
                        "Le classeur contient plusieurs feuilles de valeurs : seule la "
                        "première a été importée.",
                    )
                )
                break
            _read_rows(rows, header, table)
            if table.errors:
                break
    except UnreadableFile as error:
        table.errors.append((error.line, error.message))
        return table
    if table.layout is None and not table.errors:
        table.errors.append(
            (None, f"Aucune ligne d'en-tête reconnue : il faut {EXPECTED_COLUMNS}.")
        )
    if table.skipped_no_data:
        count = table.skipped_no_data
        table.warnings.append(
            (
                None,
                f"{count} valeur{'s' if count > 1 else ''} non disponible{'s' if count > 1 else ''}"
                " (« nd », « s », « - »…) ignorée" + ("s." if count > 1 else "."),
            )
        )
    return table


def _find_header(rows):
    """(index, line, roles by column) of the header row, or None."""
    for index, (line, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        roles = [header_role(cell) for cell in cells]
        if {Role.INDICATEUR, Role.IDENTIFIANT} & set(roles) and (
            Role.VALEUR in roles or "period" in roles
        ):
            return index, line, cells, roles
    return None


def _read_rows(rows, header, table):
    index, header_line, header_cells, roles = header
    columns = {}
    periods = []  # (column, header text) of a wide table
    for column, (role, text) in enumerate(zip(roles, header_cells, strict=True)):
        if role == "period":
            periods.append((column, text.strip()))
        elif role is None:
            if text.strip():
                table.warnings.append((header_line, f"colonne « {text.strip()} » ignorée."))
        elif role == Role.IGNORED:
            continue
        elif role in columns:
            table.errors.append((header_line, f"la colonne {role.value} apparaît deux fois."))
        else:
            columns[role] = column
    if (Role.NUMERATEUR in columns) != (Role.DENOMINATEUR in columns):
        missing = Role.DENOMINATEUR if Role.NUMERATEUR in columns else Role.NUMERATEUR
        table.errors.append(
            (
                header_line,
                f"colonne {missing.value} introuvable : un taux se donne par son numérateur "
                "et son dénominateur, en deux colonnes.",
            )
        )
    if table.errors:
        return
    if Role.VALEUR in columns:
        if Role.PERIODE not in columns and Role.ANNEE not in columns:
            table.errors.append(
                (
                    header_line,
                    "colonne Période (ou Année) introuvable : il faut " + EXPECTED_COLUMNS + ".",
                )
            )
            return
        table.layout = Layout.LONG
        for _column, text in periods:
            table.warnings.append((header_line, f"colonne « {text} » ignorée."))
    else:
        table.layout = Layout.WIDE
        if Role.NUMERATEUR in columns:
            table.errors.append(
                (
                    header_line,
                    "les colonnes Numérateur et Dénominateur demandent une ligne par valeur "
                    "(colonnes Période et Valeur), pas une colonne par période.",
                )
            )
            return
    table.has_source = Role.SOURCE in columns
    table.has_commentaire = Role.COMMENTAIRE in columns
    table.has_nature = Role.NATURE in columns
    table.has_terms = Role.NUMERATEUR in columns
    header_keys = [normalize_key(cell) for cell in header_cells]
    # A repeated header is recognised by its indicator cell first (cheap), then in full.
    key_column = columns.get(Role.INDICATEUR, columns.get(Role.IDENTIFIANT))
    key_header = header_cells[key_column].strip().casefold()

    def cell(cells, role):
        column = columns.get(role)
        if column is None:
            return None if role in _OPTIONAL else ""
        if column >= len(cells):
            return "" if role in _TERMS else None if role in _OPTIONAL else ""
        return cells[column].strip()

    for line, cells in rows[index + 1 :]:
        if not any(text.strip() for text in cells):
            continue
        if (
            key_column < len(cells)
            and cells[key_column].strip().casefold() == key_header
            and [normalize_key(text) for text in cells[: len(header_keys)]] == header_keys
        ):
            continue  # a header repeated (pages printed, tables pasted one below another)
        invisible = next(
            (char for text in cells if (char := control_character(text)) is not None), None
        )
        if invisible is not None:
            table.errors.append(
                (
                    line,
                    f"une cellule contient un caractère de contrôle invisible "
                    f"({describe_character(invisible)}) : retirez-le.",
                )
            )
            continue
        located = {
            "line": line,
            "identifiant": cell(cells, Role.IDENTIFIANT),
            "indicateur": cell(cells, Role.INDICATEUR),
            "quartier": cell(cells, Role.QUARTIER),
            "source": cell(cells, Role.SOURCE),
            "commentaire": cell(cells, Role.COMMENTAIRE),
            "nature": cell(cells, Role.NATURE),
        }
        if table.layout == Layout.LONG:
            located["numerateur"] = cell(cells, Role.NUMERATEUR)
            located["denominateur"] = cell(cells, Role.DENOMINATEUR)
            _add(table, located, _long_period(cells, columns, cell), cell(cells, Role.VALEUR))
        else:
            for column, text in periods:
                _add(table, located, text, cells[column] if column < len(cells) else "")


def _long_period(cells, columns, cell):
    if Role.PERIODE in columns:
        return cell(cells, Role.PERIODE)
    annee = cell(cells, Role.ANNEE)
    trimestre = _QUARTER_PREFIX.sub("", cell(cells, Role.TRIMESTRE))
    mois = cell(cells, Role.MOIS)
    if trimestre:
        return f"T{trimestre} {annee}"
    if mois:
        short_number = mois.isascii() and mois.isdigit() and len(mois) <= 2
        return f"{int(mois):02d}/{annee}" if short_number else f"{mois} {annee}"
    return annee


def _add(table, located, periode, valeur):
    cells = (valeur, located.get("numerateur") or "", located.get("denominateur") or "")
    if all(is_no_data(text) for text in cells):
        if any(text.strip() for text in cells):
            table.skipped_no_data += 1
        return
    table.rows.append(MeasureRow(periode=periode, valeur=valeur, **located))
