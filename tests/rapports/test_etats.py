"""The life of a report: brouillon, en consultation, adopté, publié, new versions; and the
section texts it refuses to change."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from rapports import etats, sections
from rapports.models import Rapport, Section
from tests.factories import InstanceFactory, RapportFactory, UserFactory

AUJOURD_HUI = datetime.date(2026, 11, 2)


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def rapport():
    return RapportFactory()


def en_consultation(rapport, *dates_envoi):
    instances = [InstanceFactory(rapport=rapport, date_envoi=d) for d in dates_envoi]
    Rapport.objects.filter(pk=rapport.pk).update(statut=Rapport.Statut.CONSULTATION)
    rapport.refresh_from_db()
    return instances


def test_a_report_starts_with_the_sections_of_the_decree(user):
    contrat = RapportFactory().contrat
    rapport = etats.commencer(contrat, 2026, user)
    assert rapport.statut == Rapport.Statut.BROUILLON
    assert [s.cle for s in rapport.sections.order_by("ordre")] == [s.cle for s in sections.SECTIONS]


def test_a_year_has_one_report_per_contract(user, rapport):
    with pytest.raises(ValidationError, match="existe déjà"):
        etats.commencer(rapport.contrat, rapport.annee, user)
    assert Rapport.objects.count() == 1


def test_the_year_must_be_plausible(user, rapport):
    with pytest.raises(ValidationError, match="comprise entre"):
        etats.commencer(rapport.contrat, 1999, user)


def test_the_consultation_needs_a_body(user, rapport):
    with pytest.raises(ValidationError, match="instances consultées"):
        etats.mettre_en_consultation(rapport, user)
    InstanceFactory(rapport=rapport)
    assert etats.mettre_en_consultation(rapport, user).statut == Rapport.Statut.CONSULTATION


def test_no_adoption_before_every_deadline_has_passed(user, rapport):
    en_consultation(rapport, datetime.date(2026, 10, 1), datetime.date(2026, 10, 15))
    with pytest.raises(ValidationError, match="avant la fin de la consultation"):
        etats.adopter(rapport, user, AUJOURD_HUI, aujourd_hui=AUJOURD_HUI)
    rapport.refresh_from_db()
    assert rapport.statut == Rapport.Statut.CONSULTATION
    assert rapport.contenu_fige is None


def test_a_body_that_answered_no_longer_holds_up_the_adoption(user, rapport):
    premiere, seconde = en_consultation(
        rapport, datetime.date(2026, 9, 1), datetime.date(2026, 10, 15)
    )
    seconde.avis, seconde.avis_date = "favorable", datetime.date(2026, 10, 20)
    seconde.save()
    # The first's deadline (1 October) has passed: silence is a favourable opinion.
    adopte = etats.adopter(rapport, user, AUJOURD_HUI, "Conseil communautaire", AUJOURD_HUI)
    assert adopte.statut == Rapport.Statut.ADOPTE
    assert adopte.date_deliberation == AUJOURD_HUI
    assert set(adopte.contenu_fige) >= {"evolution", "changements"}


def test_the_deadline_day_itself_is_still_within_the_consultation(user, rapport):
    (instance,) = en_consultation(rapport, datetime.date(2026, 10, 2))
    assert instance.date_limite == AUJOURD_HUI
    with pytest.raises(ValidationError):
        etats.adopter(rapport, user, AUJOURD_HUI, aujourd_hui=AUJOURD_HUI)
    lendemain = AUJOURD_HUI + datetime.timedelta(days=1)
    assert etats.adopter(rapport, user, lendemain, aujourd_hui=lendemain).statut == "adopte"


def test_the_deliberation_is_neither_in_the_future_nor_before_the_sending(user, rapport):
    en_consultation(rapport, datetime.date(2026, 9, 1))
    with pytest.raises(ValidationError, match="futur"):
        etats.adopter(rapport, user, datetime.date(2026, 12, 1), aujourd_hui=AUJOURD_HUI)
    with pytest.raises(ValidationError, match="précéder"):
        etats.adopter(rapport, user, datetime.date(2026, 8, 1), aujourd_hui=AUJOURD_HUI)


def test_only_an_adopted_report_is_published(user, rapport):
    with pytest.raises(ValidationError, match="adopté"):
        etats.publier(rapport, user)
    en_consultation(rapport, datetime.date(2026, 9, 1))
    etats.adopter(rapport, user, AUJOURD_HUI, aujourd_hui=AUJOURD_HUI)
    publie = etats.publier(rapport, user)
    assert publie.statut == Rapport.Statut.PUBLIE
    assert publie.date_publication is not None


def test_sections_are_saved_with_their_revision_and_refused_when_stale(user, rapport):
    section = rapport.sections.get(cle="perspectives")
    etats.enregistrer_section(section, "Premier texte.", 0, user)
    with pytest.raises(ValidationError, match="modifiée par une autre personne"):
        etats.enregistrer_section(section, "Texte d'une autre fenêtre.", 0, user)
    section.refresh_from_db()
    assert section.texte == "<p>Premier texte.</p>"
    assert section.revision == 1


def test_an_adopted_report_cannot_be_edited(user, rapport):
    en_consultation(rapport, datetime.date(2026, 9, 1))
    etats.adopter(rapport, user, AUJOURD_HUI, aujourd_hui=AUJOURD_HUI)
    section = rapport.sections.get(cle="perspectives")
    with pytest.raises(ValidationError, match="nouvelle version"):
        etats.enregistrer_section(section, "Correction.", section.revision, user)
    section.refresh_from_db()
    assert section.texte == ""


def test_a_new_version_takes_the_texts_and_starts_again(user, rapport):
    section = rapport.sections.get(cle="perspectives")
    etats.enregistrer_section(section, "Les perspectives.", 0, user)
    with pytest.raises(ValidationError, match="rapport adopté"):
        etats.nouvelle_version(rapport, user)
    en_consultation(rapport, datetime.date(2026, 9, 1))
    etats.adopter(rapport, user, AUJOURD_HUI, aujourd_hui=AUJOURD_HUI)
    nouvelle = etats.nouvelle_version(rapport, user)
    assert (nouvelle.version, nouvelle.statut, nouvelle.precedente) == (2, "brouillon", rapport)
    assert nouvelle.sections.get(cle="perspectives").texte == "<p>Les perspectives.</p>"
    assert not nouvelle.instances.exists()
    rapport.refresh_from_db()
    assert rapport.statut == Rapport.Statut.ADOPTE
    with pytest.raises(ValidationError, match="déjà en cours"):
        etats.nouvelle_version(rapport, user)


def test_the_database_holds_one_version_in_progress_per_year(rapport):
    with pytest.raises(IntegrityError), transaction.atomic():
        Rapport.objects.create(contrat=rapport.contrat, annee=rapport.annee, version=2)


def test_the_database_refuses_an_adopted_report_without_its_deliberation(rapport):
    with pytest.raises(IntegrityError), transaction.atomic():
        Rapport.objects.filter(pk=rapport.pk).update(statut=Rapport.Statut.ADOPTE)


def test_the_database_refuses_a_contribution_without_its_author(rapport):
    with pytest.raises(IntegrityError), transaction.atomic():
        Section.objects.create(rapport=rapport, cle=sections.CONTRIBUTION, titre="CAF")
