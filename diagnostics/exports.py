"""Exports of a list of items (difficultés or indicateurs) as a spreadsheet or a CSV file.

Both formats have the same columns. Libellés come from imported documents: nothing in
them may become a formula in the user's spreadsheet program.
- CSV (UTF-8 with BOM, `;` separator, as French Excel expects): a value that a
  spreadsheet would read as a formula (starting with =, +, -, @, tab or carriage return)
  gets a leading apostrophe. The file is streamed row by row.
- XLSX (openpyxl, write-only mode): every cell is written as a string (type "s"),
  never as a formula, whatever its first character.

The items must come with their path, source and quartiers loaded (see the list views).
"""

import csv
from io import BytesIO

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

HEADERS = ("Diagnostic", "Pilier", "Thème", "Sous-thème", "Libellé", "Quartiers", "Source")
COLUMN_WIDTHS = (30, 30, 30, 30, 80, 30, 35)

FORMATS = ("xlsx", "csv")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Rows are read from the database by chunks, with the quartiers of each chunk.
CHUNK_SIZE = 500


def element_row(element):
    """The cells of one item, as text, in the order of HEADERS."""
    theme = element.theme_effectif
    pilier = theme.pilier
    source = element.source
    return (
        element.diagnostic.titre,
        str(pilier),
        theme.libelle,
        element.sous_theme.libelle if element.sous_theme_id else "",
        element.libelle,
        ", ".join(str(quartier) for quartier in element.quartiers.all()),
        f"{source.import_source.nom_fichier}, ligne {source.ligne}" if source else "",
    )


def element_rows(elements):
    if hasattr(elements, "iterator"):
        elements = elements.iterator(chunk_size=CHUNK_SIZE)
    for element in elements:
        yield element_row(element)


def neutralize_formula(value):
    """'=1+1' -> "'=1+1": a spreadsheet shows the text instead of computing it."""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def unneutralize_formula(value):
    """Take off the apostrophe `neutralize_formula` added ("'=1+1" -> "=1+1").

    The importers call it on every cell, so that what the site exports reads back as it was.
    """
    if value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


class _Echo:
    """A file-like object whose write() returns what it is given (for streaming CSV)."""

    def write(self, value):
        return value


def _attachment(response, filename):
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def csv_table_response(headers, rows, filename, cell=neutralize_formula):
    """A streamed CSV download (UTF-8 with BOM, ";" as French Excel expects); each value
    goes through `cell`, which neutralizes what a spreadsheet would read as a formula."""
    writer = csv.writer(_Echo(), delimiter=";")

    def lines():
        yield "\ufeff" + writer.writerow(headers)
        for row in rows:
            yield writer.writerow([cell(value) for value in row])

    return _attachment(StreamingHttpResponse(lines(), content_type=CSV_CONTENT_TYPE), filename)


def _cell(sheet, value, font=None):
    """A value of a write-only row: text is written as a string, even when it starts with
    "=" (never a formula) or reads as an error code ("#N/A"); numbers, dates and empty
    values keep their type.

    Plain values go as they are (openpyxl reuses one cell object for them): a cell object
    is made only for a style or a text that openpyxl would not take as a string.
    """
    if isinstance(value, str):
        if font is None and value[:1] not in ("=", "#") and not ILLEGAL_CHARACTERS_RE.search(value):
            return value
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"
    elif font is None:
        return value
    else:
        cell = WriteOnlyCell(sheet, value=value)
    if font is not None:
        cell.font = font
    return cell


def workbook_bytes(headers, rows, sheet_title, column_widths=()):
    """An XLSX of a bold, frozen header row and rows."""
    buffer = BytesIO()
    write_workbook(buffer, headers, rows, sheet_title, column_widths)
    return buffer.getvalue()


def write_workbook(target, headers, rows, sheet_title, column_widths=()):
    """Write to `target` (a path or a binary file) the XLSX of `workbook_bytes`.

    openpyxl's write-only mode keeps each row in a temporary file as it is appended: memory
    stays flat however many rows come (they may come from a database cursor).
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    for index, width in enumerate(column_widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_cell(sheet, str(header), bold) for header in headers])
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
    workbook.save(target)


def xlsx_table_response(headers, rows, filename, sheet_title, column_widths=()):
    """An XLSX download (see `workbook_bytes`)."""
    content = workbook_bytes(headers, rows, sheet_title, column_widths)
    return _attachment(HttpResponse(content, content_type=XLSX_CONTENT_TYPE), filename)


def export_response(elements, export_format, basename, sheet_title):
    """The response of an export in `export_format` ("xlsx" or "csv")."""
    filename = f"{basename}.{export_format}"
    if export_format == "xlsx":
        return xlsx_table_response(
            HEADERS, element_rows(elements), filename, sheet_title, COLUMN_WIDTHS
        )
    return csv_table_response(HEADERS, element_rows(elements), filename)
