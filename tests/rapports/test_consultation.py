"""The consultation on the draft report: its rules (`rapports.consultation`) and its pages,
as each role sees them, with the signed opinions' files."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comptes.roles import Role
from rapports import consultation
from rapports.models import Instance, Rapport
from tests.factories import (
    ContratFactory,
    DiagnosticFactory,
    InstanceFactory,
    RapportFactory,
    UserFactory,
)
from tests.indicateurs_data import qpv

from .test_fichiers import docx, pdf_a_la_main, png, zip_modifie

AUJOURD_HUI = timezone.localdate()


def il_y_a(jours):
    return AUJOURD_HUI - datetime.timedelta(days=jours)


@pytest.fixture
def contrat():
    """A contract of its own (the personas' roles are held on it), with one edition."""
    return DiagnosticFactory(titre="Contrat de ville de Montluçon — diagnostic").contrat


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture(autouse=True)
def stockage(settings, tmp_path):
    """The signed opinions go to a folder of the test's own."""
    settings.RAPPORTS_FICHIERS_ROOT = tmp_path / "prive"
    return settings.RAPPORTS_FICHIERS_ROOT


def fichiers_stockes(dossier):
    return sorted(p for p in dossier.rglob("*") if p.is_file()) if dossier.exists() else []


def rapport_en(statut, contrat=None):
    rapport = RapportFactory(**({"contrat": contrat} if contrat else {}))
    champs = {"statut": statut}
    if statut in Rapport.ARRETES:
        champs.update(date_deliberation=AUJOURD_HUI, contenu_fige={})
    if statut == Rapport.Statut.PUBLIE:
        champs["date_publication"] = timezone.now()
    Rapport.objects.filter(pk=rapport.pk).update(**champs)
    rapport.refresh_from_db()
    return rapport


def messages_de(erreur):
    return " ".join(erreur.value.messages)


# The deadline ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("envoi", "limite"),
    [
        (datetime.date(2026, 1, 31), datetime.date(2026, 2, 28)),
        (datetime.date(2024, 1, 31), datetime.date(2024, 2, 29)),  # leap year
        (datetime.date(2026, 12, 31), datetime.date(2027, 1, 31)),
        (datetime.date(2026, 12, 15), datetime.date(2027, 1, 15)),
        (datetime.date(2026, 3, 31), datetime.date(2026, 4, 30)),
        (datetime.date(2026, 9, 1), datetime.date(2026, 10, 1)),
    ],
)
def test_the_deadline_is_one_month_later_or_that_month_s_last_day(envoi, limite):
    assert consultation.date_limite_minimale(envoi) == limite


def test_a_body_gets_a_month_by_default_and_may_get_more(user):
    rapport = RapportFactory()
    envoi = datetime.date(2026, 1, 31)
    instance = consultation.ajouter_instance(
        rapport, "conseil_municipal", "  Conseil municipal  de Montluçon ", envoi, user=user
    )
    assert (instance.nom, instance.date_limite) == (
        "Conseil municipal de Montluçon",
        datetime.date(2026, 2, 28),
    )
    assert instance.history.get().history_user == user
    plus_tard = consultation.ajouter_instance(
        rapport, "conseil_citoyen", "Conseil citoyen de Fontbouillant", envoi,
        datetime.date(2026, 3, 15), user=user,
    )  # fmt: skip
    assert plus_tard.date_limite == datetime.date(2026, 3, 15)


def test_a_deadline_shorter_than_a_month_is_refused(user):
    rapport = RapportFactory()
    with pytest.raises(ValidationError) as erreur:
        consultation.ajouter_instance(
            rapport,
            "conseil_citoyen",
            "Conseil citoyen de Bien-Assis",
            datetime.date(2025, 12, 31),
            datetime.date(2026, 1, 30),
            user=user,
        )
    assert erreur.value.message_dict["date_limite"] == [
        "Le délai de consultation est d'au moins un mois : au plus tôt le 31/01/2026 pour un "
        "projet envoyé le 31/12/2025."
    ]
    assert not Instance.objects.exists()


