"""Importing a source table into an edition edited in the site since: nothing edited comes
back, the preview says what was edited and what the site holds that the file does not, the
administrator may take the file's version or remove, and the undo puts everything back."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from diagnostics import editing
from diagnostics.editions import copy as editions_copy
from diagnostics.editions import states
from diagnostics.imports import import_source_table, undo
from diagnostics.imports.reconcile import Choices
from diagnostics.models import (
    CelluleSource,
    Difficulte,
    Import,
    ImportEnAttente,
    Pilier,
    SousTheme,
    Theme,
)
from indicateurs.models import Indicateur, Mesure
from tests.conftest import SEED
from tests.diagnostics.imports.test_import_diagnostic_bulk import import_every_way
from tests.factories import DifficulteFactory, MesureFactory, QuartierFactory

HEADER = "Pilier\tThème\tSous-thème\tDifficultés prégnantes\tIndicateur"

REWORDED = "Les jeunes se désengagent des questions de citoyenneté."
SPLIT = ["Accès difficile aux activités culturelles", "Coût des activités culturelles"]


def difficulte(diagnostic, start):
    return Difficulte.objects.get(diagnostic=diagnostic, libelle__startswith=start)


def edit_in_the_site(diagnostic, user):
    """What staff do in the site: reword, split, merge, move, delete items; rename and move
    a sous-thème. Returns the file's lines (Difficultés) each edit touches."""
    item = difficulte(diagnostic, "Désengagement des jeunes")  # line 16
    item.libelle = REWORDED
    editing.save_versioned(item, item.version, user, fields=["libelle"])

    item = difficulte(diagnostic, "Difficultés d'accès aux activités culturelles")  # line 9
    editing.split_element(item, SPLIT, user, item.version)

    first = difficulte(diagnostic, "Difficulté à coordonner")  # line 4, both items
    second = difficulte(diagnostic, "Manque de visibilité")
    editing.merge_elements(first, first.version, {second.pk: second.version}, "", user)

    item = difficulte(diagnostic, "Besoin d'un renforcement de la présence")  # line 22
    destination = SousTheme.objects.get(diagnostic=diagnostic, libelle="Droits sociaux")
    editing.move_element(item, destination, user, item.version)

    editing.delete(difficulte(diagnostic, "peu d'initiative citoyenne"), user)  # line 17

    sous_theme = SousTheme.objects.get(diagnostic=diagnostic, libelle="Accès à la citoyenneté")
    sous_theme.libelle = "Citoyenneté"
    editing.save_versioned(sous_theme, sous_theme.version, user, fields=["libelle"])

    sous_theme = SousTheme.objects.get(diagnostic=diagnostic, libelle="Solidarité")
    theme = Theme.objects.get(diagnostic=diagnostic, libelle="Parentalité et droits sociaux")
    editing.move_sous_theme(sous_theme, theme, user, sous_theme.version)
    return {4, 9, 16, 17, 22}


def contents(diagnostic):
    """Every level and item of the edition: text, place, order, provenance and version."""
    result = {}
    for model in (Pilier, Theme, SousTheme, Difficulte, Indicateur):
        rows = model.objects.filter(diagnostic=diagnostic).order_by("pk").values()
        result[model.__name__] = [
            {name: value for name, value in row.items() if name != "updated_at"} for row in rows
        ]
    result["imports"] = Import.objects.count()
    result["cellules"] = CelluleSource.objects.count()
    result["history"] = sum(
        model.history.count() for model in (Pilier, Theme, SousTheme, Difficulte, Indicateur)
    )
    return result


def reimport(diagnostic, content=None, **options):
    content = SEED.read_bytes() if content is None else content
    report = import_source_table(diagnostic, "diagnostic-montlucon.tsv", content, **options)
    assert report.ok, report.as_lines()
    return report


def line_of(report, kind, line):
    return next(d for d in report.divergences if d.kind.key == kind and d.line == line)


