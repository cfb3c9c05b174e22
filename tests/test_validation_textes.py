"""Every text that reaches the database is checked by the server (issue 15): the length
limits of the models, no NUL, no control character but tab and line breaks, in the forms,
the imports and the admin; a bad filter value in a URL is ignored, never a 500.

The hostile values are those of tests/hostile.py. The NUL cases matter on PostgreSQL
(`DATABASE_URL=postgres://… pytest tests/test_validation_textes.py`), which refuses NUL.
"""

import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import Workbook

from comptes.roles import Role
from diagnostics import editing
from diagnostics.filters import DifficulteFilterSet
from diagnostics.forms.edition import NodeForm, SplitForm, element_form_class
from diagnostics.imports import import_source_table
from diagnostics.imports.reader import ReadResult, _TableReader, find_header
from diagnostics.models import Diagnostic, Difficulte, Theme
from diagnostics.text import ITEM_MAX_LENGTH, control_character, is_ascii_integer
from indicateurs.filters import IndicateurFilterSet
from indicateurs.forms import PeriodeForm
from indicateurs.imports import import_measures
from indicateurs.models import Indicateur, Mesure
from tests import hostile
from tests.factories import (
    DiagnosticFactory,
    DifficulteFactory,
    IndicateurFactory,
    PilierFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)

FILTERS = ["diagnostic", "pilier", "theme", "sous_theme", "quartier", "perimetre", "q"]
LISTS = ["/difficultes/", "/indicateurs/", "/difficultes/export.xlsx", "/difficultes/export.csv"]


@pytest.fixture
def diagnostic():
    rive_gauche = QuartierFactory(code="QN00304M", nom="Rive Gauche")
    diagnostic = DiagnosticFactory(slug="montlucon", public=True)
    diagnostic.quartiers.set([rive_gauche])
    pilier = PilierFactory(diagnostic=diagnostic, numero=1, libelle="Cohésion sociale")
    sante = ThemeFactory(pilier=pilier, libelle="Santé", position=1)
    acces = SousThemeFactory(theme=sante, libelle="Accès aux soins", position=1)
    DifficulteFactory(sous_theme=acces, libelle="Manque de médecins", quartiers=[rive_gauche])
    return diagnostic


# The rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", hostile.CONTROLS)
def test_the_rule_finds_every_control_character(text):
    assert control_character(text) is not None


@pytest.mark.parametrize("text", ["Santé\tpublique", "Santé\npublique\r\n", "Santé 🏘️ ‮", ""])
def test_the_rule_keeps_tab_line_breaks_and_any_printable_text(text):
    assert control_character(text) is None


@pytest.mark.parametrize("text", hostile.NON_ASCII_DIGITS + ["+1", " 1", "1 ", "-1", ""])
def test_a_key_is_plain_ascii_digits(text):
    assert not is_ascii_integer(text)
    assert is_ascii_integer("123")


# Filters: finding 1 ----------------------------------------------------------------------


@pytest.mark.parametrize("administrateur", [False, True])
@pytest.mark.parametrize(
    "url",
    [
        "/difficultes/?quartier=%00",
        "/indicateurs/?quartier=%00",
        "/difficultes/export.xlsx?quartier=%00",
        "/imports/nouveau/?diagnostic=%00",
        "/imports/nouveau/?diagnostic=montlucon%07",
    ],
)
def test_a_nul_byte_in_a_filter_is_no_server_error(client, diagnostic, url, administrateur):
    if administrateur:
        client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=diagnostic.contrat))
    client.raise_request_exception = False
    assert client.get(url).status_code in (200, 302, 400, 403)


@pytest.mark.parametrize("value", [*hostile.CONTROLS, *hostile.NON_ASCII_DIGITS, "QN00304M\x00"])
@pytest.mark.parametrize("name", FILTERS)
@pytest.mark.parametrize("url", LISTS)
def test_every_filter_ignores_a_bad_value(client, diagnostic, url, name, value):
    client.raise_request_exception = False
    response = client.get(url, {name: value})
    # Ignored (the list), or the export sends back to the list that shows the error.
    assert response.status_code in (200, 302), (url, name, value)


