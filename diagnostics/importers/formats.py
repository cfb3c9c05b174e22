"""From the bytes of an uploaded file to raw tables: lists of (line number, cell texts).

Spreadsheets (.xlsx) give one table per sheet; text files (.csv, .tsv, .txt) give one.
Every problem with the file itself raises `UnreadableFile` with a French message.
"""

import codecs
import csv
import io
import re
import warnings
import zipfile
from contextlib import suppress
from itertools import islice
from pathlib import PurePath

import openpyxl
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from .cells import count_header_labels

TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")
XLSX_EXTENSION = ".xlsx"
CSV_DELIMITERS = (";", ",", "\t")
# Rows looked at to recognise the delimiter of a .csv file.
SNIFF_ROWS = 50
# An .xlsx is a zip of XML: refuse archives that would inflate beyond this many times the
# maximum file size (decompression bombs) before openpyxl loads them.
MAX_XLSX_INFLATION = 10

_ZIP_MAGIC = b"PK\x03\x04"
_PDF_MAGIC = b"%PDF"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls), Word .doc
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters never found in a text table (tab and line breaks are allowed).
_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


class UnreadableFile(Exception):
    def __init__(self, message, line=None):
        super().__init__(message)
        self.message = message
        self.line = line


def read_raw_tables(filename, content):
    """(tables, warnings) of a file; the tables are produced lazily, sheet by sheet."""
    extension = PurePath(filename).suffix.lower()
    if extension not in (*TEXT_EXTENSIONS, XLSX_EXTENSION):
        shown = f"« {extension} »" if extension else "sans extension"
        raise UnreadableFile(
            f"Format de fichier non pris en charge ({shown}) : importez un classeur Excel "
            "(.xlsx) ou un tableau texte (.csv, .tsv ou .txt)."
        )
    check_size(len(content))
    if not content.strip():
        raise UnreadableFile("Le fichier est vide.")
    if content.startswith(_PDF_MAGIC):
        raise UnreadableFile(
            "Ce fichier est un PDF : enregistrez le tableau au format Excel (.xlsx) ou CSV."
        )
    if content.startswith(_OLE_MAGIC):
        raise UnreadableFile(
            "Ce fichier est au format Excel 97-2003 (.xls) ou Word : "
            "enregistrez-le au format Excel (.xlsx)."
        )
    if extension == XLSX_EXTENSION:
        return read_xlsx(content), []
    if content.startswith(_ZIP_MAGIC):
        message = (
            f"Le fichier porte l'extension {extension} mais c'est un classeur Excel : lu comme tel."
        )
        return read_xlsx(content), [(None, message)]
    return [read_text(content, extension)], []


def check_size(size):
    maximum = settings.IMPORT_MAX_FILE_SIZE
    if size > maximum:
        raise UnreadableFile(
            f"Le fichier fait {filesizeformat(size)}, au-delà de la taille maximale "
            f"acceptée ({filesizeformat(maximum)})."
        )


def check_row_count(count):
    if count > settings.IMPORT_MAX_ROWS:
        raise UnreadableFile(
            f"Le fichier dépasse la limite de {settings.IMPORT_MAX_ROWS} lignes : "
            "découpez-le en plusieurs fichiers."
        )


# Text files -------------------------------------------------------------------------------


def read_text(content, extension):
    text = decode(content)
    if not text.strip():  # white space in UTF-16, or a lone byte order mark
        raise UnreadableFile("Le fichier est vide.")
    delimiter = sniff_delimiter(text) if extension == ".csv" else "\t"
    return list(_csv_rows(text, delimiter))


def decode(content):
    """The text of a file in UTF-8 (with or without BOM), UTF-16 with BOM or Windows-1252."""
    encodings = next(
        ([encoding] for bom, encoding in _BOMS if content.startswith(bom)), ["utf-8", "cp1252"]
    )
    for encoding in encodings:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _BINARY.search(text):
            return text
    raise UnreadableFile(
        "Le fichier ne contient pas de texte lisible (ni UTF-8, ni UTF-16, ni Windows-1252) : "
        "est-ce bien un tableau enregistré en CSV ou en texte ?"
    )


def sniff_delimiter(text):
    """The delimiter among `;`, `,` and tab that makes a header row appear.

    Ties (no header at all) go to the delimiter giving the widest rows.
    """

    def score(delimiter):
        rows = []
        with suppress(UnreadableFile):
            rows.extend(cells for _, cells in islice(_csv_rows(text, delimiter), SNIFF_ROWS))
        labels = max((count_header_labels(cells) for cells in rows), default=0)
        width = max((len(cells) for cells in rows), default=0)
        return labels, width

    return max(CSV_DELIMITERS, key=score)


def _csv_rows(text, delimiter):
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    count = 0
    try:
        for cells in reader:
            count += 1
            check_row_count(count)
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as error:
        raise UnreadableFile(
            "lecture impossible : une cellule est trop longue ou un guillemet n'est pas refermé.",
            line=line,
        ) from error


# Spreadsheets ------------------------------------------------------------------------------


def read_xlsx(content):
    """The sheets of a workbook as raw tables, merged cells filled with their range's value."""
    _check_archive(content)
    try:
        with warnings.catch_warnings():
            # Unsupported Excel extensions (data validation, slicers…) only warn.
            warnings.simplefilter("ignore", UserWarning)
            workbook = openpyxl.load_workbook(io.BytesIO(content), data_only=True)
    # openpyxl fails on damaged or foreign archives with a wide, undocumented range of
    # exceptions (BadZipFile, KeyError, InvalidFileException, XML parse errors, …).
    except Exception as error:
        raise _not_a_workbook() from error
    return (_sheet_table(sheet) for sheet in workbook.worksheets)


def _check_archive(content):
    if not content.startswith(_ZIP_MAGIC):
        raise _not_a_workbook()
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise _not_a_workbook() from error
    if inflated > MAX_XLSX_INFLATION * settings.IMPORT_MAX_FILE_SIZE:
        raise UnreadableFile(
            f"Ce classeur décompressé ferait {filesizeformat(inflated)} : c'est trop pour "
            "un tableau de diagnostic."
        )


def _not_a_workbook():
    return UnreadableFile(
        "Ce fichier n'est pas un classeur Excel (.xlsx) lisible : il est endommagé ou "
        "c'est une autre sorte de fichier."
    )


def _sheet_table(sheet):
    check_row_count(sheet.max_row)
    merged = {}
    for cell_range in sheet.merged_cells.ranges:
        value = sheet.cell(cell_range.min_row, cell_range.min_col).value
        for row, column in cell_range.cells:
            merged[row, column] = value
    rows = []
    for line, cells in enumerate(sheet.iter_rows(), start=1):
        values = (merged.get((cell.row, cell.column), cell.value) for cell in cells)
        rows.append((line, [_cell_text(value) for value in values]))
    return rows


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
