"""The reader of source tables: cell rules, formats, header, continuation, shifted rows."""

import codecs

import pytest
from openpyxl import Workbook

from diagnostics.imports.cells import (
    Column,
    clean_cell,
    clean_label,
    header_column,
    parse_pilier_label,
    split_items,
)
from diagnostics.imports.reader import read_table
from tests.conftest import SEED

HEADER = ["Pilier", "Thème", "Sous-thème", "Difficultés prégnantes", "Indicateur"]


def tsv(*rows):
    return "\n".join("\t".join(row) for row in rows).encode()


def xlsx_bytes(workbook, tmp_path):
    path = tmp_path / "classeur.xlsx"
    workbook.save(path)
    return path.read_bytes()


def outline(result):
    """(line, pilier numéro and libellé, thème, sous-thème, difficultés, indicateurs)."""
    return [
        (
            row.line,
            (row.pilier.numero, row.pilier.libelle),
            row.theme,
            row.sous_theme,
            row.difficultes,
            row.indicateurs,
        )
        for row in result.rows
    ]


# Cell rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "items"),
    [
        ("- Isolement - Ennui", ["Isolement", "Ennui"]),
        ("Premier\nSecond", ["Premier", "Second"]),
        ("• Un\n▪ Deux\n◦ Trois\n* Quatre\n– Cinq", ["Un", "Deux", "Trois", "Quatre", "Cinq"]),
        ("-Collé au tiret", ["Collé au tiret"]),
        ("Conduites addictives pour 11 - 15 ans", ["Conduites addictives pour 11 - 15 ans"]),
        ("Les pré-ados de 16-17 ans", ["Les pré-ados de 16-17 ans"]),
        (
            "Sur les QPV – les clubs n'ont pas le réflexe",
            ["Sur les QPV – les clubs n'ont pas le réflexe"],
        ),
        ("pour des 16-17 ans --> raccrochage", ["pour des 16-17 ans --> raccrochage"]),
        (
            "- Plaintes des riverains, - Occupation, - Vacance,",
            ["Plaintes des riverains", "Occupation", "Vacance"],
        ),
        ("(30 pers sur 200) ; - Indications", ["(30 pers sur 200)", "Indications"]),
        (
            "difficultés scolaires - 1 animateur pour 10",
            ["difficultés scolaires", "1 animateur pour 10"],
        ),
        ("Un • Deux", ["Un", "Deux"]),
        ("- \n ; \n", []),
        ("", []),
        ("-5 % de participants", ["-5 % de participants"]),
        (
            '<ul style="list-style-type: none"> - Trafics de stupéfiants ',
            ["Trafics de stupéfiants"],
        ),
        ("<ul><li>Un</li><li>Deux &amp; trois</li></ul>", ["Un", "Deux & trois"]),
        ("Ligne<br>suivante<br/>fin", ["Ligne", "suivante", "fin"]),
        ("<p>Premier</p><div>Second</div>", ["Premier", "Second"]),
    ],
)
def test_split_items(cell, items):
    assert split_items(cell) == items


@pytest.mark.parametrize(
    ("cell", "cleaned"),
    [
        ("accompagnement de 1 ^{er} niveau", "accompagnement de 1er niveau"),
        ("le 2 ^{e} étage, M ^{me} Martin", "le 2e étage, Mme Martin"),
        ("note ^{1}", "note1"),
        ("<b>Gras</b> et <i>italique</i>", "Gras et italique"),
        ("a &lt; b &eacute;t&eacute;", "a < b été"),
        ("5 < 10 et 10 > 5", "5 < 10 et 10 > 5"),
        ("  trop   d'espaces\u00a0ici  ", "trop d'espaces ici"),
        ("un<br>deux", "un\ndeux"),
        ("\n\n  \nseul\n\n", "seul"),
        ("<!-- commentaire -->texte", "texte"),
    ],
)
def test_clean_cell(cell, cleaned):
    assert clean_cell(cell) == cleaned


def test_clean_label_keeps_a_single_line():
    assert (
        clean_label("Repérage, accueil<br>de 1 ^{er}  niveau") == "Repérage, accueil de 1er niveau"
    )