def test_a_sending_date_in_the_future_is_refused(user):
    rapport = RapportFactory()
    with pytest.raises(ValidationError) as erreur:
        consultation.ajouter_instance(
            rapport, "autre", "Conseil de quartier", AUJOURD_HUI + datetime.timedelta(1), user=user
        )
    assert "dans le futur" in messages_de(erreur)
    assert not Instance.objects.exists()


def test_a_body_is_consulted_once_per_report(user):
    instance = InstanceFactory(nom="Conseil citoyen de Fontbouillant")
    with pytest.raises(ValidationError) as erreur:
        consultation.ajouter_instance(
            instance.rapport, "conseil_citoyen", "conseil citoyen de fontbouillant",
            il_y_a(3), user=user,
        )  # fmt: skip
    assert erreur.value.message_dict["nom"] == [consultation.DEJA_CONSULTEE]
    assert Instance.objects.count() == 1


# Opinions, silence and follow-up ----------------------------------------------------------------


def test_an_opinion_is_recorded_while_the_report_is_in_consultation(user):
    rapport = rapport_en(Rapport.Statut.CONSULTATION)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(10))
    consultation.enregistrer_avis(
        instance, "reserves", il_y_a(2), "Favorable.\r\n\r\nRéserve sur le calendrier.",
        user=user, jeton_lu=consultation.jeton(instance),
    )  # fmt: skip
    instance.refresh_from_db()
    assert (instance.avis, instance.avis_date) == ("reserves", il_y_a(2))
    assert instance.avis_texte == "Favorable.\n\nRéserve sur le calendrier."
    assert consultation.avis_affiche(instance).startswith("Favorable avec réserves (rendu le")
    assert instance.history.first().history_user == user


@pytest.mark.parametrize(
    ("jours", "message"),
    [(12, "ne peut pas précéder l'envoi du projet"), (-1, "ne peut pas être dans le futur")],
)
def test_an_opinion_dated_before_the_sending_or_in_the_future_is_refused(user, jours, message):
    rapport = rapport_en(Rapport.Statut.CONSULTATION)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(10))
    with pytest.raises(ValidationError) as erreur:
        consultation.enregistrer_avis(instance, "favorable", il_y_a(jours), user=user)
    assert message in " ".join(erreur.value.message_dict["avis_date"])
    instance.refresh_from_db()
    assert instance.avis == ""


def test_no_opinion_is_recorded_before_the_draft_is_sent(user):
    instance = InstanceFactory(date_envoi=il_y_a(3))
    with pytest.raises(ValidationError) as erreur:
        consultation.enregistrer_avis(instance, "favorable", il_y_a(1), user=user)
    assert "pas encore envoyé en consultation" in messages_de(erreur)


def test_a_late_opinion_is_recorded_and_silence_past_the_deadline_counts_as_favourable(user):
    rapport = rapport_en(Rapport.Statut.CONSULTATION)
    envoi = il_y_a(50)
    muette = InstanceFactory(rapport=rapport, date_envoi=envoi)
    tardive = InstanceFactory(rapport=rapport, date_envoi=envoi)
    assert consultation.avis_affiche(muette) == consultation.REPUTE_FAVORABLE
    consultation.enregistrer_avis(tardive, "defavorable", il_y_a(1), user=user)
    tardive.refresh_from_db()
    assert tardive.avis_date > tardive.date_limite
    assert consultation.en_attente([muette, tardive]) == []


def test_a_stale_form_changes_nothing(user):
    rapport = rapport_en(Rapport.Statut.CONSULTATION)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(10))
    jeton = consultation.jeton(instance)
    consultation.enregistrer_suite(instance, "Prise en compte.", user=user, jeton_lu=jeton)
    with pytest.raises(ValidationError) as erreur:
        consultation.enregistrer_avis(instance, "favorable", il_y_a(1), user=user, jeton_lu=jeton)
    assert consultation.PERIME in messages_de(erreur)
    instance.refresh_from_db()
    assert (instance.avis, instance.suite_donnee) == ("", "Prise en compte.")


