"""Import of indicator values (measures) from XLSX, ODS and CSV files, long or wide.

`import_measures(diagnostic, filename, content, user=None, dry_run=False)` is the entry
point, used by the command `import_mesures` and by the admin; `read_measures` reads a file
without touching the database.
"""

from .measures import MeasuresImportReport, import_measures
from .reader import Layout, MeasureRow, MeasuresTable, read_measures

__all__ = [
    "Layout",
    "MeasureRow",
    "MeasuresImportReport",
    "MeasuresTable",
    "import_measures",
    "read_measures",
]
