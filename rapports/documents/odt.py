"""The report as an OpenDocument text (ODT), written with odfdo from the Document's blocks
(`rapports.blocs`): what LibreOffice and Word open and a collectivité edits.

- a title page (the report's title, its contract, territory and status), then the table of
  contents (a real one, `text:table-of-content`, already filled with the headings so it is
  not empty when opened; LibreOffice's « Mettre à jour » adds the page numbers);
- headings as headings (`text:h`, outline levels 1–4, the « Titre 1…4 » styles), so that
  the navigator, the table of contents and the export to tagged PDF know them;
- paragraphs with bold, italics and links (`text:a`), lists (bulleted or numbered);
- tables as tables, their first row a repeated header row (`table:table-header-rows`),
  captioned;
- charts as PNG images (`rapports.documents.images`), each with its text alternative
  (`svg:title` and `svg:desc`);
- notes (sources, the secret statistique, a contribution's author) in small print.
"""

import io
from xml.sax.saxutils import escape

import odfdo
from odfdo import Element, Frame, Header, Link, List, ListItem, Paragraph, Span

from .. import blocs
from . import images

LARGEUR_IMAGE_CM = 16.0

# The styles of the document (styles.xml): named, so that a person editing it finds them.
STYLES = (
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="Titre_20_du_20_rapport" style:display-name="Titre du rapport"
    style:family="paragraph" style:parent-style-name="Heading" style:class="chapter">
    <style:paragraph-properties fo:text-align="center" fo:margin-top="6cm"
      fo:margin-bottom="1cm"/>
    <style:text-properties fo:font-size="24pt" fo:font-weight="bold"/>
    </style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="Page_20_de_20_titre" style:display-name="Page de titre"
    style:family="paragraph" style:parent-style-name="Standard">
    <style:paragraph-properties fo:text-align="center" fo:margin-bottom="0.4cm"/>
    <style:text-properties fo:font-size="14pt"/>
    </style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="Mention" style:display-name="Mention"
    style:family="paragraph" style:parent-style-name="Standard">
    <style:paragraph-properties fo:text-align="center" fo:margin-top="1cm"
      fo:break-after="page"/>
    <style:text-properties fo:font-size="12pt" fo:font-style="italic"/>
    </style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="Note" style:display-name="Note"
    style:family="paragraph" style:parent-style-name="Text_20_body">
    <style:text-properties fo:font-size="8pt" fo:color="#4b5563"/>
    </style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="Contenu_20_de_20_tableau" style:display-name="Contenu de tableau"
    style:family="paragraph" style:parent-style-name="Standard">
    <style:text-properties fo:font-size="9pt"/>
    </style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="En-t_c3_aate_20_de_20_tableau" style:display-name="En-tête de tableau"
    style:family="paragraph" style:parent-style-name="Contenu_20_de_20_tableau">
    <style:text-properties fo:font-weight="bold"/>
    </style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="Figure" style:display-name="Figure"
    style:family="paragraph" style:parent-style-name="Standard">
    <style:paragraph-properties fo:text-align="center" fo:margin-top="0.2cm"
      fo:margin-bottom="0.4cm"/>
    </style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="Sommaire_20_suivi" style:display-name="Sommaire suivi"
    style:family="paragraph" style:parent-style-name="Standard">
    <style:paragraph-properties fo:break-after="page"/>
    </style:style>""",
)
# Character and table styles (content.xml, automatic).
STYLES_AUTOMATIQUES = (
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="Gras" style:family="text">
    <style:text-properties fo:font-weight="bold"/></style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="Italique" style:family="text">
    <style:text-properties fo:font-style="italic"/></style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="GrasItalique" style:family="text">
    <style:text-properties fo:font-weight="bold" fo:font-style="italic"/></style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    style:name="Tableau" style:family="table">
    <style:table-properties style:width="17cm" table:align="margins"
      fo:margin-top="0.1cm" fo:margin-bottom="0.4cm"/></style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="Cellule" style:family="table-cell">
    <style:table-cell-properties fo:padding="0.08cm" fo:border="0.5pt solid #6b7280"/>
    </style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    style:name="CelluleEntete" style:family="table-cell">
    <style:table-cell-properties fo:padding="0.08cm" fo:border="0.5pt solid #6b7280"
      fo:background-color="#e5e9ee"/>
    </style:style>""",
    """<style:style xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:style2="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
    xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
    style:name="Graphique" style:family="graphic">
    <style:graphic-properties style:vertical-pos="top" style:vertical-rel="baseline"
      style:horizontal-pos="center" style:horizontal-rel="paragraph"/>
    </style:style>""",
)
STYLE_MORCEAU = {
    (True, False): "Gras",
    (False, True): "Italique",
    (True, True): "GrasItalique",
}


