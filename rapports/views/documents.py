"""The report's documents for download: /…/rapports/<année>/v<version>/rapport.<odt|docx|pdf>.

Whoever may read the report may download it (`RapportMixin`: a published report is
public). The file is drawn from the same Document as the page (`rapports.document`), by
`rapports.documents`. A renderer that fails gives a French error page (503), logged,
never a traceback.
"""

import logging

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views import View

from ..documents import FORMATS, nom_de_fichier, produire
from .mixins import RapportMixin

logger = logging.getLogger(__name__)


class DocumentView(RapportMixin, View):
    def get(self, request, *args, **kwargs):
        format_ = FORMATS.get(kwargs.get("format", ""))
        if format_ is None:
            raise Http404("Ce format de document n'existe pas.")
        try:
            contenu = produire(self.rapport, format_.extension)
        except Exception:
            logger.exception(
                "Le document %s du rapport %s n'a pas pu être produit.",
                format_.extension,
                self.rapport.pk,
            )
            return render(
                request,
                "rapports/document_erreur.html",
                {"contrat": self.contrat, "rapport": self.rapport, "format": format_},
                status=503,
            )
        response = HttpResponse(contenu, content_type=format_.content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=nom_de_fichier(self.rapport, format_.extension)
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Length"] = str(len(contenu))
        if not self.rapport.est_publie:
            response["Cache-Control"] = "private, no-store"
        return response
