"""The report's documents (ODT, DOCX, PDF): what LibreOffice, Word readers and pdftotext
find in them, the secret statistique kept, and who downloads them."""

import datetime
import http.server
import io
import re
import shutil
import subprocess
import threading
import zlib

import docx
import odfdo
import pytest
from django.urls import reverse

from comptes.roles import Role
from rapports import blocs, etats, sections
from rapports.document import construire
from rapports.documents import docx as rendu_docx
from rapports.documents import odt as rendu_odt
from rapports.documents import pdf as rendu_pdf
from rapports.documents import prefixe
from tests.factories import ContratFactory, InstanceFactory, UserFactory
from tests.libreoffice import in_ci

from .donnees import JEUNES, JEUNES_CACHES, indicateurs, publier

TEXTE = """Le contrat a poursuivi ses **trois orientations** en 2025.

## Mobilité vers l'emploi

- le *permis de conduire* solidaire ;
- la navette vers la zone d'activités.

Voir [le site de la ville](https://www.montlucon.com/politique-de-la-ville)."""
LIEN = "https://www.montlucon.com/politique-de-la-ville"


@pytest.fixture
def rapport(montlucon, paul):
    publier(montlucon)
    indicateurs(montlucon)
    rapport = etats.commencer(montlucon.contrat, 2025, paul)
    section = rapport.sections.get(cle="orientations")
    etats.enregistrer_section(section, TEXTE, section.revision, paul)
    return rapport


@pytest.fixture
def document(rapport):
    return construire(rapport)


def titres_des_sections(rapport):
    return [section.titre for section in sections.sections_of(rapport.dsu)]


def pdftotext(contenu, *options):
    if not shutil.which("pdftotext"):
        if in_ci():
            pytest.fail("pdftotext absent (poppler-utils) : jamais ignoré en CI")
        pytest.skip("pdftotext absent (apt-get install poppler-utils)")
    done = subprocess.run(
        ["pdftotext", *options, "-", "-"], input=contenu, capture_output=True, check=True
    )
    return done.stdout.decode()


