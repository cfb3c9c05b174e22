"""Reader of source tables: the bytes of a file in, clean rows of the diagnostic out.

`read_table` finds the header by its labels, skips titles, blank rows and repeated
headers, repairs rows shifted one column to the right, carries empty Pilier and Thème
cells over from the row above and splits the Difficultés and Indicateur cells into
items. It writes nothing: problems are collected as (line, French message) pairs.
"""

from dataclasses import dataclass, field

from django.conf import settings

from diagnostics.models import LIBELLE_MAX_LENGTH
from diagnostics.text import (
    ITEM_MAX_LENGTH,
    control_character,
    describe_character,
    normalize_key,
)

from .cells import (
    Column,
    clean_cell,
    clean_label,
    count_header_labels,
    header_column,
    is_bulleted,
    is_short_label,
    lead_in_warning,
    parse_pilier_label,
    split_cell,
)
from .formats import UnreadableFile, read_raw_tables

REQUIRED_COLUMNS = (Column.PILIER, Column.THEME)
HEADER_NAMES = {
    Column.PILIER: "Pilier (ou Axe)",
    Column.THEME: "Thème (ou Thématique)",
    Column.SOUS_THEME: "Sous-thème",
    Column.DIFFICULTES: "Difficultés prégnantes",
    Column.INDICATEURS: "Indicateur",
}


@dataclass(frozen=True)
class PilierRef:
    numero: int
    libelle: str


@dataclass
class SourceRow:
    """One data row of the table, cleaned, with the pilier and thème it continues."""

    line: int
    pilier: PilierRef
    theme: str | None  # None: the row only names a pilier
    sous_theme: str | None  # None: the row is at the thème's level
    difficultes: list[str]
    indicateurs: list[str]
    cells: dict[str, str]  # original text of each non-empty cell, by column

    def items_in(self, column):
        """The items of the row's cell of an items column (Difficultés, Indicateur)."""
        return {Column.DIFFICULTES: self.difficultes, Column.INDICATEURS: self.indicateurs}[column]


@dataclass
class ReadResult:
    rows: list[SourceRow] = field(default_factory=list)
    warnings: list[tuple[int | None, str]] = field(default_factory=list)
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    shifted_lines: list[int] = field(default_factory=list)  # rows put back in place


def read_table(filename, content, *, known_piliers=None):
    """Read a source table (.xlsx, .csv, .tsv or .txt) into a `ReadResult`.

    `known_piliers` maps the numbers of the diagnostic's existing piliers to their
    libellés, so that a pilier named without a number continues an existing one or
    gets the next free number.
    """
    result = ReadResult()
    try:
        tables, warnings = read_raw_tables(filename, content)
        result.warnings.extend(warnings)
        for rows in tables:
            header = find_header(rows, result)
            if header is not None:
                if not result.errors:
                    _TableReader(header, known_piliers or {}, result).read(rows)
                break
        else:
            result.errors.append(
                (
                    None,
                    "Aucune ligne d'en-tête reconnue : le tableau doit avoir une ligne "
                    "nommant ses colonnes Pilier, Thème, Sous-thème, Difficultés prégnantes "
                    "et Indicateur.",
                )
            )
    except UnreadableFile as error:
        result.errors.append((error.line, error.message))
    if not result.rows and not result.errors:
        result.errors.append((None, "Le fichier ne contient aucune ligne de données."))
    return result


@dataclass
class Header:
    line: int
    labels: list[str]
    columns: dict[str, int]  # column -> index in the row

    @property
    def shift_start(self):
        """Index of the Pilier column when the five columns follow in the usual order.

        Only then can a row shifted one column to the right be recognised.
        """
        positions = [self.columns.get(column) for column in Column]
        if None in positions or positions != list(range(positions[0], positions[0] + 5)):
            return None
        return positions[0]

    def name(self, index):
        label = self.labels[index].strip() if index < len(self.labels) else ""
        return f"« {label} »" if label else f"n° {index + 1}"


