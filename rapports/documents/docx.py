"""The report as a Word document (DOCX), written with python-docx from the Document's blocks
(`rapports.blocs`): the same content as the ODT.

- a title page, then the table of contents: a TOC field (Word fills in the page numbers
  when it updates fields, « Mettre à jour la table ») whose current result is the list of
  the headings, so that it reads before any update;
- headings in Word's own « Heading 1…4 » styles (the navigation pane, the table of
  contents and the export to tagged PDF know them);
- paragraphs with bold, italics and real hyperlinks (`w:hyperlink`), bulleted and
  numbered lists (« List Bullet », « List Number »);
- tables in the « Table Grid » style, their first row a header row repeated on each page
  (`w:tblHeader`), captioned;
- charts as PNG images (`rapports.documents.images`) with their text alternative
  (`wp:docPr` descr and title);
- notes in small print (the « Note » style).
"""

import io
from xml.sax.saxutils import escape

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor

from .. import blocs
from . import images

LARGEUR_IMAGE = Cm(16)
NIVEAUX_SOMMAIRE = 2


def rendre(document):
    """The DOCX (bytes) of a `rapports.document.Document`."""
    word = docx.Document()
    _proprietes(word, document)
    _styles(word)
    _page_de_titre(word, document)
    _sommaire(word, document)
    for bloc in document.blocs:
        _bloc(word, bloc)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _proprietes(word, document):
    proprietes = word.core_properties
    proprietes.title = f"{document.titre} — {document.contrat}"
    proprietes.subject = document.mention
    proprietes.language = "fr-FR"
    proprietes.author = document.contrat
    # The language of the text (spelling, hyphenation, screen readers): French.
    defaults = word.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    langue = rpr.find(qn("w:lang"))
    if langue is None:
        langue = OxmlElement("w:lang")
        rpr.append(langue)
    langue.set(qn("w:val"), "fr-FR")
    langue.set(qn("w:eastAsia"), "fr-FR")


def _styles(word):
    styles = word.styles
    note = styles.add_style("Note", WD_STYLE_TYPE.PARAGRAPH)
    note.base_style = styles["Normal"]
    note.font.size = Pt(8)
    note.font.color.rgb = RGBColor(0x4B, 0x55, 0x63)
    for niveau in range(1, NIVEAUX_SOMMAIRE + 1):
        toc = styles.add_style(f"TOC {niveau}", WD_STYLE_TYPE.PARAGRAPH)
        toc.base_style = styles["Normal"]
        toc.paragraph_format.left_indent = Cm(0.6 * (niveau - 1))
        toc.paragraph_format.space_after = Pt(2)
    lien = styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
    lien.font.color.rgb = RGBColor(0x1F, 0x4E, 0x9E)
    lien.font.underline = True


def _page_de_titre(word, document):
    titre = word.add_paragraph(document.titre, style="Title")
    titre.alignment = WD_ALIGN_PARAGRAPH.CENTER
    titre.paragraph_format.space_before = Cm(6)
    for ligne in (
        document.contrat,
        document.territoire,
        f"Version {document.version}" if document.version > 1 else "",
    ):
        if ligne:
            word.add_paragraph(ligne, style="Subtitle").alignment = WD_ALIGN_PARAGRAPH.CENTER
    mention = word.add_paragraph()
    mention.alignment = WD_ALIGN_PARAGRAPH.CENTER
    mention.add_run(document.mention).italic = True
    mention.add_run().add_break(WD_BREAK.PAGE)


def _sommaire(word, document):
    """The TOC field, its result the headings as they stand (see the module)."""
    word.add_paragraph("Sommaire", style="TOC Heading")
    entrees = [(n, texte) for n, texte, _ in document.sommaire if n <= NIVEAUX_SOMMAIRE]
    debut = word.add_paragraph(style="TOC 1" if entrees else "Normal")
    _champ(debut, "begin")
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = f' TOC \\o "1-{NIVEAUX_SOMMAIRE}" \\h \\z \\u '
    run = debut.add_run()
    run._r.append(instruction)
    _champ(debut, "separate")
    dernier = debut
    for index, (niveau, texte) in enumerate(entrees):
        paragraphe = debut if index == 0 else word.add_paragraph(style=f"TOC {niveau}")
        if index == 0:
            paragraphe.style = word.styles[f"TOC {niveau}"]
        paragraphe.add_run(texte)
        dernier = paragraphe
    _champ(dernier, "end")
    dernier.add_run().add_break(WD_BREAK.PAGE)


def _champ(paragraphe, kind):
    caractere = OxmlElement("w:fldChar")
    caractere.set(qn("w:fldCharType"), kind)
    if kind == "begin":
        caractere.set(qn("w:dirty"), "true")  # Word offers to update it when opened
    paragraphe.add_run()._r.append(caractere)