# Nothing edited comes back ------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["resource", "bulk"])
def test_the_same_file_again_after_edits_in_the_site_creates_nothing(montlucon, paul, engine):
    lines = edit_in_the_site(montlucon, paul)
    before = contents(montlucon)

    report = reimport(montlucon, engine=engine, user=paul)

    assert report.import_record is None and not report.created
    assert contents(montlucon) == before
    assert report.as_lines()[0].startswith("Aucune modification : ce fichier n'apporte rien")
    assert (
        "Difficultés : 0 créée, 39 inchangées, 6 modifiées dans le site depuis l'import "
        "(version du site conservée)" in report.as_lines()
    )
    assert (
        "Sous-thèmes : 0 créé, 25 inchangés, 2 modifiés dans le site depuis l'import "
        "(version du site conservée)" in report.as_lines()
    )
    assert {d.line for d in report.divergences if d.kind.key == "difficulte"} == lines
    assert not report.absents


def test_the_preview_pairs_each_edited_cell_with_the_sites_version(montlucon, paul):
    edit_in_the_site(montlucon, paul)

    report = reimport(montlucon, dry_run=True)

    reworded = line_of(report, "difficulte", 16)
    assert reworded.fichier == ["Désengagement des jeunes sur les questions de citoyenneté."]
    assert [v.libelle for v in reworded.site] == [REWORDED]
    assert reworded.site[0].place == "1. COHESION SOCIALE › Jeunesse › Citoyenneté"
    assert reworded.choice == "difficulte:16"
    split = line_of(report, "difficulte", 9)
    assert [v.libelle for v in split.site] == SPLIT
    merged = line_of(report, "difficulte", 4)
    assert len(merged.fichier) == 2 and len(merged.site) == 1
    assert merged.site[0].libelle.startswith("Difficulté à coordonner")
    assert "Manque de visibilité" in merged.site[0].libelle
    moved = line_of(report, "difficulte", 22)
    assert moved.site[0].place.endswith("› Droits sociaux")
    deleted = line_of(report, "difficulte", 17)
    assert deleted.deleted and deleted.note == "Suppression"
    renamed = line_of(report, "sous_theme", 16)
    assert renamed.fichier == ["Accès à la citoyenneté"]
    assert [v.libelle for v in renamed.site] == ["Citoyenneté"]
    assert renamed.choice == ""  # a level keeps the site's version
    statuses = {entry.libelle: entry.status for entry in report.entries["sous_theme"]}
    assert statuses["Accès à la citoyenneté"] == "edited"
    assert statuses["Solidarité"] == "edited"  # moved in the site: continued where it is now
    moved = line_of(report, "sous_theme", 22)
    assert moved.site[0].place == "1. COHESION SOCIALE › Parentalité et droits sociaux"


def test_what_the_file_adds_goes_under_the_sites_version_of_its_parents(montlucon, paul):
    edit_in_the_site(montlucon, paul)
    content = "\n".join(
        [
            HEADER,
            "1 COHESION SOCIALE\tJeunesse\tAccès à la citoyenneté\t- Désengagement des "
            "jeunes sur les questions de citoyenneté. - Une nouvelle difficulté de citoyenneté\t",
            "\tLien social, citoyenneté et Participation des habitants\tSolidarité\t"
            "- Une nouvelle difficulté de solidarité\t",
        ]
    ).encode()

    for engine in ("resource", "bulk"):
        report = reimport(montlucon, content, engine=engine, dry_run=True)
        assert report.counts["difficulte"].created == 2
        assert report.counts["sous_theme"].created == 0
    report = reimport(montlucon, content)

    new = difficulte(montlucon, "Une nouvelle difficulté de citoyenneté")
    assert new.sous_theme.libelle == "Citoyenneté"
    new = difficulte(montlucon, "Une nouvelle difficulté de solidarité")
    assert new.sous_theme.theme.libelle == "Parentalité et droits sociaux"  # where it was moved
    assert not Difficulte.objects.filter(libelle__startswith="Désengagement").exists()


