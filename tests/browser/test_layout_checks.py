"""The layout checks the page tests rely on catch what they are meant to catch: an element
wider than the window, a word cut inside a table cell; and let a sound page pass."""

import pytest

from tests.browser import assert_fits_viewport, assert_no_word_broken_in_cells

pytestmark = pytest.mark.browser

CUT = (
    "<table><tr><td style='width:20px;word-break:break-all'>Avertissements</td>"
    "<td>06/12/2026</td></tr></table>"
)
TOO_WIDE = "<p>Avant</p><div style='width:900px'>Trop large</div>"
WIDE_IN_ITS_REGION = (
    "<div style='overflow-x:auto' tabindex='0'><table style='width:900px'><tr>"
    "<td>Une cellule large</td></tr></table></div>"
)
SOUND = "<table><tr><td>Avertissements du jour</td><td>06/12/2026</td></tr></table>"


@pytest.fixture
def narrow(page):
    page.set_viewport_size({"width": 375, "height": 800})
    return page


def test_an_element_wider_than_the_window_is_caught(narrow):
    narrow.set_content(TOO_WIDE)
    with pytest.raises(AssertionError, match="plus larges que la fenêtre"):
        assert_fits_viewport(narrow)


def test_a_wide_table_in_its_own_scrolling_region_fits(narrow):
    narrow.set_content(WIDE_IN_ITS_REGION)
    assert_fits_viewport(narrow)


def test_a_word_cut_in_a_cell_is_caught(narrow):
    narrow.set_content(CUT)
    with pytest.raises(AssertionError, match="Avertissements"):
        assert_no_word_broken_in_cells(narrow)


def test_a_sound_table_passes_both_checks(narrow):
    narrow.set_content(SOUND)
    assert_fits_viewport(narrow)
    assert_no_word_broken_in_cells(narrow)
