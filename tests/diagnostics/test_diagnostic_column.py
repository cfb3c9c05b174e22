"""Every level and item carries its diagnostic: set from its parent by every write path,
never different from its parent's, and what every page, list and the access rule read."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse

from comptes.roles import Role
from diagnostics import editing, kinds
from diagnostics.history import restore as history_restore
from diagnostics.imports import import_source_table, undo
from diagnostics.models import Difficulte, SousTheme, Theme
from indicateurs.models import Indicateur
from tests.conftest import SEED
from tests.factories import (
    DiagnosticFactory,
    DifficulteFactory,
    IndicateurFactory,
    MembreFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)

# From each kind carrying its diagnostic to its parent's diagnostic.
PARENT_DIAGNOSTIC = {
    Theme: ["pilier__diagnostic"],
    SousTheme: ["theme__diagnostic"],
    Difficulte: ["theme__diagnostic", "sous_theme__diagnostic"],
    Indicateur: ["theme__diagnostic", "sous_theme__diagnostic"],
}


def mismatches():
    """The levels and items whose diagnostic is not their parent's (or is missing)."""
    found = []
    for model, paths in PARENT_DIAGNOSTIC.items():
        for path in paths:
            rows = model.objects.filter(**{f"{path}__isnull": False}).exclude(diagnostic=F(path))
            found += [(model.__name__, pk) for pk in rows.values_list("pk", flat=True)]
        found += [
            (model.__name__, pk)
            for pk in model.history.filter(diagnostic=None).values_list("id", flat=True)
        ]
    return found


def counts(diagnostic):
    return {
        kind.key: kind.model.objects.filter(diagnostic=diagnostic).count()
        for kind in kinds.structure()
        if kind.key != "pilier"
    }


@pytest.mark.parametrize("engine", ["resource", "bulk"])
def test_both_import_paths_give_every_level_and_item_its_diagnostic(engine):
    diagnostic = DiagnosticFactory()
    other = DiagnosticFactory()
    for target in (diagnostic, other):
        report = import_source_table(target, SEED.name, SEED.read_bytes(), engine=engine)
        assert report.ok

    assert mismatches() == []
    assert counts(diagnostic) == counts(other)
    assert counts(diagnostic)["difficulte"] == Difficulte.objects.count() // 2


def test_items_created_split_moved_and_restored_keep_their_diagnostic(montlucon):
    user = UserFactory(role=Role.EQUIPE_VILLE, contrat=montlucon.contrat)
    sous_theme = SousTheme.objects.filter(diagnostic=montlucon).first()
    item = editing.create(Difficulte(sous_theme=sous_theme, libelle="Une nouvelle"), user)
    parts = editing.split_element(item, ["Une", "Deux"], user, item.version)
    theme = Theme.objects.filter(diagnostic=montlucon).exclude(pk=sous_theme.theme_id).first()
    editing.move_element(parts[1], theme, user, parts[1].version)
    pks = [part.pk for part in parts]
    editing.delete(parts[0], user)
    deletion = Difficulte.history.filter(id=pks[0], history_type="-").get()
    history_restore.restore_deleted(deletion, user)

    restored = Difficulte.objects.filter(pk__in=pks)
    assert {item.diagnostic_id for item in restored} == {montlucon.pk}
    assert restored.count() == 2
    assert mismatches() == []


def test_an_item_cannot_move_to_another_diagnostic(montlucon):
    user = UserFactory(role=Role.EQUIPE_VILLE, contrat=montlucon.contrat)
    item = Difficulte.objects.filter(diagnostic=montlucon).first()
    elsewhere = SousThemeFactory()

    with pytest.raises(editing.ValidationError, match="n'appartient pas à ce diagnostic"):
        editing.move_element(item, elsewhere, user, item.version)

    item.refresh_from_db()
    assert item.diagnostic == montlucon


def test_the_admin_refuses_to_hang_an_item_under_another_diagnostic(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))  # the national admin
    item = DifficulteFactory()
    elsewhere = SousThemeFactory()

    response = client.post(
        reverse("admin:diagnostics_difficulte_change", args=[item.pk]),
        {
            "libelle": item.libelle,
            "sous_theme": elsewhere.pk,
            "theme": "",
            "position": item.position,
            "source": "",
            "version_lue": item.version,
        },
    )

    assert response.status_code == 200
    assert "appartient à un autre diagnostic" in response.content.decode()
    item.refresh_from_db()
    assert item.sous_theme_id != elsewhere.pk


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="composite foreign keys: PostgreSQL only"
)
@pytest.mark.parametrize("model", [Theme, SousTheme, Difficulte, Indicateur])
def test_postgresql_refuses_a_diagnostic_different_from_the_parents(model):
    factory = {
        Theme: ThemeFactory,
        SousTheme: SousThemeFactory,
        Difficulte: DifficulteFactory,
        Indicateur: IndicateurFactory,
    }[model]
    obj = factory()
    other = DiagnosticFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=obj.pk).update(diagnostic=other)
        connection.check_constraints()  # as at the commit (the keys are deferred)


def test_an_import_and_its_undo_keep_the_diagnostic(montlucon):
    table = (
        "Pilier\tThème\tSous-thème\tDifficultés\tIndicateur\n"
        "4 Nouveau pilier\tNouveau thème\tNouveau sous-thème\tUne difficulté\tUn indicateur\n"
    )
    report = import_source_table(montlucon, "extra.tsv", table.encode())
    assert report.ok, report.as_lines()
    assert Indicateur.objects.get(libelle="Un indicateur").diagnostic == montlucon

    undo.undo(report.import_record, None)

    assert not Indicateur.objects.filter(libelle="Un indicateur").exists()
    assert mismatches() == []


def test_pages_find_a_diagnostics_items_by_their_column(client, montlucon):
    other = DiagnosticFactory(titre="Autre contrat")
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat)
    MembreFactory(contrat=other.contrat, compte=partenaire, role=Role.PARTENAIRE)  # reads both
    client.force_login(partenaire)
    DifficulteFactory(sous_theme=SousThemeFactory(theme=ThemeFactory(pilier__diagnostic=other)))

    response = client.get(reverse("diagnostics:difficultes"), {"diagnostic": montlucon.slug})

    assert response.status_code == 200
    assert {e.diagnostic_id for e in response.context["elements"]} == {montlucon.pk}
