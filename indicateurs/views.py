"""Pages of the indicateurs: their filtered list and its exports (see diagnostics.views)."""

from diagnostics.views import ElementExportView, ElementListView

from .filters import IndicateurFilterSet
from .models import Indicateur


class IndicateurListView(ElementListView):
    model = Indicateur
    filterset_class = IndicateurFilterSet
    template_name = "indicateurs/indicateur_list.html"
    export_url_name = "indicateurs:export"
    titre = "Indicateurs"
    nom, nom_pluriel = "indicateur", "indicateurs"
    aucun = "Aucun indicateur ne correspond à ces filtres."


class IndicateurExportView(ElementExportView):
    model = Indicateur
    filterset_class = IndicateurFilterSet
    list_url_name = "indicateurs:liste"
    basename = "indicateurs"
    sheet_title = "Indicateurs"
