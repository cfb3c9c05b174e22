"""From the bytes of an uploaded file to raw tables: lists of (line number, cell texts).

Spreadsheets (.xlsx, and .ods from LibreOffice: `diagnostics.imports.ods`) give one table
per sheet; text files (.csv, .tsv, .txt) give one. A spreadsheet is read as what its parts
say it is, whatever its extension. Every problem with the file itself raises
`UnreadableFile` with a French message.

Spreadsheets are read by openpyxl, which fills merged cells (source tables have them), or,
with `merged_cells=False`, by python-calamine: for 100,000 rows 1.0 s and 96 MB instead of
12.8 s and 316 MB (openpyxl read-only: 9.1 s, 93 MB) — see bench/README.md.
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
from zlib import error as zlib_error

import openpyxl
import python_calamine
from defusedxml import DefusedXmlException
from django.conf import settings

from diagnostics.exports import unneutralize_formula
from diagnostics.text import file_size, file_size_over

from .cells import count_header_labels

TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")
XLSX_EXTENSION = ".xlsx"
ODS_EXTENSION = ".ods"
SPREADSHEET_EXTENSIONS = (XLSX_EXTENSION, ODS_EXTENSION)
# What a warning calls a spreadsheet read under another extension than its own.
SPREADSHEET_NAMES = {
    XLSX_EXTENSION: "un classeur Excel",
    ODS_EXTENSION: "un classeur ODS (LibreOffice)",
}
# The extensions and types of the files an import screen accepts (its input's `accept`).
ACCEPTED_TYPES = (
    *SPREADSHEET_EXTENSIONS,
    *TEXT_EXTENSIONS,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.spreadsheet",
    "text/csv",
    "text/tab-separated-values",
    "text/plain",
)
CSV_DELIMITERS = (";", ",", "\t")
# Rows looked at to recognise the delimiter of a .csv file.
SNIFF_ROWS = 50
# An .xlsx is a zip of XML: refuse archives that would inflate beyond this many times the
# maximum file size, or beyond IMPORT_MAX_XLSX_UNCOMPRESSED_SIZE (decompression bombs),
# before openpyxl loads them. Parts smaller than this may compress more than
# IMPORT_MAX_XLSX_COMPRESSION_RATIO (a small, repetitive styles.xml does).
MAX_XLSX_INFLATION = 10
RATIO_CHECKED_FROM = 1024 * 1024
# Worksheets are scanned by chunks, before openpyxl loads them, for their rows and merges.
_SCAN_CHUNK = 1024 * 1024
_SCAN_OVERLAP = 256
_WORKSHEET = re.compile(r"xl/worksheets/[^/]+\.xml")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s/>]")
_MERGE_TAG = re.compile(
    rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=[\"']\$?([A-Za-z]{1,3})\$?(\d{1,7})"
    rb"(?::\$?([A-Za-z]{1,3})\$?(\d{1,7}))?[\"']"
)
# The cells of a worksheet, the columns beyond Z of their references (r="AB12"), and the
# numbers of its rows (r="12"): how far the sheet reaches, whatever lies in between. The
# patterns start with a literal, which the regex engine looks for fast (a 100,000-row
# sheet is scanned in a fraction of a second); tags are counted with bytes.count, and
# with a pattern only when the chunk holds prefixed tags ("<x:c ").
_CELL_TAG = re.compile(rb"<\w+:c[\s/>]")
_ROW_TAG_PREFIXED = re.compile(rb"<\w+:row[\s/>]")
_WIDE_CELL_COLUMN = re.compile(rb"r=[\"']\$?([A-Za-z]{2,3})\$?\d")
_ROW_NUMBER = re.compile(rb"r=[\"'](\d{1,10})[\"']")
# The cells a reader lays out for a sheet (rows x columns, up to the last one holding
# something), at most this many times the row limit: a wide table of measures has a few
# dozen columns; one cell in column XFD on each row is a bomb (calamine would allocate
# 16,384 cells a row: 10 GB for a 100 KB file).
MAX_CELLS_PER_ROW = 64

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


def read_raw_tables(filename, content, *, max_size=None, max_rows=None, merged_cells=True):
    """(tables, warnings) of a file; the tables are produced lazily, sheet by sheet.

    `max_size` (bytes) and `max_rows` default to the settings IMPORT_MAX_FILE_SIZE and
    IMPORT_MAX_ROWS. `merged_cells=False` reads spreadsheets fast, merged cells left empty.
    """
    limits = {"max_size": max_size, "max_rows": max_rows, "merged_cells": merged_cells}
    extension = PurePath(filename).suffix.lower()
    if extension not in (*TEXT_EXTENSIONS, *SPREADSHEET_EXTENSIONS):
        shown = f"« {extension} »" if extension else "sans extension"
        raise UnreadableFile(
            f"Format de fichier non pris en charge ({shown}) : importez un classeur Excel "
            "(.xlsx) ou ODS (LibreOffice, .ods), ou un tableau texte (.csv, .tsv ou .txt)."
        )
    check_size(len(content), max_size)
    if not content.strip():
        raise UnreadableFile("Le fichier est vide.")
    if content.startswith(_PDF_MAGIC):
        raise UnreadableFile(
            "Ce fichier est un PDF : enregistrez le tableau au format Excel (.xlsx), "
            "ODS (LibreOffice) ou CSV."
        )
    if content.startswith(_OLE_MAGIC):
        raise UnreadableFile(
            "Ce fichier est au format Excel 97-2003 (.xls) ou Word : "
            "enregistrez-le au format Excel (.xlsx) ou ODS (LibreOffice)."
        )
    if extension in SPREADSHEET_EXTENSIONS or content.startswith(_ZIP_MAGIC):
        return read_spreadsheet(content, extension, **limits)
    return [read_text(content, extension, max_rows=max_rows)], []


def read_spreadsheet(content, extension, **limits):
    """(tables, warnings) of an .xlsx or an .ods, read as what it really is.

    A workbook under another extension than its own is read with a warning, as a zip
    archive named .csv always was; a file named .ods that is no ODS is refused.
    """
    from .ods import not_an_ods, read_ods  # noqa: PLC0415 (ods imports this module)

    kind = spreadsheet_kind(content)
    if kind == ODS_EXTENSION:
        tables = read_ods(content, **limits)
    elif extension == ODS_EXTENSION and kind is None:
        check_archive(content, limits["max_size"], unreadable=not_an_ods)
        raise not_an_ods()
    else:
        tables = read_xlsx(content, **limits)
    if kind is None or kind == extension:
        return tables, []
    message = (
        f"Le fichier porte l'extension {extension} mais c'est {SPREADSHEET_NAMES[kind]} : "
        "lu comme tel."
    )
    return tables, [(None, message)]


def spreadsheet_kind(content):
    """The kind of workbook a zip archive is by its parts, ".xlsx" or ".ods"; None when it
    is neither (or no readable zip archive).

    Any OpenDocument file counts as ".ods": `read_ods` refuses those that are no
    spreadsheet, with their type.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as stream:
                    if stream.read(100).startswith(b"application/vnd.oasis.opendocument."):
                        return ODS_EXTENSION
            if "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names):
                return XLSX_EXTENSION
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, zlib_error):
        return None
    return None


