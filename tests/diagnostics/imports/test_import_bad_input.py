"""Bad input given to `import_diagnostic`: a French message, a failure, nothing written."""

import io
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from diagnostics.imports import import_source_table
from diagnostics.models import CelluleSource, Diagnostic, Import, Pilier, Theme
from tests.conftest import SEED

HEADER = "Pilier\tThème\tSous-thème\tDifficultés prégnantes\tIndicateur\n"


def workbook_bytes(*rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "Ceci est une archive, pas un classeur.")
    return buffer.getvalue()


def database_counts():
    return [model.objects.count() for model in (Diagnostic, Pilier, Theme, Import, CelluleSource)]


def refused(path, slug="nouveau"):
    """The French message of the CommandError the command fails with; checks nothing moved."""
    before = database_counts()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_diagnostic",
            str(path),
            f"--diagnostic={slug}",
            "--territoire=Montluçon Communauté",
            stdout=StringIO(),
        )
    assert database_counts() == before
    return str(caught.value)


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("vide.csv", b"", "Le fichier est vide."),
        ("blanc.tsv", b"\n \r\n\t\n", "Le fichier est vide."),
        ("blanc-unicode.txt", " \r\n\t".encode("utf-16"), "Le fichier est vide."),
        (
            "sans-entete.tsv",
            "Bonjour\tle monde\n1 Cohésion\tSanté\n".encode(),
            "Aucune ligne d'en-tête reconnue : le tableau doit avoir une ligne nommant ses "
            "colonnes Pilier, Thème, Sous-thème, Difficultés prégnantes et Indicateur.",
        ),
        (
            "sans-entete.xlsx",
            workbook_bytes(["Notes"], ["1 Cohésion", "Santé"]),
            "Aucune ligne d'en-tête reconnue",
        ),
        (
            "seulement-entete.tsv",
            HEADER.encode(),
            "Le fichier ne contient aucune ligne de données.",
        ),
        (
            "rapport.xlsx",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
            "Ce fichier est un PDF : enregistrez le tableau au format Excel (.xlsx), "
            "ODS (LibreOffice) ou CSV.",
        ),
        (
            "archive.xlsx",
            zip_bytes(),
            "Ce fichier n'est pas un classeur Excel (.xlsx) lisible : il est endommagé ou "
            "c'est une autre sorte de fichier.",
        ),
        (
            "tronque.xlsx",
            workbook_bytes(["Pilier", "Thème"])[:300],
            "Ce fichier n'est pas un classeur Excel (.xlsx) lisible",
        ),
        ("texte.xlsx", HEADER.encode(), "Ce fichier n'est pas un classeur Excel (.xlsx) lisible"),
        (
            "ancien.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
            "Ce fichier est au format Excel 97-2003 (.xls) ou Word : enregistrez-le au format "
            "Excel (.xlsx) ou ODS (LibreOffice).",
        ),
        (
            "binaire.csv",
            bytes(range(256)) * 8,
            "Le fichier ne contient pas de texte lisible (ni UTF-8, ni UTF-16, ni Windows-1252) : "
            "est-ce bien un tableau enregistré en CSV ou en texte ?",
        ),
        (
            "octets-nuls.csv",
            "Pilier;Thème\x00\x00;Sous-thème\n".encode(),
            "Le fichier ne contient pas de texte lisible",
        ),
        (
            "tableau.pdf",
            HEADER.encode(),
            "Format de fichier non pris en charge (« .pdf ») : importez un classeur Excel "
            "(.xlsx) ou ODS (LibreOffice, .ods), ou un tableau texte (.csv, .tsv ou .txt).",
        ),
        ("tableau", HEADER.encode(), "Format de fichier non pris en charge (sans extension)"),
        ("ancien.xls", HEADER.encode(), "Format de fichier non pris en charge (« .xls »)"),
        (
            "avant-pilier.tsv",
            (HEADER + "\tSanté\tSoins\t- Délais\t\n").encode(),
            "ligne 2 : aucun pilier n'est indiqué sur cette ligne ni au-dessus.",
        ),
        (
            "sans-pilier.tsv",
            "Thème\tSous-thème\tDifficultés\nSanté\tSoins\t- Délais\n".encode(),
            "ligne 1 : la colonne Pilier (ou Axe) est absente de l'en-tête.",
        ),
        (
            "sans-theme.csv",
            "Axe;Sous-thématique;Difficultés\n1 Santé;Soins;- Délais\n".encode(),
            "ligne 1 : la colonne Thème (ou Thématique) est absente de l'en-tête.",
        ),
        (
            "theme-trop-long.tsv",
            (HEADER + "1 Santé\t" + "t" * 256 + "\tSoins\t\t\n").encode(),
            f"ligne 2 : thème « {'t' * 59}… » : libellé : Assurez-vous que cette valeur "
            "comporte au plus 255 caractères (actuellement 256).",
        ),
        (
            "pilier-trop-long.tsv",
            (HEADER + "1 " + "P" * 300 + "\tSanté\t\t\t\n").encode(),
            "ligne 2 : pilier « PPPP",
        ),
        (
            "guillemet.csv",
            b'Pilier;Th\xc3\xa8me\n1 Sant\xc3\xa9;"' + b"x" * 200_000,
            "ligne 2 : lecture impossible : une cellule est trop longue ou un guillemet n'est "
            "pas refermé",
        ),
    ],
)
def test_bad_files_are_refused_in_french(tmp_path, filename, content, message):
    path = tmp_path / filename
    path.write_bytes(content)
    error = refused(path)
    assert message in error
    assert "Traceback" not in error