@pytest.mark.parametrize(
    ("label", "parsed"),
    [
        ("1 COHESION SOCIALE", (1, "COHESION SOCIALE")),
        ("1. Cohésion sociale", (1, "Cohésion sociale")),
        ("Pilier 1 : Cohésion sociale", (1, "Cohésion sociale")),
        ("PILIER 3 - Cadre de vie", (3, "Cadre de vie")),
        ("Axe 2 – Emploi", (2, "Emploi")),
        ("Axe n° 4 : Transition écologique", (4, "Transition écologique")),
        ("2) Emploi", (2, "Emploi")),
        ("Pilier 2", (2, "")),
        ("Cohésion sociale", (None, "Cohésion sociale")),
        ("2030 : ambitions", (None, "2030 : ambitions")),
        ("1er pilier", (None, "1er pilier")),
    ],
)
def test_parse_pilier_label(label, parsed):
    assert parse_pilier_label(label) == parsed


@pytest.mark.parametrize(
    ("label", "column"),
    [
        ("Pilier", Column.PILIER),
        ("PILIERS", Column.PILIER),
        ("Axe", Column.PILIER),
        ("Axes :", Column.PILIER),
        ("Thème", Column.THEME),
        ("THEMES", Column.THEME),
        ("Thématique", Column.THEME),
        ("Sous-thème", Column.SOUS_THEME),
        ("Sous thèmes", Column.SOUS_THEME),
        ("Sous-thématiques", Column.SOUS_THEME),
        ("Difficultés prégnantes", Column.DIFFICULTES),
        ("DIFFICULTES", Column.DIFFICULTES),
        ("Difficulté(s)", Column.DIFFICULTES),
        ("Indicateur", Column.INDICATEURS),
        ("Indicateurs de suivi", Column.INDICATEURS),
        ("Indicateur(s)", Column.INDICATEURS),
        ("Commentaire", None),
        ("Thème principal", None),
        ("", None),
        # Long cells (looked at by their beginning first): the same answers.
        (
            "Difficultés prégnantes identifiées lors des ateliers avec les partenaires",
            Column.DIFFICULTES,
        ),
        (
            "Indicateurs de suivi et d'évaluation retenus par le comité de pilotage",
            Column.INDICATEURS,
        ),
        ("Pilier" + " " * 60, Column.PILIER),
        (" " * 45 + "Thématiques :", Column.THEME),
        ("Sous" + "-" * 50 + "thème", Column.SOUS_THEME),
        ("PILIER" + "." * 50, Column.PILIER),
        ("- Difficulté à coordonner l'accompagnement de l'enfant avec sa famille", None),
        ("Pilier de la cohésion sociale et de la vie des quartiers prioritaires", None),
    ],
)
def test_header_column(label, column):
    assert header_column(label) == column


# The seed ---------------------------------------------------------------------------------


def test_the_seed_reads_without_error_and_reports_its_two_shifted_rows():
    result = read_table(SEED.name, SEED.read_bytes())
    assert result.errors == []
    # Its two shifted rows, and its two lead-ins kept with their phrases (test_lead_ins).
    assert [line for line, _ in result.warnings] == [11, 13, 14, 33]
    assert [line for line, message in result.warnings if "décalée" in message] == [13, 14]
    # Blank lines, the header and the header repeated at line 19 are not data.
    lines = [row.line for row in result.rows]
    assert lines == [*range(4, 18), *range(20, 36)]


def test_the_shifted_seed_rows_are_moved_back_one_column_to_the_left():
    rows = {row.line: row for row in read_table(SEED.name, SEED.read_bytes()).rows}
    jeunesse, initiative = rows[13], rows[14]
    assert (jeunesse.theme, jeunesse.sous_theme) == ("Jeunesse", None)
    assert [item[:30] for item in jeunesse.difficultes] == [
        "Déficit des besoins en terme d",
        "Présence de jeunes adultes (qu",
    ]
    assert jeunesse.indicateurs == []
    assert (initiative.theme, initiative.sous_theme) == (
        "Jeunesse",
        "Soutenir l'initiative associative",
    )
    assert [item[:30] for item in initiative.difficultes] == [
        "Nécessité de susciter une dyna",
        "Association du quartier fragil",
    ]
    # The original text of each cell is kept, under the column it was moved to.
    assert jeunesse.cells[Column.THEME] == "Jeunesse"
    assert jeunesse.cells[Column.DIFFICULTES].startswith("- Déficit des besoins")
    assert Column.INDICATEURS not in jeunesse.cells
    for line in (15, 16, 17):
        assert rows[line].theme == "Jeunesse"