def test_both_paths_reconcile_alike(montlucon, paul):
    edit_in_the_site(montlucon, paul)
    DifficulteFactory(
        sous_theme=SousTheme.objects.get(libelle="Droits sociaux"), libelle="À la main"
    )
    hand = Difficulte.objects.get(libelle="À la main")
    choices = Choices.of(["difficulte:16", "difficulte:9"], [f"difficulte:{hand.pk}"])

    results = import_every_way(montlucon, SEED.name, SEED.read_bytes(), choices=choices)

    assert results["bulk"] == results["resource"]


# What the site holds that the file does not -------------------------------------------------


def test_the_sites_items_absent_from_the_file_are_listed_and_kept(montlucon, paul):
    theme = Theme.objects.get(diagnostic=montlucon, libelle="Santé")
    added = Difficulte(theme=theme, libelle="Une difficulté saisie dans le site")
    editing.create(added, paul)
    before = contents(montlucon)

    report = reimport(montlucon)

    assert report.import_record is None
    assert contents(montlucon) == before
    assert [(a.kind.key, a.libelle, a.place) for a in report.absents] == [
        ("difficulte", "Une difficulté saisie dans le site", "1. COHESION SOCIALE › Santé")
    ]
    assert report.absents[0].choice == f"difficulte:{added.pk}"


def test_ticked_items_absent_from_the_file_are_removed_with_history_and_undo(montlucon, paul):
    theme = Theme.objects.get(diagnostic=montlucon, libelle="Santé")
    added = editing.create(Difficulte(theme=theme, libelle="Saisie à la main"), paul)
    quartier = QuartierFactory()
    added.quartiers.add(quartier)
    sous_theme = SousTheme.objects.get(diagnostic=montlucon, libelle="Droits sociaux")
    indicateur = editing.create(Indicateur(sous_theme=sous_theme, libelle="Indicateur local"), paul)
    MesureFactory(indicateur=indicateur, annee=2024, valeur=Decimal("12"))
    before = contents(montlucon)
    choices = Choices.of(remove=[f"difficulte:{added.pk}", f"indicateur:{indicateur.pk}"])

    report = reimport(montlucon, choices=choices, user=paul)

    record = report.import_record
    assert record is not None and report.removed == 2 and not report.created
    assert "Difficultés : 0 créée, 45 inchangées, 1 retirée du site" in report.as_lines()
    assert not Difficulte.objects.filter(pk=added.pk).exists()
    assert not Mesure.objects.filter(indicateur_id=indicateur.pk).exists()
    deletion = Difficulte.history.get(id=added.pk, history_type="-")
    assert deletion.import_source_id == record.pk and deletion.suppression_id is not None
    assert deletion.history_change_reason.startswith("Retiré par l'import du fichier")
    assert Mesure.history.get(indicateur_id=indicateur.pk, history_type="-").import_source_id
    assert record.compte_rendu["counts"]["difficulte"]["removed"] == 1
    removed = undo.imported(record).removed_groups
    assert [(g.label, [i.label for i in g.items]) for g in removed][:2] == [
        ("Difficultés prégnantes", ["Saisie à la main"]),
        ("Indicateurs", ["Indicateur local"]),
    ]

    the_plan = undo.plan(record)
    assert the_plan.can_undo and len(the_plan.removed) == 3  # with the measure
    undo.undo(record, paul)

    restored = Difficulte.objects.get(pk=added.pk)
    assert restored.libelle == "Saisie à la main" and list(restored.quartiers.all()) == [quartier]
    assert Mesure.objects.get(indicateur_id=indicateur.pk).valeur == Decimal("12")
    after = contents(montlucon)
    for model in ("Difficulte", "Indicateur"):
        assert [{**r, "version": 0} for r in after[model]] == [
            {**r, "version": 0} for r in before[model]
        ]


