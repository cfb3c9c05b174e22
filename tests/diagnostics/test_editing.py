"""The editing operations (diagnostics.editing): what each one changes, what it refuses,
and what it writes in the history."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from diagnostics import editing
from diagnostics.history import restore
from diagnostics.models import Difficulte, SousTheme, Theme
from indicateurs.models import Indicateur, Mesure
from tests.factories import (
    CelluleSourceFactory,
    DifficulteFactory,
    IndicateurFactory,
    PilierFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
)


@pytest.fixture
def sante():
    """A thème « Santé » with a sous-thème « Accès aux soins » of three difficultés."""
    theme = ThemeFactory(libelle="Santé")
    sous_theme = SousThemeFactory(theme=theme, libelle="Accès aux soins")
    for position, libelle in enumerate(
        ["Manque de médecins généralistes", "Renoncement aux soins", "Peu de prévention"], 1
    ):
        DifficulteFactory(sous_theme=sous_theme, libelle=libelle, position=position)
    return sous_theme


def libelles(node):
    return list(node.difficultes.order_by("position", "pk").values_list("libelle", flat=True))


def last_record(obj):
    return type(obj).history.filter(id=obj.pk).order_by("-history_id").first()


# Saving with a version -------------------------------------------------------------------


def test_a_versioned_save_writes_the_change_and_who_made_it(sante, marie):
    difficulte = sante.difficultes.get(libelle="Renoncement aux soins")
    difficulte.libelle = "Renoncement aux soins pour raisons financières"

    saved = editing.save_versioned(difficulte, 1, marie, fields=["libelle"])

    assert saved.version == 2
    difficulte.refresh_from_db()
    assert difficulte.libelle == "Renoncement aux soins pour raisons financières"
    assert difficulte.version == 2
    record = last_record(difficulte)
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "~",
        marie,
        "Modification",
    )
    delta = record.diff_against(record.prev_record, included_fields=["libelle"])
    assert [(c.old, c.new) for c in delta.changes] == [
        ("Renoncement aux soins", "Renoncement aux soins pour raisons financières")
    ]


def test_a_save_made_on_a_stale_version_is_refused_and_writes_nothing(sante, marie):
    difficulte = sante.difficultes.get(libelle="Renoncement aux soins")
    first, second = (
        Difficulte.objects.get(pk=difficulte.pk),
        Difficulte.objects.get(pk=difficulte.pk),
    )
    first.libelle = "Première version"
    editing.save_versioned(first, 1, marie, fields=["libelle"])
    records = difficulte.history.count()

    second.libelle = "Seconde version, sur la version 1"
    with pytest.raises(editing.StaleEdit) as stale:
        editing.save_versioned(second, 1, marie, fields=["libelle"])

    assert stale.value.current.libelle == "Première version"
    assert stale.value.current.version == 2
    difficulte.refresh_from_db()
    assert (difficulte.libelle, difficulte.version) == ("Première version", 2)
    assert difficulte.history.count() == records


def test_a_save_on_a_deleted_item_is_stale_with_no_current_values(sante, marie):
    difficulte = sante.difficultes.first()
    editing.delete(Difficulte.objects.get(pk=difficulte.pk), marie)

    with pytest.raises(editing.StaleEdit) as stale:
        editing.save_versioned(difficulte, 1, marie, fields=["libelle"])
    assert stale.value.current is None


def test_the_quartiers_of_an_edit_are_in_its_single_history_record(sante, marie):
    rive_gauche, bien_assis = QuartierFactory(nom="Rive Gauche"), QuartierFactory(nom="Bien-Assis")
    difficulte = sante.difficultes.first()
    records = difficulte.history.count()

    editing.save_versioned(difficulte, 1, marie, fields=[], quartiers=[rive_gauche, bien_assis])

    assert set(difficulte.quartiers.all()) == {rive_gauche, bien_assis}
    assert difficulte.history.count() == records + 1
    assert set(restore.record_quartier_ids(last_record(difficulte))) == {
        rive_gauche.pk,
        bien_assis.pk,
    }


def test_renaming_to_a_libelle_of_the_same_level_is_a_french_error_not_an_integrity_error(
    sante, marie
):
    difficulte = sante.difficultes.get(libelle="Peu de prévention")
    difficulte.libelle = "  RENONCEMENT aux   soins "

    with pytest.raises(ValidationError) as error:
        editing.save_versioned(difficulte, 1, marie, fields=["libelle"])

    assert error.value.message_dict == {
        "libelle": [
            "Une difficulté portant ce libellé existe déjà dans le sous-thème « Accès aux soins » "
            "(majuscules et accents ne comptent pas)."
        ]
    }
    difficulte.refresh_from_db()
    assert (difficulte.libelle, difficulte.version) == ("Peu de prévention", 1)


def test_renaming_a_sous_theme_to_a_name_of_its_theme_is_refused(sante, marie):
    autre = SousThemeFactory(theme=sante.theme, libelle="Santé mentale")
    autre.libelle = "ACCES aux soins"
    with pytest.raises(ValidationError) as error:
        editing.save_versioned(autre, 1, marie, fields=["libelle"])
    assert "existe déjà dans le thème « Santé »" in error.value.message_dict["libelle"][0]


# Creating ---------------------------------------------------------------------------------


def test_a_new_item_goes_last_with_its_quartiers_in_its_creation_record(sante, marie):
    fontbouillant = QuartierFactory(nom="Fontbouillant")

    difficulte = editing.create(
        Difficulte(sous_theme=sante, libelle="Délais de rendez-vous"),
        marie,
        quartiers=[fontbouillant],
    )

    assert libelles(sante)[-1] == "Délais de rendez-vous"
    assert difficulte.version == 1
    record = last_record(difficulte)
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "+",
        marie,
        "Création",
    )
    assert restore.record_quartier_ids(record) == [fontbouillant.pk]
    assert difficulte.history.count() == 1


def test_a_new_theme_goes_last_in_its_pilier(marie):
    pilier = PilierFactory()
    ThemeFactory(pilier=pilier, libelle="Éducation", position=4)
    theme = editing.create(Theme(pilier=pilier, libelle="Jeunesse"), marie)
    assert theme.position == 5
    with pytest.raises(ValidationError):
        editing.create(Theme(pilier=pilier, libelle="education"), marie)


# Order and moves --------------------------------------------------------------------------


def test_moving_up_and_down_swaps_with_the_neighbour_and_records_it(sante, marie):
    renoncement = sante.difficultes.get(libelle="Renoncement aux soins")

    assert editing.move_up(renoncement, marie) is True
    assert libelles(sante) == [
        "Renoncement aux soins",
        "Manque de médecins généralistes",
        "Peu de prévention",
    ]
    assert last_record(renoncement).history_change_reason == "Déplacement vers le haut"
    assert editing.move_up(renoncement, marie) is False  # already first

    assert editing.move_down(renoncement, marie) is True
    assert editing.move_down(renoncement, marie) is True
    assert libelles(sante)[-1] == "Renoncement aux soins"
    assert editing.move_down(renoncement, marie) is False


def test_moving_normalises_positions_that_have_gaps_or_ties(sante, marie):
    sante.difficultes.update(position=7)  # all tied: ordered by id
    last = sante.difficultes.order_by("pk").last()
    editing.move_up(last, marie)
    assert list(sante.difficultes.order_by("position").values_list("position", flat=True)) == [
        1,
        2,
        3,
    ]
    assert libelles(sante)[1] == last.libelle


def test_a_sous_theme_moves_to_another_theme_with_its_items(sante, marie):
    prevention = ThemeFactory(pilier=sante.theme.pilier, libelle="Prévention")
    SousThemeFactory(theme=prevention, libelle="Addictions", position=1)

    editing.move_sous_theme(sante, prevention, marie, 1)

    sante.refresh_from_db()
    assert sante.theme == prevention
    assert sante.position == 2
    assert sante.version == 2
    assert len(libelles(sante)) == 3
    assert last_record(sante).history_change_reason == "Déplacement vers « Prévention »"


def test_a_sous_theme_cannot_move_where_its_name_exists_or_to_another_diagnostic(sante, marie):
    prevention = ThemeFactory(pilier=sante.theme.pilier, libelle="Prévention")
    SousThemeFactory(theme=prevention, libelle="Accès aux SOINS")
    with pytest.raises(ValidationError) as error:
        editing.move_sous_theme(sante, prevention, marie, 1)
    assert "existe déjà dans le thème « Prévention »" in error.value.message_dict["theme"][0]

    ailleurs = ThemeFactory()  # another diagnostic
    with pytest.raises(ValidationError) as error:
        editing.move_sous_theme(sante, ailleurs, marie, 1)
    assert error.value.message_dict == {
        "theme": ["Cette destination n'appartient pas à ce diagnostic."]
    }
    sante.refresh_from_db()
    assert (sante.theme_id, sante.version) == (sante.theme.pk, 1)


def test_an_item_moves_to_its_themes_level_and_to_another_sous_theme(sante, marie):
    difficulte = sante.difficultes.get(libelle="Peu de prévention")

    editing.move_element(difficulte, sante.theme, marie, 1)
    difficulte.refresh_from_db()
    assert (difficulte.theme, difficulte.sous_theme) == (sante.theme, None)

    mentale = SousThemeFactory(theme=sante.theme, libelle="Santé mentale")
    editing.move_element(difficulte, mentale, marie, 2)
    difficulte.refresh_from_db()
    assert (difficulte.theme, difficulte.sous_theme) == (None, mentale)
    assert difficulte.version == 3


def test_an_item_cannot_move_where_the_same_libelle_exists(sante, marie):
    DifficulteFactory(au_niveau_du_theme=True, theme=sante.theme, libelle="Peu de prévention")
    difficulte = sante.difficultes.get(libelle="Peu de prévention")
    with pytest.raises(ValidationError) as error:
        editing.move_element(difficulte, sante.theme, marie, 1)
    assert error.value.message_dict["destination"] == [
        "Une difficulté portant ce libellé existe déjà au niveau du thème « Santé » "
        "(majuscules et accents ne comptent pas)."
    ]


# Split and merge --------------------------------------------------------------------------


def test_splitting_keeps_the_provenance_and_quartiers_and_places_the_parts_together(sante, marie):
    cellule = CelluleSourceFactory(ligne=33)
    quartier = QuartierFactory()
    manque = sante.difficultes.get(libelle="Manque de médecins généralistes")
    manque.source = cellule
    manque.save()
    manque.quartiers.set([quartier])

    parts = editing.split_element(
        manque,
        ["Manque de médecins généralistes", "", "  Départs en retraite non remplacés "],
        marie,
        manque.version,
    )

    assert [part.libelle for part in parts] == [
        "Manque de médecins généralistes",
        "Départs en retraite non remplacés",
    ]
    assert parts[0].pk == manque.pk
    assert libelles(sante) == [
        "Manque de médecins généralistes",
        "Départs en retraite non remplacés",
        "Renoncement aux soins",
        "Peu de prévention",
    ]
    nouvelle = Difficulte.objects.get(pk=parts[1].pk)
    assert nouvelle.source == cellule
    assert list(nouvelle.quartiers.all()) == [quartier]
    assert last_record(nouvelle).history_change_reason == (
        "Scission de « Manque de médecins généralistes »"
    )
    assert last_record(nouvelle).history_user == marie


def test_a_split_needs_two_different_libelles_new_at_their_level(sante, marie):
    difficulte = sante.difficultes.first()
    for libelles_, message in [
        (["Une seule"], "Indiquez au moins deux libellés"),
        (["Même texte", "même  TEXTE"], "Deux lignes portent le même libellé"),
        (["Autre chose", "Peu de prévention"], "existe déjà dans le sous-thème"),
    ]:
        with pytest.raises(ValidationError) as error:
            editing.split_element(difficulte, libelles_, marie, 1)
        assert message in error.value.message_dict["libelles"][0]
    assert sante.difficultes.count() == 3


def test_splitting_an_indicator_copies_its_metadata_but_not_its_values(marie):
    indicateur = IndicateurFactory(
        libelle="Taux de chômage et nombre de demandeurs d'emploi",
        type=Indicateur.Type.QUANTITATIF,
        unite="%",
        source_donnees="France Travail",
    )
    Mesure.objects.create(indicateur=indicateur, annee=2023, valeur=Decimal("21.5"))

    _, nouveau = editing.split_element(
        indicateur, ["Taux de chômage", "Nombre de demandeurs d'emploi"], marie, 1
    )

    nouveau = Indicateur.objects.get(pk=nouveau.pk)
    assert (nouveau.type, nouveau.unite, nouveau.source_donnees) == (
        "quantitatif",
        "%",
        "France Travail",
    )
    assert nouveau.mesures.count() == 0
    assert indicateur.mesures.count() == 1


def test_merging_keeps_one_item_with_the_union_of_quartiers_and_names_the_other_sources(
    sante, marie
):
    rive_gauche, bien_assis = QuartierFactory(), QuartierFactory()
    manque, renoncement, prevention = sante.difficultes.order_by("position")
    manque.source = CelluleSourceFactory(ligne=12)
    manque.save()
    manque.quartiers.set([rive_gauche])
    renoncement.source = CelluleSourceFactory(ligne=13)
    renoncement.save()
    renoncement.quartiers.set([bien_assis])
    manque.refresh_from_db()
    renoncement.refresh_from_db()

    merged = editing.merge_elements(
        manque, manque.version, {renoncement.pk: renoncement.version}, "", marie
    )

    assert merged.pk == manque.pk
    # Joined as sentences: each ends with a full stop.
    assert merged.libelle == "Manque de médecins généralistes. Renoncement aux soins."
    assert set(merged.quartiers.all()) == {rive_gauche, bien_assis}
    assert merged.source.ligne == 12
    assert libelles(sante) == [merged.libelle, "Peu de prévention"]
    assert last_record(merged).history_change_reason == "Fusion de 2 éléments (sources : lignes 13)"
    deletion = Difficulte.history.get(id=renoncement.pk, history_type="-")
    assert deletion.history_change_reason == (
        "Fusion dans « Manque de médecins généralistes. Renoncement aux soins. »"
    )
    assert deletion.history_user == marie


def test_a_merge_with_an_item_changed_meanwhile_is_stale_and_changes_nothing(sante, marie):
    manque, renoncement, _ = sante.difficultes.order_by("position")
    renoncement.libelle = "Renoncement aux soins dentaires"
    editing.save_versioned(renoncement, 1, marie, fields=["libelle"])

    with pytest.raises(editing.StaleEdit) as stale:
        editing.merge_elements(manque, 1, {renoncement.pk: 1}, "Fusion", marie)

    assert stale.value.current.libelle == "Renoncement aux soins dentaires"
    assert sante.difficultes.count() == 3
    manque.refresh_from_db()
    assert manque.version == 1


def test_indicators_with_values_are_not_merged(marie):
    sous_theme = SousThemeFactory()
    a, b = IndicateurFactory(sous_theme=sous_theme), IndicateurFactory(sous_theme=sous_theme)
    Mesure.objects.create(indicateur=b, annee=2023, valeur=Decimal("3"))
    with pytest.raises(ValidationError) as error:
        editing.merge_elements(a, 1, {b.pk: 1}, "", marie)
    assert "a des valeurs saisies" in error.value.message_dict["autres"][0]


# Deleting and restoring -------------------------------------------------------------------


def test_the_summary_of_a_deletion_says_what_goes_with_it(sante):
    theme = sante.theme
    DifficulteFactory(au_niveau_du_theme=True, theme=theme)
    indicateur = IndicateurFactory(sous_theme=sante)
    Mesure.objects.create(indicateur=indicateur, annee=2022, valeur=1)
    Mesure.objects.create(indicateur=indicateur, annee=2023, valeur=2)

    assert editing.delete_summary(theme).phrase == (
        "Seront aussi supprimés : 1 sous-thème, 4 difficultés, 1 indicateur "
        "et 2 valeurs d'indicateurs."
    )
    assert editing.delete_summary(indicateur).phrase == (
        "Seront aussi supprimés : 2 valeurs d'indicateurs."
    )
    assert editing.delete_summary(sante.difficultes.first()).phrase == (
        "Rien d'autre ne sera supprimé."
    )


def test_a_deleted_theme_comes_back_whole(sante, marie):
    theme = sante.theme
    quartier = QuartierFactory()
    tagged = sante.difficultes.first()
    tagged.quartiers.set([quartier])
    indicateur = IndicateurFactory(au_niveau_du_theme=True, theme=theme)
    Mesure.objects.create(indicateur=indicateur, annee=2023, valeur=Decimal("4.5"))

    editing.delete(Theme.objects.get(pk=theme.pk), marie, expected_version=1)

    assert not Theme.objects.filter(pk=theme.pk).exists()
    assert not Difficulte.objects.filter(sous_theme=sante.pk).exists()
    deletion = Theme.history.get(id=theme.pk, history_type="-")
    assert (deletion.history_user, deletion.history_change_reason) == (marie, "Suppression")
    child = Difficulte.history.filter(id=tagged.pk, history_type="-").get()
    assert child.history_change_reason == f"Suppression avec le thème n° {theme.pk} « Santé »"

    restored = restore.restore_deleted(deletion, marie)

    assert restored.pk == theme.pk
    sous_theme = SousTheme.objects.get(pk=sante.pk)
    assert libelles(sous_theme) == [
        "Manque de médecins généralistes",
        "Renoncement aux soins",
        "Peu de prévention",
    ]
    assert list(Difficulte.objects.get(pk=tagged.pk).quartiers.all()) == [quartier]
    assert Indicateur.objects.get(pk=indicateur.pk).mesures.get().valeur == Decimal("4.5")
    assert last_record(restored).history_change_reason == "Restauration après suppression"
    with pytest.raises(ValidationError, match="déjà été restauré"):
        restore.restore_deleted(deletion, marie)


def test_an_item_of_a_deleted_sous_theme_waits_for_its_parent(sante, marie):
    difficulte = sante.difficultes.first()
    editing.delete(Difficulte.objects.get(pk=difficulte.pk), marie)
    editing.delete(SousTheme.objects.get(pk=sante.pk), marie)
    deletion = Difficulte.history.get(id=difficulte.pk, history_type="-")

    with pytest.raises(ValidationError) as error:
        restore.restore_deleted(deletion, marie)
    assert error.value.messages == [
        "Le sous-thème « Accès aux soins » a été supprimé : restaurez-le d'abord."
    ]


def test_a_deletion_on_a_stale_version_is_refused(sante, marie):
    difficulte = sante.difficultes.first()
    other = Difficulte.objects.get(pk=difficulte.pk)
    other.libelle = "Changé entre-temps"
    editing.save_versioned(other, 1, marie, fields=["libelle"])
    with pytest.raises(editing.StaleEdit):
        editing.delete(difficulte, marie, expected_version=1)
    assert Difficulte.objects.filter(pk=difficulte.pk).exists()


def test_an_earlier_version_comes_back_with_its_libelle_quartiers_and_place(sante, marie):
    quartier = QuartierFactory()
    difficulte = sante.difficultes.get(libelle="Peu de prévention")
    difficulte.libelle = "Peu d'actions de prévention"
    editing.save_versioned(difficulte, 1, marie, fields=["libelle"], quartiers=[quartier])
    mentale = SousThemeFactory(theme=sante.theme, libelle="Santé mentale")
    editing.move_element(difficulte, mentale, marie, 2)
    first = Difficulte.history.filter(id=difficulte.pk).order_by("history_id").first()

    restore.restore_version(first, marie, 3)

    difficulte.refresh_from_db()
    assert (difficulte.libelle, difficulte.sous_theme, difficulte.version) == (
        "Peu de prévention",
        sante,
        4,
    )
    assert list(difficulte.quartiers.all()) == []
    assert libelles(sante)[-1] == "Peu de prévention"
    assert last_record(difficulte).history_change_reason.startswith(
        "Restauration de la version du "
    )
