"""A lead-in ("Il serait intéressant d'inciter :", "…, notamment") is kept with the phrases
it introduces, never left as an item of its own, and the import warns with its line.

The rule (`diagnostics.imports.cells.split_cell`): after ":", each phrase becomes an item
starting with the lead-in; after a word introducing examples ("notamment", "dont", "tels
que"…), the lead-in and its examples make one item.
"""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from diagnostics.imports import cells, import_source_table, reader
from diagnostics.imports.cells import LeadIn, split_cell, split_items
from diagnostics.imports.reader import read_table
from diagnostics.imports.reconcile import Choices
from diagnostics.models import Difficulte, ImportEnAttente, SousTheme
from tests.conftest import SEED
from tests.factories import DiagnosticFactory

HEADER = "Pilier\tThème\tSous-thème\tDifficultés prégnantes\tIndicateur"

INCITER = "Il serait intéressant d'inciter :"
ECOGESTES = (
    "à des actions de sensibilisation des habitants aux écogestes dans le logement dans le "
    "contexte de sobriété énergétique et de hausse de la facture énergétique"
)
DECHETS = "à la gestion des déchets (tri sélectif...)."
VIOLENCES = (
    "Violences intrafamiliales Des actions sont mises en place par des opérateurs et "
    "financées par l'ARS, notamment"
)
ACTIONS = [
    "le dispositif d'accompagnement vers la pratique physique (atelier passerelle sur Montluçon)",
    "l'intervention d'Addiction France",
    "l'action de l'association Alcool Ecoute Joie et Santé",
    "Intervention de l'IREPS (Institut Régional Education à la Santé)",
]


def tsv(*rows):
    return "\n".join([HEADER, *("\t".join(row) for row in rows)]).encode()


# The rule, cell by cell ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "items"),
    [
        # After ":", each phrase is an item that starts with the lead-in, colon kept.
        ("Public visé : - jeunes - familles", ["Public visé : jeunes", "Public visé : familles"]),
        ("Freins: - la mobilité", ["Freins: la mobilité"]),
        (
            "- Manque de locaux - Les freins sont : - la mobilité - la garde d'enfants",
            [
                "Manque de locaux",
                "Les freins sont : la mobilité",
                "Les freins sont : la garde d'enfants",
            ],
        ),
        # One line per phrase (HTML list, line breaks) works alike.
        (
            "<ul><li>Freins :</li><li>mobilité</li><li>garde</li></ul>",
            ["Freins : mobilité", "Freins : garde"],
        ),
        ("Freins :\n- mobilité\n- garde", ["Freins : mobilité", "Freins : garde"]),
        ("Il faut, à savoir - a - b", ["Il faut, à savoir a", "Il faut, à savoir b"]),
        # An enumeration ("- à …, - à ….") ends at its phrase ending with a full stop.
        (
            "Il faut inciter : - à trier, - à composter. - Manque de locaux",
            ["Il faut inciter : à trier", "Il faut inciter : à composter.", "Manque de locaux"],
        ),
        # Phrases that are sentences do not make an enumeration: the list runs on.
        (
            "Constats : - Le chômage est élevé. - Les jeunes partent.",
            ["Constats : Le chômage est élevé.", "Constats : Les jeunes partent."],
        ),
        # After a word introducing examples: one item, the examples separated by " ; ".
        (
            "Des actions, notamment - le dispositif A - l'intervention B",
            ["Des actions, notamment le dispositif A ; l'intervention B"],
        ),
        (
            "Publics fragiles dont - les seniors - les familles",
            ["Publics fragiles dont les seniors ; les familles"],
        ),
        ("Des freins tels que - la mobilité", ["Des freins tels que la mobilité"]),
        ("Des structures telles que: - A - B", ["Des structures telles que: A ; B"]),
        ("Des publics, y compris - A - B", ["Des publics, y compris A ; B"]),
        ("Aides diverses comme - A", ["Aides diverses comme A"]),
        ("Des actions menées, notamment : - A - B", ["Des actions menées, notamment : A ; B"]),
        # The next lead-in starts its own list.
        (
            "Besoins : - a - b - Des actions, notamment - c - d",
            ["Besoins : a", "Besoins : b", "Des actions, notamment c ; d"],
        ),
        # Two lead-ins in a row make one; the last one says what its phrases become.
        ("Besoins : - notamment - a - b", ["Besoins : notamment a ; b"]),
        # A lead-in that nothing follows stays as written.
        ("- Un - Constats :", ["Un", "Constats :"]),
        ("Constats :", ["Constats :"]),
        # Not lead-ins: a colon or "notamment" inside a phrase, a word ending like one.
        (
            "- Étude surveillée : Zola - 1 animateur pour 10 enfants",
            ["Étude surveillée : Zola", "1 animateur pour 10 enfants"],
        ),
        (
            "- Montée des addictions notamment le protoxyde d'azote - Pas d'action",
            ["Montée des addictions notamment le protoxyde d'azote", "Pas d'action"],
        ),
        ("- Petit commerce - Abandon - Un don", ["Petit commerce", "Abandon", "Un don"]),
        # Words that may end a complete phrase are not lead-ins.
        (
            "- Des aides au logement par exemple - Les seniors en particulier - Vacance",
            ["Des aides au logement par exemple", "Les seniors en particulier", "Vacance"],
        ),
        (
            "- Manque de moyens, entre autres - Vacance",
            ["Manque de moyens, entre autres", "Vacance"],
        ),
        ("- Numéro : 12 - 15 ans", ["Numéro : 12 - 15 ans"]),
        # "• " items (the site's exports) are the site's items: never joined.
        ("• Constats :\n• Le chômage", ["Constats :", "Le chômage"]),
    ],
)
def test_a_lead_in_is_kept_with_its_phrases(cell, items):
    assert split_items(cell) == items
    assert split_cell(cell).items == items