def test_the_removal_is_all_or_nothing_with_the_import(montlucon, paul, monkeypatch):
    theme = Theme.objects.get(diagnostic=montlucon, libelle="Santé")
    added = editing.create(Difficulte(theme=theme, libelle="Saisie à la main"), paul)
    content = SEED.read_bytes() + "\n\tSanté\tNouveau sous-thème\t- Nouvelle\t\n".encode()

    def refuse(*args, **kwargs):
        raise editing.ValidationError("Refusé pour le test.")

    monkeypatch.setattr(editing, "delete", refuse)
    before = contents(montlucon)
    report = import_source_table(
        montlucon, "x.tsv", content, choices=Choices.of(remove=[f"difficulte:{added.pk}"])
    )

    assert not report.ok and "Refusé pour le test." in report.as_lines()[-1]
    assert contents(montlucon) == before


# Taking the file's version --------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["resource", "bulk"])
def test_taking_the_files_version_replaces_the_sites(montlucon, paul, engine):
    edit_in_the_site(montlucon, paul)
    choices = Choices.of(["difficulte:16", "difficulte:9"])

    report = reimport(montlucon, choices=choices, engine=engine, user=paul)

    assert report.counts["difficulte"].created == 2
    assert report.counts["difficulte"].removed == 3  # the reworded one, the two parts
    assert not Difficulte.objects.filter(libelle__in=[REWORDED, *SPLIT]).exists()
    original = difficulte(montlucon, "Désengagement des jeunes")
    assert original.sous_theme.libelle == "Citoyenneté"  # under the site's version of its parent
    assert original.source.import_source == report.import_record
    assert difficulte(montlucon, "Difficultés d'accès aux activités culturelles")
    statuses = {e.libelle: e.status for e in report.entries["difficulte"] if e.line in (9, 16)}
    assert statuses == {
        "Besoin de connaître des cultures variées à travers un moment de convivialité, "
        "développant le lien social, et l'acceptation des autres.": "unchanged",
        "Difficultés d'accès aux activités culturelles": "replaced",
        "Difficulté d'ouvrir les références culturelles d'un public non averti.": "unchanged",
        "Désengagement des jeunes sur les questions de citoyenneté.": "replaced",
    }
    assert reimport(montlucon).import_record is None  # and again: nothing

    undo.undo(report.import_record, paul)

    assert set(
        Difficulte.objects.filter(libelle__in=[REWORDED, *SPLIT]).values_list("libelle", flat=True)
    ) == {REWORDED, *SPLIT}
    assert not Difficulte.objects.filter(libelle__startswith="Désengagement").exists()


def test_a_choice_that_no_longer_applies_is_a_warning(montlucon, paul):
    edit_in_the_site(montlucon, paul)

    report = reimport(montlucon, choices=Choices.of(["difficulte:3"], ["difficulte:999999"]))

    assert report.import_record is None
    warnings = " ".join(message for _, message in report.warnings)
    assert "ligne 3 (difficultés) ne s'applique plus" in warnings
    assert "la difficulté n° 999999 ne s'applique plus" in warnings


# An older file ----------------------------------------------------------------------------------


def test_an_older_file_into_an_edited_diagnostic_brings_nothing_back(montlucon, paul):
    edit_in_the_site(montlucon, paul)
    before = contents(montlucon)
    # The older file: the first block of the seed only (its lines 1 to 17), the cell of line
    # 16 holding a bullet since dropped.
    older = SEED.read_text().splitlines()[:17]
    older[15] = older[15].replace(
        "- Désengagement des jeunes sur les questions de citoyenneté.",
        "- Désengagement des jeunes sur les questions de citoyenneté. - Une ligne disparue",
    )
    content = "\n".join(older).encode()

    report = reimport(montlucon, content, dry_run=True)
    statuses = {e.libelle: e.status for e in report.entries["difficulte"]}
    assert statuses["Désengagement des jeunes sur les questions de citoyenneté."] == "edited"
    assert statuses["Une ligne disparue"] == "created"  # never held: new
    assert report.counts["difficulte"].created == 1

    older[15] = older[15].replace(" - Une ligne disparue", "")
    report = reimport(montlucon, "\n".join(older).encode())
    assert report.import_record is None and contents(montlucon) == before
    absent = {(a.kind.key, a.libelle) for a in report.absents}
    assert any(kind == "difficulte" and text.startswith("Isolement des") for kind, text in absent)
    assert ("sous_theme", "Sports et loisirs") in absent  # a level of the missing rows: kept
    assert {bool(a.choice) for a in report.absents if a.kind.is_level} == {False}