def check_size(size, maximum=None):
    maximum = settings.IMPORT_MAX_FILE_SIZE if maximum is None else maximum
    if size > maximum:
        raise UnreadableFile(
            f"Le fichier fait {file_size_over(size, maximum)}, au-delà de la taille maximale "
            f"acceptée ({file_size(maximum)})."
        )


def check_row_count(count, maximum=None):
    maximum = settings.IMPORT_MAX_ROWS if maximum is None else maximum
    if count > maximum:
        raise UnreadableFile(
            f"Le fichier dépasse la limite de {maximum} lignes : découpez-le en plusieurs fichiers."
        )


# Text files -------------------------------------------------------------------------------


def read_text(content, extension, *, max_rows=None):
    text = decode(content)
    if not text.strip():  # white space in UTF-16, or a lone byte order mark
        raise UnreadableFile("Le fichier est vide.")
    delimiter = sniff_delimiter(text) if extension == ".csv" else "\t"
    return list(_csv_rows(text, delimiter, max_rows))


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


def _csv_rows(text, delimiter, max_rows=None):
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    count = 0
    try:
        for cells in reader:
            count += 1
            check_row_count(count, max_rows)
            yield line, [unneutralize_formula(cell) for cell in cells]
            line = reader.line_num + 1
    except csv.Error as error:
        raise UnreadableFile(
            "lecture impossible : une cellule est trop longue ou un guillemet n'est pas refermé.",
            line=line,
        ) from error


