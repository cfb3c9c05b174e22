"""The signed opinions' files (`rapports.fichiers`): real PDF, ODT and DOCX accepted, what
they claim to be checked against what they are, no macros, no active PDF, no bombs."""

import io
import zipfile
import zlib

import odfdo
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from docx import Document as DocumentWord
from PIL import Image
from weasyprint import HTML

from rapports import fichiers

# Real files, made here ---------------------------------------------------------------------


def pdf_weasyprint(texte="Avis favorable du conseil citoyen de Fontbouillant."):
    return HTML(string=f"<h1>Avis</h1><p>{texte}</p>").write_pdf()


def pdf_a_la_main(*objets_en_plus, catalogue_en_plus=b""):
    """A minimal one-page PDF written by hand; `objets_en_plus` from object 4 on."""
    objets = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalogue_en_plus + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        *objets_en_plus,
    ]
    sortie = io.BytesIO()
    sortie.write(b"%PDF-1.4\n")
    positions = []
    for numero, objet in enumerate(objets, start=1):
        positions.append(sortie.tell())
        sortie.write(b"%d 0 obj\n" % numero + objet + b"\nendobj\n")
    xref = sortie.tell()
    sortie.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objets) + 1))
    for position in positions:
        sortie.write(b"%010d 00000 n \n" % position)
    sortie.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objets) + 1, xref)
    )
    return sortie.getvalue()


def odt(texte="Avis favorable avec réserves."):
    document = odfdo.Document("text")
    document.body.append(odfdo.Paragraph(texte))
    sortie = io.BytesIO()
    document.save(sortie)
    return sortie.getvalue()


def docx(texte="Avis défavorable."):
    document = DocumentWord()
    document.add_paragraph(texte)
    sortie = io.BytesIO()
    document.save(sortie)
    return sortie.getvalue()


def png():
    sortie = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(sortie, format="PNG")
    return sortie.getvalue()


def zip_modifie(contenu, ajouts=None, remplacer=None):
    """A copy of a zip archive with parts added (`ajouts`) or rewritten (`remplacer`:
    {part: function(bytes) -> bytes}); the order of the parts kept."""
    ajouts, remplacer = ajouts or {}, remplacer or {}
    sortie = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(contenu)) as source,
        zipfile.ZipFile(sortie, "w", zipfile.ZIP_DEFLATED) as cible,
    ):
        for partie in source.infolist():
            donnees = source.read(partie.filename)
            if partie.filename in remplacer:
                donnees = remplacer[partie.filename](donnees)
            cible.writestr(partie, donnees)
        for nom, donnees in ajouts.items():
            cible.writestr(nom, donnees)
    return sortie.getvalue()


def televerse(nom, contenu):
    return SimpleUploadedFile(nom, contenu)


def refus(nom, contenu):
    with pytest.raises(ValidationError) as erreur:
        fichiers.verifier(televerse(nom, contenu))
    return " ".join(erreur.value.messages)


