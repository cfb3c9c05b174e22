"""Merged items: their texts joined as sentences (`diagnostics.text.join_sentences`)."""

import pytest

from diagnostics.text import join_sentences


@pytest.mark.parametrize(
    ("texts", "joined"),
    [
        ([], ""),
        (["", "  ", "\n"], ""),
        (["Seul"], "Seul."),
        (
            ["Manque de médecins", "Renoncement aux soins"],
            "Manque de médecins. Renoncement aux soins.",
        ),
        # Already punctuated: nothing added, nothing doubled.
        (
            ["Manque de médecins.", "Renoncement aux soins."],
            "Manque de médecins. Renoncement aux soins.",
        ),
        (
            ["Pourquoi ?", "Trop tard !", "Et ensuite…", "etc..."],
            "Pourquoi ? Trop tard ! Et ensuite… Etc...",
        ),
        # Punctuation inside closing quotes or brackets ends the sentence too.
        (["Il a dit « oui. »", "(voir plus haut.)"], "Il a dit « oui. » (Voir plus haut.)"),
        (["Tri sélectif (déchets)", "« Réflexe » QPV"], "Tri sélectif (déchets). « Réflexe » QPV."),
        # A comma or a semicolon ends a list's line, not a sentence: it becomes a full stop.
        (
            ["Plaintes des riverains,", "Occupation ;", "Vacance , ;"],
            "Plaintes des riverains. Occupation. Vacance.",
        ),
        # A colon announces the next text: kept, and the next text is not capitalised.
        (
            ["Il serait intéressant d'inciter :", "à la gestion des déchets"],
            "Il serait intéressant d'inciter : à la gestion des déchets.",
        ),
        (["Constats :"], "Constats."),
        (["Un", "Constats :"], "Un. Constats."),
        # The first letter is capitalised, accents included, after an opening quote; a number
        # first is left alone.
        (
            ["à revoir", "élevé", "« écogestes »", "3e étage"],
            "À revoir. Élevé. « Écogestes ». 3e étage.",
        ),
        # White space around each text is dropped; one space between them.
        (["  un  ", "\tdeux\n"], "Un. Deux."),
    ],
)
def test_join_sentences(texts, joined):
    assert join_sentences(texts) == joined


def test_join_sentences_takes_any_iterable():
    assert join_sentences(text for text in ("a", "b")) == "A. B."
