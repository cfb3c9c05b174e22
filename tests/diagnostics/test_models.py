import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from diagnostics.models import Difficulte, Theme
from tests.factories import (
    DifficulteFactory,
    IndicateurFactory,
    PilierFactory,
    SousThemeFactory,
    ThemeFactory,
)


def test_theme_names_are_unique_within_their_pilier_ignoring_case_and_accents():
    theme = ThemeFactory(libelle="Santé")
    with pytest.raises(IntegrityError), transaction.atomic():
        ThemeFactory(pilier=theme.pilier, libelle="  SANTE ")
    # Another pilier may hold the same name.
    assert ThemeFactory(libelle="Santé").cle == "sante"


def test_full_clean_reports_the_duplicate_name_in_french():
    theme = ThemeFactory(libelle="Éducation")
    duplicate = Theme(pilier=theme.pilier, libelle="education")
    duplicate.cle = "education"
    with pytest.raises(ValidationError, match="existe déjà au même niveau"):
        duplicate.full_clean()


def test_pilier_numbers_are_unique_within_a_diagnostic():
    pilier = PilierFactory(numero=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        PilierFactory(diagnostic=pilier.diagnostic, numero=1)


def test_an_item_hangs_from_exactly_one_parent():
    sous_theme = SousThemeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Difficulte.objects.create(
            libelle="Deux parents", sous_theme=sous_theme, theme=sous_theme.theme
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Difficulte.objects.create(libelle="Aucun parent")


def test_the_same_item_cannot_be_added_twice_under_one_parent():
    difficulte = DifficulteFactory(libelle="Isolement des familles")
    with pytest.raises(IntegrityError), transaction.atomic():
        DifficulteFactory(sous_theme=difficulte.sous_theme, libelle="isolement des  familles")
    theme_level = DifficulteFactory(au_niveau_du_theme=True, libelle="Ennui")
    with pytest.raises(IntegrityError), transaction.atomic():
        DifficulteFactory(au_niveau_du_theme=True, theme=theme_level.theme, libelle="ENNUI")


def test_items_of_a_pilier_include_theme_level_ones():
    sous_theme = SousThemeFactory()
    pilier = sous_theme.theme.pilier
    in_sous_theme = IndicateurFactory(sous_theme=sous_theme)
    at_theme = IndicateurFactory(au_niveau_du_theme=True, theme=sous_theme.theme)
    IndicateurFactory()  # another pilier
    assert set(type(in_sous_theme).objects.du_pilier(pilier)) == {in_sous_theme, at_theme}
    assert at_theme.theme_effectif == sous_theme.theme == in_sous_theme.theme_effectif


def test_user_factory_gives_roles_on_a_contract():
    from comptes.roles import Role
    from diagnostics.access import can_edit, roles_on
    from tests.factories import DiagnosticFactory, UserFactory

    diagnostic, other = DiagnosticFactory(), DiagnosticFactory()
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=diagnostic.contrat)
    assert roles_on(partenaire, diagnostic.contrat) == {Role.PARTENAIRE}
    assert roles_on(partenaire, other.contrat) == set()
    equipe = UserFactory(role=Role.EQUIPE_VILLE, contrat=diagnostic.contrat)
    assert can_edit(equipe, diagnostic)
    assert not can_edit(equipe, other)  # a role is held on one contract
    assert not can_edit(UserFactory(), diagnostic)
    with pytest.raises(TypeError, match="contrat=… est requis"):
        UserFactory(role=Role.EQUIPE_VILLE)
