"""The summary that opens an import's preview (`diagnostics.imports.preview`): its numbers
are the ones the confirmation then writes, for a source table (new diagnostic, existing
edition) and for values of indicators; a refused file says so, and why, and never that an
import was "annulé"."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from diagnostics import editing
from diagnostics.models import (
    Diagnostic,
    Difficulte,
    Import,
    ImportEnAttente,
    Pilier,
    SousTheme,
    Theme,
)
from indicateurs.models import Indicateur, Mesure
from tests.conftest import SEED
from tests.factories import IndicateurFactory

HEADER = "Pilier\tThème\tSous-thème\tDifficultés prégnantes\tIndicateur\n"
NOUVEAU = {
    "nature": "diagnostic",
    "titre": "Copie du diagnostic",
    "slug": "copie",
    "territoire": "Montluçon Communauté",
    "annee_debut": "2024",
    "annee_fin": "2030",
}
LEVELS = (Pilier, Theme, SousTheme, Difficulte, Indicateur)


def upload(client, filename, content, **fields):
    data = {**NOUVEAU, **fields, "fichier": SimpleUploadedFile(filename, content)}
    response = client.post(reverse("diagnostics:import_nouveau"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportEnAttente.objects.latest("pk").token


def preview(client, token):
    response = client.get(reverse("diagnostics:import_apercu", args=[token]))
    assert response.status_code == 200
    return response


def shown_counts(page):
    """{key: number} of the summary's figures, as the page shows them."""
    return {
        key: int(number)
        for key, number in re.findall(
            r'<div class="chiffre chiffre-(\w+)[^"]*">\s*<dt>(?:(?!</dt>).)*</dt>\s*'
            r'<dd><span class="chiffre-nombre">(\d+)</span>',
            page,
        )
    }


def confirm(client, token, **choices):
    url = reverse("diagnostics:import_apercu", args=[token])
    return client.post(url, {"action": "confirmer", **choices})


def items_of(diagnostic):
    return sum(model.objects.filter(diagnostic=diagnostic).count() for model in LEVELS)


def test_the_summary_of_the_seed_comes_first_and_counts_what_the_import_creates(client, admin):
    token = upload(client, SEED.name, SEED.read_bytes())

    response = preview(client, token)

    page = response.content.decode()
    summary = response.context["synthese"]
    shown = shown_counts(page)
    created = sum(totals["created"] for _, _, totals in response.context["niveaux"])
    assert shown == {
        "created": created,
        "changed": 0,
        "unchanged": 0,
        "removed": 0,
        "warnings": len(response.context["report"].warnings),
        "errors": 0,
    }
    assert shown["warnings"] > 0  # the seed has shifted rows, among others
    # The summary, then the confirm button, then everything else; a second one at the end.
    assert page.index('class="chiffres-import"') < page.index('value="confirmer"')
    assert page.index('value="confirmer"') < page.index('id="avertissements-titre"')
    assert page.index('value="confirmer"') < page.index('id="niveaux-titre"')
    assert page.count('value="confirmer"') == 2
    assert 'form="confirmation" name="action" value="confirmer"' in page
    assert "Dans un nouveau diagnostic : Copie du diagnostic" in page

    confirm(client, token)

    diagnostic = Diagnostic.objects.get(slug="copie")
    assert items_of(diagnostic) == summary.number("created") == created
    counts = Import.objects.latest("pk").compte_rendu["counts"]
    assert sum(level["created"] for level in counts.values()) == created
    assert len(Import.objects.latest("pk").compte_rendu["warnings"]) == shown["warnings"]


def test_into_an_existing_edition_the_summary_counts_what_is_created_continued_and_kept(
    client, admin, montlucon, paul
):
    theme = Theme.objects.get(diagnostic=montlucon, libelle="Santé")
    added = editing.create(Difficulte(theme=theme, libelle="Saisie à la main"), paul)
    pilier = Pilier.objects.filter(diagnostic=montlucon).order_by("numero").first()
    sous_theme = SousTheme.objects.filter(diagnostic=montlucon, theme__pilier=pilier).first()
    table = HEADER + (
        f"{pilier.libelle}\t{sous_theme.theme.libelle}\t{sous_theme.libelle}\t"
        "- Un premier constat nouveau\n- Un second constat nouveau\tUn indicateur nouveau\n"
    )
    before = items_of(montlucon)
    token = upload(client, "complement.tsv", table.encode(), diagnostic=str(montlucon.pk))

    response = preview(client, token)

    shown = shown_counts(response.content.decode())
    assert shown["created"] == 3  # two difficultés and an indicateur
    assert shown["changed"] == 3  # their pilier, thème and sous-thème get something new
    assert shown["unchanged"] == 0
    assert shown["removed"] == 0  # nothing is removed unless ticked
    assert shown["errors"] == 0
    removable = len(response.context["report"].removable_absents())
    assert removable > 1
    assert f"{removable} éléments du site absents du fichier : conservés" in (
        response.content.decode()
    )

    confirm(client, token, retirer=[f"difficulte:{added.pk}"])

    # What was announced is what was written, and the ticked box removed one more.
    assert items_of(montlucon) == before + shown["created"] - 1
    assert not Difficulte.objects.filter(pk=added.pk).exists()
    record = Import.objects.latest("pk")
    assert sum(level["created"] for level in record.compte_rendu["counts"].values()) == 3


