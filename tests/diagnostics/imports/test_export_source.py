"""Exports: a whole diagnostic in its source layout (round trip through the importer), the
flat exports of the Django admin (round trip through their resources), formula injection."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse
from import_export.resources import ModelResource

from comptes.roles import Role
from diagnostics.admin import formats, resources
from diagnostics.imports import import_source_table
from diagnostics.imports import source_export as exports_source
from diagnostics.models import Diagnostic, Difficulte, Pilier, Quartier, SousTheme, Theme
from indicateurs.admin import resources as indicateurs_resources
from indicateurs.models import Indicateur, Mesure, TerritoireComparaison
from tests.factories import (
    DiagnosticFactory,
    DifficulteFactory,
    IndicateurFactory,
    MembreFactory,
    PilierFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)

FORMATS = ["xlsx", "csv", "tsv"]


def structure(diagnostic):
    """Piliers, thèmes, sous-thèmes and items of a diagnostic, in order."""

    def items(parent):
        return (
            [item.libelle for item in parent.difficultes.order_by("position", "id")],
            [item.libelle for item in parent.indicateurs.order_by("position", "id")],
        )

    return [
        (
            pilier.numero,
            pilier.libelle,
            [
                (
                    theme.libelle,
                    items(theme),
                    [
                        (sous_theme.libelle, items(sous_theme))
                        for sous_theme in theme.sous_themes.order_by("position", "id")
                    ],
                )
                for theme in pilier.themes.order_by("position", "id")
            ],
        )
        for pilier in Pilier.objects.filter(diagnostic=diagnostic).order_by("numero")
    ]


def reimported(diagnostic, export_format):
    """A new diagnostic made by importing the export of `diagnostic`."""
    content, _, filename = exports_source.export(diagnostic, export_format)
    copy = DiagnosticFactory()
    report = import_source_table(copy, filename, content)
    assert report.ok, report.as_lines()
    assert not report.warnings, report.as_lines()
    return copy


def edge_cases():
    """A diagnostic holding every case the layout must carry."""
    diagnostic = DiagnosticFactory(slug="cas-limites", titre="Cas limites : [tous] / les *cas*?")
    cohesion = PilierFactory(diagnostic=diagnostic, numero=1, libelle="Cohésion sociale")
    education = ThemeFactory(pilier=cohesion, libelle='Éducation « populaire »; "jeunesse"')
    # Items of the thème itself, beside its sous-thèmes.
    DifficulteFactory(
        theme=education, sous_theme=None, libelle='Il dit "bonjour"; puis il part, sans un mot'
    )
    IndicateurFactory(theme=education, sous_theme=None, libelle="=SOMME(A1:A3)")
    SousThemeFactory(theme=education, libelle="Sous-thème encore vide")
    droits = SousThemeFactory(theme=education, libelle="Accès aux droits ; CAF & CPAM")
    for libelle in (
        "- commence par un tiret",
        "+33 % d'allocataires en deux ans",
        "@mention d'un partenaire",
        "\tcommence par une tabulation",
        "Ligne une\nligne deux du même constat",
        "Un constat - avec un tiret au milieu - et un autre",
        "Finit par un point-virgule ;",
        "Élève • puce au milieu, accents : àâçéèêëîïôûùüÿœæ",
        "Guillemets 'simples' et \"doubles\", <chevrons> & esperluette, &amp; <b>gras</b>",
    ):
        DifficulteFactory(sous_theme=droits, libelle=libelle)
    IndicateurFactory(sous_theme=droits, libelle="Nombre de dossiers ; délai moyen (jours)")
    ThemeFactory(pilier=cohesion, libelle="Thème sans sous-thème ni élément")
    emploi = PilierFactory(diagnostic=diagnostic, numero=2, libelle="=Emploi et insertion")
    formule = ThemeFactory(pilier=emploi, libelle="-Thème commençant par un tiret")
    SousThemeFactory(theme=formule, libelle="@Sous-thème")
    ThemeFactory(pilier=emploi, libelle="+Thème")
    PilierFactory(diagnostic=diagnostic, numero=3, libelle="Pilier sans thème")
    return diagnostic


# Round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("export_format", FORMATS)
def test_the_seed_exported_reimports_into_an_identical_diagnostic(montlucon, export_format):
    copy = reimported(montlucon, export_format)

    assert structure(copy) == structure(montlucon)


@pytest.mark.parametrize("export_format", FORMATS)
def test_every_edge_case_survives_the_round_trip(export_format):
    diagnostic = edge_cases()

    copy = reimported(diagnostic, export_format)

    assert structure(copy) == structure(diagnostic)
    libelles = set(Difficulte.objects.du_diagnostic(copy).values_list("libelle", flat=True))
    assert "- commence par un tiret" in libelles
    assert "Ligne une\nligne deux du même constat" in libelles
    assert Indicateur.objects.du_diagnostic(copy).filter(libelle="=SOMME(A1:A3)").exists()


def test_exporting_the_reimported_diagnostic_gives_the_same_file():
    diagnostic = edge_cases()
    copy = reimported(diagnostic, "csv")

    assert exports_source.text_table(copy, ";") == exports_source.text_table(diagnostic, ";")


# The XLSX layout ---------------------------------------------------------------------------


def sheet_of(diagnostic):
    content, content_type, filename = exports_source.export(diagnostic, "xlsx")
    assert filename == f"{diagnostic.slug}-tableau-source.xlsx"
    assert content_type == exports_source.FORMATS["xlsx"]
    workbook = openpyxl.load_workbook(io.BytesIO(content))  # formulas would stay formulas
    assert len(workbook.worksheets) == 1
    return workbook.active


def test_the_workbook_has_the_layout_of_the_source_table():
    diagnostic = edge_cases()

    sheet = sheet_of(diagnostic)

    assert sheet.title == exports_source.sheet_title(diagnostic.titre)
    assert sheet.title.startswith("Cas limites")
    assert len(sheet.title) <= 31
    assert not set(sheet.title) & set("[]:*?/\\")
    assert [cell.value for cell in sheet[1]] == exports_source.headers()
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    widths = [sheet.column_dimensions[letter].width for letter in "ABCDE"]
    assert widths == [28, 32, 36, 70, 60]
    # Rows: the thème's own items, 2 sous-thèmes, a thème alone; 2 rows of pilier 2; pilier 3.
    assert sheet.max_row == 1 + 4 + 2 + 1
    merged = sorted(str(cell_range) for cell_range in sheet.merged_cells.ranges)
    assert merged == ["A2:A5", "A6:A7", "B2:B4"]
    assert sheet["A2"].value == "1 Cohésion sociale"
    assert sheet["A6"].value == "2 =Emploi et insertion"
    assert sheet["B6"].value == "-Thème commençant par un tiret"
    assert sheet["C6"].value == "@Sous-thème"
    assert sheet["A8"].value == "3 Pilier sans thème"
    assert sheet["D2"].value == '• Il dit "bonjour"; puis il part, sans un mot'
    assert sheet["E2"].value == "• =SOMME(A1:A3)"
    assert sheet["D4"].value.splitlines()[:2] == [
        "• - commence par un tiret",
        "• +33 % d'allocataires en deux ans",
    ]
    assert all(
        cell.alignment.wrap_text and cell.alignment.vertical == "top"
        for row in sheet.iter_rows()
        for cell in row
        if cell.value
    )


def test_no_cell_of_the_workbook_is_a_formula():
    sheet = sheet_of(edge_cases())

    types = {cell.data_type for row in sheet.iter_rows() for cell in row if cell.value}
    assert types == {"s"}


# CSV and TSV -------------------------------------------------------------------------------


@pytest.mark.parametrize(("export_format", "delimiter"), [("csv", ";"), ("tsv", "\t")])
def test_text_exports_neutralise_formulas_with_an_apostrophe(export_format, delimiter):
    content, _, _ = exports_source.export(edge_cases(), export_format)

    text = content.decode("utf-8")
    assert text.startswith("\ufeffPilier" + delimiter)
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter))
    cells = [cell for row in rows for cell in row]
    assert "'-Thème commençant par un tiret" in cells
    assert "'@Sous-thème" in cells
    assert "'+Thème" in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    # The pilier and thème are repeated on each of their rows.
    assert [row[0] for row in rows[1:5]] == ["1 Cohésion sociale"] * 4


# The export screen -------------------------------------------------------------------------


@pytest.mark.parametrize("export_format", FORMATS)
def test_an_administrator_downloads_the_export(client, export_format):
    diagnostic = edge_cases()
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=diagnostic.contrat))

    response = client.get(
        reverse("diagnostics:export_source", args=[diagnostic.slug, export_format])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == exports_source.FORMATS[export_format]
    assert response["Content-Disposition"] == (
        f'attachment; filename="cas-limites-tableau-source.{export_format}"'
    )
    expected = exports_source.export(diagnostic, export_format)[0]
    if export_format == "xlsx":  # a workbook records the time it was written

        def values(content):
            sheet = openpyxl.load_workbook(io.BytesIO(content)).active
            return [[cell.value for cell in row] for row in sheet.iter_rows()]

        assert values(response.content) == values(expected)
    else:
        assert response.content == expected


def test_an_unknown_diagnostic_is_a_404(client):
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=DiagnosticFactory().contrat))

    response = client.get(reverse("diagnostics:export_source", args=["inconnu", "xlsx"]))

    assert response.status_code == 404


def test_a_diagnostic_of_another_contract_is_a_404(client):
    """An Administrateur exports the diagnostics of the contracts they administer only: not
    another contract's, be it public or one where they are of the Équipe ville."""
    mine, public, equipe = DiagnosticFactory(), DiagnosticFactory(public=True), DiagnosticFactory()
    user = UserFactory(role=Role.ADMINISTRATEUR, contrat=mine.contrat)
    MembreFactory(contrat=equipe.contrat, compte=user, role=Role.EQUIPE_VILLE)
    client.force_login(user)

    for other in (public, equipe):
        for export_format in FORMATS:
            url = reverse("diagnostics:export_source", args=[other.slug, export_format])
            assert client.get(url).status_code == 404, (other, export_format)
    url = reverse("diagnostics:export_source", args=[mine.slug, "csv"])
    assert client.get(url).status_code == 200


