"""A whole diagnostic in the layout of its source table, to edit elsewhere and import again.

Columns Pilier, Thème, Sous-thème, then one per kind of item (Difficultés prégnantes,
Indicateur: `kinds.source_table()`), one row per sous-thème; a row without sous-thème
holds the items of the thème itself (or a thème without sous-thèmes), a row with only a
pilier a pilier without thèmes. Each cell of
items lists them one per line, "• " first: the importer reads such a line as one whole
item (`diagnostics.imports.cells.split_items`), so that importing an export into a new
diagnostic gives the same piliers, thèmes, sous-thèmes and items, in the same order.
Quartier tags, indicator details and measures are not part of the layout. A `<` or `&`
that the importer would read as HTML is written as an entity (`protect`); what no cell
can carry (white space collapsed inside names, "^{er}" superscripts) reads back cleaned.

- XLSX: one sheet, a bold frozen header row, the pilier and thème cells merged down their
  rows, wrapped text, column widths; every cell written as a string, never a formula.
- CSV (`;`) and TSV: UTF-8 with BOM; the pilier and thème repeated on each row; a value
  that a spreadsheet would read as a formula gets a leading apostrophe
  (`exports.neutralize_formula`), which the importers take off again.
"""

import csv
import io
from dataclasses import dataclass
from itertools import groupby

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from .. import kinds
from ..exports import neutralize_formula
from ..models import CelluleSource, Pilier, SousTheme, Theme
from .cells import clean_label, split_items

Colonne = CelluleSource.Colonne
COLUMN_WIDTHS = {
    Colonne.PILIER: 28,
    Colonne.THEME: 32,
    Colonne.SOUS_THEME: 36,
    Colonne.DIFFICULTES: 70,
}
DEFAULT_WIDTH = 60
BULLET = "• "
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}


def columns():
    """The columns of the layout, as the importer reads their headers."""
    return [Colonne(kind.colonne) for kind in kinds.source_table()]


def headers():
    return [column.label for column in columns()]


def item_kinds():
    return [kind for kind in kinds.source_table() if kind.is_item]


@dataclass
class Row:
    pilier: str
    theme: str
    sous_theme: str
    items: list[str]  # one cell per kind of item (`item_kinds()`)
    pilier_id: int
    theme_id: int | None

    def cells(self):
        return (self.pilier, self.theme, self.sous_theme, *self.items)


def pilier_label(numero, libelle):
    """ "1 Cohésion sociale": the number first, as the importer reads it."""
    return f"{numero} {protect(libelle)}"


def items_cell(libelles):
    return "\n".join(f"{BULLET}{protect(libelle, item=True)}" for libelle in libelles)


def protect(text, *, item=False):
    """The text, with `<` and `&` written as entities when the importer would otherwise
    read it differently (it drops HTML tags and decodes entities: "<b>", "&amp;")."""
    if _reads_back(text, item):
        return text
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    return escaped if _reads_back(escaped, item, expected=text) else text


def _reads_back(cell, item, expected=None):
    expected = cell if expected is None else expected
    if item:
        return split_items(f"{BULLET}{cell}") == [expected]
    return clean_label(cell) == expected


