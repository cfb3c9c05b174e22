from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from comptes.models import PLATFORM_ORGANISATION, Organisation
from comptes.roles import Role, is_national_admin
from diagnostics import editing
from diagnostics.access import roles_by_contract
from diagnostics.models import (
    CelluleSource,
    Contrat,
    Diagnostic,
    Difficulte,
    Import,
    Membre,
    Pilier,
    Quartier,
    SousTheme,
    Theme,
)
from indicateurs.models import Indicateur, Mesure
from tests.factories import UserFactory


def run_demo():
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def snapshot():
    return {
        model.__name__: sorted(model.objects.values_list("pk", "updated_at"))
        for model in (Diagnostic, Pilier, Difficulte, Indicateur, Quartier)
    }


def test_demo_loads_montlucon_and_prints_the_demo_logins(settings):
    settings.DEBUG = True
    output = run_demo()

    diagnostic = Diagnostic.objects.get(slug="montlucon-2024")
    assert diagnostic.statut == Diagnostic.Statut.PUBLIE
    assert set(diagnostic.quartiers.values_list("code", flat=True)) == {
        "QN00304M",
        "QN00305M",
        "QN00306M",
    }
    assert diagnostic.piliers.count() == 3
    epci = Organisation.objects.get(nom="Montluçon Communauté")
    prefecture = Organisation.objects.get(nom="Préfecture de l'Allier")
    assert (epci.nature, prefecture.nature) == (
        Organisation.Nature.EPCI,
        Organisation.Nature.PREFECTURE,
    )
    for username, password, role, organisation in [
        ("admin", "admin-demo-2024", Role.ADMINISTRATEUR, epci),
        ("equipe", "equipe-demo-2024", Role.EQUIPE_VILLE, epci),
        ("partenaire", "partenaire-demo-2024", Role.PARTENAIRE, prefecture),
    ]:
        assert f"{username} / {password} — {role}" in output
        user = authenticate(username=username, password=password)
        assert user is not None and not is_national_admin(user)
        # Its one role, on the demo contract, in its organisation.
        assert roles_by_contract(user) == {diagnostic.contrat_id: {role}}
        assert user.profil.organisation == organisation
    assert "national / national-demo-2024 — administration nationale (/admin/)" in output
    national = authenticate(username="national", password="national-demo-2024")
    assert national is not None and is_national_admin(national) and national.is_staff
    assert not Membre.objects.filter(compte=national).exists()
    assert national.profil.organisation.nom == PLATFORM_ORGANISATION


def everything():
    """Every row the demonstration writes or the site edits, as it is (texts, places,
    versions, dates), and how many history rows each kind has."""
    models = (
        Contrat,
        Diagnostic,
        Pilier,
        Theme,
        SousTheme,
        Difficulte,
        Indicateur,
        Mesure,
        Quartier,
        Import,
        CelluleSource,
    )
    result = {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
    for model in models:
        if hasattr(model, "history"):
            result[f"history {model.__name__}"] = model.history.count()
    return result


def test_demo_creates_the_contract_and_its_first_edition(settings):
    settings.DEBUG = True
    run_demo()

    contrat = Contrat.objects.get()
    assert (contrat.nom, contrat.slug, contrat.territoire, contrat.periode) == (
        "Contrat de ville de Montluçon Communauté",
        "montlucon",
        "Montluçon Communauté",
        "2024–2030",
    )
    assert contrat.signataires.startswith(
        "Montluçon Communauté, Ville de Montluçon, Préfecture de l'Allier, "
    )
    edition = contrat.editions.get()
    assert edition.slug == "montlucon-2024"
    assert edition.nom_edition == "Diagnostic initial — 2024"
    assert edition.statut == Diagnostic.Statut.PUBLIE


def edit_in_the_site(user):
    """Reword, split, merge, move and delete difficulties; rename a sous-thème; drop a
    quartier of the diagnostic."""
    diagnostic = Diagnostic.objects.get(slug="montlucon-2024")

    def item(start):
        return Difficulte.objects.get(diagnostic=diagnostic, libelle__startswith=start)

    reworded = item("Désengagement des jeunes")
    reworded.libelle = "Les jeunes se désengagent de la citoyenneté."
    editing.save_versioned(reworded, reworded.version, user, fields=["libelle"])
    split = item("Difficultés d'accès aux activités culturelles")
    editing.split_element(split, ["Accès aux activités", "Coût des activités"], user, split.version)
    first, second = item("Difficulté à coordonner"), item("Manque de visibilité")
    editing.merge_elements(first, first.version, {second.pk: second.version}, "", user)
    moved = item("Besoin d'un renforcement de la présence")
    destination = SousTheme.objects.get(diagnostic=diagnostic, libelle="Droits sociaux")
    editing.move_element(moved, destination, user, moved.version)
    editing.delete(item("peu d'initiative citoyenne"), user)
    sous_theme = SousTheme.objects.get(diagnostic=diagnostic, libelle="Accès aux soins")
    sous_theme.libelle = "Accès aux soins de premier recours"
    editing.save_versioned(sous_theme, sous_theme.version, user, fields=["libelle"])
    diagnostic.quartiers.remove(Quartier.objects.get(code="QN00306M"))


def test_running_the_demo_again_after_edits_in_the_site_changes_nothing(settings):
    settings.DEBUG = True
    run_demo()
    edit_in_the_site(UserFactory(username="marie"))
    before = everything()

    output = run_demo()

    assert everything() == before
    assert "Difficultés : 0 créée, 39 inchangées, 6 modifiées dans le site" in output
    assert "Sous-thèmes : 0 créé, 26 inchangés, 1 modifié dans le site" in output
    assert "Aucune modification" in output
    assert " créées" not in output and " créés" not in output


def test_a_frozen_demonstration_edition_is_left_alone(settings):
    settings.DEBUG = True
    run_demo()
    Diagnostic.objects.filter(slug="montlucon-2024").update(statut=Diagnostic.Statut.FIGE)
    before = everything()

    output = run_demo()

    assert "est figée : le tableau de démonstration n'y est pas importé de nouveau" in output
    assert everything() == before


def test_running_the_demo_twice_duplicates_nothing(settings):
    settings.DEBUG = True
    run_demo()
    before = snapshot()
    memberships = sorted(Membre.objects.values_list("pk", "compte__username", "role"))
    organisations = sorted(Organisation.objects.values_list("pk", "nom"))
    run_demo()
    assert snapshot() == before
    assert sorted(Membre.objects.values_list("pk", "compte__username", "role")) == memberships
    assert sorted(Organisation.objects.values_list("pk", "nom")) == organisations


def test_demo_is_refused_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="réservée au développement"):
        call_command("demo", stdout=StringIO())
    assert not Diagnostic.objects.exists()
