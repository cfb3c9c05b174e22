"""A section's text: typed in a plain syntax or pasted as HTML, stored as safe markup."""

import pytest

from rapports import balisage, blocs


def test_the_plain_syntax_gives_paragraphs_headings_lists_bold_italics_and_links():
    stored = balisage.depuis_saisie(
        "## Le programme\n\nLe contrat porte **trois piliers** et un *axe* transversal.\n"
        "Voir [le site](https://www.montlucon.com).\n\n- emploi\n- cadre de vie\n\n1. un\n2. deux"
    )
    assert stored.startswith("<h3>Le programme</h3>")
    assert "<strong>trois piliers</strong>" in stored
    assert "<em>axe</em>" in stored
    assert 'href="https://www.montlucon.com"' in stored
    assert "<ul><li>emploi</li><li>cadre de vie</li></ul>" in stored
    assert "<ol><li>un</li><li>deux</li></ol>" in stored


def test_what_is_stored_reads_back_as_what_was_typed():
    typed = (
        "## Le programme\n\nUn **paragraphe** avec un [lien](https://example.org).\n\n"
        "- premier\n- second"
    )
    assert balisage.vers_syntaxe(balisage.depuis_saisie(typed)) == typed


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert('x')</script><p>texte</p>",
        '<p onclick="alert(1)">texte</p>',
        '<p><a href="javascript:alert(1)">texte</a></p>',
        '<p>texte<img src="x" onerror="alert(1)"></p>',
        "<style>p { display: none }</style><p>texte</p>",
        '<p><a href="data:text/html;base64,PHNjcmlwdD4=">texte</a></p>',
        "<iframe src='https://evil.example'></iframe><p>texte</p>",
        "<svg><script>alert(1)</script></svg><p>texte</p>",
    ],
)
def test_no_script_style_or_event_survives(hostile):
    stored = balisage.depuis_saisie(hostile)
    lowered = stored.lower()
    for forbidden in (
        "<script",
        "alert",
        "onclick",
        "onerror",
        "javascript:",
        "<style",
        "<img",
        "<iframe",
        "data:",
        "<svg",
    ):
        assert forbidden not in lowered
    assert "texte" in stored


def test_control_characters_and_nul_bytes_are_dropped():
    assert balisage.depuis_saisie("un\x00 texte\x07 propre") == "<p>un texte propre</p>"


def test_markup_becomes_blocks_with_levels_under_the_section():
    found = balisage.vers_blocs(
        "<h3>Titre</h3><p>Un <strong>mot</strong></p><h4>Sous-titre</h4><ul><li>a</li></ul>",
        niveau_base=1,
    )
    assert [b["type"] for b in found] == ["titre", "paragraphe", "titre", "liste"]
    assert [found[0]["niveau"], found[2]["niveau"]] == [2, 3]
    assert found[1]["morceaux"][1] == blocs.morceau("mot", gras=True)


def test_markup_written_by_other_means_is_cleaned_again_when_read():
    found = balisage.vers_blocs('<p>ok<script>alert(1)</script></p><p onclick="x">b</p>')
    assert "".join(blocs.texte_de(b) for b in found) == "okb"
