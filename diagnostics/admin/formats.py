"""Formats of the admin's flat imports and exports: formulas neutralised, workbooks checked,
exports streamed."""

import csv
import tempfile

import tablib
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, StreamingHttpResponse
from import_export.formats import base_formats
from import_export.signals import post_export

from diagnostics.exports import (
    neutralize_formula,
    workbook_bytes,
    write_workbook,
)
from diagnostics.imports.formats import UnreadableFile, check_archive, read_raw_tables

# Formats of the admin's flat imports and exports -------------------------------------------
#
# The admin's exports are streamed (`StreamedExportAdminMixin`): the rows go from a database
# cursor to the file as they are read, never all in memory (100,000 measures: see
# bench/exports.py). `stream_response` writes what `export_data` writes for the same rows.

# Rows written per chunk of a streamed CSV.
CSV_CHUNK_ROWS = 1_000


class SafeCSV(base_formats.CSV):
    """CSV whose formula-like values get an apostrophe (see `diagnostics.exports`)."""

    def export_data(self, dataset, **kwargs):
        return super().export_data(_neutralized(dataset), **kwargs)

    def stream_response(self, headers, rows, encoding=None):
        """The CSV of `export_data` (tablib's: `,`, CRLF), streamed by chunks of rows."""
        writer = csv.writer(_Echo(), delimiter=tablib.formats._csv.CSVFormat.DEFAULT_DELIMITER)
        encoding = encoding or "utf-8"

        def chunks():
            lines = [writer.writerow(headers)]
            for row in rows:
                lines.append(
                    writer.writerow(
                        [neutralize_formula(v) if isinstance(v, str) else v for v in row]
                    )
                )
                if len(lines) >= CSV_CHUNK_ROWS:
                    yield "".join(lines).encode(encoding)
                    lines = []
            yield "".join(lines).encode(encoding)

        return StreamingHttpResponse(chunks(), content_type=self.get_content_type())


class SafeXLSX(base_formats.XLSX):
    """XLSX written cell by cell as strings, never formulas; read after the importers'
    checks against decompression bombs (the XML itself goes through defusedxml)."""

    def create_dataset(self, in_stream):
        _check_workbook(in_stream)
        dataset = super().create_dataset(in_stream)
        # Empty cells read as None: as in a CSV file, they are empty texts.
        rows = [["" if value is None else value for value in row] for row in dataset]
        return tablib.Dataset(*rows, headers=dataset.headers)

    def export_data(self, dataset, **kwargs):
        return workbook_bytes(dataset.headers, dataset, sheet_title="Export")

    def stream_response(self, headers, rows, encoding=None):
        """The workbook of `export_data`, written row by row to a temporary file (openpyxl's
        write-only mode), then sent from it."""
        file = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it once sent)
        write_workbook(file, headers, rows, sheet_title="Export")
        file.seek(0)
        return FileResponse(file, content_type=self.get_content_type())


class SafeODS(base_formats.Format):
    """ODS (LibreOffice), for imports only, read as the site's importers read it: checked
    first (archive, type, repeated cells: `diagnostics.imports.ods`), its values read by
    python-calamine (tablib's own ODS reader needs odfpy). Exports stay CSV and XLSX."""

    CONTENT_TYPE = "application/vnd.oasis.opendocument.spreadsheet"

    def get_title(self):
        return "ods"

    def get_extension(self):
        return "ods"

    def get_content_type(self):
        return self.CONTENT_TYPE

    def can_import(self):
        return True

    def create_dataset(self, in_stream):
        """The first sheet: its first row the headers, empty cells empty texts."""
        try:
            tables, _ = read_raw_tables("import.ods", in_stream, merged_cells=False)
            rows = [cells for _, cells in next(iter(tables), [])]
        except UnreadableFile as error:
            raise ValueError(error.message) from error
        if not rows:
            return tablib.Dataset()
        headers = rows[0]
        width = len(headers)
        return tablib.Dataset(
            *[(cells + [""] * width)[:width] for cells in rows[1:]], headers=headers
        )


def _check_workbook(content):
    try:
        check_archive(content)
    except UnreadableFile as error:
        raise ValueError(error.message) from error


class _Echo:
    """A file-like object whose write() returns what it is given (for streaming CSV)."""

    def write(self, value):
        return value


def _neutralized(dataset):
    copy = tablib.Dataset(headers=dataset.headers)
    for row in dataset:
        copy.append([neutralize_formula(v) if isinstance(v, str) else v for v in row])
    return copy


ADMIN_FORMATS = [SafeCSV, SafeXLSX, base_formats.JSON, SafeODS]


def export_rows(resource, queryset, export_fields=None, **kwargs):
    """(headers, rows) of `resource.export(queryset, ...)`, the rows produced one by one
    as they are read (the same calls as `Resource.export`, without its Dataset; our
    resources do nothing in `after_export`, which needs the whole Dataset)."""
    kwargs["export_fields"] = export_fields
    resource.before_export(queryset, **kwargs)
    if queryset is None:
        queryset = resource.get_queryset()
    queryset = resource.filter_export(queryset, **kwargs)
    headers = resource.get_export_headers(selected_fields=export_fields)
    rows = (
        resource.export_resource(instance, selected_fields=export_fields, **kwargs)
        for instance in resource.iter_queryset(queryset)
    )
    return headers, rows


class StreamedExportAdminMixin:
    """The admin's export (django-import-export's `ExportMixin`), streamed for the formats
    that can (`stream_response`): same permission, resource, fields, rows and file name as
    the library's `_do_file_export`, which builds the whole file in memory first."""

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        stream_response = getattr(file_format, "stream_response", None)
        if stream_response is None:
            return super()._do_file_export(file_format, request, queryset, export_form)
        if not self.has_export_permission(request):
            raise PermissionDenied
        kwargs = {
            "force_native_type": type(file_format) in base_formats.BINARY_FORMATS,
            "encoding": self.to_encoding,
            "export_form": export_form,
        }
        resource_class = self.choose_export_resource_class(export_form, request)
        resource = resource_class(**self.get_export_resource_kwargs(request, **kwargs))
        export_fields = self.get_export_resource_fields_from_form(export_form)
        headers, rows = export_rows(resource, queryset, export_fields, **kwargs)
        response = stream_response(headers, rows, encoding=self.to_encoding)
        filename = self.get_export_filename(request, queryset, file_format)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        post_export.send(sender=None, model=self.model)
        return response
