import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from diagnostics.models import CelluleSource, Diagnostic, Difficulte, Pilier, SousTheme, Theme
from indicateurs.models import Indicateur
from tests.factories import DifficulteFactory, IndicateurFactory, UserFactory


def run_settings(**env):
    """Import the settings in a fresh interpreter with the given environment."""
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "contrat_ville.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )


def test_refuses_to_start_without_debug_and_with_the_development_secret_key():
    result = run_settings(DEBUG="0", SECRET_KEY="dev-only-insecure-key-do-not-use-in-production")
    assert result.returncode != 0
    assert "SECRET_KEY doit être défini" in result.stderr


def test_starts_without_debug_when_a_secret_key_is_given():
    result = run_settings(DEBUG="0", SECRET_KEY="une-vraie-cle-secrete-de-production-0123456789")
    assert result.returncode == 0, result.stderr


def test_settings_are_french():
    assert settings.LANGUAGE_CODE == "fr-fr"
    assert settings.TIME_ZONE == "Europe/Paris"


def test_no_model_change_lacks_its_migration():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model", [Diagnostic, Pilier, Theme, SousTheme, Difficulte, Indicateur, CelluleSource]
)
def test_admin_lists_search_and_edits_every_model(superuser_client, model):
    difficulte = DifficulteFactory(libelle="Isolement des familles")
    IndicateurFactory(sous_theme=difficulte.sous_theme)
    IndicateurFactory(au_niveau_du_theme=True, theme=difficulte.sous_theme.theme)
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert superuser_client.get(changelist).status_code == 200
    assert superuser_client.get(changelist, {"q": "famille"}).status_code == 200
    obj = model.objects.first()
    if obj is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert superuser_client.get(change).status_code == 200


def test_admin_filters_items_by_diagnostic(superuser_client):
    kept = DifficulteFactory(libelle="Dans le bon diagnostic")
    theme_level = DifficulteFactory(
        au_niveau_du_theme=True,
        theme__pilier__diagnostic=kept.sous_theme.theme.pilier.diagnostic,
        libelle="Au niveau du thème",
    )
    DifficulteFactory(libelle="Ailleurs")
    response = superuser_client.get(
        reverse("admin:diagnostics_difficulte_changelist"),
        {"diagnostic": kept.sous_theme.theme.pilier.diagnostic.slug},
    )
    assert set(response.context["cl"].queryset) == {kept, theme_level}


def make_dry_run(*args):
    """The commands `make` would run (nothing is executed), in a throwaway environment."""
    result = subprocess.run(
        ["make", "--no-print-directory", "--dry-run", *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize(("host", "port"), [("127.0.0.1", "8000"), ("0.0.0.0", "8123")])
def test_make_run_serves_and_prints_the_address_of_host_and_port(tmp_path, host, port):
    args = [f"VENV={tmp_path / 'venv'}"]
    if port != "8000":
        args += [f"HOST={host}", f"PORT={port}"]

    lines = make_dry_run("run", *args)

    demo = next(line for line in lines if "manage.py demo" in line)
    assert demo.endswith(f"manage.py demo --adresse http://{host}:{port}/")
    assert any(line.endswith(f"manage.py runserver {host}:{port}") for line in lines), lines


@pytest.mark.django_db
def test_the_demo_prints_the_address_it_is_given(settings):
    settings.DEBUG = False  # with --force: the demo accounts, without invented values
    out = StringIO()

    call_command("demo", "--force", "--adresse", "http://0.0.0.0:8123/", stdout=out)

    assert "Site : http://0.0.0.0:8123/  —  administration : http://0.0.0.0:8123/admin/" in (
        out.getvalue()
    )
    assert ":8000" not in out.getvalue()