def test_an_older_wording_of_an_item_is_known_by_its_history(montlucon, paul):
    item = difficulte(montlucon, "Désengagement des jeunes")
    item.libelle = REWORDED
    editing.save_versioned(item, item.version, paul, fields=["libelle"])
    content = "\n".join(
        [
            HEADER,
            "1 COHESION SOCIALE\tJeunesse\tAccès à la citoyenneté\tDésengagement des jeunes "
            "sur les questions de citoyenneté.\t",
        ]
    ).encode()

    report = reimport(montlucon, content)

    assert report.import_record is None
    assert [e.status for e in report.entries["difficulte"]] == ["edited"]


def test_an_item_an_undone_import_brought_comes_back_with_a_new_import(montlucon, paul):
    content = "\n".join([HEADER, "1 COHESION SOCIALE\tSanté\tAccès aux soins\t- Délais\t"]).encode()
    first = reimport(montlucon, content)
    undo.undo(first.import_record, paul)

    again = reimport(montlucon, content)

    assert again.counts["difficulte"].created == 1


# Editions ---------------------------------------------------------------------------------------


def test_a_new_edition_knows_what_was_imported_into_the_one_it_was_copied_from(montlucon, paul):
    edition = editions_copy.start_edition(
        montlucon.contrat,
        nom="Révision à mi-parcours — 2027",
        date=datetime.date(2027, 1, 1),
        user=paul,
    )
    edit_in_the_site(edition, paul)
    before = contents(edition)

    report = reimport(edition)

    assert report.import_record is None and contents(edition) == before
    assert {d.line for d in report.divergences if d.kind.key == "difficulte"} == {4, 9, 16, 17, 22}


def test_nothing_is_imported_into_a_frozen_edition(montlucon, paul):
    states.freeze(montlucon, paul)
    before = contents(montlucon)
    content = "\n".join([HEADER, "1 COHESION SOCIALE\tSanté\tAccès aux soins\t- Délais\t"]).encode()

    report = import_source_table(montlucon, "x.tsv", content)

    assert not report.ok
    assert report.errors == [(None, states.FROZEN_MESSAGE)]
    assert contents(montlucon) == before


def test_a_frozen_edition_is_refused_at_upload(client, admin, montlucon, paul):
    states.freeze(montlucon, paul)
    data = {
        "nature": "diagnostic",
        "diagnostic": str(montlucon.pk),
        "fichier": SimpleUploadedFile("x.tsv", SEED.read_bytes()),
    }

    response = client.post(reverse("diagnostics:import_nouveau"), data)

    assert response.status_code == 200
    assert "Cette édition est figée" in response.content.decode()
    assert not ImportEnAttente.objects.exists()


def test_a_frozen_edition_is_refused_at_confirmation(client, admin, montlucon, paul):
    content = "\n".join([HEADER, "1 COHESION SOCIALE\tSanté\tAccès aux soins\t- Délais\t"]).encode()
    data = {"nature": "diagnostic", "diagnostic": str(montlucon.pk)}
    data["fichier"] = SimpleUploadedFile("x.tsv", content)
    client.post(reverse("diagnostics:import_nouveau"), data)
    token = ImportEnAttente.objects.get().token
    states.freeze(montlucon, paul)
    before = contents(montlucon)

    preview = client.get(reverse("diagnostics:import_apercu", args=[token]))
    response = client.post(
        reverse("diagnostics:import_apercu", args=[token]), {"action": "confirmer"}
    )

    for page in (preview, response):
        assert page.status_code == 409
        assert "Cette édition est figée" in page.content.decode()
    assert contents(montlucon) == before
    assert ImportEnAttente.objects.get().confirme_le is None


def test_an_import_into_a_frozen_edition_cannot_be_undone(montlucon, paul):
    record = montlucon.imports.get()
    states.freeze(montlucon, paul)

    with pytest.raises(undo.UndoRefused, match="figée"):
        undo.undo(record, paul)


