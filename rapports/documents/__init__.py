"""The report's downloadable documents, each drawn from the same `rapports.document.Document`:
ODT (odfdo, `odt`), DOCX (python-docx, `docx`) and PDF (WeasyPrint, `pdf`); the charts as
PNG images (`images`). Each module has `rendre(document) -> bytes`.

`produire(rapport, cle)` is what the site serves: a report in progress is drawn at each
request (its generated parts follow the diagnostic); an adopted report never changes, so
each of its documents is drawn once and kept with the private files
(`rapports.stockage`), named by the report, its state and its publication date: the
public PDF of a large contract costs its 15 to 20 seconds of drawing once, not at every
download (bench/README.md).
"""

from dataclasses import dataclass

from django.core.files.base import ContentFile

from ..document import construire
from ..stockage import stockage_prive

DOSSIER = "documents"


@dataclass(frozen=True)
class Format:
    extension: str
    libelle: str
    content_type: str
    module: str

    def rendre(self, document):
        from importlib import import_module

        return import_module(f"{__name__}.{self.module}").rendre(document)


FORMATS = {
    "odt": Format("odt", "ODT (LibreOffice)", "application/vnd.oasis.opendocument.text", "odt"),
    "docx": Format(
        "docx",
        "DOCX (Word)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    "pdf": Format("pdf", "PDF", "application/pdf", "pdf"),
}


def nom_de_fichier(rapport, extension):
    """« rapport-annuel-2025-montlucon.odt », « …-v2 » for a later version, « …-projet »
    while the report is not adopted."""
    nom = f"rapport-annuel-{rapport.annee}-{rapport.contrat.slug}"
    if rapport.version > 1:
        nom += f"-v{rapport.version}"
    if not rapport.arrete:
        nom += "-projet"
    return f"{nom}.{extension}"


def prefixe(rapport):
    """The report's own: its id, and when it was created (an id alone may come back in a
    database rolled back, as tests do)."""
    return f"rapport-{rapport.pk}-{rapport.created_at:%Y%m%d%H%M%S%f}-"


def _nom_garde(rapport, format_):
    publication = int(rapport.date_publication.timestamp()) if rapport.date_publication else 0
    return f"{DOSSIER}/{prefixe(rapport)}{rapport.statut}-{publication}.{format_.extension}"


def produire(rapport, cle):
    """The bytes of the document `cle` ("odt", "docx", "pdf") of a report: drawn now while
    the report is in progress, drawn once and kept once it is adopted."""
    format_ = FORMATS[cle]
    if not rapport.arrete:
        return format_.rendre(construire(rapport))
    stockage = stockage_prive()
    nom = _nom_garde(rapport, format_)
    if stockage.exists(nom):
        with stockage.open(nom, "rb") as fichier:
            return fichier.read()
    contenu = format_.rendre(construire(rapport))
    # The documents of its earlier states (adopted, then published) are of no more use.
    siens = prefixe(rapport)
    if stockage.exists(DOSSIER):
        for ancien in stockage.listdir(DOSSIER)[1]:
            if ancien.startswith(siens) and ancien.endswith(f".{format_.extension}"):
                stockage.delete(f"{DOSSIER}/{ancien}")
    stockage.save(nom, ContentFile(contenu))
    return contenu