def test_split_cell_names_each_lead_in_and_what_became_of_it():
    cell = "Constats : - a - b - Des actions, notamment - c - Freins :"
    assert split_cell(cell).lead_ins == [
        LeadIn("Constats :", 2, examples=False),
        LeadIn("Des actions, notamment", 1, examples=True),
        LeadIn("Freins :", 0, examples=False),
    ]
    assert split_cell("- Un - Deux").lead_ins == []


# The reader: items and warnings with their line --------------------------------------------


def test_the_reader_warns_with_the_line_and_the_column_of_each_lead_in():
    result = read_table(
        "t.tsv",
        tsv(
            ["1 Santé", "Soins", "Accès", "- Délais"],
            ["", "", "Prévention", "Il serait intéressant d'inciter : - à A, - à B.", ""],
            ["", "", "Addictions", "- Hausse", "Nombre de jeunes par : - âge - sexe"],
            ["", "", "Dépistage", "Des actions, notamment - A - B - C", ""],
            ["", "", "Sport", "Constats :", ""],
        ),
    )
    assert result.errors == []
    rows = {row.line: row for row in result.rows}
    assert rows[3].difficultes == [
        "Il serait intéressant d'inciter : à A",
        "Il serait intéressant d'inciter : à B.",
    ]
    assert rows[4].indicateurs == ["Nombre de jeunes par : âge", "Nombre de jeunes par : sexe"]
    assert rows[5].difficultes == ["Des actions, notamment A ; B ; C"]
    assert rows[6].difficultes == ["Constats :"]
    assert result.warnings == [
        (
            3,
            "cellule Difficultés prégnantes : la phrase d'introduction « Il serait intéressant "
            "d'inciter : » est reprise au début de chacune des 2 phrases qui la suivent, une "
            "par élément : vérifiez-les.",
        ),
        (
            4,
            "cellule Indicateur : la phrase d'introduction « Nombre de jeunes par : » est reprise "
            "au début de chacune des 2 phrases qui la suivent, une par élément : vérifiez-les.",
        ),
        (
            5,
            "cellule Difficultés prégnantes : la phrase d'introduction « Des actions, notamment » "
            "et les 3 phrases qu'elle introduit forment un seul élément : vérifiez-le.",
        ),
        (
            6,
            "cellule Difficultés prégnantes : la phrase d'introduction « Constats : » n'est "
            "suivie de rien dans la cellule : gardée telle quelle, vérifiez-la.",
        ),
    ]


def test_a_refused_row_gets_its_error_and_no_lead_in_warning():
    result = read_table("t.tsv", tsv(["", "Soins", "Accès", "Constats : - a - b", ""]))
    assert result.errors == [(2, "aucun pilier n'est indiqué sur cette ligne ni au-dessus.")]
    assert result.warnings == []


def test_a_long_lead_in_is_cut_in_the_warning():
    lead = "Des actions " + "très " * 40 + "nombreuses, notamment"
    result = read_table("t.tsv", tsv(["1 Santé", "Soins", "Accès", f"{lead} - A - B", ""]))
    ((line, message),) = result.warnings
    assert line == 2
    assert "« Des actions très" in message and "… » et les 2 phrases" in message
    assert result.rows[0].difficultes == [f"{lead} A ; B"]


# The seed ------------------------------------------------------------------------------------


def test_the_seed_keeps_its_two_lead_ins_with_their_phrases_and_warns(montlucon):
    logement = SousTheme.objects.get(diagnostic=montlucon, libelle="Logement et habitat")
    assert list(logement.difficultes.order_by("position").values_list("libelle", flat=True)) == [
        f"{INCITER} {ECOGESTES}",
        f"{INCITER} {DECHETS}",
    ]
    sante = SousTheme.objects.get(
        diagnostic=montlucon, libelle="Éducation à la santé et prévention"
    )
    *_, last = sante.difficultes.order_by("position").values_list("libelle", flat=True)
    assert last == f"{VIOLENCES} {' ; '.join(ACTIONS)}"
    # No item of the seed is a lead-in alone, nor one of its phrases alone.
    libelles = set(
        Difficulte.objects.filter(diagnostic=montlucon).values_list("libelle", flat=True)
    )
    assert not libelles & {INCITER, ECOGESTES, DECHETS, VIOLENCES, *ACTIONS}
    assert len(libelles) == 45

    warnings = montlucon.imports.get().compte_rendu["warnings"]
    assert [(w["line"], "phrase d'introduction" in w["message"]) for w in warnings] == [
        (11, True),
        (13, False),
        (14, False),
        (33, True),
    ]


