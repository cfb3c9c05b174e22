"""Backup of a whole diagnostic to one file (JSON Lines, streamed) and its restoration into
an empty database, or the same one after the diagnostic was deleted: the round trip loses
nothing (same objects, same texts, same history)."""

import datetime
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from comptes.roles import Role
from diagnostics import backup as backup_module
from diagnostics.backup import (
    REFERENTIELS,
    BackupError,
    backed_up_models,
    backup,
    read,
    restore,
)
from diagnostics.models import Commune, Diagnostic, Difficulte, Membre, Pilier, Quartier
from indicateurs.models import Indicateur, Mesure, TerritoireComparaison
from tests.factories import (
    DiagnosticFactory,
    DifficulteFactory,
    ImportFactory,
    PilierFactory,
    QuartierFactory,
    UserFactory,
)

HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)> ‮gauche 🏘️'


def objets(text):
    """The rows of a backup, [(model label, values)], references to accounts, quartiers and
    référentiels by their natural key (their numbers differ from a database to another)."""
    document = read(text)
    keys = {
        get_user_model(): {c["id"]: c["username"] for c in document.comptes},
        Quartier: {q["id"]: q["code"] for q in document.quartiers},
    }
    for section, (model, fields) in REFERENTIELS.items():
        keys[model] = {r["id"]: r[fields[0]] for r in document.referentiels.get(section, [])}
    result = []
    for label, champs, rows in document.blocks:
        model = apps.get_model(label)
        concrete, m2m = backup_module._columns(model)
        assert champs == [f.attname for f in concrete] + [f.name for f in m2m]
        targets = [keys.get(f.related_model) if f.is_relation else None for f in concrete + m2m]
        for row in rows:
            result.append(
                (
                    label,
                    [
                        value
                        if target is None
                        else sorted(target[v] for v in value)  # a set: its order is free
                        if isinstance(value, list)
                        else target.get(value, value)
                        for target, value in zip(targets, row, strict=True)
                    ],
                )
            )
    return result