@pytest.mark.parametrize("filterset", [DifficulteFilterSet, IndicateurFilterSet])
@pytest.mark.parametrize("value", hostile.NON_ASCII_DIGITS)
def test_a_key_in_other_digits_chooses_nothing(diagnostic, filterset, value):
    """int('١') == 1: without the rule, pilier=١ would choose the pilier of pk 1."""
    data = {"pilier": value, "theme": value, "sous_theme": value}
    filters = filterset(data, queryset=filterset.Meta.model.objects.all())
    assert filters.is_valid() is False
    assert set(filters.form.errors) == {"pilier", "theme", "sous_theme"}


# Items: finding 2 -------------------------------------------------------------------------


def element_form(diagnostic, libelle, model=Difficulte):
    return element_form_class(model)(data={"libelle": libelle}, diagnostic=diagnostic)


@pytest.mark.parametrize("model", [Difficulte, Indicateur])
def test_an_item_is_at_most_5000_characters(diagnostic, model):
    assert element_form(diagnostic, "a" * ITEM_MAX_LENGTH, model).is_valid()
    for libelle in [hostile.OVER_LONG, "a" * 1_000_000]:
        form = element_form(diagnostic, libelle, model)
        assert not form.is_valid()
        assert "5000" in str(form.errors["libelle"])


def test_the_model_refuses_an_over_long_item_too(diagnostic):
    """full_clean (the admin) applies the same limit."""
    item = Difficulte.objects.get()
    item.libelle = hostile.OVER_LONG
    with pytest.raises(ValidationError) as error:
        item.full_clean()
    assert "libelle" in error.value.message_dict


def test_the_add_page_refuses_a_million_characters(client, diagnostic):
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=diagnostic.contrat))
    item = Difficulte.objects.get()
    url = reverse("diagnostics:element_modifier", args=["montlucon", "difficultes", item.pk])
    response = client.post(url, {"libelle": "mot " * 250_000, "version": item.version})
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.libelle == "Manque de médecins"


def test_the_split_form_refuses_an_over_long_line(diagnostic):
    item = Difficulte.objects.get()
    form = SplitForm(
        data={"libelles": f"Manque de médecins\n{'a' * 15_000}", "version": item.version},
        element=item,
    )
    assert not form.is_valid()
    assert "n° 2" in str(form.errors["libelles"])


# Control characters: finding 3 -----------------------------------------------------------


@pytest.mark.parametrize("libelle", hostile.CONTROLS)
def test_an_item_with_a_control_character_is_refused_naming_the_field(diagnostic, libelle):
    form = element_form(diagnostic, libelle)
    assert not form.is_valid()
    assert "« Libellé »" in str(form.errors["libelle"]) or "nul" in str(form.errors["libelle"])


@pytest.mark.parametrize("libelle", hostile.CONTROLS)
def test_a_name_with_a_control_character_is_refused(diagnostic, libelle):
    form = NodeForm(data={"libelle": libelle, "version": 1}, instance=Theme.objects.get())
    assert not form.is_valid()
    assert "libelle" in form.errors


def test_tabs_and_line_breaks_are_kept(diagnostic):
    assert element_form(diagnostic, "Santé\tpublique\r\nsuite").is_valid()


@pytest.mark.parametrize("text", hostile.CONTROLS)
def test_the_indicator_forms_refuse_control_characters(text):
    form = PeriodeForm(data={"source": text, "commentaire": text}, indicateur=IndicateurFactory())
    form.is_valid()
    assert {"source", "commentaire"} <= set(form.errors)


def test_the_model_refuses_a_control_character(diagnostic):
    theme = Theme.objects.get()
    theme.libelle = "Santé\x1bpublique"
    with pytest.raises(ValidationError) as error:
        theme.full_clean()
    assert "libelle" in error.value.message_dict


def administrateur(diagnostic):
    return UserFactory(role=Role.ADMINISTRATEUR, contrat=diagnostic.contrat)