def test_the_export_runs_the_same_queries_whatever_the_size(django_assert_num_queries, montlucon):
    with django_assert_num_queries(5):
        exports_source.source_rows(montlucon)


# Flat exports of the Django admin ----------------------------------------------------------

FLAT = [
    (Quartier, resources.QuartierFlatResource),
    (Diagnostic, resources.DiagnosticFlatResource),
    (Pilier, resources.PilierFlatResource),
    (Theme, resources.ThemeFlatResource),
    (SousTheme, resources.SousThemeFlatResource),
    (Difficulte, resources.DifficulteFlatResource),
    (Indicateur, indicateurs_resources.IndicateurFlatResource),
    (Mesure, indicateurs_resources.MesureFlatResource),
]


def everything():
    """The edge cases, with quartiers, indicator details and measures."""
    diagnostic = edge_cases()
    rive_gauche = QuartierFactory(code="QN00304M", nom="Rive Gauche", communes=["03185"])
    bien_assis = QuartierFactory(code="QN00306M", nom="Bien-Assis", communes=["03185", "03101"])
    diagnostic.quartiers.set([rive_gauche, bien_assis])
    difficulte = Difficulte.objects.get(libelle="- commence par un tiret")
    difficulte.quartiers.set([rive_gauche, bien_assis])
    indicateur = Indicateur.objects.get(libelle="=SOMME(A1:A3)")
    indicateur.type = Indicateur.Type.QUANTITATIF
    indicateur.unite = "%"
    indicateur.periodicite = Indicateur.Periodicite.PONCTUELLE  # a year and a quarter
    indicateur.save()
    Mesure.objects.create(indicateur=indicateur, nature="cible", annee=2030, valeur="12.5")
    Mesure.objects.create(
        indicateur=indicateur, nature="reference", annee=2019, quartier=bien_assis, valeur="3"
    )
    france = TerritoireComparaison.objects.get(code="FM")
    Mesure.objects.create(indicateur=indicateur, annee=2023, territoire=france, valeur="9.1")
    Mesure.objects.create(indicateur=indicateur, annee=2023, quartier=rive_gauche, valeur="14.2")
    Mesure.objects.create(
        indicateur=indicateur, annee=2024, type_periode="trimestre", numero_periode=2, valeur="13"
    )
    return diagnostic