def objets_pdf(contenu):
    """The PDF's bytes with every compressed stream inflated (its object streams hold the
    catalogue and the structure tree)."""
    parts = [contenu]
    for debut in re.finditer(rb"stream\r?\n", contenu):
        fin = contenu.find(b"endstream", debut.end())
        try:
            parts.append(zlib.decompressobj().decompress(contenu[debut.end() : fin]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def plat(texte):
    """Text with every kind of space made one plain space."""
    return re.sub(r"\s+", " ", texte.replace("\u00a0", " ").replace("\u202f", " "))


# ODT and DOCX, opened by LibreOffice -----------------------------------------------------


def test_libreoffice_opens_the_odt_and_the_docx_and_finds_the_whole_report(
    libreoffice, rapport, document
):
    fichiers = {
        "rapport-odt.odt": rendu_odt.rendre(document),
        "rapport-docx.docx": rendu_docx.rendre(document),
    }

    en_pdf = libreoffice.convert(fichiers, "pdf")
    en_texte = libreoffice.convert(fichiers, "txt:Text")

    for nom in fichiers:
        assert en_pdf[nom].startswith(b"%PDF")
        texte = plat(en_texte[nom].decode("utf-8-sig"))
        for titre in titres_des_sections(rapport):
            assert titre in texte, (nom, titre)
        assert "Annexe : avis des instances consultées" in texte
        assert "Mobilité vers l'emploi" in texte
        assert "le permis de conduire solidaire" in texte
        assert "362 personnes" in texte
        # The table of contents is filled before any update: each title twice.
        for titre in [*titres_des_sections(rapport), "Mobilité vers l'emploi"]:
            assert texte.split("Sommaire", 1)[1].count(titre) == 2, (nom, titre)


def test_the_odt_has_real_headings_a_table_of_contents_tables_and_described_charts(document):
    odt = odfdo.Document(io.BytesIO(rendu_odt.rendre(document)))
    body = odt.body

    niveaux = {int(h.get_attribute("text:outline-level")) for h in body.headers}
    assert niveaux == {1, 2, 3}
    premiers = [
        str(h).strip() for h in body.headers if h.get_attribute("text:outline-level") == "1"
    ]
    assert {h.get_attribute("text:style-name") for h in body.headers} == {
        "Heading_20_1",
        "Heading_20_2",
        "Heading_20_3",
    }
    assert premiers[: len(sections.SECTIONS) - 1] == [s.titre for s in sections.sections_of(False)]
    (toc,) = body.get_elements("//text:table-of-content")
    entrees = [str(p).strip() for p in toc.body.get_elements("descendant::text:p")]
    assert entrees[0] == "Sommaire" and premiers[0] in entrees
    tables = body.get_tables()
    assert tables and all(t.get_element("table:table-header-rows") is not None for t in tables)
    cadres = body.get_elements("//draw:frame")
    assert cadres
    for cadre in cadres:
        assert cadre.get_element("draw:image").get_attribute("xlink:href") in odt.parts
        assert cadre.get_element("svg:desc").text.startswith("Graphique de l'évolution")
    assert LIEN in [lien.get_attribute("xlink:href") for lien in body.get_links()]
    assert odt.get_language() == "fr-FR"


def test_the_docx_has_word_headings_a_toc_field_grid_tables_and_alt_text(document):
    word = docx.Document(io.BytesIO(rendu_docx.rendre(document)))

    styles = {p.style.name for p in word.paragraphs if p.style.name.startswith("Heading")}
    assert {"Heading 1", "Heading 2", "Heading 3"} <= styles
    titres = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert titres[:4] == [s.titre for s in sections.sections_of(False)]
    xml = word.element.xml
    assert 'TOC \\o "1-2"' in xml
    assert [p.text for p in word.paragraphs if p.style.name == "TOC 1"][:2] == titres[:2]
    assert word.tables
    for table in word.tables:
        assert table.style.name == "Table Grid"
        assert table.rows[0]._tr.trPr.find(docx.oxml.ns.qn("w:tblHeader")) is not None
    descriptions = [shape._inline.docPr.get("descr") for shape in word.inline_shapes]
    assert descriptions and all(d.startswith("Graphique de l'évolution") for d in descriptions)
    liens = [r.target_ref for r in word.part.rels.values() if r.reltype.endswith("/hyperlink")]
    assert liens == [LIEN]
    assert word.core_properties.language == "fr-FR"


# The PDF ---------------------------------------------------------------------------------


def test_the_pdf_is_tagged_in_french_with_its_table_of_contents_and_the_figure(rapport, document):
    contenu = rendu_pdf.rendre(document)

    texte = plat(pdftotext(contenu, "-layout"))
    for titre in titres_des_sections(rapport):
        assert titre in texte
    assert "362 personnes" in texte
    # The table of contents gives the page of each section.
    premier = titres_des_sections(rapport)[0]
    assert re.search(re.escape(premier) + r" \.{5,} ?3\b", texte)
    objets = objets_pdf(contenu)
    assert b"/StructTreeRoot" in objets
    assert re.search(rb"/Lang\s*\(fr\)", objets)
    assert b"/Outlines" in objets  # bookmarks
    # Each chart is a figure whose text alternative is the block's (UTF-16 in the PDF).
    alternative = "Graphique de l'évolution de « Nombre de personnes sans permis"
    assert b"/Alt <feff" + alternative.encode("utf-16-be").hex().encode() in objets
    assert b"/DisplayDocTitle true" in objets or b"/DisplayDocTitle" in objets
    info = subprocess.run(["pdfinfo", "-"], input=contenu, capture_output=True, check=True)
    assert re.search(
        r"^Title: +Rapport annuel 2025 sur la politique de la ville — Contrat de ville de Mont",
        info.stdout.decode(),
        re.MULTILINE,
    )


def test_the_pdf_fetches_nothing_not_even_what_a_chart_or_a_link_points_to(document):
    demandes = []

    class Espion(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            demandes.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    serveur = http.server.HTTPServer(("127.0.0.1", 0), Espion)
    threading.Thread(target=serveur.serve_forever, daemon=True).start()
    adresse = f"http://127.0.0.1:{serveur.server_address[1]}"
    try:
        document.parties[-1].blocs += [
            blocs.paragraphe(blocs.morceau("Suite ici", lien=f"{adresse}/lien")),
            blocs.graphique(
                "Évolution : essai",
                "Graphique d'essai.",
                f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
                f'<image href="{adresse}/image.png" width="10" height="10"/>'
                f'<image href="file:///etc/hostname" width="10" height="10"/></svg>',
                {"unite": "", "etiquettes": [], "series": [], "cible": None},
            ),
        ]

        contenu = rendu_pdf.rendre(document)
    finally:
        serveur.shutdown()
        serveur.server_close()

    assert demandes == []
    assert "Suite ici" in plat(pdftotext(contenu))
    assert f"{adresse}/lien".encode() in objets_pdf(contenu)  # a link, not a fetch


# The secret statistique ------------------------------------------------------------------


def lignes_odt(contenu, legende):
    """{first cell: [cells]} of the table captioned `legende` in an ODT."""
    body = odfdo.Document(io.BytesIO(contenu)).body
    derniere_legende = None
    for element in body.children:
        if element.tag == "text:p" and element.style == "Caption":
            derniere_legende = str(element).strip()
        elif element.tag == "table:table" and (derniere_legende or "").startswith(legende):
            return {
                cellules[0]: cellules
                for row in element.get_elements("descendant::table:table-row")
                if (cellules := [str(c).strip() for c in row.get_elements("table:table-cell")])
            }
    raise AssertionError(f"Pas de tableau « {legende} »")


def lignes_docx(contenu, legende):
    word = docx.Document(io.BytesIO(contenu))
    derniere_legende = None
    for element in word.iter_inner_content():
        if isinstance(element, docx.text.paragraph.Paragraph):
            if element.style.name == "Caption":
                derniere_legende = element.text
        elif derniere_legende and derniere_legende.startswith(legende):
            return {row.cells[0].text: [cell.text for cell in row.cells] for row in element.rows}
    raise AssertionError(f"Pas de tableau « {legende} »")


def lignes_pdf(contenu, legende):
    """{first words: [words]} of the lines of the table captioned `legende` in the PDF."""
    texte = pdftotext(contenu, "-layout").split(legende, 1)[1].split("dernières valeurs", 2)[1]
    lignes = {}
    for ligne in texte.splitlines():
        mots = re.split(r"\s{2,}", ligne.strip())
        if mots and mots[0]:
            lignes.setdefault(mots[0], mots)
        if ligne.strip().startswith("Source") or "Graphique" in ligne:
            break
    return lignes


def test_hidden_values_never_reach_a_document(document):
    odt = lignes_odt(rendu_odt.rendre(document), JEUNES)
    word = lignes_docx(rendu_docx.rendre(document), JEUNES)
    pdf = lignes_pdf(rendu_pdf.rendre(document), JEUNES)

    for lignes in (odt, word, pdf):
        fontbouillant = next(v for k, v in lignes.items() if k.startswith("Fontbouillant"))
        territoire = next(v for k, v in lignes.items() if k.startswith("Ensemble"))
        for cellules in (fontbouillant, territoire):
            assert "secret" in cellules
            valeurs = {plat(c).split(" ")[0] for c in cellules}
            assert not valeurs & set(JEUNES_CACHES), cellules
        rive_gauche = next(v for k, v in lignes.items() if k.startswith("Rive Gauche"))
        assert "31" in {plat(c).split(" ")[0] for c in rive_gauche}


# The view --------------------------------------------------------------------------------

TYPES = {
    "odt": "application/vnd.oasis.opendocument.text",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def url(rapport, format_):
    return reverse(
        "rapports:document",
        args=[rapport.contrat.slug, rapport.annee, rapport.version, format_],
    )


@pytest.mark.parametrize("format_", ["odt", "docx", "pdf"])
def test_the_team_downloads_each_format(client, marie, rapport, format_):
    client.force_login(marie)

    response = client.get(url(rapport, format_))

    assert response.status_code == 200
    assert response["Content-Type"] == TYPES[format_]
    assert response["Content-Disposition"] == (
        f'attachment; filename="rapport-annuel-2025-montlucon-projet.{format_}"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert len(response.content) == int(response["Content-Length"]) > 1000


def test_another_contract_s_staff_and_unknown_formats_find_nothing(client, marie, rapport):
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=ContratFactory()))
    assert client.get(url(rapport, "pdf")).status_code == 404
    client.force_login(marie)
    for format_ in ("html", "exe", "PDF", "pdf.exe"):
        assert client.get(url(rapport, format_)).status_code == 404


def test_a_published_report_is_downloaded_by_anyone_a_draft_by_nobody(client, paul, rapport):
    response = client.get(url(rapport, "pdf"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]

    InstanceFactory(rapport=rapport, date_envoi=datetime.date(2026, 9, 1))
    etats.mettre_en_consultation(rapport, paul)
    etats.adopter(
        rapport, paul, datetime.date(2026, 10, 20), aujourd_hui=datetime.date(2026, 11, 2)
    )
    etats.publier(rapport, paul)

    response = client.get(url(rapport, "pdf"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="rapport-annuel-2025-montlucon.pdf"'
    )
    assert "Adopté le 20/10/2026" in plat(pdftotext(response.content))


def test_a_renderer_that_fails_gives_a_french_page_and_no_traceback(
    client, marie, rapport, settings, tmp_path, caplog
):
    # The print stylesheet missing from the static files (a broken deployment).
    settings.STATICFILES_DIRS = [tmp_path]
    settings.BASE_DIR = tmp_path
    client.force_login(marie)

    response = client.get(url(rapport, "pdf"))

    assert response.status_code == 503
    page = response.content.decode()
    assert "Le document PDF de ce rapport n’a pas pu être produit" in page
    assert "Traceback" not in page and "FileNotFoundError" not in page
    assert "n'a pas pu être produit" in caplog.text
    assert client.get(url(rapport, "odt")).status_code == 200


def test_an_adopted_report_s_documents_are_drawn_once_and_kept(client, paul, rapport, settings):
    InstanceFactory(rapport=rapport, date_envoi=datetime.date(2026, 9, 1))
    etats.mettre_en_consultation(rapport, paul)
    etats.adopter(
        rapport, paul, datetime.date(2026, 10, 20), aujourd_hui=datetime.date(2026, 11, 2)
    )
    client.force_login(paul)
    premier = client.get(url(rapport, "odt")).content
    gardes = settings.RAPPORTS_FICHIERS_ROOT / "documents"

    def siens():
        return sorted(p.suffix for p in gardes.glob(prefixe(rapport) + "*"))

    assert siens() == [".odt"]
    # What the assembly adopted: a later change of the contract's name is not in it.
    rapport.contrat.nom = "Un autre nom"
    rapport.contrat.save()
    assert client.get(url(rapport, "odt")).content == premier
    # Published: its document says so, drawn again once, the adopted one dropped.
    etats.publier(rapport, paul)
    publie = client.get(url(rapport, "odt")).content
    assert publie != premier
    assert siens() == [".odt"]
    client.logout()
    assert client.get(url(rapport, "odt")).content == publie


def test_a_draft_s_documents_follow_the_diagnostic(client, marie, rapport, settings):
    client.force_login(marie)
    client.get(url(rapport, "docx"))
    gardes = settings.RAPPORTS_FICHIERS_ROOT / "documents"
    assert not list(gardes.glob(prefixe(rapport) + "*"))
