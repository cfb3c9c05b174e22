"""Importers of source tables into a diagnostic.

`import_source_table(diagnostic, filename, content)` is the entry point; `read_table`
reads a file without touching the database.
"""

from .reader import ReadResult, SourceRow, read_table
from .source_table import ImportReport, LevelCount, import_source_table

__all__ = [
    "ImportReport",
    "LevelCount",
    "ReadResult",
    "SourceRow",
    "import_source_table",
    "read_table",
]