def test_a_row_with_an_empty_difficulte_and_a_bulleted_indicateur_is_not_always_shifted():
    content = tsv(
        HEADER,
        ["1 Emploi", "Insertion", "Mobilité", "- Pas de permis", ""],
        # A Thème cell is present: the row is read as it stands.
        ["", "Formation", "Apprentissage", "", "- Nombre d'apprentis"],
        # Nothing but items: they stay at the level of the thème above.
        ["", "", "", "", "- Nombre de contrats"],
    )
    result = read_table("tableau.tsv", content)
    assert result.warnings == []
    assert outline(result)[1:] == [
        (3, (1, "Emploi"), "Formation", "Apprentissage", [], ["Nombre d'apprentis"]),
        (4, (1, "Emploi"), "Formation", None, [], ["Nombre de contrats"]),
    ]


# Formats ----------------------------------------------------------------------------------


def test_xlsx_with_a_title_merged_cells_and_line_breaks(tmp_path):
    workbook = Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes.append(["Ce classeur rassemble le diagnostic."])
    sheet = workbook.create_sheet("Diagnostic")
    sheet.append(["Diagnostic du contrat de ville — Exemple"])
    sheet.merge_cells("A1:E1")
    sheet.append([])
    sheet.append(["Pilier", "Thème", "Sous-thème", "Difficultés prégnantes", "Indicateurs"])
    sheet.append(
        [
            "Pilier 1 : Cohésion sociale",
            "Santé",
            "Accès aux soins",
            "- Pas de médecin\n- Délais longs",
            "Nombre de médecins",
        ]
    )
    sheet.append([None, None, None, "Renoncement aux soins", None])
    sheet.append([None, "Jeunesse", "Loisirs", "Ennui", "- Fréquentation\n- Inscriptions"])
    sheet.append([None, None, None, "Manque de lieux", None])
    sheet.append(["Axe 2 – Emploi", "Insertion", "Mobilité", "Pas de permis<br>Pas de bus", 3])
    sheet.merge_cells("A4:A7")
    sheet.merge_cells("B4:B5")
    sheet.merge_cells("B6:B7")
    sheet.merge_cells("C6:C7")
    result = read_table("diagnostic.xlsx", xlsx_bytes(workbook, tmp_path))
    assert result.errors == []
    assert result.warnings == []
    assert outline(result) == [
        (
            4,
            (1, "Cohésion sociale"),
            "Santé",
            "Accès aux soins",
            ["Pas de médecin", "Délais longs"],
            ["Nombre de médecins"],
        ),
        # Sous-thème cell empty and not merged: the row is at the thème's level.
        (5, (1, "Cohésion sociale"), "Santé", None, ["Renoncement aux soins"], []),
        (
            6,
            (1, "Cohésion sociale"),
            "Jeunesse",
            "Loisirs",
            ["Ennui"],
            ["Fréquentation", "Inscriptions"],
        ),
        # Merged Sous-thème cell: the row continues "Loisirs".
        (7, (1, "Cohésion sociale"), "Jeunesse", "Loisirs", ["Manque de lieux"], []),
        (8, (2, "Emploi"), "Insertion", "Mobilité", ["Pas de permis", "Pas de bus"], ["3"]),
    ]


def test_semicolon_csv_in_windows_1252():
    text = (
        "Tableau de diagnostic;;;;\r\n"
        "Pilier;Thème;Sous-thème;Difficultés prégnantes;Indicateur\r\n"
        '1. Cohésion sociale;Éducation;Réussite éducative;"- Difficulté d’accès; décrochage\r\n'
        '- Manque de lien école/famille";Taux d’absentéisme\r\n'
        ";;Parentalité;« Soutien » aux familles;\r\n"
    )
    result = read_table("export.csv", text.encode("cp1252"))
    assert result.errors == []
    assert outline(result) == [
        (
            3,
            (1, "Cohésion sociale"),
            "Éducation",
            "Réussite éducative",
            ["Difficulté d’accès; décrochage", "Manque de lien école/famille"],
            ["Taux d’absentéisme"],
        ),
        (5, (1, "Cohésion sociale"), "Éducation", "Parentalité", ["« Soutien » aux familles"], []),
    ]