def damaged(text, label, champ, value):
    """The backup with the first row of `label` given `value` for `champ`."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        header = json.loads(line)
        if isinstance(header, dict) and header.get("modele") == label:
            row = json.loads(lines[i + 1])
            row[header["champs"].index(champ)] = value
            lines[i + 1] = json.dumps(row)
            return "\n".join(lines) + "\n"
    raise AssertionError(label)


@pytest.fixture
def rich(montlucon):
    """Montluçon's seed (imports, source cells, import history) and a life after it:
    quartiers, edits by named people, a deletion, indicator metadata, measures, a
    cancelled import, hostile texts; and another diagnostic that must stay out of it."""
    rive_gauche = QuartierFactory(code="QN00304M", nom="Rive Gauche")
    bien_assis = QuartierFactory(code="QN00306M", nom="Bien-Assis", communes=["03185", "03101"])
    montlucon.quartiers.set([rive_gauche, bien_assis])
    claire = UserFactory(
        username="claire.martin",
        first_name="Claire",
        last_name="Martin",
        role=Role.EQUIPE_VILLE,
        contrat=montlucon.contrat,
    )

    difficulte = Difficulte.objects.du_diagnostic(montlucon).first()
    difficulte._history_user = claire
    difficulte.libelle = f"{difficulte.libelle} — précisé {HOSTILE}"
    difficulte.save()
    difficulte.quartiers.set([rive_gauche])
    deleted = Difficulte.objects.du_diagnostic(montlucon).last()
    deleted._history_user = claire
    deleted.delete()

    indicateur = Indicateur.objects.du_diagnostic(montlucon).first()
    indicateur._history_user = claire
    indicateur.type = Indicateur.Type.QUANTITATIF
    indicateur.unite = "%"
    indicateur.definition = "Part des 16-25 ans sans emploi ni formation 📊"
    indicateur.periodicite = ""  # its values are of two kinds of period (an older import)
    indicateur.save()
    Mesure.objects.create(
        indicateur=indicateur, nature="reference", annee=2020, valeur=Decimal("23.4567")
    )
    Mesure.objects.create(
        indicateur=indicateur, nature="cible", annee=2030, quartier=rive_gauche, valeur=18
    )
    # A comparison territory of the référentiel, not of the diagnostic.
    commune = TerritoireComparaison.objects.create(
        code="03185", nom="Montluçon (commune)", echelon="commune"
    )
    Mesure.objects.create(indicateur=indicateur, annee=2024, territoire=commune, valeur=17)
    Mesure.objects.create(
        indicateur=indicateur,
        annee=2024,
        quartier=rive_gauche,
        valeur=Decimal("21.0500"),
        source="Insee",
        commentaire=HOSTILE,
        saisi_par=claire,
    )
    Mesure.objects.create(
        indicateur=indicateur,
        annee=2024,
        type_periode=Mesure.TypePeriode.TRIMESTRE,
        numero_periode=3,
        valeur=Decimal("19.5"),
    )
    qualitatif = Indicateur.objects.du_diagnostic(montlucon).last()
    Mesure.objects.create(indicateur=qualitatif, annee=2025, texte="Constat : en hausse.")

    gerard = UserFactory(
        username="gerard.admin", role=Role.ADMINISTRATEUR, contrat=montlucon.contrat
    )
    ImportFactory(diagnostic=montlucon, importe_par=gerard, annule_par=gerard)

    PilierFactory(diagnostic=DiagnosticFactory(slug="autre"), libelle="Ailleurs")
    return montlucon


def empty_the_database():
    """What an empty database holds: nothing of the diagnostics, nor any account or QPV
    (the roles, created by the migrations, stay)."""
    Diagnostic.objects.all().delete()
    for model in reversed(backed_up_models()):
        model.objects.all().delete()
    Quartier.objects.all().delete()
    Commune.objects.all().delete()
    TerritoireComparaison.objects.all().delete()
    get_user_model().objects.all().delete()


def without_ids(rows):
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def test_the_round_trip_loses_nothing(rich):
    text = backup(rich)

    empty_the_database()
    report = restore(text)
    after = backup(report.diagnostic)

    assert objets(after) == objets(text)
    assert without_ids(read(after).quartiers) == without_ids(read(text).quartiers)
    assert without_ids(read(after).comptes) == without_ids(read(text).comptes)
    assert {s: without_ids(r) for s, r in read(after).referentiels.items()} == {
        s: without_ids(r) for s, r in read(text).referentiels.items()
    }


def test_the_quartiers_come_back_with_their_communes(rich):
    text = backup(rich)
    empty_the_database()

    restore(text)

    bien_assis = Quartier.objects.get(code="QN00306M")
    assert sorted((c.code, c.nom) for c in bien_assis.communes.all()) == [
        ("03101", "Domérat"),
        ("03185", "Montluçon"),
    ]
    assert list(Quartier.objects.get(code="QN00304M").communes.values_list("nom", flat=True)) == [
        "Montluçon"
    ]


def test_a_backup_holding_the_communes_as_one_text_is_still_restored(rich):
    """Backups written before the référentiel of the quartiers held a quartier's communes
    as one text: it is ignored, the quartier restored without communes."""
    lines = backup(rich).splitlines()
    section = json.loads(lines[2])
    for quartier in section["quartiers"]:
        quartier["communes"] = "Montluçon, Domérat"
        del quartier["region"]
    lines[2] = json.dumps(section, ensure_ascii=False)
    empty_the_database()

    report = restore("\n".join(lines) + "\n")

    assert sorted(report.created_quartiers) == ["QN00304M", "QN00306M"]
    assert not Commune.objects.exists()
    assert Quartier.objects.get(code="QN00306M").nom == "Bien-Assis"


def test_a_damaged_commune_writes_nothing(rich):
    lines = backup(rich).splitlines()
    section = json.loads(lines[2])
    section["quartiers"][0]["communes"] = [["pas un code", "Nulle part"]]
    lines[2] = json.dumps(section, ensure_ascii=False)
    empty_the_database()

    with pytest.raises(BackupError, match="Sauvegarde abîmée : commune"):
        restore("\n".join(lines) + "\n")

    assert not Quartier.objects.exists() and not Commune.objects.exists()
    assert not Diagnostic.objects.exists()


def test_the_backup_is_one_json_value_a_line_ending_with_its_count(rich):
    lines = backup(rich).splitlines()

    values = [json.loads(line) for line in lines]
    assert values[0]["version"] == 2 and values[0]["diagnostic"]["slug"] == "montlucon"
    assert [list(v) for v in values[1:4]] == [["comptes"], ["quartiers"], ["referentiels"]]
    assert values[-1] == {"fin": sum(isinstance(v, list) for v in values)}
    assert "Contrat de ville de Montluçon" in json.dumps(values[3], ensure_ascii=False)


def test_a_restoration_after_deleting_the_diagnostic_works(rich):
    """Deleting the diagnostic (as the ORM does: its history rows stay, "-" rows added)
    leaves its history; the restoration replaces it, nothing is touched by hand."""
    text = backup(rich)
    before = objets(text)
    Diagnostic.objects.get(slug="montlucon").delete()
    assert Difficulte.history.filter(diagnostic_id=rich.pk).exists()  # left by the deletion

    report = restore(text)

    after = objets(backup(report.diagnostic))
    history = {label for label, _ in before if ".historical" in label}
    assert [o for o in after if o[0] not in history] == [o for o in before if o[0] not in history]
    restored_history = [o for o in after if o[0] in history]
    assert all(o in restored_history for o in before if o[0] in history)
    deletions = [o for o in restored_history if o not in before]  # the deletion's "-" rows
    assert deletions and all("-" in values for _, values in deletions)
    assert report.counts[str(Difficulte._meta.verbose_name_plural)] == (
        Difficulte.objects.du_diagnostic(rich).count()
    )


def test_a_backup_of_the_first_format_is_still_restored(rich):
    """Version 1: one JSON object, "objets" in Django's serialization format."""
    from django.core import serializers

    text = backup(rich)
    document = read(text)
    objets_v1 = []
    for label, champs, rows in document.blocks:
        model = apps.get_model(label)
        pk = champs.index(model._meta.pk.attname)
        numbers = [row[pk] for row in rows]
        queryset = model.objects.filter(pk__in=numbers).order_by("pk")
        objets_v1 += serializers.serialize("python", queryset, use_natural_foreign_keys=True)
    v1 = {
        "format": "contrat-ville/sauvegarde-diagnostic",
        "version": 1,
        "date": "2026-01-01T00:00:00+00:00",
        "diagnostic": document.header["diagnostic"],
        "comptes": without_ids(document.comptes),
        "quartiers": without_ids(document.quartiers),
        "referentiels": {s: without_ids(r) for s, r in document.referentiels.items()},
        "objets": objets_v1,
    }
    from django.core.serializers.json import DjangoJSONEncoder

    class Encoder(DjangoJSONEncoder):
        def default(self, o):
            if isinstance(o, datetime.datetime):
                return o.isoformat()
            return super().default(o)

    old = json.dumps(v1, cls=Encoder, ensure_ascii=False, indent=1)
    empty_the_database()

    report = restore(old)

    assert objets(backup(report.diagnostic)) == objets(text)


