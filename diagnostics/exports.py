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
        pilier.diagnostic.titre,
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


def csv_response(elements, filename):
    """A streamed CSV file of the items."""
    writer = csv.writer(_Echo(), delimiter=";")

    def lines():
        yield "\ufeff" + writer.writerow(HEADERS)
        for row in element_rows(elements):
            yield writer.writerow([neutralize_formula(value) for value in row])

    return _attachment(StreamingHttpResponse(lines(), content_type=CSV_CONTENT_TYPE), filename)


def _text_cell(sheet, value, font=None):
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"  # a string, even when it starts with "="
    if font is not None:
        cell.font = font
    return cell


def workbook_bytes(headers, rows, sheet_title):
    """An XLSX of a bold header row and rows (frozen header): text cells are written as
    strings, never as formulas; numbers stay numbers."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, str(header), bold) for header in headers])
    for row in rows:
        sheet.append([_text_cell(sheet, v) if isinstance(v, str) else v for v in row])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(elements, filename, sheet_title):
    """A spreadsheet of the items, one row each under a header row."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    for index, width in enumerate(COLUMN_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, header, bold) for header in HEADERS])
    for row in element_rows(elements):
        sheet.append([_text_cell(sheet, value) for value in row])
    buffer = BytesIO()
    workbook.save(buffer)
    return _attachment(HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE), filename)


def export_response(elements, export_format, basename, sheet_title):
    """The response of an export in `export_format` ("xlsx" or "csv")."""
    filename = f"{basename}.{export_format}"
    if export_format == "xlsx":
        return xlsx_response(elements, filename, sheet_title)
    return csv_response(elements, filename)