def test_the_follow_up_is_recorded_in_consultation(user):
    rapport = rapport_en(Rapport.Statut.CONSULTATION)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(40))
    consultation.enregistrer_suite(
        instance, "Le calendrier des actions est revu.", user=user, jeton_lu=None
    )
    instance.refresh_from_db()
    assert instance.suite_donnee == "Le calendrier des actions est revu."


@pytest.mark.parametrize("statut", [Rapport.Statut.ADOPTE, Rapport.Statut.PUBLIE])
def test_an_adopted_report_refuses_every_change_of_its_consultation(user, statut):
    rapport = rapport_en(statut)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(40))
    avant = list(Instance.objects.values())
    tentatives = [
        lambda: consultation.ajouter_instance(rapport, "autre", "Nouvelle", il_y_a(1), user=user),
        lambda: consultation.enregistrer_avis(instance, "favorable", il_y_a(1), user=user),
        lambda: consultation.enregistrer_suite(instance, "Trop tard.", user=user),
        lambda: consultation.supprimer_instance(instance, user=user),
    ]
    for tentative in tentatives:
        with pytest.raises(ValidationError) as erreur:
            tentative()
        assert messages_de(erreur) == consultation.ADOPTE
    assert list(Instance.objects.values()) == avant


def test_a_body_is_removed_only_without_opinion_and_never_the_last_in_consultation(user):
    rapport = rapport_en(Rapport.Statut.CONSULTATION)
    premiere, seconde = InstanceFactory.create_batch(2, rapport=rapport, date_envoi=il_y_a(5))
    consultation.enregistrer_avis(seconde, "favorable", il_y_a(1), user=user)
    with pytest.raises(ValidationError, match="avis de cette instance est enregistré"):
        consultation.supprimer_instance(seconde, user=user)
    consultation.enregistrer_avis(premiere, "favorable", il_y_a(1), user=user)
    derniere = InstanceFactory(rapport=RapportFactory(), date_envoi=il_y_a(5))
    consultation.supprimer_instance(derniere, user=user)  # a draft may lose its last one
    assert Instance.objects.count() == 2
    seule = InstanceFactory(rapport=rapport_en(Rapport.Statut.CONSULTATION))
    with pytest.raises(ValidationError, match="garde au moins une instance"):
        consultation.supprimer_instance(seule, user=user)


def test_the_bodies_to_consult_come_from_the_quartiers_and_their_communes(contrat, user):
    edition = contrat.editions.get()
    qpv(edition)
    rapport = RapportFactory(contrat=contrat)
    attendues = [
        ("conseil_municipal", "Conseil municipal de Montluçon"),
        ("conseil_citoyen", "Conseil citoyen de Bien-Assis"),
        ("conseil_citoyen", "Conseil citoyen de Fontbouillant"),
        ("conseil_citoyen", "Conseil citoyen de Rive Gauche"),
    ]
    assert [(s.nature, s.nom) for s in consultation.suggestions(rapport)] == attendues
    consultation.ajouter_instance(
        rapport, "conseil_citoyen", "Conseil citoyen de Fontbouillant", il_y_a(1), user=user
    )
    assert "Conseil citoyen de Fontbouillant" not in [
        s.nom for s in consultation.suggestions(rapport)
    ]


# The pages -------------------------------------------------------------------------------------


def url(rapport, name="rapports:consultation", *extra):
    return reverse(name, args=[rapport.contrat.slug, rapport.annee, rapport.version, *extra])


