"""Hostile and broken files: each is refused with a French message, quickly, in little
memory, and nothing is written, whether it comes through the importers or the upload
screen.

The corpus is built here, by the tests (`CORPUS`): decompression bombs, XML entity
attacks, a merged range over a whole sheet, too many rows or parts, too long cells,
renamed files, NUL bytes. bench/hostile_files.py measures time and memory on it.
"""

import io
import struct
import tracemalloc
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook

from comptes.roles import Role
from diagnostics.imports import import_source_table
from diagnostics.models import CelluleSource, Diagnostic, Import, ImportEnAttente, Pilier, Theme
from indicateurs.imports import import_measures
from indicateurs.models import Mesure
from tests.factories import DiagnosticFactory, UserFactory

HEADER = ["Pilier", "Thème", "Sous-thème", "Difficultés prégnantes", "Indicateur"]
GIB = 1 << 30
MIB = 1 << 20
SHEET = "xl/worksheets/sheet1.xml"
# A test of the corpus may allocate this much at most (the files themselves included).
MEMORY_LIMIT = 64 * MIB


# Building the corpus ----------------------------------------------------------------------


def workbook(*rows):
    book = Workbook()
    for row in (HEADER, *rows):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parts_of(content):
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(parts):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def with_sheet(sheet_xml):
    """A genuine workbook whose first sheet is replaced by this XML."""
    parts = parts_of(workbook(["1 Santé", "Accès aux soins", "", "- Délais", ""]))
    parts[SHEET] = sheet_xml
    return rezip(parts)


