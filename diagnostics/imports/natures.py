"""The natures of file an import brings (`Import.Nature`), each with its importer.

This application registers the source table of a diagnostic; the `indicateurs`
application the values of indicators, each from its `AppConfig.ready()`. The import
screens, the upload and the form read this registry.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from ..models import Import

_natures = {}


@dataclass(frozen=True)
class Nature:
    key: str  # an Import.Nature value
    # importer(diagnostic, filename, content, *, user, dry_run) -> a report (`.ok`,
    # `.import_record`, `.as_lines()`), all or nothing. A source table's also takes
    # `choices` (`reconcile.Choices`, see `upload.confirm`).
    importer: Callable
    max_file_size_setting: str  # the setting of its size limit, in bytes
    pour: str  # "un tableau de diagnostic": what the limits' help says it is
    aide: str  # where such a file goes, for the form's help
    # summary(counts of Import.compte_rendu) -> its result in a few words ("109 éléments créés")
    summary: Callable
    creates_diagnostic: bool = False  # may create the diagnostic it goes into
    diagnostic_required: str = ""  # the form's message when it may not and none is chosen

    @property
    def label(self):
        return Import.Nature(self.key).label

    @property
    def max_file_size(self):
        return getattr(settings, self.max_file_size_setting, settings.IMPORT_MAX_FILE_SIZE)


def register(nature):
    if nature.key not in Import.Nature.values:
        raise ValueError(f"{nature.key!r} is not an Import.Nature.")
    if nature.key in _natures:
        raise ValueError(f"The nature {nature.key!r} is already registered.")
    _natures[nature.key] = nature


def get(key):
    """The nature of this key, or None (a key no application registered)."""
    return _natures.get(key)


def all_natures():
    return list(_natures.values())
