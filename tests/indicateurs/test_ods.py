"""Files of measures saved by LibreOffice (.ods): imported exactly as the same table in
.xlsx, with the same protections against hostile files.

The ODS files are written by LibreOffice itself, in the tests' setup: workbooks made the
way partners make them (tests/indicateurs/imports/test_import_mesures.py) are converted
with `soffice --headless --convert-to ods` (tests/libreoffice.py).
"""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from comptes.roles import Role
from diagnostics.models import Import, ImportEnAttente
from indicateurs.imports import Layout, import_measures
from indicateurs.models import Indicateur, Mesure
from tests.diagnostics.imports.test_ods import repeated_rows, with_content, with_parts
from tests.factories import UserFactory
from tests.indicateurs.imports.test_import_mesures import CHOMAGE, Setting, _state, xlsx

WORKBOOKS = {
    "long.xlsx": xlsx(
        [
            ["Indicateur", "Quartier", "Période", "Valeur", "Source", "Commentaire"],
            [CHOMAGE, "QN00304M", "T1 2024", 21.5, "Insee", "provisoire"],
            [CHOMAGE, "QN00304M", "2024-T2", 22, "Insee", ""],
            [CHOMAGE, "QN00305M", "03/2024", 30, "", ""],
            [CHOMAGE, "QN00305M", datetime.datetime(2024, 5, 1), 32, "", ""],
            [CHOMAGE, "Bien-Assis", "juin 2024", 33, "", "« à revoir »"],
            [CHOMAGE, "QN00306M", 2022, 0.1 + 0.2, "", ""],
            [CHOMAGE, "Ensemble du territoire", 2023, "nd", "", ""],
            ["Ambiance dans le quartier", "", 2023, "Apaisée depuis l'été", "Ville", ""],
            ["Nombre d'interventions", "QN00305M", 2023, "1 204", "", ""],
        ],
        title="Chômage par quartier — source Insee",
    ),
    "large.xlsx": xlsx(
        [
            ["Indicateur", "Quartier", "Unité", "2021", "2022", "2023", "Source"],
            [CHOMAGE, "Rive Gauche", "%", 25.1, 24.8, None, "Insee"],
            [CHOMAGE, "Ensemble du territoire", "%", 13, "nd", 12.5, "Insee"],
            ["nombre d'allocataires caf", "", "", "", "", "1 500", "CAF"],
            ["Nombre d'interventions", "QN00305M", "", 3, "à venir", "", ""],
        ],
        title="Tableau de bord Quartiers 2030",
    ),
    "erreurs.xlsx": xlsx(
        [
            ["Indicateur", "Quartier", "Période", "Valeur"],
            [CHOMAGE, "QN00304M", "2023", "abc"],
            ["Inconnu", "Ailleurs", "2023-13", "1"],
            ["Nombre d'animateurs", "", "2023", "1"],
        ]
    ),
}


@pytest.fixture(scope="module")
def ods_files(libreoffice):
    """Each workbook of WORKBOOKS as LibreOffice saves it in .ods."""
    converted = libreoffice.convert(WORKBOOKS, "ods")
    return {name.replace(".xlsx", ".ods"): content for name, content in converted.items()}


@pytest.fixture
def setting():
    setting = Setting()
    Indicateur.objects.filter(pk=setting.chomage.pk).update(periodicite="ponctuelle")
    return setting


def outcome(setting, filename, content, user):
    """What the import of a file does (rolled back): counts, messages, measures."""
    with transaction.atomic():
        report = import_measures(setting.diagnostic, filename, content, user=user)
        result = {
            "ok": report.ok,
            "layout": report.layout,
            "counts": (report.created, report.updated, report.unchanged),
            "errors": report.errors,
            "warnings": report.warnings,
            "state": _state(),
        }
        transaction.set_rollback(True)
    return result


@pytest.mark.parametrize("name", ["long", "large", "erreurs"])
def test_an_ods_saved_by_libreoffice_imports_as_the_xlsx(setting, ods_files, name):
    user = UserFactory(username="agent-import")

    from_xlsx = outcome(setting, f"{name}.xlsx", WORKBOOKS[f"{name}.xlsx"], user)
    from_ods = outcome(setting, f"{name}.ods", ods_files[f"{name}.ods"], user)

    assert from_ods == from_xlsx
    if name == "erreurs":
        assert not from_ods["ok"]
        assert len(from_ods["errors"]) >= 3
    else:
        assert from_ods["ok"], from_ods["errors"]
        assert len(from_ods["state"][0]) >= 5
        assert from_ods["layout"] == (Layout.LONG if name == "long" else Layout.WIDE)


def test_the_values_of_an_ods_are_those_typed(setting, ods_files):
    report = import_measures(setting.diagnostic, "long.ods", ods_files["long.ods"])

    assert report.ok, report.errors
    values = {
        (m.quartier.code if m.quartier else None, m.annee, m.type_periode, m.numero_periode): (
            m.valeur,
            m.texte,
        )
        for m in Mesure.objects.select_related("quartier")
    }
    assert values[("QN00304M", 2024, "trimestre", 1)][0] == Decimal("21.5")
    assert values[("QN00305M", 2024, "mois", 5)][0] == 32
    assert values[("QN00306M", 2022, "annee", 0)][0] == Decimal("0.3")
    assert values[(None, 2023, "annee", 0)] == (None, "Apaisée depuis l'été")
    assert values[("QN00305M", 2023, "annee", 0)][0] == 1204


def test_the_upload_screen_imports_measures_from_an_ods(client, setting, ods_files):
    user = UserFactory(role=Role.ADMINISTRATEUR, contrat=setting.diagnostic.contrat)
    client.force_login(user)

    response = client.post(
        reverse("diagnostics:import_nouveau"),
        {
            "nature": "mesures",
            "diagnostic": setting.diagnostic.pk,
            "fichier": SimpleUploadedFile("valeurs.ods", ods_files["large.ods"]),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.post(response["Location"], {"action": "confirmer"})

    record = Import.objects.get(nature=Import.Nature.MESURES)
    assert record.nom_fichier == "valeurs.ods"
    assert Mesure.objects.filter(indicateur=setting.chomage).count() == 4
    assert not ImportEnAttente.objects.filter(confirme_le__isnull=True).exists()


HOSTILE = [
    (
        "lignes-repetees",
        lambda ods: with_content(ods, repeated_rows(100_000_000)),
        "Le fichier dépasse la limite de 200000 lignes",
    ),
    (
        "cellules-repetees",
        lambda ods: with_content(ods, repeated_rows(100_000, 16_384)),
        "Ce classeur s'étend sur 100000 lignes et 16384 colonnes",
    ),
    (
        "texte-opendocument",
        lambda ods: with_parts(ods, {"mimetype": b"application/vnd.oasis.opendocument.text"}),
        "Ce fichier OpenDocument n'est pas un classeur (son type est « text »)",
    ),
    (
        "pas-un-zip",
        lambda ods: b"Indicateur;Valeur\r\n",
        "Ce fichier n'est pas un classeur OpenDocument (.ods) lisible",
    ),
]


@pytest.mark.parametrize(
    ("builder", "message"), [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE]
)
def test_a_hostile_ods_of_measures_is_refused_with_a_french_message(
    setting, ods_files, builder, message
):
    before = (Mesure.objects.count(), Import.objects.count())

    report = import_measures(setting.diagnostic, "valeurs.ods", builder(ods_files["long.ods"]))

    assert not report.ok
    assert message in " ".join(text for _, text in report.errors), report.errors
    assert (Mesure.objects.count(), Import.objects.count()) == before