# Spreadsheets ------------------------------------------------------------------------------


def read_xlsx(content, *, max_size=None, max_rows=None, merged_cells=True):
    """The sheets of a workbook as raw tables, merged cells filled with their range's value.

    With `merged_cells=False`, python-calamine reads them (merged cells left empty).
    """
    check_archive(content, max_size)
    _check_worksheets(content, max_rows)
    if not merged_cells:
        return _calamine_tables(content, max_rows)
    try:
        with warnings.catch_warnings():
            # Unsupported Excel extensions (data validation, slicers…) only warn.
            warnings.simplefilter("ignore", UserWarning)
            workbook = openpyxl.load_workbook(io.BytesIO(content), data_only=True)
    # openpyxl fails on damaged or foreign archives with a wide, undocumented range of
    # exceptions (BadZipFile, KeyError, InvalidFileException, XML parse errors, …).
    except Exception as error:
        # openpyxl parses the XML with defusedxml (installed): entity declarations (billion
        # laughs, external entities) are refused before anything is expanded or fetched.
        if _refused_by_defusedxml(error):
            raise UnreadableFile(
                "Ce classeur contient des déclarations XML interdites (entités) : il est "
                "refusé par sécurité. Enregistrez-le à nouveau depuis votre tableur."
            ) from error
        raise _not_a_workbook() from error
    return (_sheet_table(sheet, max_rows) for sheet in workbook.worksheets)


def _refused_by_defusedxml(error):
    """Whether defusedxml refused the XML (openpyxl wraps its exceptions in others)."""
    while error is not None:
        if isinstance(error, DefusedXmlException):
            return True
        error = error.__cause__ or error.__context__
    return False


def _calamine_tables(content, max_rows):
    # Like openpyxl, calamine fails on damaged archives with various exceptions.
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        count = len(workbook.sheet_names)
    except Exception as error:
        raise _not_a_workbook() from error
    return (_calamine_table(workbook, index, max_rows) for index in range(count))


def _calamine_table(workbook, index, max_rows):
    try:
        sheet = workbook.get_sheet_by_index(index)
    except Exception as error:
        raise _not_a_workbook() from error
    check_row_count(sheet.end[0] + 1 if sheet.end else 0, max_rows)
    # Rows come from the first one, empty leading rows included: line numbers hold.
    return [
        (line, [_cell_text(value) for value in values])
        for line, values in enumerate(sheet.iter_rows(), start=1)
    ]


def check_archive(content, max_size=None, unreadable=None):
    """Refuse a decompression bomb from the archive's directory, before unpacking anything.

    The sizes checked are those the archive declares: Python's zipfile never inflates a
    part beyond its declared size (it stops there, and the CRC check fails).
    `unreadable()` is the error of a file that is no zip archive (an .xlsx's by default).
    """
    unreadable = unreadable or _not_a_workbook
    if not content.startswith(_ZIP_MAGIC):
        raise unreadable()
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise unreadable() from error
    if len(members) > settings.IMPORT_MAX_XLSX_PARTS:
        raise UnreadableFile(
            f"Ce classeur est fait de {len(members)} fichiers internes, au-delà de la limite "
            f"de {settings.IMPORT_MAX_XLSX_PARTS} : ce n'est pas un tableau ordinaire."
        )
    inflated = sum(member.file_size for member in members)
    maximum = settings.IMPORT_MAX_FILE_SIZE if max_size is None else max_size
    if inflated > min(MAX_XLSX_INFLATION * maximum, settings.IMPORT_MAX_XLSX_UNCOMPRESSED_SIZE):
        raise UnreadableFile(
            f"Ce classeur décompressé ferait {file_size(inflated)} : c'est trop pour "
            "un tableau de diagnostic."
        )
    ratio_limit = settings.IMPORT_MAX_XLSX_COMPRESSION_RATIO
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_CHECKED_FROM and ratio > ratio_limit:
            raise UnreadableFile(
                f"Ce classeur est anormalement compressé ({member.filename} : "
                f"{file_size(member.compress_size)} qui en feraient "
                f"{file_size(member.file_size)}, {ratio:.0f} fois plus, au-delà de "
                f"{ratio_limit} fois) : c'est le signe d'une « bombe de décompression », "
                "il est refusé par sécurité."
            )