def test_the_backup_holds_everything_of_the_diagnostic_and_nothing_else(rich):
    text = backup(rich)
    document = read(text)
    labels = [label for label, _ in objets(text)]

    for label in [
        "diagnostics.diagnostic",
        "diagnostics.import",
        "diagnostics.cellulesource",
        "diagnostics.pilier",
        "diagnostics.theme",
        "diagnostics.soustheme",
        "diagnostics.difficulte",
        "indicateurs.indicateur",
        "indicateurs.mesure",
        "diagnostics.historicaldiagnostic",
        "diagnostics.historicalpilier",
        "diagnostics.historicaldifficulte",
        "diagnostics.historicaldifficulte_quartiers",
        "indicateurs.historicalindicateur",
        "indicateurs.historicalmesure",
    ]:
        assert label in labels, label
    assert labels.count("diagnostics.diagnostic") == 1
    assert "Ailleurs" not in text
    assert [q["code"] for q in document.quartiers] == ["QN00304M", "QN00306M"]
    assert {c["username"] for c in document.comptes} == {"claire.martin", "gerard.admin"}
    assert "password" not in json.dumps(document.comptes)


def change_reasons(diagnostic):
    history = Pilier.history.filter(diagnostic_id=diagnostic.pk).order_by("history_id")
    return list(history.values_list("history_change_reason", "import_source"))


