from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from comptes.roles import Role, roles_of
from diagnostics.models import Diagnostic, Difficulte, Pilier, Quartier
from indicateurs.models import Indicateur


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
    for username, password, role in [
        ("admin", "admin-demo-2024", Role.ADMINISTRATEUR),
        ("equipe", "equipe-demo-2024", Role.EQUIPE_VILLE),
        ("partenaire", "partenaire-demo-2024", Role.PARTENAIRE),
    ]:
        assert f"{username} / {password}" in output
        user = authenticate(username=username, password=password)
        assert user is not None and roles_of(user) == {role}


def test_running_the_demo_twice_duplicates_nothing(settings):
    settings.DEBUG = True
    run_demo()
    before = snapshot()
    run_demo()
    assert snapshot() == before


def test_demo_is_refused_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="réservée au développement"):
        call_command("demo", stdout=StringIO())
    assert not Diagnostic.objects.exists()