def find_header(rows, result):
    """The first row naming at least two known columns, checked; None when there is none."""
    for line, cells in rows:
        if count_header_labels(cells) < 2:
            continue
        columns = {}
        for index, text in enumerate(cells):
            column = header_column(text)
            if column is None:
                if text.strip():
                    result.warnings.append(
                        (line, f"colonne « {text.strip()} » non reconnue : elle est ignorée.")
                    )
            elif column in columns:
                result.errors.append(
                    (line, f"la colonne {HEADER_NAMES[column]} figure deux fois dans l'en-tête.")
                )
            else:
                columns[column] = index
        for column in REQUIRED_COLUMNS:
            if column not in columns:
                result.errors.append(
                    (line, f"la colonne {HEADER_NAMES[column]} est absente de l'en-tête.")
                )
        return Header(line=line, labels=cells, columns=columns)
    return None


@dataclass
class _KnownPilier:
    libelle: str
    line: int | None  # None: already in the diagnostic


class _TableReader:
    """Reads the data rows below a header, carrying the current pilier and thème."""

    def __init__(self, header, known_piliers, result):
        self.header = header
        self.result = result
        self.piliers = {
            numero: _KnownPilier(libelle, None) for numero, libelle in known_piliers.items()
        }
        self.numeros = {normalize_key(libelle): numero for numero, libelle in known_piliers.items()}
        self.renamed_warned = set()
        self.pilier = None
        self.theme = None

    def read(self, rows):
        for line, cells in rows:
            if line <= self.header.line or self._has_too_long_cell(line, cells):
                continue
            if self._has_control_character(line, cells):
                continue
            cells = cells + [""] * (len(self.header.labels) - len(cells))
            if not any(clean_cell(cells[index]) for index in self.header.columns.values()):
                continue  # blank row
            if count_header_labels(cells) >= 2:
                continue  # header repeated after a page break
            if self._is_shifted(cells):
                start = self.header.shift_start
                cells = cells[:start] + cells[start + 1 :] + [""]
                self.result.shifted_lines.append(line)
                self.result.warnings.append(
                    (
                        line,
                        "ligne décalée d'une colonne vers la droite (Pilier vide, liste à puces "
                        "sous Indicateur) : remise en place, vérifiez le résultat.",
                    )
                )
            self._read_row(line, {column: cells[i] for column, i in self.header.columns.items()})

    def _has_too_long_cell(self, line, cells):
        maximum = settings.IMPORT_MAX_CELL_LENGTH
        for index, text in enumerate(cells):
            if len(text) > maximum:
                self.result.errors.append(
                    (
                        line,
                        f"la cellule de la colonne {self.header.name(index)} fait {len(text)} "
                        f"caractères, au-delà de la limite de {maximum}.",
                    )
                )
                return True
        return False

    def _has_control_character(self, line, cells):
        """A cell holding, once cleaned, a control character other than tab and line
        breaks (white-space ones become spaces): the row is refused, with the column."""
        for index, text in enumerate(cells):
            char = control_character(clean_cell(text)) or ("\x00" if "\x00" in text else None)
            if char is not None:
                self.result.errors.append(
                    (
                        line,
                        f"la cellule de la colonne {self.header.name(index)} contient un "
                        f"caractère de contrôle invisible ({describe_character(char)}) : "
                        "retirez-le.",
                    )
                )
                return True
        return False

    def _is_shifted(self, cells):
        """A row shifted one column to the right, as the seed has two.

        Its Pilier and Thème cells are empty, a name sits in the Sous-thème or the
        Difficultés column, the Difficultés cell is empty or a short label without
        bullets, and the Indicateur cell holds a bulleted list.
        """
        start = self.header.shift_start
        if start is None:
            return False
        pilier, theme, sous_theme, difficultes, indicateurs = cells[start : start + 5]
        return (
            not clean_cell(pilier)
            and not clean_cell(theme)
            and bool(clean_cell(sous_theme) or clean_cell(difficultes))
            and is_bulleted(indicateurs)
            and (not clean_cell(difficultes) or is_short_label(difficultes, LIBELLE_MAX_LENGTH))
        )

    def _read_row(self, line, values):
        pilier_label = clean_label(values[Column.PILIER])
        theme_label = clean_label(values[Column.THEME])
        sous_theme = clean_label(values.get(Column.SOUS_THEME, "")) or None
        cells_items = {
            column: split_cell(values.get(column, ""))
            for column in (Column.DIFFICULTES, Column.INDICATEURS)
        }
        difficultes = cells_items[Column.DIFFICULTES].items
        indicateurs = cells_items[Column.INDICATEURS].items
        if pilier_label:
            pilier = self._pilier(line, pilier_label)
            if pilier is None:
                return
            if self.pilier is None or pilier.numero != self.pilier.numero:
                self.theme = None
            self.pilier = pilier
        elif self.pilier is None:
            self.result.errors.append(
                (line, "aucun pilier n'est indiqué sur cette ligne ni au-dessus.")
            )
            return
        if theme_label:
            self.theme = theme_label
        elif self.theme is None and (sous_theme or difficultes or indicateurs):
            self.result.errors.append(
                (
                    line,
                    f"aucun thème n'est indiqué pour le pilier « {self.pilier.libelle} » "
                    "sur cette ligne ni au-dessus.",
                )
            )
            return
        for item in difficultes + indicateurs:
            if len(item) > ITEM_MAX_LENGTH:
                self.result.errors.append(
                    (
                        line,
                        f"l'élément « {item[:60]}… » fait {len(item)} caractères : "
                        f"{ITEM_MAX_LENGTH} au plus.",
                    )
                )
                return
        for column, cell in cells_items.items():  # a lead-in kept with its phrases
            for lead_in in cell.lead_ins:
                self.result.warnings.append((line, lead_in_warning(HEADER_NAMES[column], lead_in)))
        cells = {column: text for column, text in values.items() if clean_cell(text)}
        self.result.rows.append(
            SourceRow(line, self.pilier, self.theme, sous_theme, difficultes, indicateurs, cells)
        )

    def _pilier(self, line, label):
        """The pilier a label names, numbered; None (with an error) when it conflicts."""
        numero, libelle = parse_pilier_label(label)
        if numero is None:
            numero = self.numeros.get(normalize_key(libelle))
            if numero is None:
                numero = max(self.piliers, default=0) + 1
        elif not libelle:
            known = self.piliers.get(numero)
            libelle = known.libelle if known else label
        key = normalize_key(libelle)
        other = self.numeros.get(key)
        if other is not None and other != numero:
            self.result.errors.append(
                (
                    line,
                    f"le pilier « {libelle} » porte déjà le numéro {other}"
                    f"{self._where(other)} : il ne peut pas porter aussi le numéro {numero}.",
                )
            )
            return None
        known = self.piliers.get(numero)
        if known is None:
            self.piliers[numero] = _KnownPilier(libelle, line)
            self.numeros[key] = numero
        elif normalize_key(known.libelle) != key:
            if known.line is not None:
                self.result.errors.append(
                    (
                        line,
                        f"le numéro {numero} est déjà celui du pilier « {known.libelle} » "
                        f"(ligne {known.line}).",
                    )
                )
                return None
            if numero not in self.renamed_warned:
                self.renamed_warned.add(numero)
                self.result.warnings.append(
                    (
                        line,
                        f"le pilier n° {numero} existe déjà dans le diagnostic sous le libellé "
                        f"« {known.libelle} » : ces lignes y sont rattachées.",
                    )
                )
        return PilierRef(numero, libelle)

    def _where(self, numero):
        line = self.piliers[numero].line
        return " dans le diagnostic" if line is None else f" (ligne {line})"
