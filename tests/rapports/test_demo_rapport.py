"""`make run`'s demonstration holds Montluçon's 2025 report, begun, once."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rapports.models import Rapport


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def test_the_demo_begins_the_2025_report_once(debug):
    call_command("demo", stdout=StringIO())
    call_command("demo", stdout=StringIO())
    rapport = Rapport.objects.get()
    assert (rapport.annee, rapport.statut, rapport.contrat.slug) == (2025, "brouillon", "montlucon")
    assert "<strong>cohésion sociale</strong>" in rapport.sections.get(cle="orientations").texte


def test_the_demo_report_is_refused_outside_development(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="développement"):
        call_command("demo_rapport", stdout=StringIO())
    assert not Rapport.objects.exists()
