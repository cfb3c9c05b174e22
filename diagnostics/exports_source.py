"""A whole diagnostic in the layout of its source table, to edit elsewhere and import again.

Columns Pilier, Thème, Sous-thème, Difficultés prégnantes, Indicateur, one row per
sous-thème; a row without sous-thème holds the items of the thème itself (or a thème
without sous-thèmes), a row with only a pilier a pilier without thèmes. Each cell of
items lists them one per line, "• " first: the importer reads such a line as one whole
item (`diagnostics.importers.cells.split_items`), so that importing an export into a new
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

from django.db.models import Prefetch
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .exports import neutralize_formula
from .importers.cells import clean_label, split_items
from .models import Difficulte, Pilier, SousTheme, Theme

HEADERS = ("Pilier", "Thème", "Sous-thème", "Difficultés prégnantes", "Indicateur")
COLUMN_WIDTHS = (28, 32, 36, 70, 60)
BULLET = "• "
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}


@dataclass
class Row:
    pilier: str
    theme: str
    sous_theme: str
    difficultes: str
    indicateurs: str
    pilier_id: int
    theme_id: int | None

    def cells(self):
        return (self.pilier, self.theme, self.sous_theme, self.difficultes, self.indicateurs)


def pilier_label(pilier):
    """ "1 Cohésion sociale": the number first, as the importer reads it."""
    return f"{pilier.numero} {protect(pilier.libelle)}"


def items_cell(elements):
    return "\n".join(f"{BULLET}{protect(element.libelle, item=True)}" for element in elements)


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
    """The rows of the diagnostic in the source layout (five queries)."""
    from indicateurs.models import Indicateur  # the indicateurs app imports diagnostics

    ordered = {
        "difficultes": Difficulte.objects.order_by("position", "id"),
        "indicateurs": Indicateur.objects.order_by("position", "id"),
    }
    piliers = Pilier.objects.filter(diagnostic=diagnostic).order_by("numero")
    themes = (
        Theme.objects.filter(pilier__diagnostic=diagnostic)
        .order_by("pilier__numero", "position", "id")
        .prefetch_related(
            Prefetch("sous_themes", queryset=SousTheme.objects.order_by("position", "id")),
            Prefetch("sous_themes__difficultes", queryset=ordered["difficultes"]),
            Prefetch("sous_themes__indicateurs", queryset=ordered["indicateurs"]),
            Prefetch("difficultes", queryset=ordered["difficultes"]),
            Prefetch("indicateurs", queryset=ordered["indicateurs"]),
        )
    )
    themes_by_pilier = {
        pilier_id: list(group) for pilier_id, group in groupby(themes, lambda t: t.pilier_id)
    }
    rows = []
    for pilier in piliers:
        label = pilier_label(pilier)
        pilier_themes = themes_by_pilier.get(pilier.pk, [])
        if not pilier_themes:
            rows.append(Row(label, "", "", "", "", pilier.pk, None))
        for theme in pilier_themes:
            sous_themes = list(theme.sous_themes.all())
            difficultes, indicateurs = list(theme.difficultes.all()), list(theme.indicateurs.all())
            if difficultes or indicateurs or not sous_themes:
                rows.append(
                    Row(
                        label,
                        protect(theme.libelle),
                        "",
                        items_cell(difficultes),
                        items_cell(indicateurs),
                        pilier.pk,
                        theme.pk,
                    )
                )
            for sous_theme in sous_themes:
                rows.append(
                    Row(
                        label,
                        protect(theme.libelle),
                        protect(sous_theme.libelle),
                        items_cell(sous_theme.difficultes.all()),
                        items_cell(sous_theme.indicateurs.all()),
                        pilier.pk,
                        theme.pk,
                    )
                )
    return rows


def text_table(diagnostic, delimiter):
    """The diagnostic as CSV (`;`) or TSV text, with a byte order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in source_rows(diagnostic):
        writer.writerow([neutralize_formula(cell) for cell in row.cells()])
    return "\ufeff" + buffer.getvalue()


def workbook(diagnostic):
    """The diagnostic as the bytes of an XLSX workbook."""
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title(diagnostic.titre)
    wrapped = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    for column, header in enumerate(HEADERS, start=1):
        _write(sheet, 1, column, header, wrapped, bold)
        sheet.column_dimensions[get_column_letter(column)].width = COLUMN_WIDTHS[column - 1]
    sheet.freeze_panes = "A2"
    rows = source_rows(diagnostic)
    for line, row in enumerate(rows, start=2):
        for column, value in enumerate(row.cells(), start=1):
            _write(sheet, line, column, value, wrapped)
    # Pilier and thème cells merged down their rows (the merged cells are left empty).
    spans = ((1, lambda row: row.pilier_id), (2, lambda row: (row.pilier_id, row.theme_id)))
    for column, key in spans:
        line = 2
        for _, group in groupby(rows, key):
            count = len(list(group))
            if count > 1:
                sheet.merge_cells(
                    start_row=line, start_column=column, end_row=line + count - 1, end_column=column
                )
            line += count
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write(sheet, line, column, value, alignment, font=None):
    cell = sheet.cell(line, column)
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.data_type = "s"  # a string, even when it starts with "="
    cell.alignment = alignment
    if font is not None:
        cell.font = font


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
