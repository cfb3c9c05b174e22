"""Diagnostics of a chosen size, to check that a page's query count does not grow with data.

`build_diagnostic(scale=1)` is shaped like Montluçon's seed (3 piliers, thèmes with
sous-thèmes, difficultés and indicateurs, theme-level items, source cells, quartier
tags); `scale=10` is about ten times larger at every level a page shows:

- the diagnostic's quartiers and each pilier's thèmes are multiplied by `scale`;
- the first sous-thème of the first pilier (`built.sous_theme`) holds `scale` times more
  items, all from one source cell (`built.cellule`);
- items carry one quartier tag at scale 1, three above.

Usage (with django_assert_num_queries):

    small, large = build_diagnostic(1), build_diagnostic(10)
"""

from dataclasses import dataclass
from itertools import count

from diagnostics.models import CelluleSource, Diagnostic, Pilier, SousTheme
from tests.factories import (
    CelluleSourceFactory,
    DiagnosticFactory,
    DifficulteFactory,
    ImportFactory,
    IndicateurFactory,
    PilierFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
)

Colonne = CelluleSource.Colonne

PILIERS = 3
THEMES_PER_PILIER = 3
SOUS_THEMES_PER_THEME = 2


@dataclass
class BuiltDiagnostic:
    diagnostic: Diagnostic
    pilier: Pilier  # the first pilier
    sous_theme: SousTheme  # the fullest sous-thème, in the first pilier
    cellule: CelluleSource  # the difficultés cell of that sous-thème


def build_diagnostic(scale=1, **diagnostic_fields):
    """A published diagnostic (unless told otherwise) of the given scale; see the module."""
    diagnostic = DiagnosticFactory(**diagnostic_fields)
    quartiers = QuartierFactory.create_batch(3 * scale)
    diagnostic.quartiers.set(quartiers)
    tags_per_item = 1 if scale == 1 else 3
    tag_offset = count()

    def tags():
        start = next(tag_offset)
        return [quartiers[(start + k) % len(quartiers)] for k in range(tags_per_item)]

    source = ImportFactory(diagnostic=diagnostic)
    lignes = count(2)

    def cell(ligne, colonne, texte):
        return CelluleSourceFactory(import_source=source, ligne=ligne, colonne=colonne, texte=texte)

    fullest = fullest_cell = None
    piliers = []
    for numero in range(1, PILIERS + 1):
        ligne = next(lignes)
        pilier = PilierFactory(
            diagnostic=diagnostic,
            numero=numero,
            libelle=f"Pilier {numero}",
            source=cell(ligne, Colonne.PILIER, f"{numero} PILIER {numero}"),
        )
        piliers.append(pilier)
        for theme_position in range(THEMES_PER_PILIER * scale):
            theme = ThemeFactory(pilier=pilier, position=theme_position)
            if theme_position % 3 == 0:
                # Theme-level items: a source row without sous-thème.
                for factory, colonne in (
                    (DifficulteFactory, Colonne.DIFFICULTES),
                    (IndicateurFactory, Colonne.INDICATEURS),
                ):
                    factory(
                        au_niveau_du_theme=True,
                        theme=theme,
                        quartiers=tags(),
                        source=cell(next(lignes), colonne, "- Constat au niveau du thème."),
                    )
            for position in range(SOUS_THEMES_PER_THEME):
                ligne = next(lignes)
                sous_theme = SousThemeFactory(
                    theme=theme,
                    position=position,
                    source=cell(ligne, Colonne.SOUS_THEME, "Sous-thème"),
                )
                is_fullest = fullest is None
                difficultes = cell(ligne, Colonne.DIFFICULTES, "- Une difficulté. - Une autre.")
                indicateurs = cell(ligne, Colonne.INDICATEURS, "- Un indicateur.")
                for position_item in range(2 * scale if is_fullest else 2):
                    DifficulteFactory(
                        sous_theme=sous_theme,
                        position=position_item,
                        quartiers=tags(),
                        source=difficultes,
                    )
                for position_item in range(scale if is_fullest else 1):
                    IndicateurFactory(
                        sous_theme=sous_theme,
                        position=position_item,
                        quartiers=tags(),
                        source=indicateurs,
                    )
                if is_fullest:
                    fullest, fullest_cell = sous_theme, difficultes
            # An empty sous-thème, as the seed has several.
            SousThemeFactory(theme=theme, position=SOUS_THEMES_PER_THEME)
    return BuiltDiagnostic(diagnostic, piliers[0], fullest, fullest_cell)
