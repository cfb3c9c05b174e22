"""Demonstration values: loaded only with DEBUG on, marked as fictitious, labelled so on
every page that shows them, loaded once, never over a real value."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from comptes.roles import Role
from indicateurs.management.commands.demo_mesures import SOURCE
from indicateurs.models import Indicateur, Mesure
from tests.factories import UserFactory
from tests.indicateurs_data import RIVE_GAUCHE, qpv

BANNER = "Données fictives de démonstration."


def demo_mesures(*args):
    out = StringIO()
    call_command("demo_mesures", "--diagnostic", "montlucon", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def demo(montlucon, settings):
    settings.DEBUG = True
    qpv(montlucon)
    demo_mesures()
    return montlucon


def test_refused_without_debug(montlucon, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="réservées à la démonstration"):
        demo_mesures()

    assert not Mesure.objects.exists()


def test_fills_a_few_indicators_with_values_marked_as_fictitious(demo):
    mesures = Mesure.objects.filter(nature=Mesure.Nature.VALEUR)

    assert mesures.count() == 4 * 4 * 6 + 4
    assert set(Mesure.objects.values_list("fictive", "source")) == {(True, SOURCE)}
    assert set(mesures.values_list("annee", flat=True)) == set(range(2019, 2025))
    permis = Indicateur.objects.get(libelle__startswith="Nombre de personne sans permis")
    assert permis.type == Indicateur.Type.QUANTITATIF
    assert permis.definition.startswith("Définition fictive de démonstration")
    assert permis.mesures.filter(quartier__code=RIVE_GAUCHE, nature="valeur").count() == 6
    # References and targets per scope; Bien-Assis has no target of its own for this one.
    cibles = permis.mesures.filter(nature=Mesure.Nature.CIBLE)
    assert {m.quartier.code if m.quartier else None: m.valeur for m in cibles} == {
        None: 300,
        RIVE_GAUCHE: 120,
        "QN00305M": 70,
    }
    isolement = Indicateur.objects.get(libelle="Sentiment d'isolement")
    assert isolement.type == Indicateur.Type.QUALITATIF
    assert not isolement.mesures.filter(texte="").exists()


def test_running_it_again_adds_nothing_and_keeps_what_staff_entered(demo):
    booster = Indicateur.objects.get(libelle__startswith="Nombre de jeunes intégrant")
    booster.mesures.filter(annee=2024, quartier=None).delete()
    real = Mesure.objects.create(indicateur=booster, annee=2024, valeur=Decimal(23))
    booster.unite = "jeunes de 16-17 ans"
    booster.save()
    before = Mesure.objects.count()

    output = demo_mesures()

    assert Mesure.objects.count() == before
    assert "0 créée(s)" in output
    real.refresh_from_db()
    assert (real.valeur, real.fictive) == (Decimal(23), False)
    booster.refresh_from_db()
    assert booster.unite == "jeunes de 16-17 ans"


def test_retirer_deletes_the_fictitious_values_only(demo):
    booster = Indicateur.objects.get(libelle__startswith="Nombre de jeunes intégrant")
    real = Mesure.objects.create(indicateur=booster, annee=2025, valeur=Decimal(23))

    demo_mesures("--retirer")

    assert list(Mesure.objects.all()) == [real]


def test_every_page_that_shows_them_says_they_are_fictitious(client, demo):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=demo.contrat))
    permis = Indicateur.objects.get(libelle__startswith="Nombre de personne sans permis")
    pilier = permis.theme_effectif.pilier

    dashboard = client.get(reverse("indicateurs:tableau_de_bord", args=[demo.slug]))
    detail = client.get(reverse("indicateurs:detail", args=[demo.slug, permis.pk]))
    pilier_page = client.get(pilier.get_absolute_url())

    assert BANNER in dashboard.content.decode()
    assert BANNER in detail.content.decode()
    assert "Données fictives de démonstration</span>" in pilier_page.content.decode()


def test_pages_without_fictitious_values_have_no_banner(client, montlucon):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))

    dashboard = client.get(reverse("indicateurs:tableau_de_bord", args=[montlucon.slug]))

    assert BANNER not in dashboard.content.decode()


def test_the_demo_command_loads_them(settings):
    settings.DEBUG = True

    call_command("demo", stdout=StringIO())

    assert Mesure.objects.filter(fictive=True).exists()
    assert not Mesure.objects.filter(fictive=False).exists()