def snapshot():
    """Every object of every model, by natural values (no ids)."""
    return {
        "structure": [structure(diagnostic) for diagnostic in Diagnostic.objects.order_by("slug")],
        "diagnostics": list(
            Diagnostic.objects.order_by("slug").values_list("slug", "titre", "territoire", "statut")
        ),
        "quartiers": sorted(Quartier.objects.values_list("code", "nom", "communes__code")),
        "tags": sorted(
            Difficulte.objects.filter(quartiers__isnull=False).values_list(
                "libelle", "quartiers__code"
            )
        ),
        "indicateurs": sorted(
            Indicateur.objects.values_list(
                "libelle", "type", "unite", "periodicite", "taux", "seuil_secret"
            )
        ),
        "mesures": sorted(
            Mesure.objects.values_list(
                "indicateur__libelle",
                "annee",
                "type_periode",
                "numero_periode",
                "quartier__code",
                "territoire__code",
                "nature",
                "valeur",
            ),
            key=str,
        ),
    }


@pytest.mark.parametrize(("model", "resource_class"), FLAT)
def test_the_flat_exports_give_the_librarys_rows_in_a_few_queries(
    model, resource_class, django_assert_max_num_queries
):
    """Our `export_resource` (each field's exporter looked up once per export) and the
    related rows loaded with the rows (`related`, `loaded`) change nothing to the cells."""
    everything()
    resource = resource_class()
    expected = [
        ModelResource.export_resource(resource, instance)
        for instance in model.objects.order_by("pk")
    ]

    with django_assert_max_num_queries(2):  # the rows, and a prefetch (quartiers)
        queryset = resource.filter_export(model.objects.order_by("pk"))
        rows = [resource.export_resource(instance) for instance in queryset]

    assert rows == expected


