"""OpenDocument spreadsheets (.ods, LibreOffice's format): checked, then read by calamine.

An .ods is a zip of XML, like an .xlsx: the same archive checks apply (`check_archive`:
size once unpacked, compression ratio, number of parts). Then:
- its `mimetype` part must say it is a spreadsheet (an .odt text renamed .ods is refused);
- an encrypted one (saved with a password) is refused with its own message;
- `content.xml` is scanned by chunks, its tags found by a regular expression (about 1 s
  for 100,000 rows), before calamine loads it. ODS compresses repetition in the XML
  itself: one cell with
  `table:number-columns-repeated` in a row with `table:number-rows-repeated` stands for
  billions of cells, which calamine would all allocate (a few hundred bytes of XML took
  1.2 GB). The scan counts rows and cells as calamine will lay them out (the last row and
  column holding something), the cells merged ranges cover, and refuses DTDs (entities).
- python-calamine reads the values; the scan's merged ranges fill their cells with the
  value of their first one, as openpyxl's reading of an .xlsx does.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field
from zlib import error as zlib_error

import python_calamine
from django.conf import settings

from .formats import (
    MAX_CELLS_PER_ROW,
    UnreadableFile,
    _cell_text,
    check_archive,
    check_row_count,
)

MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
OPENDOCUMENT_PREFIX = "application/vnd.oasis.opendocument."
# The tags of content.xml that lay out cells, found as calamine finds them: by their
# "table:" names. An attribute's value may hold ">" but never "<": a tag ends at the last
# ">" before the next "<", and is never found inside another.
_SHEET_START = b"<table:table"
_ROW_START = b"<table:table-row"
_ROW_END = b"</table:table-row>"
_NAME_ENDS = (b" ", b"\t", b"\n", b"\r", b"/", b">")  # what follows a tag's whole name
_CELL = re.compile(rb"<table:(table-cell|covered-table-cell)((?:[\s/][^<]*)?)>")
_COUNTS = {
    name: re.compile(rb"\btable:" + name + rb"\s*=\s*[\"']([^\"']*)[\"']")
    for name in (
        b"number-rows-repeated",
        b"number-columns-repeated",
        b"number-rows-spanned",
        b"number-columns-spanned",
    )
}
_SCAN_CHUNK = 1024 * 1024
# A count in the XML ("number-rows-repeated") longer than this is a bomb, not a table.
_MAX_COUNT_DIGITS = 9


def read_ods(content, *, max_size=None, max_rows=None, merged_cells=True):
    """The sheets of an OpenDocument spreadsheet as raw tables (see the module)."""
    check_archive(content, max_size, unreadable=not_an_ods)
    max_rows = settings.IMPORT_MAX_ROWS if max_rows is None else max_rows
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            _check_kind(archive)
            sheets = _scan_content(archive, max_rows)
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, RuntimeError, zlib_error) as error:
        # RuntimeError: zipfile's answer to a part encrypted the zip way.
        raise not_an_ods() from error
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        count = len(workbook.sheet_names)
    except Exception as error:  # calamine fails on damaged files with various exceptions
        raise not_an_ods() from error
    return (
        _sheet_table(
            workbook,
            index,
            max_rows,
            sheets[index] if index < len(sheets) else _Sheet(),
            merged_cells,
        )
        for index in range(count)
    )


def not_an_ods():
    return UnreadableFile(
        "Ce fichier n'est pas un classeur OpenDocument (.ods) lisible : il est endommagé ou "
        "c'est une autre sorte de fichier."
    )


def _check_kind(archive):
    with archive.open("mimetype") as stream:
        mimetype = stream.read(200).decode("ascii", "replace").strip()
    if mimetype != MIMETYPE:
        kind = mimetype.removeprefix(OPENDOCUMENT_PREFIX) if mimetype else "inconnu"
        raise UnreadableFile(
            f"Ce fichier OpenDocument n'est pas un classeur (son type est « {kind[:60]} ») : "
            "enregistrez le tableau depuis LibreOffice Calc au format ODS, XLSX ou CSV."
        )
    try:
        with archive.open("META-INF/manifest.xml") as stream:
            manifest = stream.read(settings.IMPORT_MAX_FILE_SIZE)
    except KeyError:
        manifest = b""
    if b"encryption-data" in manifest:
        raise UnreadableFile(
            "Ce classeur est protégé par un mot de passe : enregistrez-le sans mot de passe "
            "(dans LibreOffice, Fichier > Enregistrer sous, case « Enregistrer avec mot de "
            "passe » décochée), puis importez-le."
        )


@dataclass
class _Sheet:
    """What the scan found in one sheet: its layout and merged ranges."""

    last_row: int = -1  # index of the last row holding something
    last_column: int = -1
    merges: list = field(default_factory=list)  # (row, column, rows, columns)


class _Scanner:
    """Follows the sheets and rows of content.xml, as calamine will lay them out."""

    def __init__(self, max_rows):
        self.max_rows = max_rows
        self.max_cells = max_rows * MAX_CELLS_PER_ROW
        self.max_merged = settings.IMPORT_MAX_MERGED_CELLS
        self.merged = 0
        self.sheets = []
        self.sheet = None
        self.row = 0

    def scan(self, xml):
        """Follow the rows of a piece of content.xml (whole rows: see `_scan_content`).

        Rows are found with bytes.find, and most of them counted without a look at each
        cell (`_row_cells`): 100,000 rows take a fraction of a second.
        """
        if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
            _refuse_declarations()
        position = 0
        while True:
            start = xml.find(_ROW_START, position)
            self._sheets(xml, position, len(xml) if start < 0 else start)
            if start < 0:
                return
            position = start + len(_ROW_START)
            if xml[position : position + 1] not in _NAME_ENDS:
                continue  # <table:table-rows>, <table:table-row-group>
            following = xml.find(b"<", position)
            following = len(xml) if following < 0 else following
            tag_end = xml.rfind(b">", position, following)
            if tag_end < 0:
                raise not_an_ods()
            attributes = xml[position:tag_end]
            repeat = _count(attributes, b"number-rows-repeated")
            if attributes.endswith(b"/"):
                self._row(repeat, -1, [])
                position = tag_end + 1
                continue
            end = xml.find(_ROW_END, tag_end)
            end = len(xml) if end < 0 else end
            self._row(repeat, *_row_cells(xml[tag_end + 1 : end]))
            position = end + len(_ROW_END)

    def _sheets(self, xml, start, end):
        """Start a sheet for each <table:table> between start and end."""
        found = xml.find(_SHEET_START, start, end)
        while found >= 0:
            after = found + len(_SHEET_START)
            if xml[after : after + 1] in _NAME_ENDS:
                self.sheet = _Sheet()
                self.sheets.append(self.sheet)
                self.row = 0
            found = xml.find(_SHEET_START, after, end)

    def _row(self, repeat, last_column, merges):
        sheet = self.sheet
        if sheet is None:
            return
        first = self.row
        self.row += repeat
        if last_column >= 0:
            sheet.last_row = first + repeat - 1
            sheet.last_column = max(sheet.last_column, last_column)
            check_row_count(sheet.last_row + 1, self.max_rows)
            cells = (sheet.last_row + 1) * (sheet.last_column + 1)
            if cells > self.max_cells:
                raise UnreadableFile(
                    f"Ce classeur s'étend sur {sheet.last_row + 1} lignes et "
                    f"{sheet.last_column + 1} colonnes, soit plus de {self.max_cells} "
                    "cellules : ce n'est pas un tableau ordinaire."
                )
        for column, column_repeat, rows, columns in merges:
            self.merged += rows * columns * column_repeat * repeat
            if self.merged > self.max_merged:
                raise UnreadableFile(
                    f"Les cellules fusionnées de ce classeur couvrent plus de "
                    f"{self.max_merged} cellules : ce n'est pas un tableau ordinaire."
                )
            for row in range(first, first + repeat):
                for start in range(column, column + column_repeat):
                    sheet.merges.append((row, start, rows, columns))


def _row_cells(cells):
    """(index of the last column holding something, or -1; merged ranges) of a row's XML.

    Most rows are counted without looking at each cell: nothing repeated up to the last
    cell holding something (LibreOffice repeats the empty cells after it), no merge.
    """
    end = max(
        cells.rfind(b"value-type"),
        cells.rfind(b"</table:table-cell>"),
        cells.rfind(b"</table:covered-table-cell>"),
    )
    if end < 0:
        head = b""
        last_column = -1
    else:
        head = cells[:end]
        last_column = head.count(b"<table:table-cell") + head.count(b"<table:covered-table-cell")
        last_column -= 1
    if b"spanned" not in cells and b"repeated" not in head:
        return last_column, []
    column, last_column, merges = 0, -1, []
    for name, attributes in _CELL.findall(cells):
        repeat = _count(attributes, b"number-columns-repeated")
        # An empty cell is written <table:table-cell/> (with a style, a repetition…).
        if b"value-type" in attributes or attributes[-1:] != b"/":
            last_column = column + repeat - 1
        if name == b"table-cell" and b"spanned" in attributes:
            rows = _count(attributes, b"number-rows-spanned")
            columns = _count(attributes, b"number-columns-spanned")
            if rows > 1 or columns > 1:
                merges.append((column, repeat, rows, columns))
        column += repeat
    return last_column, merges


def _count(attributes, name):
    """A repetition or span count of a tag: 1 when absent; a damaged file otherwise."""
    if name not in attributes:
        return 1
    match = _COUNTS[name].search(attributes)
    if match is None:
        return 1
    text = match[1]
    if not (text.isdigit() and len(text) <= _MAX_COUNT_DIGITS):
        raise not_an_ods()
    return max(int(text), 1)


def _refuse_declarations():
    raise UnreadableFile(
        "Ce classeur contient des déclarations XML interdites (entités) : il est "
        "refusé par sécurité. Enregistrez-le à nouveau depuis votre tableur."
    )


def _scan_content(archive, max_rows):
    """The sheets of content.xml, read by chunks cut after a row's end."""
    scanner = _Scanner(max_rows)
    with archive.open("content.xml") as stream:
        pending = b""
        while chunk := stream.read(_SCAN_CHUNK):
            pending += chunk
            cut = pending.rfind(_ROW_END)
            if cut >= 0:
                cut += len(_ROW_END)
                scanner.scan(pending[:cut])
                pending = pending[cut:]
        scanner.scan(pending)
    return scanner.sheets


def _sheet_table(workbook, index, max_rows, scanned, merged_cells):
    try:
        sheet = workbook.get_sheet_by_index(index)
    except Exception as error:
        raise not_an_ods() from error
    check_row_count(sheet.end[0] + 1 if sheet.end else 0, max_rows)
    # Rows come from the first one, columns from the first holding something: the
    # columns before it are put back, so that cells keep their place.
    padding = [""] * (sheet.start[1] if sheet.start else 0)
    rows = [padding + [_cell_text(value) for value in values] for values in sheet.iter_rows()]
    if merged_cells:
        _fill_merges(rows, scanned.merges)
    return [(line, cells) for line, cells in enumerate(rows, start=1)]


def _fill_merges(rows, merges):
    """Give every cell of a merged range the text of its first cell."""
    for row, first, row_span, column_span in merges:
        if row >= len(rows) or first >= len(rows[row]):
            continue
        text = rows[row][first]
        for covered in range(row, min(row + row_span, len(rows))):
            cells = rows[covered]
            last = first + column_span
            if len(cells) < last:
                cells.extend([""] * (last - len(cells)))
            cells[first:last] = [text] * column_span
