"""Where the files uploaded with a report (the signed opinions) are kept: a folder outside
the web root (`settings.RAPPORTS_FICHIERS_ROOT`), never served by a URL of its own; the
members of the contract download them through a view that checks their role."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class StockagePrive(FileSystemStorage):
    """A FileSystemStorage in `settings.RAPPORTS_FICHIERS_ROOT`, read at each use (tests
    change it), without any URL, readable by the site's own user only."""

    def __init__(self):
        super().__init__(file_permissions_mode=0o600, directory_permissions_mode=0o700)

    @property
    def base_location(self):
        return settings.RAPPORTS_FICHIERS_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Les fichiers des rapports ne sont servis que par leur page.")


def stockage_prive():
    return StockagePrive()