def source_rows(diagnostic):
    """The rows of the diagnostic in the source layout (three queries and one per kind of
    item).

    Values only, grouped in Python: for a diagnostic of 20,000 rows, model instances and
    their prefetched relations took 250 MB and 10 s (Django's prefetch machinery creating a
    related manager per object); tuples take a fraction of both (bench/exports.py).
    """
    piliers = (
        Pilier.objects.filter(diagnostic=diagnostic)
        .order_by("numero")
        .values_list("pk", "numero", "libelle")
    )
    themes = (
        Theme.objects.filter(diagnostic=diagnostic)
        .order_by("pilier__numero", "position", "id")
        .values_list("pk", "pilier_id", "libelle")
    )
    sous_themes = (
        SousTheme.objects.filter(diagnostic=diagnostic)
        .order_by("position", "id")
        .values_list("pk", "theme_id", "libelle")
    )
    item_columns = item_kinds()
    items = {}  # ("theme" or "sous_theme", pk) -> [[libellés] of each kind of item]
    for index, kind in enumerate(item_columns):
        rows = (
            kind.model.objects.du_diagnostic(diagnostic)
            .order_by("position", "id")
            .values_list("theme_id", "sous_theme_id", "libelle")
        )
        for theme_id, sous_theme_id, libelle in rows.iterator(chunk_size=5_000):
            parent = ("sous_theme", sous_theme_id) if sous_theme_id else ("theme", theme_id)
            items.setdefault(parent, [[] for _ in item_columns])[index].append(libelle)
    themes_by_pilier = {
        pilier_id: list(group) for pilier_id, group in groupby(themes, lambda theme: theme[1])
    }
    sous_themes_by_theme = {}
    for sous_theme in sous_themes:
        sous_themes_by_theme.setdefault(sous_theme[1], []).append(sous_theme)
    none = [() for _ in item_columns]
    rows = []
    for pilier_pk, numero, libelle in piliers:
        label = pilier_label(numero, libelle)
        pilier_themes = themes_by_pilier.get(pilier_pk, [])
        if not pilier_themes:
            rows.append(Row(label, "", "", ["" for _ in item_columns], pilier_pk, None))
        for theme_pk, _, theme_libelle in pilier_themes:
            theme_items = items.get(("theme", theme_pk), none)
            theme_sous_themes = sous_themes_by_theme.get(theme_pk, [])
            if any(theme_items) or not theme_sous_themes:
                rows.append(
                    Row(
                        label,
                        protect(theme_libelle),
                        "",
                        [items_cell(libelles) for libelles in theme_items],
                        pilier_pk,
                        theme_pk,
                    )
                )
            for sous_theme_pk, _, sous_theme_libelle in theme_sous_themes:
                sous_theme_items = items.get(("sous_theme", sous_theme_pk), none)
                rows.append(
                    Row(
                        label,
                        protect(theme_libelle),
                        protect(sous_theme_libelle),
                        [items_cell(libelles) for libelles in sous_theme_items],
                        pilier_pk,
                        theme_pk,
                    )
                )
    return rows


def text_table(diagnostic, delimiter):
    """The diagnostic as CSV (`;`) or TSV text, with a byte order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers())
    for row in source_rows(diagnostic):
        writer.writerow([neutralize_formula(cell) for cell in row.cells()])
    return "\ufeff" + buffer.getvalue()


def workbook(diagnostic):
    """The diagnostic as the bytes of an XLSX workbook.

    Written in openpyxl's write-only mode, row by row: a diagnostic of 20,000 rows does not
    build a cell object per cell in memory. The pilier and thème cells of a group of rows
    are written on its first row only and merged down the group (the other cells left out,
    as openpyxl leaves merged cells).
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title(diagnostic.titre))
    for number, column in enumerate(columns(), start=1):
        width = COLUMN_WIDTHS.get(column, DEFAULT_WIDTH)
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.freeze_panes = "A2"
    wrapped = Alignment(wrap_text=True, vertical="top")
    sheet.append([_cell(sheet, header, wrapped, Font(bold=True)) for header in headers()])
    # Pilier and thème cells merged down their rows: [column, key of the group, first line].
    spans = [[1, None, None], [2, None, None]]
    line = 1
    for line, row in enumerate(source_rows(diagnostic), start=2):
        cells = [_cell(sheet, value, wrapped) for value in row.cells()]
        for span, key in zip(spans, (row.pilier_id, (row.pilier_id, row.theme_id)), strict=True):
            if key == span[1]:
                cells[span[0] - 1] = None  # inside the merged range of the group
                continue
            _merge(sheet, span, line - 1)
            span[1:] = [key, line]
        sheet.append(cells)
    for span in spans:
        _merge(sheet, span, line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _merge(sheet, span, last_line):
    """Merge the cells of a group, from its first line to `last_line`, when it has several."""
    column, _, first_line = span
    if first_line is not None and last_line > first_line:
        sheet.merged_cells.add(
            CellRange(min_col=column, min_row=first_line, max_col=column, max_row=last_line)
        )


def _cell(sheet, value, alignment, font=None):
    """A cell written as a string, even when it starts with "=" (never a formula)."""
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    cell.alignment = alignment
    if font is not None:
        cell.font = font
    return cell


def sheet_title(title):
    """A sheet name Excel accepts: 31 characters at most, none of []:*?/\\."""
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in title).strip()
    return cleaned[:31].strip() or "Diagnostic"


def export(diagnostic, export_format):
    """(content, content type, file name) of the diagnostic in this format."""
    filename = f"{diagnostic.slug}-tableau-source.{export_format}"
    if export_format == "xlsx":
        content = workbook(diagnostic)
    else:
        content = text_table(diagnostic, ";" if export_format == "csv" else "\t").encode()
    return content, FORMATS[export_format], filename