def test_the_preview_lists_the_lead_in_warnings_with_their_line(client, admin):
    response = client.post(
        reverse("diagnostics:import_nouveau"),
        {
            "nature": "diagnostic",
            "titre": "Contrat de ville de Montluçon — diagnostic 2024",
            "slug": "montlucon-2024",
            "territoire": "Montluçon Communauté",
            "annee_debut": "2024",
            "annee_fin": "2030",
            "fichier": SimpleUploadedFile(SEED.name, SEED.read_bytes()),
        },
    )
    assert response.status_code == 302
    token = ImportEnAttente.objects.get().token
    page = client.get(reverse("diagnostics:import_apercu", args=[token])).content.decode()
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert (
        "Ligne 33 : cellule Difficultés prégnantes : la phrase d'introduction « Il serait "
        "intéressant d'inciter : » est reprise au début de chacune des 2 phrases" in text
    )
    assert (
        "Ligne 11 : cellule Difficultés prégnantes : la phrase d'introduction « Violences "
        "intrafamiliales" in text
    )
    # The items as they would be created.
    assert html.escape(f"{INCITER} {DECHETS}") in page


# Re-imports ----------------------------------------------------------------------------------


def test_importing_the_seed_again_changes_nothing(montlucon):
    before = list(Difficulte.objects.order_by("pk").values_list("pk", "libelle", "version"))
    report = import_source_table(montlucon, SEED.name, SEED.read_bytes())
    assert report.ok and not report.changes and report.import_record is None
    assert not report.divergences and not report.absents
    assert "Difficultés : 0 créée, 45 inchangées" in report.as_lines()
    assert list(Difficulte.objects.order_by("pk").values_list("pk", "libelle", "version")) == (
        before
    )


def _old_rule(text):
    """The rule before the lead-ins: every piece of the cell its own item."""
    return cells.CellItems([part.text for part in cells._parts(text)], [])


@pytest.fixture
def imported_with_the_old_rule(monkeypatch):
    diagnostic = DiagnosticFactory(slug="ancien")
    with monkeypatch.context() as patch:
        patch.setattr(reader, "split_cell", _old_rule)
        assert import_source_table(diagnostic, SEED.name, SEED.read_bytes()).ok
    assert Difficulte.objects.filter(diagnostic=diagnostic).count() == 50
    return diagnostic


def _libelles(diagnostic):
    return set(Difficulte.objects.filter(diagnostic=diagnostic).values_list("libelle", flat=True))


def test_an_edition_imported_with_the_old_rule_keeps_its_items_and_sees_the_two_cells(
    imported_with_the_old_rule,
):
    diagnostic = imported_with_the_old_rule
    before = _libelles(diagnostic)

    report = import_source_table(diagnostic, SEED.name, SEED.read_bytes())

    # Nothing is written by default: the two cells read as edited in the site since the
    # import (the same cells, other items), the site's version kept, the file's offered.
    assert report.ok and not report.changes and _libelles(diagnostic) == before
    assert (
        "Difficultés : 0 créée, 42 inchangées, 3 modifiées dans le site depuis l'import "
        "(version du site conservée)" in report.as_lines()
    )
    divergences = {d.line: d for d in report.divergences}
    assert set(divergences) == {11, 33}
    assert divergences[33].fichier == [f"{INCITER} {ECOGESTES}", f"{INCITER} {DECHETS}"]
    assert [v.libelle for v in divergences[33].site] == [INCITER, ECOGESTES, DECHETS]
    assert [v.libelle for v in divergences[11].site] == [VIOLENCES, *ACTIONS]
    assert not report.absents


def test_taking_the_file_s_version_replaces_the_pieces_then_a_new_import_changes_nothing(
    imported_with_the_old_rule,
):
    diagnostic = imported_with_the_old_rule
    preview = import_source_table(diagnostic, SEED.name, SEED.read_bytes(), dry_run=True)
    choices = Choices.of(take_file=[d.choice for d in preview.divergences])

    report = import_source_table(diagnostic, SEED.name, SEED.read_bytes(), choices=choices)

    assert "Difficultés : 3 créées, 42 inchangées, 8 retirées du site" in report.as_lines()
    libelles = _libelles(diagnostic)
    assert len(libelles) == 45
    assert {f"{INCITER} {ECOGESTES}", f"{INCITER} {DECHETS}"} <= libelles
    assert not libelles & {INCITER, VIOLENCES, *ACTIONS}
    again = import_source_table(diagnostic, SEED.name, SEED.read_bytes())
    assert not again.changes and not again.divergences