def test_a_file_that_changes_nothing_says_so_in_its_summary(client, admin, montlucon):
    token = upload(client, SEED.name, SEED.read_bytes(), diagnostic=str(montlucon.pk))

    response = preview(client, token)

    page = response.content.decode()
    shown = shown_counts(page)
    assert shown["created"] == shown["changed"] == shown["removed"] == 0
    assert shown["unchanged"] == items_of(montlucon)
    assert "Aucune modification" in page
    before = items_of(montlucon)
    confirm(client, token)
    assert items_of(montlucon) == before


@pytest.fixture
def indicateur(montlucon):
    return IndicateurFactory(
        sous_theme=SousTheme.objects.filter(diagnostic=montlucon).first(),
        libelle="Nombre de bénéficiaires",
        type=Indicateur.Type.QUANTITATIF,
    )


def values_file(*rows):
    lines = ["Indicateur;Année;Valeur"]
    lines += [f"Nombre de bénéficiaires;{year};{value}" for year, value in rows]
    return "\r\n".join(lines).encode()


def test_the_summary_of_values_counts_what_is_created_updated_and_left(client, admin, indicateur):
    diagnostic = indicateur.sous_theme.diagnostic
    token = upload(
        client,
        "valeurs.csv",
        values_file((2021, 10), (2022, 12)),
        nature="mesures",
        diagnostic=str(diagnostic.pk),
    )
    shown = shown_counts(preview(client, token).content.decode())
    assert shown == {"created": 2, "changed": 0, "unchanged": 0, "warnings": 0, "errors": 0}
    confirm(client, token)
    assert Mesure.objects.filter(indicateur=indicateur).count() == 2

    token = upload(
        client,
        "valeurs.csv",
        values_file((2021, 10), (2022, 15), (2023, 17), (2024, 20)),
        nature="mesures",
        diagnostic=str(diagnostic.pk),
    )
    page = preview(client, token).content.decode()
    shown = shown_counts(page)
    assert shown == {"created": 2, "changed": 1, "unchanged": 1, "warnings": 0, "errors": 0}
    assert page.index('class="chiffres-import"') < page.index('value="confirmer"')

    confirm(client, token)

    values = dict(
        Mesure.objects.filter(indicateur=indicateur).values_list("annee", "valeur").order_by()
    )
    assert {year: int(value) for year, value in values.items()} == {
        2021: 10,
        2022: 15,
        2023: 17,
        2024: 20,
    }
    assert Import.objects.latest("pk").compte_rendu["counts"] == {
        "created": 2,
        "updated": 1,
        "unchanged": 1,
    }


def test_a_refused_file_says_it_is_refused_and_why_never_that_an_import_was_cancelled(
    client, admin
):
    table = HEADER + "\tSanté\tSoins\t- Délais\t\n"
    token = upload(client, "erreurs.tsv", table.encode())

    page = preview(client, token).content.decode()

    assert "annulé" not in page
    assert "<h1>Fichier « erreurs.tsv » refusé</h1>" in page
    assert "Ce fichier est refusé : il n’a pas été importé et rien n’a été enregistré." in page
    assert "Pourquoi le fichier est refusé (1)" in page
    assert "Ligne 2</span> : aucun pilier" in page
    assert 'value="confirmer"' not in page
    assert "chiffres-import" not in page
    assert not Diagnostic.objects.filter(slug="copie").exists()


def test_a_refused_file_of_values_gives_the_number_of_all_its_errors(
    client, admin, indicateur, settings
):
    from indicateurs.imports import measures

    listed = measures.MAX_REPORTED_ERRORS
    rows = [(2000 + n % 50, "pas un nombre") for n in range(listed + 5)]
    token = upload(
        client,
        "valeurs.csv",
        values_file(*rows),
        nature="mesures",
        diagnostic=str(indicateur.sous_theme.diagnostic.pk),
    )

    page = preview(client, token).content.decode()

    assert "annulé" not in page
    assert f"Pourquoi le fichier est refusé ({listed + 5})" in page
    assert f"{listed + 5} en tout : seules les {listed} premières sont listées ici." in page
    assert not Mesure.objects.exists()
