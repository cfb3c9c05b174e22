"""The report as a PDF, drawn by WeasyPrint from templates/rapports/pdf.html (the same
blocks as every output, `rapports.blocs`; the charts as the PNG of the documents,
`rapports.documents.images`) and the print stylesheet static/css/rapport-pdf.css.

- tagged (PDF/UA-1: the structure tree, headings, lists, tables with their header cells,
  figures with their text alternative, `/Lang` fr, the title shown in the window);
- a title page, a table of contents whose page numbers come from CSS
  (`target-counter`), bookmarks from the headings, page numbers at the foot;
- nothing is fetched: the stylesheet is read from our own static files and handed to
  WeasyPrint as a string, and the URL fetcher refuses every address (the links of the
  sections are only links in the PDF).
"""

import base64
import copy
import io
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from .. import blocs
from . import images

FEUILLE = "css/rapport-pdf.css"
VARIANTE = "pdf/ua-1"
NIVEAUX_SOMMAIRE = 2


class AucuneRessource(Exception):
    """Raised for every resource WeasyPrint asks for: the PDF fetches nothing."""


def _fetcher(permises=()):
    """A URL fetcher that refuses everything but the `permises` data: URLs (the charts,
    written here); never the network, never a file."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    permises = set(permises)

    class Refus(URLFetcher):
        def fetch(self, url, headers=None):
            if url in permises:
                entete, _, donnees = url.partition(",")
                return URLFetcherResponse(
                    url,
                    base64.b64decode(donnees),
                    headers={"Content-Type": entete.removeprefix("data:").split(";")[0]},
                )
            raise AucuneRessource(f"Ressource externe refusée : {url[:80]}")

    return Refus()


def feuille_de_style():
    """The print stylesheet, read from our static files."""
    chemin = finders.find(FEUILLE) or str(Path(settings.BASE_DIR) / "static" / FEUILLE)
    return Path(chemin).read_text(encoding="utf-8")


def html(document):
    """The HTML the PDF is drawn from (also handy to read what it holds)."""
    contenu, sommaire = _prepare(document)
    return render_to_string(
        "rapports/pdf.html",
        {"document": document, "blocs": contenu, "sommaire": sommaire},
    )


def rendre(document):
    """The PDF (bytes) of a `rapports.document.Document`."""
    from weasyprint import CSS, HTML

    contenu, sommaire = _prepare(document)
    fetcher = _fetcher(bloc["image"] for bloc in contenu if bloc.get("image"))
    source = render_to_string(
        "rapports/pdf.html", {"document": document, "blocs": contenu, "sommaire": sommaire}
    )
    page = HTML(string=source, url_fetcher=fetcher, base_url=None)
    feuille = CSS(string=feuille_de_style(), url_fetcher=fetcher)
    out = io.BytesIO()
    page.write_pdf(
        out,
        stylesheets=[feuille],
        pdf_variant=VARIANTE,
        pdf_tags=True,
        custom_metadata=False,
    )
    return out.getvalue()


def _prepare(document):
    """(the blocks, each heading with a unique id and each chart's SVG named by its text
    alternative; the table of contents [(niveau, texte, id)])."""
    contenu, sommaire, vus = [], [], set()
    for index, bloc in enumerate(document.blocs):
        bloc = copy.copy(bloc)
        if bloc["type"] == blocs.TITRE:
            ident = bloc.get("ancre") or f"titre-{index}"
            if ident in vus:
                ident = f"{ident}-{index}"
            vus.add(ident)
            bloc["id"] = ident
            if bloc["niveau"] <= NIVEAUX_SOMMAIRE:
                sommaire.append((bloc["niveau"], bloc["texte"], ident))
        elif bloc["type"] == blocs.GRAPHIQUE and bloc.get("trace", {}).get("series"):
            # The PNG the ODT and the DOCX hold too: WeasyPrint draws the SVG's many
            # labels one by one, a third of the time of a long report (bench/README.md).
            bloc["image"] = "data:image/png;base64," + base64.b64encode(
                images.png(bloc["trace"])
            ).decode("ascii")
        contenu.append(bloc)
    return contenu, sommaire