def rendre(document):
    """The ODT (bytes) of a `rapports.document.Document`."""
    odt = odfdo.Document("text")
    odt.set_language("fr-FR")
    odt.meta.title = f"{document.titre} — {document.contrat}"
    odt.meta.subject = document.mention
    for xml in STYLES:
        odt.insert_style(Element.from_tag(xml), automatic=False)
    for xml in STYLES_AUTOMATIQUES:
        odt.insert_style(Element.from_tag(xml), automatic=True)
    _sans_numerotation(odt)
    body = odt.body
    body.clear()
    _page_de_titre(body, document)
    body.append(_sommaire(document))
    body.append(Paragraph("", style="Sommaire_20_suivi"))
    compteur = {"image": 0, "tableau": 0}
    for bloc in document.blocs:
        for element in _elements(odt, bloc, compteur):
            body.append(element)
    out = io.BytesIO()
    odt.save(out)
    return out.getvalue()


def _sans_numerotation(odt):
    """Headings without numbers (the template numbers them « 1.1.1. »)."""
    for niveau in odt.styles.get_elements("//text:outline-style/text:outline-level-style"):
        niveau.set_attribute("style:num-format", "")
        niveau.del_attribute("style:num-suffix")
        niveau.del_attribute("loext:num-list-format")


def _page_de_titre(body, document):
    body.append(Paragraph(document.titre, style="Titre_20_du_20_rapport"))
    body.append(Paragraph(document.contrat, style="Page_20_de_20_titre"))
    if document.territoire:
        body.append(Paragraph(document.territoire, style="Page_20_de_20_titre"))
    if document.version > 1:
        body.append(Paragraph(f"Version {document.version}", style="Page_20_de_20_titre"))
    body.append(Paragraph(document.mention, style="Mention"))


def _sommaire(document):
    """The table of contents, filled with the headings (levels 1 and 2)."""
    toc = odfdo.TOC("Sommaire", name="Sommaire", outline_level=2)
    index = toc.body
    for niveau, texte, _ in document.sommaire:
        index.append(Paragraph(texte, style=f"Contents_20_{niveau}"))
    return toc


def _elements(odt, bloc, compteur):
    kind = bloc["type"]
    if kind == blocs.TITRE:
        niveau = min(max(int(bloc["niveau"]), 1), 4)
        titre = Header(niveau, bloc["texte"])
        titre.set_attribute("text:style-name", f"Heading_20_{niveau}")
        return [titre]
    if kind == blocs.PARAGRAPHE:
        return [_paragraphe(bloc["morceaux"])]
    if kind == blocs.LISTE:
        style = "Numbering_20_1" if bloc["ordonnee"] else "List_20_1"
        liste = List(style=style)
        for element in bloc["elements"]:
            item = ListItem()
            item.append(_paragraphe(element, style="List"))
            liste.append(item)
        return [liste]
    if kind == blocs.TABLEAU:
        compteur["tableau"] += 1
        return _tableau(bloc, compteur["tableau"])
    if kind == blocs.GRAPHIQUE:
        compteur["image"] += 1
        return _graphique(odt, bloc, compteur["image"])
    if kind == blocs.NOTE:
        return [Paragraph(bloc["texte"], style="Note")]
    return []