@pytest.mark.parametrize("admin_format", [formats.SafeCSV, formats.SafeXLSX])
def test_the_flat_exports_import_back_into_an_empty_site(admin_format):
    everything()
    expected = snapshot()
    files = [(resource, admin_format().export_data(resource().export())) for _, resource in FLAT]
    for model, _ in reversed(FLAT):
        model.objects.all().delete()
    assert not Pilier.objects.exists()

    for resource, content in files:
        result = resource().import_data(admin_format().create_dataset(content), raise_errors=True)
        assert not result.has_validation_errors(), [row.error_dict for row in result.invalid_rows]

    assert snapshot() == expected


def test_a_flat_import_updates_by_natural_key_rather_than_duplicating():
    everything()
    dataset = resources.ThemeFlatResource().export()
    content = (
        formats.SafeCSV()
        .export_data(dataset)
        .replace("Thème sans sous-thème ni élément", "THEME SANS SOUS-THEME NI ELEMENT")
    )

    result = resources.ThemeFlatResource().import_data(
        formats.SafeCSV().create_dataset(content), raise_errors=True
    )

    assert result.totals["new"] == 0
    assert Theme.objects.count() == len(dataset)


def test_a_flat_row_naming_an_unknown_parent_is_refused_in_french():
    everything()
    content = "diagnostic;pilier;libelle;position\r\ncas-limites;9;Nouveau thème;1\r\n"

    result = resources.ThemeFlatResource().import_data(
        formats.SafeCSV().create_dataset(content.replace(";", ","))
    )

    assert result.has_validation_errors()
    messages = [message for row in result.invalid_rows for message in row.error_dict["pilier"]]
    assert messages == ["Le diagnostic « cas-limites » n'a pas de pilier n° 9."]
    assert not Theme.objects.filter(libelle="Nouveau thème").exists()


def test_flat_csv_exports_neutralise_formulas():
    everything()

    content = formats.SafeCSV().export_data(indicateurs_resources.IndicateurFlatResource().export())

    assert "'=SOMME(A1:A3)" in content
    assert ",=SOMME" not in content


def test_flat_xlsx_exports_write_text_never_formulas():
    everything()

    content = formats.SafeXLSX().export_data(resources.DifficulteFlatResource().export())

    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "- commence par un tiret" in values
    assert "f" not in {cell.data_type for row in sheet.iter_rows() for cell in row}


# Who may use the admin's imports and exports ------------------------------------------------


@pytest.mark.parametrize("action", ["import", "export"])
def test_a_contract_administrator_never_imports_or_exports_in_the_admin(client, action):
    """The admin is the national administrator's only: a contract's Administrateur, even
    flagged is_staff, is sent to the admin's login, which refuses them."""
    contrat = DiagnosticFactory().contrat
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=contrat, is_staff=True))

    for url in (
        reverse(f"admin:diagnostics_pilier_{action}"),
        reverse("admin:diagnostics_pilier_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('admin:login')}?next={url}"
    assert client.get(response["Location"]).status_code == 403


@pytest.mark.parametrize("action", ["import", "export"])
def test_superusers_import_and_export_in_the_admin(client, action):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get(reverse(f"admin:indicateurs_mesure_{action}"))

    assert response.status_code == 200
    assert "xlsx" in response.content.decode().lower()
