"""Source tables saved by LibreOffice (.ods): imported exactly as the same table in .xlsx,
with the same protections against hostile files.

The ODS files are written by LibreOffice itself, in the tests' setup: the XLSX files (the
seed saved as a workbook, the source table export with its merged cells, the admin's flat
exports) are converted with `soffice --headless --convert-to ods` (tests/libreoffice.py).
"""

import io
import re
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from openpyxl import Workbook

from comptes.roles import Role
from diagnostics.admin import formats as admin_formats
from diagnostics.imports import import_source_table
from diagnostics.imports import source_export as exports_source
from diagnostics.imports.formats import read_raw_tables
from diagnostics.models import CelluleSource, Diagnostic, Import, ImportEnAttente, Pilier
from tests.conftest import SEED
from tests.diagnostics.imports.test_export_source import (
    FLAT,
    edge_cases,
    everything,
    snapshot,
    structure,
)
from tests.diagnostics.imports.test_hostile_files import (
    GIB,
    MEMORY_LIMIT,
    Measured,
    database_counts,
    deflated_spaces,
    messages_of,
    parts_of,
    raw_zip,
    rezip,
)
from tests.factories import DiagnosticFactory, UserFactory

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def workbook_of(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def seed_workbook():
    """The seed table (a TSV file) as a workbook, cell for cell."""
    tables, _ = read_raw_tables(SEED.name, SEED.read_bytes())
    return workbook_of([cells for _, cells in next(iter(tables))])


@pytest.fixture(scope="module")
def seed_files(libreoffice):
    """The seed as an .xlsx and as the .ods LibreOffice makes of it."""
    xlsx = seed_workbook()
    return xlsx, libreoffice.convert_one("diagnostic-montlucon.xlsx", xlsx, "ods")


def provenance(diagnostic):
    """The cells of the source table the diagnostic's import kept (line, column, text)."""
    return sorted(
        CelluleSource.objects.filter(import_source__diagnostic=diagnostic).values_list(
            "ligne", "colonne", "texte"
        )
    )


def imported(filename, content):
    diagnostic = DiagnosticFactory()
    report = import_source_table(diagnostic, filename, content)
    assert report.ok, report.as_lines()
    return diagnostic, report


# LibreOffice's files are read as the workbooks they come from ------------------------------


def test_libreoffice_wrote_an_opendocument_spreadsheet(seed_files):
    _, ods = seed_files
    with zipfile.ZipFile(io.BytesIO(ods)) as archive:
        assert archive.read("mimetype") == ODS_MIMETYPE
        assert "content.xml" in archive.namelist()


def test_the_seed_saved_by_libreoffice_imports_as_from_xlsx(seed_files, montlucon):
    xlsx, ods = seed_files

    from_xlsx, xlsx_report = imported("diagnostic-montlucon.xlsx", xlsx)
    from_ods, ods_report = imported("diagnostic-montlucon.ods", ods)

    assert structure(from_ods) == structure(from_xlsx) == structure(montlucon)
    assert provenance(from_ods) == provenance(from_xlsx)
    assert len(provenance(from_ods)) > 50
    assert ods_report.warnings == xlsx_report.warnings
    assert ods_report.counts == xlsx_report.counts
    assert Import.objects.get(diagnostic=from_ods).nom_fichier == "diagnostic-montlucon.ods"


@pytest.mark.parametrize("builder", [edge_cases, lambda: None], ids=["cas-limites", "graine"])
def test_the_source_export_with_merged_cells_round_trips_through_libreoffice(
    libreoffice, montlucon, builder
):
    diagnostic = builder() or montlucon
    content, _, filename = exports_source.export(diagnostic, "xlsx")
    ods = libreoffice.convert_one(filename, content, "ods")
    assert b"number-rows-spanned" in zipfile.ZipFile(io.BytesIO(ods)).read("content.xml")

    copy, report = imported(filename.replace(".xlsx", ".ods"), ods)

    assert not report.warnings, report.as_lines()
    assert structure(copy) == structure(diagnostic)


def test_merged_cells_of_an_ods_take_the_value_of_their_first_cell(libreoffice):
    book = Workbook()
    sheet = book.active
    sheet.append(["", "", "Titre fusionné"])
    sheet.append([])
    sheet.append(["", "", "a", "b"])
    sheet.append(["", "", "", "c"])
    sheet.merge_cells("C1:E2")
    sheet.merge_cells("C3:C4")
    buffer = io.BytesIO()
    book.save(buffer)
    ods = libreoffice.convert_one("fusions.xlsx", buffer.getvalue(), "ods")

    tables, warnings = read_raw_tables("fusions.ods", ods)
    rows = next(iter(tables))

    assert warnings == []
    assert [(line, (cells + [""] * 5)[:5]) for line, cells in rows] == [
        (1, ["", "", "Titre fusionné", "Titre fusionné", "Titre fusionné"]),
        (2, ["", "", "Titre fusionné", "Titre fusionné", "Titre fusionné"]),
        (3, ["", "", "a", "b", ""]),
        (4, ["", "", "a", "c", ""]),
    ]
    fast, _ = read_raw_tables("fusions.ods", ods, merged_cells=False)
    assert [cells[2] for _, cells in next(iter(fast))] == ["Titre fusionné", "", "a", ""]


# Extensions that lie: read as what the file is, with a warning ------------------------------


def test_a_workbook_is_read_as_what_it_is_whatever_its_extension(seed_files):
    xlsx, ods = seed_files
    expected = structure(imported("graine.xlsx", xlsx)[0])
    cases = [
        ("graine.ods", xlsx, "Le fichier porte l'extension .ods mais c'est un classeur Excel"),
        (
            "graine.xlsx",
            ods,
            "Le fichier porte l'extension .xlsx mais c'est un classeur ODS (LibreOffice)",
        ),
        (
            "graine.csv",
            ods,
            "Le fichier porte l'extension .csv mais c'est un classeur ODS (LibreOffice)",
        ),
    ]
    for filename, content, warning in cases:
        diagnostic, report = imported(filename, content)
        assert structure(diagnostic) == expected
        assert (None, f"{warning} : lu comme tel.") in report.warnings


# Through the upload screen and the command -----------------------------------------------------


def test_the_upload_screen_offers_ods_and_imports_one(client, admin, seed_files):
    _, ods = seed_files

    form = client.get(reverse("diagnostics:import_nouveau")).content.decode()
    assert "Classeur Excel (.xlsx) ou ODS (LibreOffice, .ods)" in form
    accept = re.search(r'<input type="file" name="fichier"[^>]*accept="([^"]+)"', form)
    assert accept is not None
    assert ".ods" in accept[1].split(",")
    assert "application/vnd.oasis.opendocument.spreadsheet" in accept[1].split(",")

    response = client.post(
        reverse("diagnostics:import_nouveau"),
        {
            "nature": "diagnostic",
            "titre": "Diagnostic enregistré avec LibreOffice",
            "slug": "libreoffice",
            "territoire": "Montluçon Communauté",
            "annee_debut": "2024",
            "annee_fin": "2030",
            "fichier": SimpleUploadedFile("diagnostic.ods", ods),
        },
    )
    token = ImportEnAttente.objects.get().token
    assert response["Location"] == reverse("diagnostics:import_apercu", args=[token])
    page = client.get(response["Location"]).content.decode()
    assert 'value="confirmer"' in page
    client.post(response["Location"], {"action": "confirmer"})

    diagnostic = Diagnostic.objects.get(slug="libreoffice")
    assert Pilier.objects.filter(diagnostic=diagnostic).count() == 3
    assert Import.objects.get(diagnostic=diagnostic).nom_fichier == "diagnostic.ods"


def test_the_command_imports_an_ods(tmp_path, seed_files, montlucon):
    path = tmp_path / "diagnostic.ods"
    path.write_bytes(seed_files[1])

    call_command("import_diagnostic", str(path), "--diagnostic=ods", "--territoire=Montluçon")

    assert structure(Diagnostic.objects.get(slug="ods")) == structure(montlucon)


# The admin's flat imports -------------------------------------------------------------------


def test_the_admin_imports_the_flat_exports_saved_by_libreoffice(libreoffice):
    everything()
    expected = snapshot()
    names = [f"{resource.__name__}.xlsx" for _, resource in FLAT]
    xlsx = {
        name: admin_formats.SafeXLSX().export_data(resource().export())
        for name, (_, resource) in zip(names, FLAT, strict=True)
    }
    ods = libreoffice.convert(xlsx, "ods")
    for model, _ in reversed(FLAT):
        model.objects.all().delete()
    assert not Pilier.objects.exists()

    for name, (_, resource) in zip(names, FLAT, strict=True):
        dataset = admin_formats.SafeODS().create_dataset(ods[name])
        result = resource().import_data(dataset, raise_errors=True)
        assert not result.has_validation_errors(), [row.error_dict for row in result.invalid_rows]

    assert snapshot() == expected


def test_the_admin_offers_ods_for_imports_only():
    assert admin_formats.SafeODS().can_import()
    assert not admin_formats.SafeODS().can_export()
    assert admin_formats.SafeODS().get_extension() == "ods"


# Hostile and broken ODS files ---------------------------------------------------------------
#
# Each is built from an ODS LibreOffice wrote (the seed), its parts changed.


def with_parts(ods, changes):
    return rezip({**parts_of(ods), **changes})


def with_content(ods, body):
    """The ODS whose first sheet's rows are replaced by `body` (XML of table rows)."""
    content = parts_of(ods)["content.xml"].decode()
    start = content.index("<table:table-row")
    end = content.index("</table:table>")
    return with_parts(ods, {"content.xml": (content[:start] + body + content[end:]).encode()})


def repeated_rows(rows, columns=1):
    return (
        f'<table:table-row table:number-rows-repeated="{rows}">'
        f'<table:table-cell office:value-type="string" table:number-columns-repeated="{columns}">'
        "<text:p>Pilier</text:p></table:table-cell></table:table-row>"
    )


def ods_zip_bomb():
    """About 3 MB that inflate to 3 GiB: a content.xml of spaces, beside a mimetype."""
    data = deflated_spaces(3 * GIB)
    return raw_zip([("content.xml", len(data), 3 * GIB)], data)


def billion_laughs(ods):
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    ]
    content = parts_of(ods)["content.xml"].decode()
    declaration = content.index("?>") + 2
    doctype = f"<!DOCTYPE office:document-content [{''.join(entities)}]>"
    content = content[:declaration] + doctype + content[declaration:]
    content = content.replace("<text:p>Pilier</text:p>", "<text:p>&lol9;</text:p>", 1)
    return with_parts(ods, {"content.xml": content.encode()})