def _bloc(word, bloc):
    kind = bloc["type"]
    if kind == blocs.TITRE:
        word.add_heading(bloc["texte"], level=min(max(int(bloc["niveau"]), 1), 4))
    elif kind == blocs.PARAGRAPHE:
        _morceaux(word.add_paragraph(), bloc["morceaux"])
    elif kind == blocs.LISTE:
        style = "List Number" if bloc["ordonnee"] else "List Bullet"
        for element in bloc["elements"]:
            _morceaux(word.add_paragraph(style=style), element)
    elif kind == blocs.TABLEAU:
        _tableau(word, bloc)
    elif kind == blocs.GRAPHIQUE:
        _graphique(word, bloc)
    elif kind == blocs.NOTE:
        word.add_paragraph(bloc["texte"], style="Note")


def _morceaux(paragraphe, morceaux):
    for morceau in morceaux:
        if morceau["lien"]:
            _lien(paragraphe, morceau)
        else:
            run = paragraphe.add_run(morceau["texte"])
            run.bold = bool(morceau["gras"]) or None
            run.italic = bool(morceau["italique"]) or None


def _lien(paragraphe, morceau):
    """A real hyperlink: a relationship to the address, and a run inside `w:hyperlink`."""
    identifiant = paragraphe.part.relate_to(
        morceau["lien"], RELATIONSHIP_TYPE.HYPERLINK, is_external=True
    )
    lien = OxmlElement("w:hyperlink")
    lien.set(qn("r:id"), identifiant)
    run = paragraphe.add_run(morceau["texte"], style="Hyperlink")
    run.bold = bool(morceau["gras"]) or None
    run.italic = bool(morceau["italique"]) or None
    lien.append(run._r)  # moves the run into the hyperlink
    paragraphe._p.append(lien)


def _tableau(word, bloc):
    """The caption and the table, written as one piece of XML (parsed once: python-docx
    builds cells one by one far more slowly, and a report holds a hundred tables)."""
    colonnes = max(1, len(bloc["entetes"]), *(len(ligne) for ligne in bloc["lignes"]))
    if bloc["legende"]:
        word.add_paragraph(bloc["legende"], style="Caption")
    largeur = (
        int(
            word.sections[0].page_width
            - word.sections[0].left_margin
            - word.sections[0].right_margin
        )
        // 635
    )  # EMU -> twentieths of a point
    colonne = largeur // colonnes
    xml = [
        f"<w:tbl {nsdecls('w')}><w:tblPr>"
        f'<w:tblStyle w:val="{word.styles["Table Grid"].style_id}"/>'
        '<w:tblW w:w="0" w:type="auto"/><w:tblLook w:val="04A0" w:firstRow="1"'
        ' w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/>'
        "</w:tblPr><w:tblGrid>",
        f'<w:gridCol w:w="{colonne}"/>' * colonnes,
        "</w:tblGrid>",
    ]
    if bloc["entetes"]:
        xml.append(_rangee(bloc["entetes"], colonnes, colonne, entete=True))
    xml += [_rangee(ligne, colonnes, colonne) for ligne in bloc["lignes"]]
    xml.append("</w:tbl>")
    word.element.body._insert_tbl(parse_xml("".join(xml)))
    word.add_paragraph()


def _rangee(cellules, colonnes, largeur, entete=False):
    # The header row is repeated on each page; the header, and the first cell of a row
    # that names it, in bold.
    out = ['<w:tr><w:trPr><w:tblHeader w:val="true"/></w:trPr>' if entete else "<w:tr>"]
    for position in range(colonnes):
        texte = str(cellules[position]) if position < len(cellules) else ""
        gras = "<w:b/>" if entete or position == 0 else ""
        out.append(
            f'<w:tc><w:tcPr><w:tcW w:w="{largeur}" w:type="dxa"/></w:tcPr><w:p><w:r>'
            f'<w:rPr>{gras}<w:sz w:val="18"/></w:rPr><w:t xml:space="preserve">'
            f"{_xml(texte)}</w:t></w:r></w:p></w:tc>"
        )
    out.append("</w:tr>")
    return "".join(out)


def _xml(texte):
    """Text for XML content: escaped, characters XML forbids dropped."""
    return escape("".join(c for c in texte if c in "\t\n" or ord(c) >= 0x20))


def _graphique(word, bloc):
    trace = bloc.get("trace") or {}
    word.add_paragraph(bloc["titre"], style="Caption")
    paragraphe = word.add_paragraph()
    paragraphe.alignment = WD_ALIGN_PARAGRAPH.CENTER
    forme = paragraphe.add_run().add_picture(io.BytesIO(images.png(trace)), width=LARGEUR_IMAGE)
    proprietes = forme._inline.docPr
    proprietes.set("descr", bloc["alternative"])
    proprietes.set("title", bloc["titre"])