def deflated_spaces(size):
    """A raw deflate stream of `size` bytes of spaces (a multiple of 1 MiB), built without
    compressing them: after a full flush, each MiB compresses to the same ~1 KB block."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(b" " * MIB) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * (size // MIB) + b"\x03\x00"  # an empty final block


def raw_zip(entries, data):
    """A zip archive written by hand: `data` once, then central directory `entries`
    (name, compressed size, declared size) all pointing at it, as deflated parts.

    Their CRCs are left at zero: a reader only finds out after inflating everything.
    """
    first_name = entries[0][0].encode()
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(data), entries[0][2], len(first_name), 0
    )
    body = local + first_name + data
    directory = b""
    for name, compressed, declared in entries:
        encoded = name.encode()
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0,
            0,
            compressed,
            declared,
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            0,
        )
        directory += encoded
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), len(body), 0
    )
    return body + directory + end


def zip_bomb():
    """About 3 MB that inflate to 3 GiB: one worksheet of spaces."""
    data = deflated_spaces(3 * GIB)
    return raw_zip([(SHEET, len(data), 3 * GIB)], data)


def overlapping_zip_bomb():
    """About 70 KB declaring 2.5 GiB: forty parts that all point at the same 64 MiB."""
    data = deflated_spaces(64 * MIB)
    names = [f"xl/worksheets/sheet{number}.xml" for number in range(1, 41)]
    return raw_zip([(name, len(data), 64 * MIB) for name in names], data)


def lying_zip():
    """A part that declares 1 KB but whose data would inflate to 1 GiB."""
    data = deflated_spaces(GIB)
    return raw_zip([(SHEET, len(data), 1024)], data)


NAMESPACE = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def billion_laughs():
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    ]
    return with_sheet(
        (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<!DOCTYPE worksheet [{''.join(entities)}]>\n"
            f'<worksheet {NAMESPACE}><sheetData><row r="1">'
            '<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c>'
            "</row></sheetData></worksheet>"
        ).encode()
    )


def external_entity():
    return with_sheet(
        (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE worksheet [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
            f'<worksheet {NAMESPACE}><sheetData><row r="1">'
            '<c r="A1" t="inlineStr"><is><t>Pilier &secret;</t></is></c>'
            "</row></sheetData></worksheet>"
        ).encode()
    )


def huge_merged_range():
    """A few hundred bytes of XML merging every cell of a sheet: 17 billion cells."""
    parts = parts_of(workbook(["1 Santé", "Accès aux soins", "", "- Délais", ""]))
    parts[SHEET] = parts[SHEET].replace(
        b"</sheetData>",
        b'</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>',
    )
    return rezip(parts)


def far_column():
    """About 10 KB of XML: 2,000 short rows and one cell in the last column (XFD). A reader
    that lays out the rectangle up to the last cell would allocate 33 million cells."""
    cells = "".join(
        f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>x</t></is></c></row>'
        for number in range(2, 2_001)
    )
    return with_sheet(
        (
            f'<worksheet {NAMESPACE}><sheetData><row r="1">'
            '<c r="XFD1" t="inlineStr"><is><t>Pilier</t></is></c></row>'
            f"{cells}</sheetData></worksheet>"
        ).encode()
    )


def far_row():
    """Two rows, the second numbered one million."""
    return with_sheet(
        (
            f'<worksheet {NAMESPACE}><sheetData><row r="1">'
            '<c r="A1" t="inlineStr"><is><t>Pilier</t></is></c></row>'
            '<row r="1000000"><c r="A1000000" t="inlineStr"><is><t>1 Santé</t></is></c></row>'
            "</sheetData></worksheet>"
        ).encode()
    )


def many_parts():
    parts = parts_of(workbook(["1 Santé", "Accès aux soins", "", "- Délais", ""]))
    parts.update({f"xl/media/image{number}.png": b"x" for number in range(1_001)})
    return rezip(parts)


def many_rows_workbook():
    return workbook(*[["1 Santé", f"Thème {number}", "", "", ""] for number in range(60)])


def many_rows_csv():
    rows = [";".join(HEADER)] + [f"1 Santé;Thème {number};;;" for number in range(60)]
    return "\r\n".join(rows).encode()


def long_cell():
    return workbook(["1 Santé", "Accès aux soins", "", "- " + "très long constat " * 200, ""])


def docx_renamed():
    return rezip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


# (name, file name, content builder, the French message expected, settings to apply)
CORPUS = [
    ("bombe", "bombe.xlsx", zip_bomb, "Ce classeur décompressé ferait 3\xa0Go", {}),
    (
        "bombe-superposee",
        "bombe-superposee.xlsx",
        overlapping_zip_bomb,
        "Ce classeur décompressé ferait 2,5\xa0Go",
        {},
    ),
    (
        "taux-de-compression",
        "compresse.xlsx",
        lambda: raw_zip([(SHEET, len(d := deflated_spaces(8 * MIB)), 8 * MIB)], d),
        "Ce classeur est anormalement compressé (xl/worksheets/sheet1.xml",
        {},
    ),
    (
        "taille-mensongere",
        "mensonge.xlsx",
        lying_zip,
        "Ce fichier n'est pas un classeur Excel (.xlsx) lisible",
        {},
    ),
    (
        "milliard-de-rires",
        "rires.xlsx",
        billion_laughs,
        "Ce classeur contient des déclarations XML interdites (entités)",
        {},
    ),
    (
        "entite-externe",
        "xxe.xlsx",
        external_entity,
        "Ce classeur contient des déclarations XML interdites (entités)",
        {},
    ),
    (
        "fusion-geante",
        "fusion.xlsx",
        huge_merged_range,
        "Les cellules fusionnées de ce classeur couvrent plus de 100000 cellules",
        {},
    ),
    (
        "colonne-lointaine",
        "colonne.xlsx",
        far_column,
        "Ce classeur s'étend sur 2000 lignes et 16384 colonnes, soit plus de 3200000 cellules",
        {},
    ),
    (
        "ligne-lointaine",
        "ligne.xlsx",
        far_row,
        "Le fichier dépasse la limite de 50000 lignes",
        {},
    ),
    (
        "trop-de-parties",
        "parties.xlsx",
        many_parts,
        "fichiers internes, au-delà de la limite de 1000 : ce n'est pas un tableau ordinaire.",
        {},
    ),
    (
        "trop-de-lignes-xlsx",
        "lignes.xlsx",
        many_rows_workbook,
        "Le fichier dépasse la limite de 50 lignes : découpez-le en plusieurs fichiers.",
        {"IMPORT_MAX_ROWS": 50},
    ),
    (
        "trop-de-lignes-csv",
        "lignes.csv",
        many_rows_csv,
        "Le fichier dépasse la limite de 50 lignes : découpez-le en plusieurs fichiers.",
        {"IMPORT_MAX_ROWS": 50},
    ),
    (
        "cellule-trop-longue",
        "long.xlsx",
        long_cell,
        "fait 3602 caractères, au-delà de la limite de 1000.",
        {"IMPORT_MAX_CELL_LENGTH": 1000},
    ),
    (
        "pdf-renomme",
        "tableau.xlsx",
        lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        "Ce fichier est un PDF : enregistrez le tableau au format Excel (.xlsx), "
        "ODS (LibreOffice) ou CSV.",
        {},
    ),
    (
        "zip-renomme",
        "tableau.xlsx",
        lambda: rezip({"notes.txt": b"Une archive, pas un classeur."}),
        "Ce fichier n'est pas un classeur Excel (.xlsx) lisible",
        {},
    ),
    (
        "docx-renomme",
        "tableau.xlsx",
        docx_renamed,
        "Ce fichier n'est pas un classeur Excel (.xlsx) lisible",
        {},
    ),
    (
        "octets-nuls",
        "tableau.csv",
        lambda: ";".join(HEADER).encode() + b"\r\n1 Sant\x00\x00;Soins;;;\r\n",
        "Le fichier ne contient pas de texte lisible",
        {},
    ),
    (
        "trop-gros",
        "gros.csv",
        lambda: many_rows_csv() * 40,
        "au-delà de la taille maximale acceptée (10\xa0Ko).",
        {"IMPORT_MAX_FILE_SIZE": 10 * 1024},
    ),
]
CASES = [pytest.param(*case[1:], id=case[0]) for case in CORPUS]


@pytest.fixture(scope="module")
def files():
    """Each file of the corpus, built once."""
    return {case[1:3]: case[2]() for case in CORPUS}


def database_counts():
    models = (Diagnostic, Pilier, Theme, Import, CelluleSource, Mesure, ImportEnAttente)
    return [model.objects.count() for model in models]


class Measured:
    """Peak memory allocated by Python inside the block (tracemalloc)."""

    def __enter__(self):
        tracemalloc.start()
        return self

    def __exit__(self, *exc):
        _, self.peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()


def messages_of(report):
    return " ".join(message for _, message in report.errors)


# Through the importers --------------------------------------------------------------------


@pytest.mark.parametrize(("filename", "builder", "message", "limits"), CASES)
def test_the_diagnostic_importer_refuses_it(settings, files, filename, builder, message, limits):
    for name, value in limits.items():
        setattr(settings, name, value)
    content = files[filename, builder]
    diagnostic = DiagnosticFactory()
    before = database_counts()

    with Measured() as measured:
        report = import_source_table(diagnostic, filename, content)

    assert not report.ok
    assert message in messages_of(report)
    assert report.as_lines()[0] == f"Fichier « {filename} » refusé : rien n'a été enregistré."
    assert database_counts() == before
    assert measured.peak < MEMORY_LIMIT


@pytest.mark.parametrize(("filename", "builder", "message", "limits"), CASES)
def test_the_measures_importer_refuses_it(settings, files, filename, builder, message, limits):
    for name, value in limits.items():
        setattr(settings, name, value)
    settings.IMPORT_MESURES_MAX_FILE_SIZE = settings.IMPORT_MAX_FILE_SIZE
    settings.IMPORT_MESURES_MAX_ROWS = settings.IMPORT_MAX_ROWS
    content = files[filename, builder]
    diagnostic = DiagnosticFactory()
    before = database_counts()

    with Measured() as measured:
        report = import_measures(diagnostic, filename, content)

    assert not report.ok
    assert messages_of(report)
    assert "Traceback" not in messages_of(report)
    assert database_counts() == before
    assert measured.peak < MEMORY_LIMIT


def test_the_command_refuses_a_zip_bomb(tmp_path, files):
    path = tmp_path / "bombe.xlsx"
    path.write_bytes(files["bombe.xlsx", zip_bomb])

    with pytest.raises(CommandError) as refused:
        call_command(
            "import_diagnostic", str(path), "--diagnostic=nouveau", "--territoire=Montluçon"
        )

    assert "Ce classeur décompressé ferait 3\xa0Go" in str(refused.value)
    assert database_counts() == [0, 0, 0, 0, 0, 0, 0]


def test_openpyxl_parses_workbooks_with_defusedxml(files):
    """Whatever reads a workbook with openpyxl (tablib in the admin's imports) is safe."""
    import openpyxl
    from defusedxml import DefusedXmlException

    assert openpyxl.DEFUSEDXML is True
    for key in (("rires.xlsx", billion_laughs), ("xxe.xlsx", external_entity)):
        with pytest.raises(Exception) as refused:  # openpyxl wraps it in a ValueError
            openpyxl.load_workbook(io.BytesIO(files[key]))
        assert isinstance(refused.value.__context__ or refused.value, DefusedXmlException)


def test_the_admin_xlsx_import_checks_the_archive_first(files):
    from diagnostics.admin.formats import SafeXLSX

    with pytest.raises(ValueError, match="Ce classeur décompressé ferait 3\xa0Go"):
        SafeXLSX().create_dataset(files["bombe.xlsx", zip_bomb])


# Through the upload screen ----------------------------------------------------------------


@pytest.mark.parametrize(("filename", "builder", "message", "limits"), CASES)
def test_the_upload_screen_refuses_it(client, settings, files, filename, builder, message, limits):
    for name, value in limits.items():
        setattr(settings, name, value)
    content = files[filename, builder]
    diagnostic = DiagnosticFactory()
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=diagnostic.contrat))
    before = database_counts()

    response = client.post(
        reverse("diagnostics:import_nouveau"),
        {
            "nature": "diagnostic",
            "diagnostic": diagnostic.pk,
            "fichier": SimpleUploadedFile(filename, content),
        },
    )

    if "taille maximale" in message:  # refused by the form, before being kept
        assert "Le fichier dépasse la taille maximale acceptée (10\xa0Ko)." in (
            response.content.decode()
        )
        assert database_counts()[:-1] == before[:-1]
        assert not ImportEnAttente.objects.exists()
        return
    token = ImportEnAttente.objects.get().token
    url = reverse("diagnostics:import_apercu", args=[token])
    page = client.get(url).content.decode()
    assert message.replace("'", "&#x27;") in page
    assert 'value="confirmer"' not in page
    client.post(url, {"action": "confirmer"})
    counts = database_counts()
    assert counts[:-1] == before[:-1]  # only the pending upload was kept
    assert counts[-1] == 1
