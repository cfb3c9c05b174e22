"""Importers of source tables into a diagnostic.

`import_source_table(diagnostic, filename, content)` is the entry point; `read_table`
reads a file without touching the database; `reconcile` matches a file with an edition
edited in the site since (`Choices`: what the administrator ticked on the preview).
"""

from .reader import ReadResult, SourceRow, read_table
from .reconcile import Choices
from .source_table import ImportReport, LevelCount, import_source_table

__all__ = [
    "Choices",
    "ImportReport",
    "LevelCount",
    "ReadResult",
    "SourceRow",
    "import_source_table",
    "read_table",
]