def test_restored_texts_history_and_measures_are_the_same(rich):
    edited = Difficulte.objects.du_diagnostic(rich).get(libelle__contains="précisé")
    deleted_history = Difficulte.history.filter(history_type="-").count()
    reasons = change_reasons(rich)
    text = backup(rich)
    empty_the_database()

    restore(text)

    restored = Difficulte.objects.get(pk=edited.pk)
    assert restored.libelle == edited.libelle
    assert HOSTILE in restored.libelle
    assert [q.code for q in restored.quartiers.all()] == ["QN00304M"]
    assert restored.history.first().history_user.username == "claire.martin"
    assert Difficulte.history.filter(history_type="-").count() == deleted_history == 1
    assert change_reasons(rich) == reasons
    assert any(import_source is not None for _, import_source in reasons)
    mesure = Mesure.objects.get(quartier__code="QN00304M", nature="valeur")
    assert mesure.valeur == Decimal("21.0500")
    assert mesure.commentaire == HOSTILE
    assert mesure.saisi_par.username == "claire.martin"
    indicateur = mesure.indicateur
    assert indicateur.mesures.get(nature="reference").valeur == Decimal("23.4567")
    assert indicateur.mesures.get(nature="cible").quartier.code == "QN00304M"
    compared = indicateur.mesures.get(territoire__isnull=False)
    assert (compared.territoire.code, compared.territoire.nom, compared.valeur) == (
        "03185",
        "Montluçon (commune)",
        Decimal(17),
    )
    assert indicateur.definition.endswith("📊")


def test_restored_accounts_are_inactive_without_password_nor_role(rich):
    text = backup(rich)
    empty_the_database()

    report = restore(text)

    claire = get_user_model().objects.get(username="claire.martin")
    assert (claire.first_name, claire.last_name) == ("Claire", "Martin")
    assert not claire.is_active
    assert not claire.has_usable_password()
    # Roles are the contract's, not the edition's: the backup gives none back.
    assert not Membre.objects.filter(compte=claire).exists()
    assert not Membre.objects.filter(contrat=report.diagnostic.contrat).exists()
    assert sorted(report.created_accounts) == ["claire.martin", "gerard.admin"]


def test_existing_accounts_and_quartiers_are_kept_as_they_are(rich):
    text = backup(rich)
    Diagnostic.objects.filter(slug=rich.slug).delete()
    Quartier.objects.filter(code="QN00306M").update(nom="Bien-Assis (nom officiel)")

    report = restore(text)

    assert Quartier.objects.get(code="QN00306M").nom == "Bien-Assis (nom officiel)"
    assert get_user_model().objects.get(username="claire.martin").is_active
    assert report.created_accounts == [] and report.created_quartiers == []
    # The contract stayed with its roles: the restored edition is read by its members again.
    assert report.diagnostic.contrat == rich.contrat
    assert Membre.objects.get(compte__username="claire.martin").contrat == rich.contrat


def test_the_restored_diagnostic_reads_and_grows_as_before(rich, client):
    text = backup(rich)
    empty_the_database()
    restore(text)
    diagnostic = Diagnostic.objects.get(slug="montlucon")

    # New rows get new numbers (PostgreSQL's sequences were moved past the restored ones).
    DifficulteFactory(sous_theme__theme__pilier=diagnostic.piliers.first())
    PilierFactory(diagnostic=diagnostic, numero=9)
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=diagnostic.contrat))
    response = client.get(reverse("diagnostics:pilier", args=[diagnostic.slug, 1]))
    assert response.status_code == 200