def _check_worksheets(content, max_rows=None):
    """Measure each worksheet before openpyxl or calamine loads it: its rows, how far it
    reaches (last row x last column) and its cells, and the merged cells of the workbook.

    openpyxl creates an object for every cell of a merged range: one range over a whole
    sheet, a few bytes of XML, would take billions; calamine lays out every cell of the
    rectangle up to the last one holding something. The XML is scanned by chunks, so this
    takes little memory whatever the size (already limited by `check_archive`).
    """
    max_rows = settings.IMPORT_MAX_ROWS if max_rows is None else max_rows
    maximum = settings.IMPORT_MAX_MERGED_CELLS
    merged = 0
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for member in archive.infolist():
            if not _WORKSHEET.fullmatch(member.filename):
                continue
            extent = _Extent()
            try:
                for tag in _scan(archive, member, extent):
                    merged += _merged_area(tag)
                    if merged > maximum:
                        raise UnreadableFile(
                            f"Les cellules fusionnées de ce classeur couvrent plus de "
                            f"{maximum} cellules : ce n'est pas un tableau ordinaire."
                        )
            except (zipfile.BadZipFile, OSError, EOFError, zlib_error) as error:
                raise _not_a_workbook() from error
            extent.check(max_rows)


class _Extent:
    """How far a worksheet reaches, as its XML says (`_scan` fills it)."""

    def __init__(self):
        self.rows = 0  # row tags
        self.last_row = 0  # the highest row number given
        self.last_column = 1  # the highest column of a cell reference
        self.cells = 0  # cell tags

    def check(self, max_rows):
        rows = max(self.rows, self.last_row)
        check_row_count(rows, max_rows)
        limit = max_rows * MAX_CELLS_PER_ROW
        if rows * self.last_column > limit or self.cells > limit:
            raise UnreadableFile(
                f"Ce classeur s'étend sur {rows} lignes et {self.last_column} colonnes, soit "
                f"plus de {limit} cellules : ce n'est pas un tableau ordinaire."
            )


def _scan(archive, member, extent):
    """The mergeCell tags of a worksheet's XML, read by chunks; its rows, cells and
    reach counted into `extent` on the way."""
    with archive.open(member) as stream:
        tail = b""
        while chunk := stream.read(_SCAN_CHUNK):
            buffer = tail + chunk
            # Counted in the new chunk only (a tag cut by its start is missed: a bound).
            extent.rows += _count_tags(chunk, b"row", _ROW_TAG_PREFIXED)
            extent.cells += _count_tags(chunk, b"c", _CELL_TAG)
            numbers = _ROW_NUMBER.findall(buffer)
            if numbers:
                extent.last_row = max(extent.last_row, *map(int, numbers))
            for letters in set(_WIDE_CELL_COLUMN.findall(buffer)):
                extent.last_column = max(extent.last_column, _column_number(letters))
            for match in _MERGE_TAG.finditer(buffer) if b"mergeCell" in buffer else ():
                # A tag that ends inside the overlap was found with the previous chunk.
                if match.end() > len(tail):
                    yield match
            tail = buffer[-_SCAN_OVERLAP:]


def _count_tags(chunk, name, prefixed):
    """The number of <name …> tags in a chunk of XML, prefixed ones ("<x:name") included; at
    most a few more (<cols>, <rowBreaks>… start the same way): a bound."""
    count = chunk.count(b"<" + name)
    if b":" + name in chunk:
        count += len(prefixed.findall(chunk))
    return count


def _merged_area(match):
    first_column, first_row, last_column, last_row = match.groups()
    if last_column is None:
        return 1
    rows = abs(int(last_row) - int(first_row)) + 1
    columns = abs(_column_number(last_column) - _column_number(first_column)) + 1
    return rows * columns


def _column_number(letters):
    """b"A" -> 1, b"AA" -> 27 (the letters of a column, as bytes)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - ord("A") + 1
    return number


def _not_a_workbook():
    return UnreadableFile(
        "Ce fichier n'est pas un classeur Excel (.xlsx) lisible : il est endommagé ou "
        "c'est une autre sorte de fichier."
    )


def _sheet_table(sheet, max_rows=None):
    check_row_count(sheet.max_row, max_rows)
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
    return unneutralize_formula(str(value))