@pytest.mark.parametrize(
    ("filename", "encoded"),
    [
        ("virgules.csv", lambda text: codecs.BOM_UTF8 + text.replace("\t", ",").encode()),
        ("tabulations.csv", lambda text: text.encode()),
        ("texte-unicode.txt", lambda text: text.encode("utf-16")),
        ("texte-unicode-be.txt", lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be")),
        ("tableau.tsv", lambda text: text.encode("cp1252")),
    ],
)
def test_text_encodings_and_delimiters(filename, encoded):
    text = (
        "Pilier\tThème\tSous-thème\tDifficultés\tIndicateur\r\n"
        "1 Santé\tSoins\tAccès\t- Délais\t\r\n"
    )
    result = read_table(filename, encoded(text))
    assert result.errors == []
    assert outline(result) == [(2, (1, "Santé"), "Soins", "Accès", ["Délais"], [])]


def test_an_xlsx_renamed_csv_is_read_as_a_workbook(tmp_path):
    workbook = Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(["1 Santé", "Soins", "Accès", "- Délais", None])
    result = read_table("export.csv", xlsx_bytes(workbook, tmp_path))
    assert result.errors == []
    assert [message for _, message in result.warnings] == [
        "Le fichier porte l'extension .csv mais c'est un classeur Excel : lu comme tel."
    ]
    assert len(result.rows) == 1


# Header -----------------------------------------------------------------------------------


def test_columns_in_another_order_with_an_unknown_column():
    content = tsv(
        ["Indicateur", "Commentaire", "Thème", "Pilier", "Difficultés prégnantes"],
        [
            "- Nombre d'ateliers",
            "à revoir",
            "Santé",
            "1 Cohésion sociale",
            "- Renoncement aux soins",
        ],
    )
    result = read_table("tableau.tsv", content)
    assert result.errors == []
    assert result.warnings == [(1, "colonne « Commentaire » non reconnue : elle est ignorée.")]
    # Without a Sous-thème column, every row is at the level of its thème.
    assert outline(result) == [
        (
            2,
            (1, "Cohésion sociale"),
            "Santé",
            None,
            ["Renoncement aux soins"],
            ["Nombre d'ateliers"],
        )
    ]


def test_axe_thematique_and_sous_thematique_headers():
    content = tsv(
        ["AXES", "Thématiques", "Sous-thématiques", "Difficultés", "Indicateurs"],
        ["Axe 1 – Emploi", "Insertion", "Mobilité", "- Pas de permis", "- Nombre de permis"],
    )
    result = read_table("tableau.tsv", content)
    assert result.errors == []
    assert outline(result) == [
        (2, (1, "Emploi"), "Insertion", "Mobilité", ["Pas de permis"], ["Nombre de permis"])
    ]


def test_only_pilier_and_theme_columns_are_required():
    result = read_table("tableau.tsv", tsv(["Pilier", "Thème"], ["1 Emploi", "Insertion"]))
    assert result.errors == []
    assert outline(result) == [(2, (1, "Emploi"), "Insertion", None, [], [])]


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (["Thème", "Sous-thème", "Difficultés"], "Pilier (ou Axe)"),
        (["Pilier", "Sous-thème", "Difficultés"], "Thème (ou Thématique)"),
    ],
)
def test_a_missing_pilier_or_theme_column_is_an_error_naming_it(header, missing):
    result = read_table("tableau.tsv", tsv(header, ["a", "b", "c"]))
    assert result.errors == [(1, f"la colonne {missing} est absente de l'en-tête.")]
    assert result.rows == []


def test_a_column_named_twice_is_an_error():
    result = read_table("tableau.tsv", tsv(["Pilier", "Thème", "Thématique"], ["1 A", "B", "C"]))
    assert result.errors == [
        (1, "la colonne Thème (ou Thématique) figure deux fois dans l'en-tête.")
    ]


