"""The import screens: upload → preview (nothing written) → confirm → the import's page.

Files are real: the seed table, small TSV tables, workbooks made with openpyxl.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comptes.roles import Role
from diagnostics.imports import upload as uploads
from diagnostics.models import (
    CelluleSource,
    Diagnostic,
    Difficulte,
    Import,
    ImportEnAttente,
    Membre,
    Pilier,
    SousTheme,
    Theme,
)
from indicateurs.models import Indicateur, Mesure
from tests.conftest import SEED
from tests.factories import (
    ContratFactory,
    DiagnosticFactory,
    IndicateurFactory,
    MembreFactory,
    QuartierFactory,
    SousThemeFactory,
    UserFactory,
)

HEADER = "Pilier\tThème\tSous-thème\tDifficultés prégnantes\tIndicateur\n"
NOUVEAU = {
    "nature": "diagnostic",
    "titre": "Contrat de ville de Montluçon — diagnostic 2024",
    "slug": "montlucon-2024",
    "territoire": "Montluçon Communauté",
    "annee_debut": "2024",
    "annee_fin": "2030",
}


@pytest.fixture
def contrat():
    """The contract Sophie (`admin`) administers: one of its own, empty, so that the only
    imports are the tests' (a test that imports into Montluçon makes her its Administrateur
    too, `administer`)."""
    return ContratFactory()


def administer(user, diagnostic):
    MembreFactory(contrat=diagnostic.contrat, compte=user, role=Role.ADMINISTRATEUR)


def database_counts():
    models = (Diagnostic, Pilier, Theme, SousTheme, Difficulte, Indicateur, Import, CelluleSource)
    return {model.__name__: model.objects.count() for model in models}


def upload(client, filename, content, **fields):
    data = {**NOUVEAU, **fields, "fichier": SimpleUploadedFile(filename, content)}
    return client.post(reverse("diagnostics:import_nouveau"), data)


def seed():
    return SEED.read_bytes()


def token_of(response):
    assert response.status_code == 302, response.content.decode()[:2000]
    pending = ImportEnAttente.objects.get()
    assert response["Location"] == reverse("diagnostics:import_apercu", args=[pending.token])
    return pending.token


def confirm(client, token):
    return client.post(reverse("diagnostics:import_apercu", args=[token]), {"action": "confirmer"})


# Upload and preview -------------------------------------------------------------------------


def test_the_upload_form_offers_both_natures_and_a_new_diagnostic(client, admin):
    response = client.get(reverse("diagnostics:import_nouveau"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Tableau du diagnostic" in page
    assert "Valeurs d&#x27;indicateurs" in page
    assert "Nouveau diagnostic, créé par l&#x27;import" in page
    assert 'enctype="multipart/form-data"' in page


def test_the_preview_of_the_seed_shows_each_level_and_writes_nothing(client, admin):
    before = database_counts()

    token = token_of(upload(client, SEED.name, seed()))
    response = client.get(reverse("diagnostics:import_apercu", args=[token]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Aperçu : rien n’est encore enregistré" in page
    assert "Dans un nouveau diagnostic : Contrat de ville de Montluçon — diagnostic 2024" in page
    assert "Nouveau : Contrat de ville de Montluçon — diagnostic 2024 (montlucon-2024)" in page
    report = uploads.preview(ImportEnAttente.objects.get(), admin)
    totals = {level.key: totals for level, _, totals in report.levels()}
    assert totals["pilier"] == {"created": 3, "continued": 0, "unchanged": 0}
    assert totals["indicateur"] == {"created": 18, "continued": 0, "unchanged": 0}
    for level, entries, _ in report.levels():
        # Each level folded, its number of lines in the summary that unfolds it.
        name = f"{level.nom.pluriel[0].upper()}{level.nom.pluriel[1:]} ({len(entries)})"
        assert f'<details class="niveau-apercu" id="niveau-{level.key}">' in page
        assert f"<summary>{name}</summary>" in page
    assert "<summary>Piliers (3)</summary>" in page
    assert "Programme de Réussite Éducative" in page
    assert "Confirmer l’import" in page
    assert database_counts() == before


def test_the_shifted_rows_of_the_seed_are_highlighted_in_the_preview(client, admin):
    token = token_of(upload(client, SEED.name, seed()))
    report = uploads.preview(ImportEnAttente.objects.get(), admin)
    assert report.shifted_lines  # the seed has rows shifted one column to the right

    page = client.get(reverse("diagnostics:import_apercu", args=[token])).content.decode()

    shown = ", ".join(str(line) for line in report.shifted_lines)
    assert f"Lignes décalées d’une colonne, remises en place : {shown}." in page
    assert page.count("(décalée)") >= len(report.shifted_lines)
    assert 'class="statut-created ligne-decalee"' in page
    for line in report.shifted_lines:
        assert f"Ligne {line}</span> : ligne décalée d&#x27;une colonne" in page


def test_a_preview_shows_what_would_be_continued_and_left_unchanged(client, admin, montlucon):
    administer(admin, montlucon)
    table = HEADER + (
        "1 COHESION SOCIALE\tÉducation\tProgramme de Réussite Éducative\t"
        "- Un nouveau constat sur la réussite éducative\t\n"
    )
    token = token_of(upload(client, "complement.tsv", table.encode(), diagnostic=str(montlucon.pk)))

    report = uploads.preview(ImportEnAttente.objects.get(), admin)
    page = client.get(reverse("diagnostics:import_apercu", args=[token])).content.decode()

    statuses = {
        level.key: [(entry.libelle, entry.status) for entry in entries]
        for level, entries, _ in report.levels()
    }
    assert statuses["pilier"] == [("COHESION SOCIALE", "continued")]
    assert statuses["theme"] == [("Éducation", "continued")]
    assert statuses["sous_theme"] == [("Programme de Réussite Éducative", "continued")]
    assert statuses["difficulte"] == [("Un nouveau constat sur la réussite éducative", "created")]
    assert "À compléter" in page
    assert "À créer" in page
    assert "1. COHESION SOCIALE › Éducation › Programme de Réussite Éducative" in page


def test_a_file_with_errors_shows_them_by_line_and_has_no_confirm_button(client, admin):
    table = HEADER + "\tSanté\tSoins\t- Délais\t\n1 Santé\t" + "t" * 300 + "\t\t\t\n"
    before = database_counts()

    token = token_of(upload(client, "erreurs.tsv", table.encode()))
    response = client.get(reverse("diagnostics:import_apercu", args=[token]))

    page = response.content.decode()
    assert "<h1>Fichier « erreurs.tsv » refusé</h1>" in page
    assert "il n’a pas été importé et rien n’a été enregistré" in page
    assert "annulé" not in page
    assert "Ligne 2</span> : aucun pilier n&#x27;est indiqué sur cette ligne ni au-dessus." in page
    assert "Confirmer l’import" not in page
    assert 'value="confirmer"' not in page
    assert "Abandonner ce dépôt" in page
    # Posting a confirmation anyway writes nothing.
    confirm(client, token)
    assert database_counts() == before


def test_an_unreadable_file_gets_a_french_message_and_nothing_is_written(client, admin):
    before = database_counts()
    token = token_of(upload(client, "rapport.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"))

    page = client.get(reverse("diagnostics:import_apercu", args=[token])).content.decode()

    assert (
        "Ce fichier est un PDF : enregistrez le tableau au format Excel (.xlsx), "
        "ODS (LibreOffice) ou CSV."
    ) in page
    assert 'value="confirmer"' not in page
    assert database_counts() == before


# Confirmation -------------------------------------------------------------------------------


def test_confirming_imports_the_seed_and_shows_the_import(client, admin):
    token = token_of(upload(client, SEED.name, seed()))

    response = confirm(client, token)

    record = Import.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("diagnostics:import_detail", args=[record.pk])
    diagnostic = Diagnostic.objects.get(slug="montlucon-2024")
    assert diagnostic.titre == NOUVEAU["titre"]
    assert diagnostic.statut == Diagnostic.Statut.BROUILLON
    assert record.diagnostic == diagnostic
    assert record.importe_par == admin
    assert Pilier.objects.filter(diagnostic=diagnostic).count() == 3
    page = client.get(response["Location"]).content.decode()
    assert f"Import de « {SEED.name} » enregistré." in page
    assert "Sophie Durand" in page


def test_the_uploaded_file_waits_in_the_database_and_is_dropped_once_imported(client, admin):
    token = token_of(upload(client, SEED.name, seed()))
    pending = ImportEnAttente.objects.get()
    assert bytes(pending.contenu) == seed()
    assert pending.taille == len(seed())
    assert pending.depose_par == admin
    assert pending.expire_le > timezone.now()

    confirm(client, token)

    pending.refresh_from_db()
    assert bytes(pending.contenu) == b""
    assert pending.confirme_le is not None
    assert pending.import_enregistre == Import.objects.get()


def test_confirming_twice_imports_once(client, admin):
    token = token_of(upload(client, SEED.name, seed()))
    confirm(client, token)
    after_first = database_counts()

    response = confirm(client, token)

    record = Import.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("diagnostics:import_detail", args=[record.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Ce fichier a déjà été importé : rien n&#x27;a été enregistré une seconde fois." in page
    assert database_counts() == after_first


def test_only_its_uploader_may_preview_or_confirm_an_upload(client, admin, contrat):
    token = token_of(upload(client, SEED.name, seed()))
    before = database_counts()
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=contrat))

    preview = client.get(reverse("diagnostics:import_apercu", args=[token]))
    confirmation = confirm(client, token)

    for response in (preview, confirmation):
        assert response.status_code == 404
        assert "Ce dépôt de fichier n&#x27;existe pas ou plus" in response.content.decode()
    assert database_counts() == before


def test_an_expired_upload_is_refused_in_french(client, admin):
    token = token_of(upload(client, SEED.name, seed()))
    ImportEnAttente.objects.update(expire_le=timezone.now() - timedelta(seconds=1))
    before = database_counts()

    preview = client.get(reverse("diagnostics:import_apercu", args=[token]))
    confirmation = confirm(client, token)

    for response in (preview, confirmation):
        assert response.status_code == 410
        assert "Ce dépôt a expiré (il était valable 1 heure) : déposez le fichier à nouveau." in (
            response.content.decode()
        )
    assert database_counts() == before


def test_expired_uploads_are_deleted_when_another_file_is_uploaded(client, admin, contrat):
    token_of(upload(client, SEED.name, seed()))
    ImportEnAttente.objects.update(expire_le=timezone.now() - timedelta(seconds=1))
    other = DiagnosticFactory(contrat=contrat)

    client.post(
        reverse("diagnostics:import_nouveau"),
        {
            "nature": "diagnostic",
            "diagnostic": other.pk,
            "fichier": SimpleUploadedFile("a.tsv", seed()),
        },
    )

    assert list(ImportEnAttente.objects.values_list("diagnostic", flat=True)) == [other.pk]


def test_abandoning_an_upload_forgets_it(client, admin):
    token = token_of(upload(client, SEED.name, seed()))

    response = client.post(
        reverse("diagnostics:import_apercu", args=[token]), {"action": "abandonner"}
    )

    assert response["Location"] == reverse("diagnostics:import_nouveau")
    assert not ImportEnAttente.objects.exists()
    assert (
        "Dépôt abandonné : rien n&#x27;a été importé."
        in client.get(response["Location"]).content.decode()
    )


def test_a_file_bringing_nothing_new_says_so(client, admin, montlucon):
    administer(admin, montlucon)
    token = token_of(upload(client, SEED.name, seed(), diagnostic=str(montlucon.pk)))
    before = database_counts()

    response = confirm(client, token)

    assert response["Location"] == reverse("diagnostics:imports")
    page = client.get(response["Location"]).content.decode()
    assert "Aucune modification : tout le contenu de ce fichier est déjà présent." in page
    assert database_counts() == before


def test_a_slug_taken_between_preview_and_confirmation(client, admin):
    token = token_of(upload(client, SEED.name, seed()))
    DiagnosticFactory(slug="montlucon-2024")
    before = database_counts()

    response = confirm(client, token)

    assert response.status_code == 409
    assert "Un diagnostic porte déjà l&#x27;identifiant court « montlucon-2024 »" in (
        response.content.decode()
    )
    assert database_counts() == before


# The upload form's errors ------------------------------------------------------------------


def test_a_new_diagnostic_needs_its_fields(client, admin):
    response = upload(client, SEED.name, seed(), titre="", territoire="")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Le formulaire contient des erreurs" in page
    assert page.count("Ce champ est obligatoire pour créer un nouveau diagnostic.") == 4
    assert '<a href="#id_titre">' in page
    assert not ImportEnAttente.objects.exists()


def test_a_new_diagnostic_cannot_take_a_used_slug(client, admin):
    DiagnosticFactory(slug="montlucon-2024")

    page = upload(client, SEED.name, seed()).content.decode()

    assert "Un diagnostic porte déjà cet identifiant court." in page
    assert not ImportEnAttente.objects.exists()


def test_measures_go_into_an_existing_diagnostic(client, admin):
    page = upload(client, "valeurs.csv", b"indicateur;2024\n", nature="mesures").content.decode()

    assert "Choisissez le diagnostic dont ces valeurs mesurent les indicateurs." in page


def test_a_missing_file(client, admin):
    page = client.post(reverse("diagnostics:import_nouveau"), NOUVEAU).content.decode()

    assert "Fichier : Ce champ est obligatoire." in page


def test_a_file_over_the_size_limit_is_not_even_kept(client, admin, settings):
    settings.IMPORT_MAX_FILE_SIZE = 1000
    settings.IMPORT_MESURES_MAX_FILE_SIZE = 1000

    page = upload(client, SEED.name, seed()).content.decode()

    assert "Le fichier dépasse la taille maximale acceptée (1000\xa0octets)." in page
    assert "Ce champ est obligatoire." not in page
    assert not ImportEnAttente.objects.exists()


def test_the_upload_form_can_start_from_a_diagnostic(client, admin, montlucon):
    administer(admin, montlucon)
    page = client.get(
        reverse("diagnostics:import_nouveau") + "?diagnostic=montlucon"
    ).content.decode()

    assert f'<option value="{montlucon.pk}" selected>' in page


# Another contract's diagnostics -------------------------------------------------------------


def test_the_upload_form_offers_only_the_diagnostics_the_user_administers(client, admin, contrat):
    mine = DiagnosticFactory(titre="Diagnostic de Montluçon", contrat=contrat)
    public = DiagnosticFactory(titre="Diagnostic de Vichy", slug="vichy", public=True)
    equipe = DiagnosticFactory(titre="Diagnostic de Moulins", slug="moulins")
    MembreFactory(contrat=equipe.contrat, compte=admin, role=Role.EQUIPE_VILLE)

    page = client.get(reverse("diagnostics:import_nouveau")).content.decode()

    assert f'<option value="{mine.pk}">Diagnostic de Montluçon</option>' in page
    for other in (public, equipe):
        assert f'<option value="{other.pk}"' not in page
        assert other.titre not in page
        # Not even offered when named in the link.
        page = client.get(
            reverse("diagnostics:import_nouveau") + f"?diagnostic={other.slug}"
        ).content.decode()
        assert f'value="{other.pk}"' not in page


@pytest.mark.parametrize("nature", ["diagnostic", "mesures"])
def test_an_upload_into_a_diagnostic_of_another_contract_is_refused(client, admin, nature):
    other = DiagnosticFactory(public=True)
    MembreFactory(contrat=other.contrat, compte=admin, role=Role.EQUIPE_VILLE)
    content = seed() if nature == "diagnostic" else "Indicateur;2024\nChômage;12\n".encode()
    before = database_counts()

    response = upload(client, "fichier.tsv", content, nature=nature, diagnostic=str(other.pk))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Le formulaire contient une erreur" in page
    assert (
        "Diagnostic : Sélectionnez un choix valide. Ce choix ne fait pas partie de ceux "
        "disponibles."
    ) in page
    assert not ImportEnAttente.objects.exists()
    assert database_counts() == before


def test_an_upload_whose_diagnostic_is_no_longer_administered_is_refused(client, admin, contrat):
    """Sophie uploads into her diagnostic, then is made Équipe ville of its contract (she
    still administers another one): neither the preview nor the confirmation go on."""
    diagnostic = DiagnosticFactory(contrat=contrat)
    token = token_of(upload(client, SEED.name, seed(), diagnostic=str(diagnostic.pk)))
    administer(admin, DiagnosticFactory())
    Membre.objects.filter(contrat=contrat, compte=admin).update(role=Role.EQUIPE_VILLE.value)
    before = database_counts()
    url = reverse("diagnostics:import_apercu", args=[token])

    assert client.get(url).status_code == 403
    assert confirm(client, token).status_code == 403
    assert database_counts() == before
    assert ImportEnAttente.objects.get().confirme_le is None


def test_importing_a_new_diagnostic_makes_its_importer_administrator_of_its_contract(
    client, admin, contrat
):
    confirm(client, token_of(upload(client, SEED.name, seed())))

    diagnostic = Diagnostic.objects.get(slug="montlucon-2024")
    assert diagnostic.contrat != contrat  # a new contract, with its new diagnostic
    assert list(diagnostic.contrat.membres.values_list("compte", "organisation", "role")) == [
        (admin.pk, None, Role.ADMINISTRATEUR.value)
    ]
    # Hers to administer from now on.
    page = client.get(reverse("diagnostics:import_nouveau")).content.decode()
    assert f'<option value="{diagnostic.pk}">' in page
    url = reverse("diagnostics:export_source", args=[diagnostic.slug, "csv"])
    assert client.get(url).status_code == 200


def test_a_new_diagnostic_imported_by_the_national_administrator_gets_no_member(client):
    client.force_login(UserFactory(is_superuser=True))

    confirm(client, token_of(upload(client, SEED.name, seed())))

    assert not Diagnostic.objects.get(slug="montlucon-2024").contrat.membres.exists()


# Links to the screens -----------------------------------------------------------------------


def test_administrators_find_the_screens_in_the_menu_and_on_a_diagnostic(client, admin, montlucon):
    administer(admin, montlucon)
    page = client.get(montlucon.get_absolute_url()).content.decode()

    assert f'href="{reverse("diagnostics:imports")}"' in page
    assert reverse("diagnostics:import_nouveau") + "?diagnostic=montlucon" in page
    assert reverse("diagnostics:export_source", args=["montlucon", "xlsx"]) in page


@pytest.mark.parametrize("role", [Role.EQUIPE_VILLE, Role.PARTENAIRE])
def test_other_roles_see_no_link_to_the_screens(client, montlucon, role):
    client.force_login(UserFactory(role=role, contrat=montlucon.contrat))

    page = client.get(montlucon.get_absolute_url()).content.decode()

    assert reverse("diagnostics:imports") not in page
    assert "tableau-source" not in page


def test_the_admin_list_of_imports_links_to_the_screens(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))  # national admin

    page = client.get(reverse("admin:diagnostics_import_changelist")).content.decode()

    assert reverse("diagnostics:import_nouveau") in page
    assert reverse("diagnostics:imports") in page


# Values of indicators ------------------------------------------------------------------------


def test_values_of_indicators_are_previewed_then_imported(client, admin, contrat):
    diagnostic = DiagnosticFactory(contrat=contrat)
    diagnostic.quartiers.set([QuartierFactory(code="QN00304M", nom="Rive Gauche")])
    IndicateurFactory(
        sous_theme=SousThemeFactory(theme__pilier__diagnostic=diagnostic),
        libelle="Taux de chômage des 15-64 ans",
        type=Indicateur.Type.QUANTITATIF,
    )
    content = (
        "Indicateur;Quartier;Année;Valeur\r\n"
        "Taux de chômage des 15-64 ans;QN00304M;2022;25,4\r\n"
        "Taux de chômage des 15-64 ans;QN00304M;2023;24,1\r\n"
    ).encode()

    token = token_of(
        upload(client, "valeurs.csv", content, nature="mesures", diagnostic=str(diagnostic.pk))
    )
    page = client.get(reverse("diagnostics:import_apercu", args=[token])).content.decode()

    assert "Mesures : 2 créées, 0 mise à jour, 0 inchangée" in page
    assert 'value="confirmer"' in page
    assert not Mesure.objects.exists()

    response = confirm(client, token)

    record = Import.objects.get()
    assert record.nature == Import.Nature.MESURES
    assert response["Location"] == reverse("diagnostics:import_detail", args=[record.pk])
    assert Mesure.objects.count() == 2
    detail = client.get(response["Location"]).content.decode()
    assert "2 valeurs créées, 0 mise à jour" in detail
    assert "Taux de chômage des 15-64 ans — 2022 — Rive Gauche" in detail


def test_the_upload_is_protected_against_cross_site_requests(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)

    response = upload(client, SEED.name, seed())

    assert response.status_code == 403
    assert not ImportEnAttente.objects.exists()
    # With the form's token, the same upload goes through.
    page = client.get(reverse("diagnostics:import_nouveau"))
    token = page.context["csrf_token"]
    response = upload(client, SEED.name, seed(), csrfmiddlewaretoken=str(token))
    assert response.status_code == 302