def encrypted(ods):
    """The ODS as LibreOffice saves it with a password: content.xml encrypted, and said so
    by the manifest."""
    manifest = parts_of(ods)["META-INF/manifest.xml"].replace(
        b"</manifest:manifest>",
        b'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
        b'<manifest:encryption-data manifest:checksum-type="urn:oasis:names:tc:opendocument:'
        b'xmlns:manifest:1.0#sha256-1k" manifest:checksum="AAAA"/></manifest:file-entry>'
        b"</manifest:manifest>",
    )
    assert b"encryption-data" in manifest
    return with_parts(
        ods, {"META-INF/manifest.xml": manifest, "content.xml": bytes(range(256)) * 40}
    )


# (name, file name, builder from the seed's ODS, the French message expected, settings)
HOSTILE = [
    ("bombe", "bombe.ods", lambda ods: ods_zip_bomb(), "Ce classeur décompressé ferait 3", {}),
    (
        "trop-de-parties",
        "parties.ods",
        lambda ods: rezip({**parts_of(ods), **{f"Pictures/{n}.png": b"x" for n in range(1_001)}}),
        "fichiers internes, au-delà de la limite de 1000 : ce n'est pas un tableau ordinaire.",
        {},
    ),
    (
        "pas-un-zip",
        "tableau.ods",
        lambda ods: "Pilier\tThème\n1 Santé\tSoins\n".encode(),
        "Ce fichier n'est pas un classeur OpenDocument (.ods) lisible",
        {},
    ),
    (
        "zip-sans-type",
        "tableau.ods",
        lambda ods: rezip({"notes.txt": b"Une archive, pas un classeur."}),
        "Ce fichier n'est pas un classeur OpenDocument (.ods) lisible",
        {},
    ),
    (
        "texte-opendocument",
        "tableau.ods",
        lambda ods: with_parts(ods, {"mimetype": b"application/vnd.oasis.opendocument.text"}),
        "Ce fichier OpenDocument n'est pas un classeur (son type est « text »)",
        {},
    ),
    (
        "type-inconnu",
        "tableau.ods",
        lambda ods: with_parts(
            ods, {"mimetype": b"application/vnd.oasis.opendocument.presentation"}
        ),
        "n'est pas un classeur (son type est « presentation »)",
        {},
    ),
    (
        "chiffre",
        "secret.ods",
        encrypted,
        "Ce classeur est protégé par un mot de passe",
        {},
    ),
    (
        "tronque",
        "tronque.ods",
        lambda ods: ods[: len(ods) // 2],
        "Ce fichier n'est pas un classeur OpenDocument (.ods) lisible",
        {},
    ),
    (
        "xml-casse",
        "casse.ods",
        lambda ods: with_parts(ods, {"content.xml": b"<office:document-content><table:table"}),
        "Ce fichier n'est pas un classeur OpenDocument (.ods) lisible",
        {},
    ),
    (
        "milliard-de-rires",
        "rires.ods",
        billion_laughs,
        "Ce classeur contient des déclarations XML interdites (entités)",
        {},
    ),
    (
        "lignes-repetees",
        "lignes.ods",
        lambda ods: with_content(ods, repeated_rows(100_000_000)),
        "Le fichier dépasse la limite de 50000 lignes : découpez-le en plusieurs fichiers.",
        {},
    ),
    (
        "cellules-repetees",
        "cellules.ods",
        lambda ods: with_content(ods, repeated_rows(40_000, 16_384)),
        "Ce classeur s'étend sur 40000 lignes et 16384 colonnes",
        {},
    ),
    (
        # A ">" inside an attribute's value must not hide the repetition after it.
        "chevron-dans-un-attribut",
        "chevron.ods",
        lambda ods: with_content(
            ods,
            '<table:table-row table:number-rows-repeated="40000">'
            '<table:table-cell table:style-name="a>b" table:number-columns-repeated="16384" '
            'office:value-type="string"><text:p>Pilier</text:p></table:table-cell>'
            "</table:table-row>",
        ),
        "Ce classeur s'étend sur 40000 lignes et 16384 colonnes",
        {},
    ),
    (
        # Empty cells before a value count: calamine lays out every column up to it.
        "cellule-eloignee",
        "eloignee.ods",
        lambda ods: with_content(
            ods,
            '<table:table-row table:number-rows-repeated="40000">'
            '<table:table-cell table:number-columns-repeated="16000"/>'
            '<table:table-cell office:value-type="string"><text:p>Pilier</text:p>'
            "</table:table-cell></table:table-row>",
        ),
        "Ce classeur s'étend sur 40000 lignes et 16001 colonnes",
        {},
    ),
    (
        "fusion-geante",
        "fusion.ods",
        lambda ods: with_content(
            ods,
            '<table:table-row><table:table-cell office:value-type="string" '
            'table:number-columns-spanned="16384" table:number-rows-spanned="1048576">'
            "<text:p>Pilier</text:p></table:table-cell></table:table-row>",
        ),
        "Les cellules fusionnées de ce classeur couvrent plus de 100000 cellules",
        {},
    ),
    (
        "trop-de-lignes",
        "lignes.ods",
        lambda ods: ods,
        "Le fichier dépasse la limite de 10 lignes : découpez-le en plusieurs fichiers.",
        {"IMPORT_MAX_ROWS": 10},
    ),
    (
        "trop-gros",
        "gros.ods",
        lambda ods: ods,
        "au-delà de la taille maximale acceptée",
        {"IMPORT_MAX_FILE_SIZE": 10 * 1024},
    ),
]
HOSTILE_NAMES = [case[0] for case in HOSTILE]


def hostile_case(name):
    """(file name, the French message, settings) of a case of HOSTILE."""
    _, filename, _, message, limits = next(case for case in HOSTILE if case[0] == name)
    return filename, message, limits


@pytest.fixture(scope="module")
def hostile_files(seed_files):
    return {case[0]: case[2](seed_files[1]) for case in HOSTILE}


@pytest.mark.parametrize("case", HOSTILE_NAMES)
def test_a_hostile_ods_is_refused_with_a_french_message(settings, hostile_files, case):
    filename, message, limits = hostile_case(case)
    for name, value in limits.items():
        setattr(settings, name, value)
    content = hostile_files[case]
    diagnostic = DiagnosticFactory()
    before = database_counts()

    started = time.monotonic()
    with Measured() as measured:
        report = import_source_table(diagnostic, filename, content)
    elapsed = time.monotonic() - started

    assert not report.ok
    assert message in messages_of(report), messages_of(report)
    assert "Traceback" not in messages_of(report)
    assert database_counts() == before
    assert measured.peak < MEMORY_LIMIT
    assert elapsed < 10


@pytest.mark.parametrize(
    "case", ["lignes-repetees", "cellules-repetees", "fusion-geante", "texte-opendocument"]
)
def test_the_upload_screen_refuses_a_hostile_ods(client, hostile_files, case):
    filename, message, _ = hostile_case(case)
    diagnostic = DiagnosticFactory()
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=diagnostic.contrat))
    before = database_counts()

    client.post(
        reverse("diagnostics:import_nouveau"),
        {
            "nature": "diagnostic",
            "diagnostic": diagnostic.pk,
            "fichier": SimpleUploadedFile(filename, hostile_files[case]),
        },
    )
    url = reverse("diagnostics:import_apercu", args=[ImportEnAttente.objects.get().token])
    page = client.get(url).content.decode()
    assert message.replace("'", "&#x27;") in page
    assert 'value="confirmer"' not in page
    client.post(url, {"action": "confirmer"})
    assert database_counts()[:-1] == before[:-1]


def test_the_scan_lays_out_each_sheet_as_calamine_reads_it(seed_files, libreoffice):
    """The limits are checked on the layout calamine will allocate: the scan must find
    the same last row and column, in files LibreOffice wrote."""
    import python_calamine

    from diagnostics.imports import ods

    book = Workbook()
    book.active.append(["", "", "x"])
    second = book.create_sheet("Deux")
    second["D7"] = 3.5
    second["B2"] = "y"
    second.merge_cells("B2:C3")
    buffer = io.BytesIO()
    book.save(buffer)
    files = [seed_files[1], libreoffice.convert_one("deux.xlsx", buffer.getvalue(), "ods")]
    for content in files:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            sheets = ods._scan_content(archive, 1000)
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        assert len(sheets) == len(workbook.sheet_names)
        for index, scanned in enumerate(sheets):
            end = workbook.get_sheet_by_index(index).end
            assert (scanned.last_row, scanned.last_column) == end
