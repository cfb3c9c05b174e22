"""The resource of the indicators of a source table (its « Indicateur » column): created
by the import of a diagnostic's table like its difficultés (`diagnostics.imports`)."""

from diagnostics.imports.resources import ElementResource
from diagnostics.models import CelluleSource

from ..models import Indicateur


class IndicateurResource(ElementResource):
    source_column = CelluleSource.Colonne.INDICATEURS

    class Meta(ElementResource.Meta):
        model = Indicateur
