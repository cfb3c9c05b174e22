"""Hostile text: what a careless or malicious person may type or import, and a diagnostic
made of it through the real importers (tests/test_security_hostile_text.py and
tests/browser/test_hostile_text.py check that it is stored and shown as text)."""

import io
from html import escape

from openpyxl import Workbook

from comptes.roles import Role
from diagnostics.imports import import_source_table
from diagnostics.models import Diagnostic
from indicateurs.imports import import_measures
from indicateurs.models import Indicateur
from tests.factories import DiagnosticFactory, QuartierFactory, UserFactory

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JAVASCRIPT_URL = "javascript:alert(document.cookie)"
LONG_WORD = "Anticonstitutionnellement" * 10  # 250 letters, no space to break at
RTL_EMOJI = "\u202eelbissoPmi\u202c 🏘️👩‍👩‍👧 ⚠️"
TEMPLATE = "{{ request.user }} {% now 'Y' %} %s"

PAYLOADS = [SCRIPT, IMG, JAVASCRIPT_URL, LONG_WORD, RTL_EMOJI, TEMPLATE]

# What the server refuses (tests/test_validation_textes.py): NUL (PostgreSQL refuses it),
# the other control characters (invisible, dropped by the XLSX exports, break the CSV
# re-import), over-long texts; and numbers Python's int() reads but a key is not.
NUL = "Sant\x00é"
CONTROL_CHARACTERS = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x0b"]
CONTROLS = [f"Santé{char}publique" for char in CONTROL_CHARACTERS]
OVER_LONG = "mot " * 1500  # 6 000 characters: more than an item's 5 000
NON_ASCII_DIGITS = ["١٢٣", "𝟙𝟚𝟛", "1_000", "١", "𝟙"]
REFUSED = [*CONTROLS, *NON_ASCII_DIGITS, OVER_LONG]
# What must never appear in a page's HTML: a payload's markup, unescaped.
RAW_MARKUP = [SCRIPT, "<img src=x"]

PILIER = f"1 Pilier {SCRIPT}"
THEME = f"Thème {IMG}"
SOUS_THEME = f"Sous-thème {JAVASCRIPT_URL}"
DIFFICULTES = [
    f"Difficulté {SCRIPT}",
    f"Difficulté {IMG}",
    f"Difficulté {JAVASCRIPT_URL}",
    f"Difficulté {LONG_WORD}",
    f"Difficulté {RTL_EMOJI}",
    f"Difficulté {TEMPLATE}",
]
INDICATEUR = f"Indicateur {SCRIPT} {IMG}"
THEME_LEVEL_DIFFICULTE = f"Au niveau du thème {LONG_WORD}"
FILENAME = f"{IMG}.xlsx"
COMMENTAIRE = f"Commentaire {SCRIPT} {IMG} {RTL_EMOJI}"
MEASURE_SOURCE = f"Source {JAVASCRIPT_URL}"


def xlsx(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def source_table():
    """A diagnostic table whose every cell is hostile.

    The diagnostic importer reads cells as pasted HTML (tables copied from Word): it drops
    tags and decodes entities (diagnostics.imports.cells.clean_cell). The payloads are
    therefore written as entities, which the importer turns into the very characters
    "<script>…": what gets stored is the hostile text itself."""
    items = "\n".join(f"- {escape(text)}" for text in DIFFICULTES)
    return xlsx(
        [
            ["Pilier", "Thème", "Sous-thème", "Difficultés prégnantes", "Indicateur"],
            [escape(PILIER), escape(THEME), escape(SOUS_THEME), items, escape(INDICATEUR)],
            ["", escape(THEME), "", f"- {escape(THEME_LEVEL_DIFFICULTE)}", ""],
        ]
    )


def measures_table():
    return xlsx(
        [
            ["Indicateur", "Quartier", "Période", "Valeur", "Source", "Commentaire"],
            [INDICATEUR, "QN00304M", "2023", "12,5", MEASURE_SOURCE, COMMENTAIRE],
            [INDICATEUR, "", "2024", "13", MEASURE_SOURCE, COMMENTAIRE],
        ]
    )


def build_hostile_diagnostic():
    """A published, public diagnostic made through the importers from hostile files, and
    the Administrateur of its contract (hostile names too)."""
    rive_gauche = QuartierFactory(code="QN00304M", nom="Rive Gauche")
    diagnostic = DiagnosticFactory(
        titre=f"Diagnostic {SCRIPT}", slug="hostile", territoire=IMG, public=True
    )
    administrateur = UserFactory(
        username="admin.hostile",
        first_name=SCRIPT,
        last_name=IMG,
        role=Role.ADMINISTRATEUR,
        contrat=diagnostic.contrat,
    )
    diagnostic.quartiers.set([rive_gauche])
    report = import_source_table(diagnostic, FILENAME, source_table(), user=administrateur)
    assert report.ok, report.as_lines()
    indicateur = Indicateur.objects.du_diagnostic(diagnostic).get()
    indicateur.type = Indicateur.Type.QUANTITATIF
    indicateur.unite = IMG
    indicateur.definition = f"Définition {SCRIPT} {LONG_WORD}"
    indicateur.source_donnees = JAVASCRIPT_URL
    indicateur.save()
    report = import_measures(
        diagnostic, f"mesures {SCRIPT}.xlsx", measures_table(), user=administrateur
    )
    assert report.ok, report.as_lines()
    return Diagnostic.objects.get(pk=diagnostic.pk), administrateur
