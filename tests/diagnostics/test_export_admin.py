"""The admin's flat export of measures: streamed, the same file as the library's export,
in a number of queries that does not grow with the measures."""

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from comptes.roles import Role
from diagnostics.admin.formats import ADMIN_FORMATS, SafeCSV, SafeXLSX
from diagnostics.models import Diagnostic
from indicateurs.admin.resources import MesureFlatResource
from indicateurs.models import Indicateur, Mesure
from tests.factories import (
    DiagnosticFactory,
    IndicateurFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)


@pytest.fixture
def superuser(client):
    user = UserFactory(username="racine", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def measures(count):
    """`count` measures of indicators under a sous-thème and at a thème's level, some
    values qualitative, some formula-like, on quartiers and the whole territory."""
    diagnostic = DiagnosticFactory(slug=f"diag-{count}")
    quartier = QuartierFactory(code=f"QN{count:05d}M")
    sous_theme = SousThemeFactory(theme__pilier__diagnostic=diagnostic, libelle="Emploi")
    theme = ThemeFactory(pilier=sous_theme.theme.pilier, libelle="Santé")
    chomage = IndicateurFactory(
        sous_theme=sous_theme, libelle="Taux de chômage", type=Indicateur.Type.QUANTITATIF
    )
    ambiance = IndicateurFactory(
        au_niveau_du_theme=True, theme=theme, libelle="Ambiance", type="qualitatif"
    )
    for index in range(count):
        if index % 3 == 2:
            Mesure.objects.create(
                indicateur=ambiance, annee=2000 + index, texte="=SOMME(A1:A2)", source="Ville"
            )
        else:
            Mesure.objects.create(
                indicateur=chomage,
                annee=2000 + index,
                quartier=quartier if index % 2 else None,
                valeur=Decimal("12.5") + index,
                commentaire="provisoire, « à revoir »",
            )


def export(client, file_format):
    fields = MesureFlatResource().get_export_order()
    data = {
        "format": str(ADMIN_FORMATS.index(file_format)),
        "resource": "0",
        **{f"mesureflatresource_{name}": "on" for name in fields},
    }
    response = client.post(reverse("admin:indicateurs_mesure_export"), data)
    assert response.status_code == 200, response.content[:500]
    return response, b"".join(response.streaming_content)


def library_export(file_format):
    """What django-import-export's own export gives for the same measures."""
    dataset = MesureFlatResource().export(queryset=Mesure.objects.all())
    return file_format().export_data(dataset)


def csv_lines(content):
    header, *rows = content.decode().split("\r\n")
    return header, sorted(rows)


def xlsx_rows(content):
    sheet = load_workbook(io.BytesIO(content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    return header, sorted(rows, key=repr)


def test_the_csv_export_is_streamed_and_is_the_librarys_file(client, superuser):
    measures(9)

    response, content = export(client, SafeCSV)

    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="Mesure-' in response["Content-Disposition"]
    assert csv_lines(content) == csv_lines(library_export(SafeCSV).encode())
    assert "'=SOMME(A1:A2)" in content.decode()


def test_the_xlsx_export_is_streamed_and_is_the_librarys_workbook(client, superuser):
    measures(9)

    response, content = export(client, SafeXLSX)

    assert response.streaming
    assert xlsx_rows(content) == xlsx_rows(library_export(SafeXLSX))


@pytest.mark.parametrize("file_format", [SafeCSV, SafeXLSX])
def test_the_export_runs_as_many_queries_for_many_measures_as_for_a_few(
    client, superuser, file_format
):
    counted = []
    for count in (3, 30):
        Mesure.objects.all().delete()
        measures(count)
        with CaptureQueriesContext(connection) as queries:
            _, content = export(client, file_format)
        assert content
        counted.append(len(queries))

    assert counted[0] == counted[1]


def test_only_superusers_export(client):
    """A contract's Administrateur does not enter the admin (the national administrator's
    only, whatever is_staff says): no export there."""
    measures(3)
    contrat = Diagnostic.objects.get(slug="diag-3").contrat
    client.force_login(
        UserFactory(
            username="sophie.admin", role=Role.ADMINISTRATEUR, contrat=contrat, is_staff=True
        )
    )
    url = reverse("admin:indicateurs_mesure_export")

    response = client.post(url, {"format": "0"})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}"
    assert client.get(response["Location"]).status_code == 403