def test_the_import_refuses_a_c1_control_character_with_its_line(diagnostic):
    """U+009B passes the file's decoding (C0 controls make a CSV unreadable, below)."""
    table = "\r\n".join(
        [
            "Pilier;Thème;Sous-thème;Difficultés prégnantes;Indicateur",
            "1 Cohésion;Santé;;- Manque de médecins;",
            ";Santé;;- Pas de\x9b pharmacie;",
        ]
    ).encode()
    report = import_source_table(diagnostic, "t.csv", table, user=administrateur(diagnostic))
    assert not report.ok
    assert any("ligne 3" in line and "U+009B" in line for line in report.as_lines()), (
        report.as_lines()
    )
    assert not Difficulte.objects.filter(libelle__contains="pharmacie").exists()


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x9b"])
def test_the_reader_refuses_a_control_character_with_its_line_and_column(char):
    """The rows of any format (an XLSX cell may hold one, written _x0007_ by Excel)."""
    rows = [
        (1, ["Pilier", "Thème", "Sous-thème", "Difficultés prégnantes", "Indicateur"]),
        (2, ["1 Cohésion", "Santé", "", "- Manque de médecins", ""]),
        (3, ["", "Santé", "", f"- Pas de{char} pharmacie", ""]),
    ]
    result = ReadResult()
    _TableReader(find_header(rows, result), {}, result).read(rows)
    assert [line for line, _ in result.errors] == [3]
    assert "« Difficultés prégnantes »" in result.errors[0][1]
    assert f"U+{ord(char):04X}" in result.errors[0][1]
    assert len(result.rows) == 1


@pytest.mark.parametrize("char", ["\x07", "\x1b", "\x7f"])
def test_a_csv_holding_a_c0_control_character_is_refused(diagnostic, char):
    table = f"Pilier;Thème;Difficultés prégnantes\r\n1 Cohésion;Santé;- Pas de{char}\r\n"
    report = import_source_table(
        diagnostic, "t.csv", table.encode(), user=administrateur(diagnostic)
    )
    assert not report.ok


def test_the_import_refuses_an_over_long_item(diagnostic):
    table = hostile.xlsx(
        [
            ["Pilier", "Thème", "Sous-thème", "Difficultés prégnantes", "Indicateur"],
            ["1 Cohésion", "Santé", "", f"- {'a' * (ITEM_MAX_LENGTH + 1)}", ""],
        ]
    )
    report = import_source_table(diagnostic, "t.xlsx", table, user=administrateur(diagnostic))
    assert not report.ok
    assert any("5000 au plus" in line for line in report.as_lines()), report.as_lines()


def test_a_workbook_of_values_with_a_control_character_is_refused_with_its_line():
    """A text file holding control characters is refused as unreadable; a workbook can
    hold DEL and the C1 controls: the cell's line is named."""
    indicateur = IndicateurFactory(libelle="Nombre de médecins")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Indicateur", "Année", "Valeur", "Source"])
    sheet.append(["Nombre de médecins", 2024, 12, "Insee"])
    sheet.append(["Nombre de médecins", 2025, 14, "Ins\x9fee"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    diagnostic = Diagnostic.objects.get(pk=indicateur.diagnostic_id)
    report = import_measures(diagnostic, "valeurs.xlsx", buffer.getvalue())
    assert not report.ok
    assert any("ligne 3" in line and "U+009F" in line for line in report.as_lines())
    assert not Mesure.objects.exists()


def test_a_merge_whose_joined_texts_would_be_too_long_asks_for_a_libelle():
    sous_theme = SousThemeFactory()
    marie = UserFactory(role=Role.EQUIPE_VILLE, contrat=sous_theme.theme.pilier.diagnostic.contrat)
    first = DifficulteFactory(sous_theme=sous_theme, libelle="a" * 3000)
    second = DifficulteFactory(sous_theme=sous_theme, libelle="b" * 3000)
    with pytest.raises(ValidationError, match="au-delà de la limite de 5000"):
        editing.merge_elements(first, first.version, {second.pk: second.version}, "", marie)
    assert Difficulte.objects.count() == 2
