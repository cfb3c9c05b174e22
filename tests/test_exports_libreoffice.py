"""Every export of the site opens in LibreOffice without error: each file is converted by
`soffice --headless --convert-to csv` (tests/libreoffice.py) and the text LibreOffice
reads from it holds the values of the diagnostic.

Exports: the lists of difficultés and indicateurs (XLSX, CSV), the tableau de bord (XLSX,
CSV), the source table (XLSX with merged cells, CSV, TSV) and the admin's flat exports
(XLSX, CSV).
"""

import csv
import io

import pytest
from django.urls import reverse

from comptes.roles import Role
from diagnostics.admin.formats import SafeCSV, SafeXLSX
from diagnostics.admin.resources import PilierFlatResource
from diagnostics.imports import source_export
from tests.factories import UserFactory

# LibreOffice's CSV import filter: separator (as a character code), quote, UTF-8 (76),
# first line 1.
TEXT_FILTER = "Text - txt - csv (StarCalc)"
TEXT_FILTERS = {
    ";": f"{TEXT_FILTER}:59,34,76,1",
    ",": f"{TEXT_FILTER}:44,34,76,1",
    "\t": f"{TEXT_FILTER}:9,34,76,1",
}
# LibreOffice writes its CSV with "," and UTF-8.
CSV_OUT = f"csv:{TEXT_FILTER}:44,34,76,1"
PILIER = "COHESION SOCIALE"
DIFFICULTE = "Difficulté à coordonner l'accompagnement de l'enfant avec un accompagnement"
INDICATEUR = "Nombre d'interventions"


def body(response):
    assert response.status_code == 200, response.content[:500]
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture
def exports(client, montlucon):
    """{file name: (its bytes, the separator of a text file or None, values it holds)}."""
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=montlucon.contrat))
    files = {}
    for export_format in ("xlsx", "csv"):
        separator = None if export_format == "xlsx" else ";"
        files[f"difficultes.{export_format}"] = (
            body(
                client.get(
                    reverse("diagnostics:difficultes_export", kwargs={"format": export_format}),
                    {"diagnostic": montlucon.slug},
                )
            ),
            separator,
            [PILIER, DIFFICULTE],
        )
        files[f"indicateurs.{export_format}"] = (
            body(
                client.get(
                    reverse("indicateurs:export", kwargs={"format": export_format}),
                    {"diagnostic": montlucon.slug},
                )
            ),
            separator,
            [PILIER, INDICATEUR],
        )
        files[f"tableau-de-bord.{export_format}"] = (
            body(
                client.get(
                    reverse(
                        "indicateurs:tableau_de_bord_export", args=[montlucon.slug, export_format]
                    )
                )
            ),
            separator,
            [INDICATEUR],
        )
    for export_format, separator in (("xlsx", None), ("csv", ";"), ("tsv", "\t")):
        content, _, _ = source_export.export(montlucon, export_format)
        files[f"tableau-source.{export_format}"] = (content, separator, [PILIER, DIFFICULTE])
    dataset = PilierFlatResource().export()
    files["admin-piliers.xlsx"] = (SafeXLSX().export_data(dataset), None, [PILIER])
    files["admin-piliers.csv"] = (SafeCSV().export_data(dataset).encode(), ",", [PILIER])
    return files


def test_every_export_opens_in_libreoffice(libreoffice, exports):
    workbooks = {name: content for name, (content, sep, _) in exports.items() if sep is None}
    converted = libreoffice.convert(workbooks, CSV_OUT)
    for separator, infilter in TEXT_FILTERS.items():
        texts = {name: content for name, (content, sep, _) in exports.items() if sep == separator}
        converted.update(libreoffice.convert(texts, CSV_OUT, infilter=infilter))

    assert set(converted) == set(exports)
    for name, content in converted.items():
        text = content.decode("utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) > 2, (name, text[:500])
        assert len(rows[0]) > 1, (name, rows[0])  # its columns were recognised
        for value in exports[name][2]:
            assert value in text, (name, value, text[:1000])