# The screens -----------------------------------------------------------------------------------


def upload(client, diagnostic, content=None):
    content = SEED.read_bytes() if content is None else content
    data = {"nature": "diagnostic", "diagnostic": str(diagnostic.pk)}
    data["fichier"] = SimpleUploadedFile(SEED.name, content)
    response = client.post(reverse("diagnostics:import_nouveau"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return ImportEnAttente.objects.get().token


def test_the_preview_page_shows_both_versions_and_the_boxes(client, admin, montlucon, paul):
    edit_in_the_site(montlucon, paul)
    theme = Theme.objects.get(diagnostic=montlucon, libelle="Santé")
    added = editing.create(Difficulte(theme=theme, libelle="Saisie à la main"), paul)
    token = upload(client, montlucon)

    page = client.get(reverse("diagnostics:import_apercu", args=[token])).content.decode()

    assert "Modifié dans le site depuis l’import (7)" in page
    assert "Sous-thèmes modifiés dans le site depuis l’import (2)" in page
    assert "Difficultés modifiées dans le site depuis l’import (5)" in page
    assert REWORDED in page
    assert "Supprimée dans le site : Suppression" in page
    assert 'name="version_fichier" value="difficulte:16" form="confirmation"' in page
    assert "Version du site conservée" in page  # the renamed sous-thème
    assert "Dans le site, absents du fichier (1)" in page
    assert f'name="retirer" value="difficulte:{added.pk}" form="confirmation"' in page
    assert '<form method="post" class="actions-apercu" id="confirmation">' in page


def test_confirming_with_boxes_ticked_applies_them(client, admin, montlucon, paul):
    edit_in_the_site(montlucon, paul)
    theme = Theme.objects.get(diagnostic=montlucon, libelle="Santé")
    added = editing.create(Difficulte(theme=theme, libelle="Saisie à la main"), paul)
    token = upload(client, montlucon)

    response = client.post(
        reverse("diagnostics:import_apercu", args=[token]),
        {
            "action": "confirmer",
            "version_fichier": ["difficulte:16"],
            "retirer": [f"difficulte:{added.pk}"],
        },
    )

    record = Import.objects.latest("pk")
    assert response["Location"] == reverse("diagnostics:import_detail", args=[record.pk])
    assert not Difficulte.objects.filter(pk=added.pk).exists()
    assert not Difficulte.objects.filter(libelle=REWORDED).exists()
    assert difficulte(montlucon, "Désengagement des jeunes")
    page = client.get(response["Location"]).content.decode()
    assert "Ce que l’import a retiré du site" in page
    assert "Saisie à la main" in page
    page = client.get(reverse("diagnostics:import_annuler", args=[record.pk])).content.decode()
    assert "remettra dans le site ce qu&#x27;il a retiré (2 difficultés)" in page
    assert (
        "1 élément créé, 2 retirés" in client.get(reverse("diagnostics:imports")).content.decode()
    )


def test_confirming_without_boxes_keeps_the_sites_version(client, admin, montlucon, paul):
    edit_in_the_site(montlucon, paul)
    before = contents(montlucon)
    token = upload(client, montlucon)

    response = client.post(
        reverse("diagnostics:import_apercu", args=[token]), {"action": "confirmer"}
    )

    assert response["Location"] == reverse("diagnostics:imports")
    page = client.get(response["Location"]).content.decode()
    assert "ce fichier n&#x27;apporte rien de nouveau" in page
    assert contents(montlucon) == before


def test_a_forged_box_is_refused(client, admin, montlucon):
    token = upload(client, montlucon)

    response = client.post(
        reverse("diagnostics:import_apercu", args=[token]),
        {"action": "confirmer", "retirer": ["difficulte:1; DROP TABLE"]},
    )

    assert response.status_code == 200
    assert "Une case cochée n&#x27;est pas reconnue" in response.content.decode()
    assert ImportEnAttente.objects.get().confirme_le is None