def test_the_team_adds_a_body_from_a_suggestion(client, marie, contrat):
    qpv(contrat.editions.get())
    rapport = RapportFactory(contrat=contrat)
    client.force_login(marie)
    page = client.get(url(rapport)).content.decode()
    assert "Aucune instance consultée pour l’instant." in page
    assert '<a href="?suggestion=0#ajouter">Conseil municipal de Montluçon</a>' in page
    prerempli = client.get(url(rapport) + "?suggestion=2").content.decode()
    assert 'value="Conseil citoyen de Fontbouillant"' in prerempli
    assert f'value="{AUJOURD_HUI:%Y-%m-%d}"' in prerempli
    response = client.post(
        url(rapport),
        {
            "nature": "conseil_citoyen",
            "nom": "Conseil citoyen de Fontbouillant",
            "date_envoi": f"{il_y_a(2):%Y-%m-%d}",
            "date_limite": "",
        },
        follow=True,
    )
    assert response.redirect_chain == [(url(rapport), 302)]
    page = response.content.decode()
    limite = consultation.date_limite_minimale(il_y_a(2))
    ajoutee = "Instance ajoutée : Conseil citoyen de Fontbouillant, avis attendu au plus tard"
    assert f"{ajoutee} le {limite:%d/%m/%Y}." in page
    assert f"En attente (jusqu&#x27;au {limite:%d/%m/%Y})" in page
    assert "Conseil citoyen de Fontbouillant</a></li>" not in page  # no longer suggested


def test_a_refused_body_shows_the_reason_and_writes_nothing(client, marie, contrat):
    rapport = RapportFactory(contrat=contrat)
    client.force_login(marie)
    response = client.post(
        url(rapport),
        {"nature": "conseil_citoyen", "nom": "Conseil citoyen", "date_envoi": "2026-01-31",
         "date_limite": "2026-02-27"},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "au plus tôt le 28/02/2026" in page
    response = client.post(url(rapport), {"nature": "x", "nom": "", "date_envoi": "31/02/2026"})
    assert response.status_code == 400
    assert "Saisissez une date valide." in response.content.decode()
    assert not Instance.objects.exists()


def test_silence_past_the_deadline_shows_as_favourable_and_late_opinions_are_said_late(
    client, marie, contrat
):
    rapport = rapport_en(Rapport.Statut.CONSULTATION, contrat)
    InstanceFactory(rapport=rapport, nom="Conseil citoyen de Rive Gauche", date_envoi=il_y_a(60))
    tardive = InstanceFactory(rapport=rapport, date_envoi=il_y_a(60))
    consultation.enregistrer_avis(tardive, "favorable", il_y_a(1), user=marie)
    client.force_login(marie)
    page = client.get(url(rapport)).content.decode()
    assert "Réputé favorable (pas de réponse dans le délai)" in page
    assert "rendu après la date limite" in page
    assert "le rapport peut être adopté" in page


def test_the_team_records_an_opinion_with_its_signed_file_and_members_download_it(
    client, marie, partenaire, contrat, stockage
):
    rapport = rapport_en(Rapport.Statut.CONSULTATION, contrat)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(10))
    client.force_login(marie)
    page = url(rapport, "rapports:instance", instance.pk)
    formulaire = client.get(page)
    assert formulaire.context["avis_form"]["jeton"].value() == consultation.jeton(instance)
    pdf = pdf_a_la_main()
    response = client.post(
        page,
        {
            "action": "avis",
            "jeton": consultation.jeton(instance),
            "avis": "favorable",
            "avis_date": f"{il_y_a(1):%Y-%m-%d}",
            "avis_texte": "Avis favorable à l'unanimité.",
            "fichier": _fichier("Avis signé — conseil citoyen.pdf", pdf),
        },
    )
    assert response.status_code == 302
    instance.refresh_from_db()
    assert instance.fichier_nom == "Avis signé — conseil citoyen.pdf"
    assert instance.fichier_type == "application/pdf"
    [stocke] = fichiers_stockes(stockage)
    assert stocke.read_bytes() == pdf and "Avis" not in stocke.name
    assert "Avis favorable à l&#x27;unanimité." in client.get(page).content.decode()

    client.force_login(partenaire)
    telechargement = client.get(url(rapport, "rapports:fichier", instance.pk))
    assert telechargement.status_code == 200
    assert b"".join(telechargement.streaming_content) == pdf
    assert telechargement["Content-Type"] == "application/pdf"
    assert telechargement["Content-Disposition"] == (
        "attachment; filename*=utf-8''Avis%20sign%C3%A9%20%E2%80%94%20conseil%20citoyen.pdf"
    )
    assert telechargement["X-Content-Type-Options"] == "nosniff"
    assert telechargement["Content-Security-Policy"] == "sandbox"