def _paragraphe(morceaux, style="Text_20_body"):
    paragraphe = Paragraph(style=style)
    for morceau in morceaux:
        paragraphe.append(_morceau(morceau))
    return paragraphe


def _morceau(morceau):
    texte = morceau["texte"]
    style = STYLE_MORCEAU.get((bool(morceau["gras"]), bool(morceau["italique"])))
    if morceau["lien"]:
        lien = Link(morceau["lien"])
        lien.append(Span(texte, style=style) if style else _texte(texte))
        return lien
    if style:
        return Span(texte, style=style)
    return _texte(texte)


def _texte(texte):
    """A run of text without a style (a span without style keeps line breaks)."""
    return Span(texte)


def _tableau(bloc, numero):
    """The caption and the table, the table written as one piece of XML (parsed once:
    odfdo builds elements one by one far more slowly, and a report holds a hundred)."""
    colonnes = max(1, len(bloc["entetes"]), *(len(ligne) for ligne in bloc["lignes"]))
    elements = []
    if bloc["legende"]:
        elements.append(Paragraph(bloc["legende"], style="Caption"))
    xml = [
        f'<table:table table:name="Tableau{numero}" table:style-name="Tableau">'
        f'<table:table-column table:number-columns-repeated="{colonnes}"/>'
    ]
    if bloc["entetes"]:
        xml.append("<table:table-header-rows>")
        xml.append(_rangee(bloc["entetes"], colonnes, entete=True))
        xml.append("</table:table-header-rows>")
    xml += [_rangee(ligne, colonnes) for ligne in bloc["lignes"]]
    xml.append("</table:table>")
    elements.append(Element.from_tag("".join(xml)))
    return elements


def _rangee(cellules, colonnes, entete=False):
    out = ["<table:table-row>"]
    for position in range(colonnes):
        texte = str(cellules[position]) if position < len(cellules) else ""
        # The first cell of a row names it: bold, like the header.
        style = (
            "En-t_c3_aate_20_de_20_tableau"
            if entete or position == 0
            else "Contenu_20_de_20_tableau"
        )
        out.append(
            f'<table:table-cell table:style-name="{"CelluleEntete" if entete else "Cellule"}"'
            f' office:value-type="string"><text:p text:style-name="{style}">'
            f"{_xml(texte)}</text:p></table:table-cell>"
        )
    out.append("</table:table-row>")
    return "".join(out)


def _xml(texte):
    """Text for XML content: escaped, characters XML forbids dropped."""
    return escape("".join(c for c in texte if c in "\t\n" or ord(c) >= 0x20))


def _graphique(odt, bloc, numero):
    trace = bloc.get("trace") or {}
    contenu = images.png(trace)
    largeur, hauteur = images.dimensions(trace)
    chemin = f"Pictures/graphique-{numero}.png"
    odt.container.set_part(chemin, contenu)
    odt.manifest.add_full_path(chemin, "image/png")
    taille = (
        f"{LARGEUR_IMAGE_CM:.2f}cm",
        f"{LARGEUR_IMAGE_CM * hauteur / largeur:.2f}cm",
    )
    cadre = Frame.image_frame(
        chemin,
        name=f"Graphique {numero}",
        style="Graphique",
        size=taille,
        anchor_type="as-char",
    )
    titre = Element.from_tag("svg:title")
    titre.text = bloc["titre"]
    description = Element.from_tag("svg:desc")
    description.text = bloc["alternative"]
    cadre.append(titre)
    cadre.append(description)
    elements = [Paragraph(bloc["titre"], style="Caption")]
    figure = Paragraph(style="Figure")
    figure.append(cadre)
    elements.append(figure)
    return elements