def test_blank_rows_and_repeated_headers_are_skipped():
    content = tsv(
        ["Diagnostic 2024"],
        [],
        HEADER,
        ["1 Emploi", "Insertion", "Mobilité", "", ""],
        ["", "", "", "", ""],
        ["PILIERS", "THÈMES", "SOUS-THÈMES", "DIFFICULTÉS", "INDICATEURS"],
        ["", "", "Formation", "", ""],
    )
    result = read_table("tableau.tsv", content)
    assert result.errors == []
    assert [(row.line, row.theme, row.sous_theme) for row in result.rows] == [
        (4, "Insertion", "Mobilité"),
        (7, "Insertion", "Formation"),
    ]


# Piliers and continuation -----------------------------------------------------------------


def test_every_pilier_label_form_gives_a_number_and_a_libelle():
    content = tsv(
        HEADER,
        ["1 COHESION SOCIALE", "Santé", "", "", ""],
        ["2. Emploi et développement", "Insertion", "", "", ""],
        ["Pilier 3 : Cadre de vie", "Logement", "", "", ""],
        ["Axe 4 – Transition écologique", "Énergie", "", "", ""],
    )
    result = read_table("tableau.tsv", content)
    assert [(row.pilier.numero, row.pilier.libelle) for row in result.rows] == [
        (1, "COHESION SOCIALE"),
        (2, "Emploi et développement"),
        (3, "Cadre de vie"),
        (4, "Transition écologique"),
    ]


def test_a_pilier_without_number_gets_the_next_free_one_and_is_found_again_by_name():
    content = tsv(
        HEADER,
        ["Emploi", "Insertion", "", "", ""],
        ["Cohésion sociale", "Santé", "", "", ""],
        ["EMPLOI", "Formation", "", "", ""],
        ["Pilier 2", "Éducation", "", "", ""],
    )
    result = read_table(
        "tableau.tsv", content, known_piliers={1: "Cohésion sociale", 2: "Cadre de vie"}
    )
    assert result.errors == []
    assert [(row.pilier.numero, row.pilier.libelle, row.theme) for row in result.rows] == [
        (3, "Emploi", "Insertion"),
        (1, "Cohésion sociale", "Santé"),
        (3, "EMPLOI", "Formation"),
        (2, "Cadre de vie", "Éducation"),
    ]


def test_a_pilier_number_known_under_another_name_is_continued_with_a_warning():
    content = tsv(HEADER, ["1 Cohésion", "Santé", "", "", ""], ["1 Cohésion", "Sport", "", "", ""])
    result = read_table("tableau.tsv", content, known_piliers={1: "Cohésion sociale"})
    assert result.errors == []
    assert result.warnings == [
        (
            2,
            "le pilier n° 1 existe déjà dans le diagnostic sous le libellé « Cohésion sociale » : "
            "ces lignes y sont rattachées.",
        )
    ]
    assert [row.pilier.numero for row in result.rows] == [1, 1]


def test_conflicting_pilier_numbers_are_errors():
    content = tsv(
        HEADER,
        ["1 Cohésion sociale", "Santé", "", "", ""],
        ["1 Emploi", "Insertion", "", "", ""],
        ["2 Cohésion sociale", "Sport", "", "", ""],
    )
    result = read_table("tableau.tsv", content)
    assert result.errors == [
        (3, "le numéro 1 est déjà celui du pilier « Cohésion sociale » (ligne 2)."),
        (
            4,
            "le pilier « Cohésion sociale » porte déjà le numéro 1 (ligne 2) : il ne peut pas "
            "porter aussi le numéro 2.",
        ),
    ]


def test_a_new_pilier_does_not_continue_the_theme_of_the_previous_one():
    content = tsv(
        HEADER,
        ["1 Cohésion sociale", "Santé", "Soins", "", ""],
        ["2 Emploi", "", "Mobilité", "", ""],
    )
    result = read_table("tableau.tsv", content)
    assert result.errors == [
        (3, "aucun thème n'est indiqué pour le pilier « Emploi » sur cette ligne ni au-dessus.")
    ]


def test_a_row_naming_only_a_pilier_is_kept():
    result = read_table("tableau.tsv", tsv(HEADER, ["Axe 1 – Emploi", "", "", "", ""]))
    assert result.errors == []
    assert outline(result) == [(2, (1, "Emploi"), None, None, [], [])]