# Refusals: a clear French message, nothing written ---------------------------------------


def counts():
    return [model.objects.count() for model in [*backed_up_models(), Quartier]]


def test_a_diagnostic_that_exists_already_is_not_overwritten(rich):
    document = backup(rich)
    before = counts()

    with pytest.raises(BackupError, match="Un diagnostic « montlucon » existe déjà"):
        restore(document)

    assert counts() == before


def test_taken_numbers_are_refused_and_nothing_is_written(rich):
    document = backup(rich)
    Diagnostic.objects.filter(slug="montlucon").update(slug="renomme")
    before = counts()

    with pytest.raises(BackupError, match="restaurez dans une base vide"):
        restore(document)

    assert counts() == before


def test_a_damaged_object_writes_nothing(rich):
    document = backup(rich)
    empty_the_database()
    document = damaged(document, "diagnostics.pilier", "numero", "premier")

    with pytest.raises(BackupError, match="Sauvegarde illisible ou abîmée"):
        restore(document)

    assert not Diagnostic.objects.exists()
    assert not Quartier.objects.exists()
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{pas du json", "n'est pas du JSON lisible"),
        ('{"format": "autre chose"}', "n'est pas une sauvegarde de diagnostic"),
        (
            '{"format": "contrat-ville/sauvegarde-diagnostic", "version": 99}',
            "que cette version du site ne sait pas lire",
        ),
        (
            '{"format": "contrat-ville/sauvegarde-diagnostic", "version": 1, "diagnostic": {}}',
            "la partie « comptes » manque",
        ),
    ],
)
def test_a_file_that_is_not_a_backup_is_refused(text, message):
    with pytest.raises(BackupError, match=message):
        read(text)


def test_a_cut_backup_writes_nothing(rich):
    lines = backup(rich).splitlines()
    empty_the_database()

    with pytest.raises(BackupError, match="la fin du fichier manque"):
        restore("\n".join(lines[:-5]))

    assert not Diagnostic.objects.exists()
    assert not get_user_model().objects.exists()


def test_every_model_of_the_diagnostic_is_in_the_backup():
    """A new model in diagnostics or indicateurs must be added to diagnostics.backup."""
    covered = {*backed_up_models(), *backup_module.REFERENCED}
    models = [
        *apps.get_app_config("diagnostics").get_models(),
        *apps.get_app_config("indicateurs").get_models(),
    ]
    missing = [
        model._meta.label
        for model in models
        if model not in covered and model._meta.label not in backup_module.LEFT_OUT
    ]
    assert not missing, f"Modèles absents de la sauvegarde : {missing}"


# The commands -----------------------------------------------------------------------------


def test_the_commands_back_up_to_a_file_and_restore_it(rich, tmp_path):
    path = tmp_path / "sauvegarde.jsonl"
    out = StringIO()
    call_command("backup_diagnostic", "montlucon", "--output", str(path), stdout=out)
    assert "sauvegardé dans" in out.getvalue()
    before = objets(backup(rich))

    empty_the_database()
    out = StringIO()
    call_command("restore_diagnostic", str(path), stdout=out)

    assert "Diagnostic « Contrat de ville de Montluçon — diagnostic » (montlucon) restauré." in (
        out.getvalue()
    )
    assert "Comptes recréés, inactifs" in out.getvalue()
    assert objets(backup(Diagnostic.objects.get())) == before


def test_the_backup_command_names_the_diagnostics_when_the_slug_is_unknown(rich):
    with pytest.raises(CommandError, match="Aucun diagnostic « inconnu ».*autre, montlucon"):
        call_command("backup_diagnostic", "inconnu", "--output", "-")


def test_the_restore_command_says_what_is_wrong_with_the_file(tmp_path):
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("restore_diagnostic", str(tmp_path / "absent.json"))
    damaged = tmp_path / "abime.json"
    damaged.write_bytes(b"\xff\xfe binaire")
    with pytest.raises(CommandError, match="n'est pas un fichier texte UTF-8"):
        call_command("restore_diagnostic", str(damaged))