def test_a_signed_file_larger_than_an_ordinary_request_is_let_through(
    client, marie, contrat, settings, stockage
):
    rapport = rapport_en(Rapport.Statut.CONSULTATION, contrat)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(10))
    gros = pdf_a_la_main(
        b"<< /Remplissage (" + b"x" * (settings.REQUEST_MAX_BODY_SIZE + 1) + b") >>"
    )
    client.force_login(marie)
    donnees = {
        "action": "avis",
        "jeton": consultation.jeton(instance),
        "avis": "favorable",
        "avis_date": f"{il_y_a(1):%Y-%m-%d}",
    }
    page = url(rapport, "rapports:instance", instance.pk)
    assert client.post(page, {**donnees, "fichier": _fichier("avis.pdf", gros)}).status_code == 302
    assert len(fichiers_stockes(stockage)) == 1
    settings.RAPPORTS_FICHIER_MAX = 2 * 1024 * 1024
    response = client.post(page, {**donnees, "fichier": _fichier("avis.pdf", gros)})
    assert response.status_code == 400
    assert "Le fichier dépasse 2\xa0Mo" in response.content.decode()
    settings.REQUEST_MAX_BODY_SIZE = 1024 * 1024  # now over both limits: refused unread
    response = client.post(page, {**donnees, "fichier": _fichier("avis.pdf", gros)})
    assert response.status_code == 413
    assert "rien n’a été enregistré" in response.content.decode()
    assert len(fichiers_stockes(stockage)) == 1


def _fichier(nom, contenu):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(nom, contenu)


@pytest.mark.parametrize(
    ("nom", "contenu", "message"),
    [
        ("avis.pdf", png(), "Ce fichier n&#x27;est pas un vrai PDF"),
        (
            "avis.docx",
            zip_modifie(docx(), ajouts={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"}),
            "Ce document contient des macros",
        ),
    ],
)
def test_a_refused_file_writes_nothing(client, marie, contrat, stockage, nom, contenu, message):
    rapport = rapport_en(Rapport.Statut.CONSULTATION, contrat)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(10))
    client.force_login(marie)
    response = client.post(
        url(rapport, "rapports:instance", instance.pk),
        {
            "action": "avis",
            "jeton": consultation.jeton(instance),
            "avis": "favorable",
            "avis_date": f"{il_y_a(1):%Y-%m-%d}",
            "fichier": _fichier(nom, contenu),
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    instance.refresh_from_db()
    assert (instance.avis, instance.fichier.name) == ("", "")
    assert fichiers_stockes(stockage) == []


def test_a_stale_page_and_the_follow_up_through_the_pages(client, marie, contrat):
    rapport = rapport_en(Rapport.Statut.CONSULTATION, contrat)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(40))
    ancien = consultation.jeton(instance)
    client.force_login(marie)
    page = url(rapport, "rapports:instance", instance.pk)
    suite = {"action": "suite", "jeton": ancien, "suite_donnee": "Réponse écrite envoyée."}
    assert client.post(page, suite).status_code == 302
    response = client.post(page, {**suite, "suite_donnee": "Autre chose."})
    assert response.status_code == 400
    assert "modifiée par une autre personne" in response.content.decode()
    instance.refresh_from_db()
    assert instance.suite_donnee == "Réponse écrite envoyée."
    assert client.post(page, {"action": "inconnue"}).status_code == 400


def test_the_team_removes_a_body_recorded_by_mistake(client, marie, contrat):
    rapport = RapportFactory(contrat=contrat)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(1))
    client.force_login(marie)
    response = client.post(
        url(rapport, "rapports:instance", instance.pk),
        {"action": "supprimer", "jeton": consultation.jeton(instance)},
    )
    assert response.status_code == 302
    assert response["Location"] == url(rapport)
    assert not Instance.objects.exists()


def test_partners_read_the_consultation_but_change_nothing(client, partenaire, contrat):
    rapport = rapport_en(Rapport.Statut.CONSULTATION, contrat)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(5))
    client.force_login(partenaire)
    page = client.get(url(rapport))
    assert page.status_code == 200
    assert instance.nom in page.content.decode()
    assert "Ajouter une instance consultée" not in page.content.decode()
    refus = client.post(url(rapport), {"nature": "autre", "nom": "X", "date_envoi": "2026-01-02"})
    assert refus.status_code == 403
    assert "Seules l&#x27;Équipe ville et les administrateurs" in refus.content.decode()
    detail = url(rapport, "rapports:instance", instance.pk)
    assert client.get(detail).status_code == 200
    jeton = consultation.jeton(instance)
    for donnees in (
        {"action": "avis", "jeton": jeton, "avis": "favorable", "avis_date": "2026-01-02"},
        {"action": "suite", "jeton": jeton, "suite_donnee": "X"},
        {"action": "supprimer", "jeton": jeton},
    ):
        assert client.post(detail, donnees).status_code == 403
    assert list(Instance.objects.values_list("nom", "avis", "suite_donnee")) == [
        (instance.nom, "", "")
    ]