def test_the_report_of_a_refused_file_says_nothing_was_written(tmp_path):
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    assert refused(path).splitlines() == [
        "Fichier « vide.csv » refusé : rien n'a été enregistré.",
        "Erreurs :",
        "  Le fichier est vide.",
    ]


def test_a_bad_file_leaves_an_existing_diagnostic_untouched(montlucon, tmp_path):
    path = tmp_path / "avant-pilier.tsv"
    path.write_bytes((HEADER + "\tSanté\tSoins\t- Délais\t\n").encode())
    assert "aucun pilier" in refused(path, slug="montlucon")


def test_a_missing_file(tmp_path):
    assert refused(tmp_path / "absent.tsv") == f"Fichier introuvable : {tmp_path / 'absent.tsv'}"


def test_a_directory(tmp_path):
    assert refused(tmp_path) == f"{tmp_path} n'est pas un fichier."


def test_a_new_diagnostic_needs_a_territoire():
    with pytest.raises(CommandError, match="précisez son territoire"):
        call_command("import_diagnostic", str(SEED), "--diagnostic=nouveau", stdout=StringIO())
    assert database_counts() == [0, 0, 0, 0, 0]


def test_an_invalid_new_diagnostic_is_refused():
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_diagnostic",
            str(SEED),
            "--diagnostic=nouveau",
            "--territoire=Montluçon",
            "--annee-debut=2030",
            "--annee-fin=2024",
            stdout=StringIO(),
        )
    assert str(caught.value) == (
        "Impossible de créer le diagnostic : L'année de fin précède l'année de début."
    )
    assert database_counts() == [0, 0, 0, 0, 0]


def test_a_cell_over_the_length_limit(settings, tmp_path):
    settings.IMPORT_MAX_CELL_LENGTH = 100
    path = tmp_path / "longue.tsv"
    path.write_bytes((HEADER + "1 Santé\tSoins\tAccès\t" + "d" * 101 + "\t\n").encode())
    assert (
        "ligne 2 : la cellule de la colonne « Difficultés prégnantes » fait 101 caractères, "
        "au-delà de la limite de 100."
    ) in refused(path)


def test_a_file_over_the_size_limit(settings, tmp_path):
    settings.IMPORT_MAX_FILE_SIZE = 1000
    path = tmp_path / "gros.tsv"
    path.write_bytes((HEADER + "1 Santé\tSoins\tAccès\t- Délais\t\n" * 50).encode())
    message = "au-delà de la taille maximale acceptée (1000\xa0octets)."
    assert message in refused(path)
    # The importer checks the size of the content it is given as well.
    report = import_source_table(Diagnostic(), path.name, path.read_bytes())
    assert message in report.errors[0][1]


def test_a_workbook_inflating_too_much(settings, tmp_path):
    settings.IMPORT_MAX_FILE_SIZE = 20_000
    path = tmp_path / "bombe.xlsx"
    path.write_bytes(workbook_bytes(["Pilier", "Thème"], *[["1 Santé", "a" * 30_000]] * 10))
    assert path.stat().st_size < 20_000
    assert "Ce classeur décompressé ferait" in refused(path)


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("lignes.tsv", (HEADER + "1 Santé\tSoins\tAccès\t- Délais\t\n" * 9).encode()),
        ("lignes.xlsx", workbook_bytes(HEADER.split("\t"), *[["1 Santé", "Soins"]] * 9)),
    ],
)
def test_a_file_over_the_row_limit(settings, tmp_path, filename, content):
    settings.IMPORT_MAX_ROWS = 5
    path = tmp_path / filename
    path.write_bytes(content)
    assert "Le fichier dépasse la limite de 5 lignes : découpez-le en plusieurs fichiers." in (
        refused(path)
    )