# Accepted ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nom", "fabrique", "type_attendu"),
    [
        ("Avis signé du conseil citoyen.pdf", pdf_weasyprint, "application/pdf"),
        ("avis.pdf", pdf_a_la_main, "application/pdf"),
        ("Avis conseil municipal.odt", odt, "application/vnd.oasis.opendocument.text"),
        (
            "Délibération.DOCX",
            docx,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_real_documents_are_accepted_with_their_name_and_type(nom, fabrique, type_attendu):
    fichier = televerse(nom, fabrique())
    assert fichiers.verifier(fichier) == (nom, type_attendu)
    assert fichier.tell() == 0  # read again from the start to be stored


def test_documents_saved_by_libreoffice_are_accepted(libreoffice):
    source = odt("Avis rendu par le conseil municipal de Montluçon.")
    for format_ in ("pdf", "docx", "odt"):
        converti = libreoffice.convert_one("avis-source.odt", source, format_)
        nom, _ = fichiers.verifier(televerse(f"avis.{format_}", converti))
        assert nom == f"avis.{format_}"


def test_the_name_kept_is_the_last_component_and_the_stored_name_is_random():
    nom, _ = fichiers.verifier(televerse("C:\\Mes documents\\avis.pdf", pdf_a_la_main()))
    assert nom == "avis.pdf"
    stocke = fichiers.nom_stocke("Avis signé.PDF")
    assert stocke.endswith(".pdf") and "Avis" not in stocke and len(stocke) == 36
    assert stocke != fichiers.nom_stocke("Avis signé.PDF")


# Refused --------------------------------------------------------------------------------------


def test_a_png_named_pdf_is_not_a_real_pdf():
    assert "Ce fichier n'est pas un vrai PDF" in refus("avis.pdf", png())


def test_a_pdf_cut_before_its_end_is_not_a_real_pdf():
    assert "pas un vrai PDF" in refus("avis.pdf", pdf_a_la_main()[:-30])


def test_an_odt_named_pdf_is_refused_with_its_real_type():
    message = refus("avis.pdf", odt())
    assert "porte l'extension .pdf mais c'est un document ODT" in message
    assert "renommez-le en .odt" in message


def test_a_docx_named_odt_is_refused():
    assert "c'est un document DOCX (Word)" in refus("avis.odt", docx())


def test_other_kinds_of_files_are_refused():
    assert "Seuls les fichiers PDF, ODT (LibreOffice) et DOCX (Word)" in refus("avis.png", png())
    assert "peuvent contenir des macros" in refus("avis.docm", docx())


def test_an_odt_with_a_basic_macro_is_refused():
    avec_macro = zip_modifie(
        odt(),
        ajouts={
            "Basic/Standard/Module1.xml": b'<script:module>Sub Main\nShell("calc")\nEnd Sub'
            b"</script:module>",
        },
    )
    assert "Ce document contient des macros" in refus("avis.odt", avec_macro)


def test_an_odt_whose_manifest_lists_scripts_is_refused():
    avec_script = zip_modifie(
        odt(),
        remplacer={
            "META-INF/manifest.xml": lambda xml: xml.replace(
                b"</manifest:manifest>",
                b'<manifest:file-entry manifest:full-path="Scripts/python/x.py" '
                b'manifest:media-type=""/></manifest:manifest>',
            )
        },
    )
    assert "contient des macros" in refus("avis.odt", avec_script)


def test_a_docx_with_a_vba_project_is_refused():
    avec_macro = zip_modifie(
        docx(), ajouts={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"0" * 500}
    )
    assert "Ce document contient des macros" in refus("avis.docx", avec_macro)


def test_a_docx_declaring_a_macro_enabled_document_is_refused():
    docm = zip_modifie(
        docx(),
        remplacer={
            "[Content_Types].xml": lambda xml: xml.replace(
                b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                b"application/vnd.ms-word.document.macroEnabled.main+xml",
            )
        },
    )
    assert "Ce document contient des macros" in refus("avis.docx", docm)


def test_a_pdf_with_javascript_is_refused():
    avec_js = pdf_a_la_main(
        b"<< /Type /Action /S /JavaScript /JS (app.alert\\('x'\\)) >>",
        catalogue_en_plus=b"/OpenAction 4 0 R ",
    )
    assert "Ce PDF contient du JavaScript" in refus("avis.pdf", avec_js)


def test_a_pdf_hiding_javascript_in_an_escaped_name_or_a_compressed_stream_is_refused():
    echappe = pdf_a_la_main(
        b"<< /Type /Action /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>",
        catalogue_en_plus=b"/OpenAction 4 0 R ",
    )
    assert "du JavaScript" in refus("avis.pdf", echappe)
    cache = zlib.compress(b"5 0 << /S /JavaScript /JS (app.alert\\(1\\)) >>")
    dans_un_flux = pdf_a_la_main(
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(cache)
        + cache
        + b"\nendstream"
    )
    assert "du JavaScript" in refus("avis.pdf", dans_un_flux)


def test_a_pdf_launching_a_command_or_carrying_files_is_refused():
    lance = pdf_a_la_main(
        b"<< /Type /Action /S /Launch /F (cmd.exe) >>", catalogue_en_plus=b"/OpenAction 4 0 R "
    )
    assert "une commande à lancer" in refus("avis.pdf", lance)
    joint = pdf_a_la_main(
        b"<< /EmbeddedFiles << /Names [(x.exe) 5 0 R] >> >>",
        catalogue_en_plus=b"/Names 4 0 R ",
    )
    assert "des fichiers joints" in refus("avis.pdf", joint)


def test_an_oversized_file_is_refused(settings):
    settings.RAPPORTS_FICHIER_MAX = 10 * 1024 * 1024
    gros = pdf_a_la_main(b"<< /Remplissage (" + b"x" * (10 * 1024 * 1024) + b") >>")
    message = refus("avis.pdf", gros)
    assert message.startswith("Le fichier dépasse 10\xa0Mo")


def test_an_empty_file_is_refused():
    assert "Ce fichier est vide" in refus("avis.pdf", b"")


def test_a_zip_bomb_is_refused_before_being_unpacked():
    bombe = zip_modifie(odt(), ajouts={"Pictures/vide.xml": b"\0" * (30 * 1024 * 1024)})
    assert len(bombe) < 100_000
    assert "bombe de décompression" in refus("avis.odt", bombe)


def test_a_zip_of_too_many_parts_is_refused():
    parties = {f"Pictures/{n}.xml": b"" for n in range(fichiers.ZIP_PARTIES_MAX + 1)}
    assert "fichiers internes" in refus("avis.odt", zip_modifie(odt(), ajouts=parties))


def test_a_name_with_a_nul_byte_is_refused():
    assert "caractères invisibles interdits" in refus("avis\x00.pdf", pdf_a_la_main())