def test_the_pages_of_another_contract_do_not_exist(client, contrat):
    rapport = rapport_en(Rapport.Statut.CONSULTATION, contrat)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(5))
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=ContratFactory()))
    for page in (
        url(rapport),
        url(rapport, "rapports:instance", instance.pk),
        url(rapport, "rapports:fichier", instance.pk),
    ):
        assert client.get(page).status_code == 404
    assert client.post(url(rapport), {"nature": "autre", "nom": "X"}).status_code == 404


def test_anonymous_visitors_go_to_the_login_and_never_get_a_signed_file(client, marie, contrat):
    rapport = rapport_en(Rapport.Statut.CONSULTATION, contrat)
    instance = InstanceFactory(rapport=rapport, date_envoi=il_y_a(5))
    consultation.enregistrer_avis(
        instance, "favorable", il_y_a(1), fichier=_fichier("avis.pdf", pdf_a_la_main()), user=marie
    )
    for page in (url(rapport), url(rapport, "rapports:fichier", instance.pk)):
        response = client.get(page)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]
    Rapport.objects.filter(pk=rapport.pk).update(
        statut=Rapport.Statut.PUBLIE,
        date_deliberation=AUJOURD_HUI,
        contenu_fige={},
        date_publication=timezone.now(),
    )
    assert client.get(url(rapport)).status_code == 200  # the published record is public
    telechargement = client.get(url(rapport, "rapports:fichier", instance.pk))
    assert telechargement.status_code == 302
    assert reverse("login") in telechargement["Location"]
    # and a member gets a 404 for a body without file
    sans_fichier = InstanceFactory(rapport=rapport, date_envoi=il_y_a(5))
    client.force_login(marie)
    assert client.get(url(rapport, "rapports:fichier", sans_fichier.pk)).status_code == 404


def test_the_consultation_page_reads_as_many_queries_for_2_and_20_bodies(client, marie, contrat):
    qpv(contrat.editions.get())
    rapport = RapportFactory(contrat=contrat)
    client.force_login(marie)
    comptes = []
    for nombre in (2, 20):
        InstanceFactory.create_batch(nombre - rapport.instances.count(), rapport=rapport)
        with CaptureQueriesContext(connection) as requetes:
            response = client.get(url(rapport))
        assert response.status_code == 200
        assert response.content.decode().count('scope="row"') == nombre
        comptes.append(len(requetes.captured_queries))
    assert comptes[0] == comptes[1]
