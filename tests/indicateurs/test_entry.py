"""The Équipe ville enters the values of a period for every quartier at once, changes and
deletes a value, completes the information of an indicator; each change is in the
history, a wrong or stale form changes nothing and says why."""

from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse

from comptes.roles import Role
from indicateurs import entry
from indicateurs.models import Indicateur, Mesure
from tests.factories import UserFactory
from tests.indicateurs_data import BIEN_ASSIS, FONTBOUILLANT, RIVE_GAUCHE, mesure, qpv, quantitatif

D = Decimal


@pytest.fixture
def anne(client, contrat):
    user = UserFactory(
        role=Role.EQUIPE_VILLE, contrat=contrat, first_name="Anne", last_name="Durand"
    )
    client.force_login(user)
    return user


@pytest.fixture
def indicateur(montlucon):
    qpv(montlucon)
    return quantitatif(montlucon, libelle="Taux de chômage", source_donnees="Insee")


def url(name, obj):
    indicateur = obj.indicateur if isinstance(obj, Mesure) else obj
    slug = indicateur.theme_effectif.pilier.diagnostic.slug
    return reverse(f"indicateurs:{name}", args=[slug, obj.pk])


def saisie_data(annee="2024", valeurs=("", "", "", ""), **fields):
    """The POST of the saisie form: territory, then Rive Gauche, Fontbouillant, Bien-Assis."""
    data = {
        "annee": annee,
        "type_periode": "annee",
        "numero_periode": "",
        "source": "Insee, RP 2024",
        "commentaire": "",
        "valeurs-TOTAL_FORMS": "4",
        "valeurs-INITIAL_FORMS": "0",
        **fields,
    }
    field = fields.pop("field", "valeur")
    for index, value in enumerate(valeurs):
        data[f"valeurs-{index}-{field}"] = value
    return data


def values(indicateur):
    return {
        (m.annee, m.quartier.code if m.quartier else None): m.valeur
        for m in indicateur.mesures.select_related("quartier")
    }


# Saisie of a period ----------------------------------------------------------------------


def test_the_values_of_a_period_are_entered_for_every_quartier_at_once(client, anne, indicateur):
    form = client.get(url("saisie", indicateur))
    assert form.status_code == 200
    content = form.content.decode()
    for label in ("Ensemble du territoire", "Rive Gauche (QN00304M)", "Bien-Assis (QN00306M)"):
        assert f">{label}\u00a0:</label>" in content

    response = client.post(
        url("saisie", indicateur), saisie_data(valeurs=("20,1", "27.5", "", "1 234,5"))
    )

    assert response.status_code == 302
    assert response["Location"] == url("detail", indicateur)
    assert values(indicateur) == {
        (2024, None): D("20.1"),
        (2024, RIVE_GAUCHE): D("27.5"),
        (2024, BIEN_ASSIS): D("1234.5"),
    }
    created = indicateur.mesures.first()
    assert (created.saisi_par, created.source, created.version) == (anne, "Insee, RP 2024", 1)
    record = created.history.get()
    assert (record.history_user, record.history_change_reason) == (anne, "Saisie")
    page = client.get(response["Location"]).content.decode()
    assert "3 valeurs enregistrées pour 2024." in page


def test_the_form_proposes_the_year_after_the_latest(client, anne, indicateur):
    mesure(indicateur, 2022, 10)

    response = client.get(url("saisie", indicateur))

    assert response.context["form"].periode["annee"].value() == 2023
    assert response.context["form"].periode["source"].value() == "Insee"


def test_a_wrong_number_is_reported_beside_its_field_and_nothing_is_saved(client, anne, indicateur):
    response = client.post(
        url("saisie", indicateur), saisie_data(valeurs=("20,1", "vingt", "", ""))
    )

    assert response.status_code == 200
    assert not indicateur.mesures.exists()
    content = response.content.decode()
    assert '<div class="erreurs-formulaire" role="alert"' in content
    assert '<a href="#id_valeurs-1-valeur">Rive Gauche (QN00304M)</a>' in content
    assert "Saisissez un nombre, par exemple 12,5." in content
    assert 'aria-invalid="true"' in content


def test_an_empty_saisie_asks_for_a_value(client, anne, indicateur):
    response = client.post(url("saisie", indicateur), saisie_data())

    assert "Saisissez au moins une valeur." in response.content.decode()
    assert not indicateur.mesures.exists()


def test_an_existing_value_of_the_period_is_not_replaced(client, anne, indicateur):
    mesure(
        indicateur,
        2024,
        18,
        quartier=indicateur.theme_effectif.pilier.diagnostic.quartiers.get(code=FONTBOUILLANT),
    )

    response = client.post(url("saisie", indicateur), saisie_data(valeurs=("20", "", "19", "")))

    assert response.status_code == 200
    assert "Une mesure existe déjà pour cet indicateur, cette période et ce quartier." in (
        response.content.decode()
    )
    assert values(indicateur) == {(2024, FONTBOUILLANT): D(18)}  # the territory neither


@pytest.mark.parametrize(
    ("type_periode", "numero", "message"),
    [
        ("trimestre", "", "Indiquez un trimestre, de 1 à 4."),
        ("trimestre", "5", "Indiquez un trimestre, de 1 à 4."),
        ("mois", "", "Indiquez un mois, de 1 à 12."),
        ("mois", "13", "Assurez-vous que cette valeur est inférieure ou égale à 12."),
        ("annee", "2", "Laissez ce champ vide pour une année entière."),
    ],
)
def test_an_impossible_period_is_refused(client, anne, indicateur, type_periode, numero, message):
    data = saisie_data(valeurs=("20", "", "", ""), type_periode=type_periode, numero_periode=numero)

    response = client.post(url("saisie", indicateur), data)

    assert message in response.content.decode()
    assert not indicateur.mesures.exists()


def test_a_quarter_is_entered_as_such(client, anne, indicateur):
    data = saisie_data(valeurs=("20", "", "", ""), type_periode="trimestre", numero_periode="2")

    client.post(url("saisie", indicateur), data)

    assert indicateur.mesures.get().periode_libelle == "T2 2024"


def test_constats_of_a_qualitative_indicator(client, anne, indicateur):
    indicateur.type = Indicateur.Type.QUALITATIF
    indicateur.save()
    data = saisie_data(valeurs=("Isolement des aînés.", "", "", ""), field="texte")

    client.post(url("saisie", indicateur), data)

    assert indicateur.mesures.get().texte == "Isolement des aînés."


def test_an_indicator_of_unknown_type_asks_for_its_type_first(client, anne, indicateur):
    indicateur.type = Indicateur.Type.A_PRECISER
    indicateur.save()

    response = client.post(url("saisie", indicateur), saisie_data(valeurs=("20", "", "", "")))

    assert response.status_code == 200
    assert "Le type de cet indicateur est encore à préciser." in response.content.decode()
    assert not indicateur.mesures.exists()


def test_a_value_entered_meanwhile_leaves_the_whole_saisie_unsaved(indicateur):
    first = Mesure(indicateur=indicateur, annee=2024, valeur=D(1))
    twin = Mesure(indicateur=indicateur, annee=2024, valeur=D(2))

    with pytest.raises(entry.MesureDejaSaisie):
        entry.save_mesures([first, twin])

    assert not indicateur.mesures.exists()
    assert not Mesure.history.filter(indicateur_id=indicateur.pk).exists()


def test_a_partner_cannot_enter_values(client, indicateur):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=indicateur.diagnostic.contrat))

    response = client.post(url("saisie", indicateur), saisie_data(valeurs=("20", "", "", "")))

    assert response.status_code == 403
    assert not indicateur.mesures.exists()


# Change and deletion of a value ----------------------------------------------------------


def test_a_value_is_changed_and_the_change_is_in_the_history(client, anne, indicateur):
    value = mesure(indicateur, 2023, "20.1")

    response = client.post(
        url("mesure_modifier", value),
        {"valeur": "19,8", "source": "Insee", "commentaire": "Corrigé", "version_lue": "1"},
    )

    assert response.status_code == 302
    value.refresh_from_db()
    assert (value.valeur, value.commentaire, value.version, value.saisi_par) == (
        D("19.8"),
        "Corrigé",
        2,
        anne,
    )
    latest = value.history.latest()
    assert (latest.history_change_reason, latest.history_user) == ("Modification", anne)


def test_a_stale_change_is_refused_and_changes_nothing(client, anne, indicateur):
    value = mesure(indicateur, 2023, "20.1")
    entry.update_mesure(value, 1)  # someone else, meanwhile

    response = client.post(url("mesure_modifier", value), {"valeur": "19,8", "version_lue": "1"})

    assert response.status_code == 200
    assert "a été modifiée par quelqu'un d'autre" in unescape(response.content.decode())
    value.refresh_from_db()
    assert (value.valeur, value.version) == (D("20.1"), 2)


def test_a_quantitative_value_needs_a_number(client, anne, indicateur):
    value = mesure(indicateur, 2023, "20.1")

    response = client.post(url("mesure_modifier", value), {"valeur": "", "version_lue": "1"})

    assert "Un indicateur quantitatif attend une valeur numérique." in response.content.decode()
    value.refresh_from_db()
    assert value.valeur == D("20.1")


def test_a_value_is_deleted_after_confirmation(client, anne, indicateur):
    value = mesure(indicateur, 2023, "20.1")

    confirmation = client.get(url("mesure_supprimer", value))
    response = client.post(url("mesure_supprimer", value), {"version_lue": "1"})

    assert "Supprimer cette valeur" in confirmation.content.decode()
    assert response.status_code == 302
    assert not indicateur.mesures.exists()
    record = Mesure.history.filter(id=value.pk).latest()
    assert (record.history_type, record.history_change_reason, record.history_user) == (
        "-",
        "Suppression",
        anne,
    )


def test_a_stale_deletion_is_refused(client, anne, indicateur):
    value = mesure(indicateur, 2023, "20.1")
    entry.update_mesure(value, 1)

    response = client.post(url("mesure_supprimer", value), {"version_lue": "1"})

    assert "a été modifiée par quelqu'un d'autre" in unescape(response.content.decode())
    assert indicateur.mesures.exists()


def test_an_empty_deletion_form_deletes_nothing(client, anne, indicateur):
    value = mesure(indicateur, 2023, "20.1")

    response = client.post(url("mesure_supprimer", value), {})

    assert "Le formulaire est incomplet" in response.content.decode()
    assert indicateur.mesures.exists()


# The information of an indicator --------------------------------------------------------


def informations(indicateur, **changes):
    data = {
        "type": indicateur.type,
        "unite": "%",
        "definition": "Part des chômeurs dans la population active.",
        "mode_calcul": "",
        "source_donnees": "Insee",
        "periodicite": "annuelle",
        "sens_souhaite": "baisse",
        "version_lue": str(indicateur.version),
    }
    return {**data, **changes}


def test_staff_complete_the_information_of_an_indicator(client, anne, montlucon):
    indicateur = Indicateur.objects.du_diagnostic(montlucon).first()
    assert indicateur.type == Indicateur.Type.A_PRECISER

    response = client.post(
        url("modifier", indicateur),
        informations(indicateur, type="quantitatif", compte_des_personnes="on"),
    )

    assert response.status_code == 302
    indicateur.refresh_from_db()
    assert indicateur.type == Indicateur.Type.QUANTITATIF
    assert indicateur.periodicite == Indicateur.Periodicite.ANNUELLE
    assert indicateur.compte_des_personnes
    assert indicateur.version == 2
    record = indicateur.history.latest()
    assert (record.history_user, record.history_change_reason) == (anne, "Modification")


def test_the_periodicity_cannot_change_under_values_of_another_period(client, anne, indicateur):
    mesure(indicateur, 2023, 20)

    response = client.post(
        url("modifier", indicateur), informations(indicateur, periodicite="trimestrielle")
    )

    assert "1 valeur de cet indicateur porte sur une autre période" in unescape(
        response.content.decode()
    )
    indicateur.refresh_from_db()
    assert indicateur.periodicite == ""


# References and targets of each scope ----------------------------------------------------


def reperes_data(page, **values):
    """The form as the page shows it (its hidden state and current values), changed."""
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    return {**{k: str(v) for k, v in data.items()}, **values}


def test_staff_set_references_and_targets_for_each_scope(client, anne, indicateur):
    quartier = indicateur.theme_effectif.pilier.diagnostic.quartiers.get(code=FONTBOUILLANT)
    page = client.get(url("reperes", indicateur))
    assert page.status_code == 200
    prefix = f"q{quartier.pk}"

    response = client.post(
        url("reperes", indicateur),
        reperes_data(
            page,
            **{
                "territoire-reference": "22,5",
                "territoire-reference-annee": "2019",
                "territoire-source": "Insee",
                "territoire-cible": "18",
                "territoire-cible-annee": "2030",
                f"{prefix}-cible": "25",
                f"{prefix}-cible-annee": "2030",
            },
        ),
    )

    assert response.status_code == 302
    reperes = {
        (m.quartier_id, m.nature): (m.annee, m.valeur, m.source)
        for m in indicateur.mesures.exclude(nature=Mesure.Nature.VALEUR)
    }
    assert reperes == {
        (None, "reference"): (2019, D("22.5"), "Insee"),
        (None, "cible"): (2030, D(18), ""),
        (quartier.pk, "cible"): (2030, D(25), ""),
    }
    record = Mesure.history.filter(nature="cible", quartier=quartier).get()
    assert (record.history_user, record.history_change_reason) == (anne, "Saisie")


def test_a_reference_needs_its_year(client, anne, indicateur):
    page = client.get(url("reperes", indicateur))

    response = client.post(
        url("reperes", indicateur), reperes_data(page, **{"territoire-reference": "22,5"})
    )

    assert "Donnez la valeur et son année ensemble" in unescape(response.content.decode())
    assert not indicateur.mesures.exists()


def test_emptying_a_target_removes_it_and_a_stale_page_changes_nothing(client, anne, indicateur):
    page = client.get(url("reperes", indicateur))
    client.post(
        url("reperes", indicateur),
        reperes_data(page, **{"territoire-cible": "18", "territoire-cible-annee": "2030"}),
    )
    fresh = client.get(url("reperes", indicateur))

    # A page read before that save: its state is stale.
    response = client.post(
        url("reperes", indicateur),
        reperes_data(page, **{"territoire-cible": "12", "territoire-cible-annee": "2030"}),
    )
    assert "modifiées par quelqu'un d'autre" in unescape(response.content.decode())
    assert indicateur.mesures.get(nature="cible").valeur == D(18)

    client.post(
        url("reperes", indicateur),
        reperes_data(fresh, **{"territoire-cible": "", "territoire-cible-annee": ""}),
    )
    assert not indicateur.mesures.filter(nature="cible").exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"territoire-cible": "1e30", "territoire-cible-annee": "2030"}, "trop"),
        ({"territoire-cible": "12\x00", "territoire-cible-annee": "2030"}, "nombre"),
        ({"territoire-cible": "12", "territoire-cible-annee": "1789"}, "1990"),
        ({"territoire-source": "x" * 201}, "200"),
        ({"etat_lu": "\x00"}, ""),
    ],
)
def test_a_broken_references_form_changes_nothing(client, anne, indicateur, values, message):
    page = client.get(url("reperes", indicateur))

    response = client.post(url("reperes", indicateur), reperes_data(page, **values))

    assert response.status_code == 200
    assert message in unescape(response.content.decode())
    assert not indicateur.mesures.exists()


def test_partners_cannot_open_the_references_form(client, indicateur):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=indicateur.diagnostic.contrat))

    assert client.get(url("reperes", indicateur)).status_code == 403


# Rates -----------------------------------------------------------------------------------


def test_a_rate_is_entered_by_its_terms_and_the_territory_aggregates_them(client, anne, indicateur):
    indicateur.taux = True
    indicateur.periodicite = Indicateur.Periodicite.ANNUELLE
    indicateur.save()
    data = saisie_data(valeurs=())
    data.update(
        {
            "agreger": "on",
            "valeurs-0-numerateur": "",
            "valeurs-0-denominateur": "",
            "valeurs-1-numerateur": "120",
            "valeurs-1-denominateur": "600",
            "valeurs-2-numerateur": "45",
            "valeurs-2-denominateur": "150",
            "valeurs-3-numerateur": "35",
            "valeurs-3-denominateur": "250",
        }
    )

    response = client.post(url("saisie", indicateur), data)

    assert response.status_code == 302, response.content.decode()
    rates = {
        m.quartier.code if m.quartier else None: (m.numerateur, m.denominateur, m.valeur)
        for m in indicateur.mesures.select_related("quartier")
    }
    # 200 / 1 000 = 20 %: the terms are summed, never the rates averaged (24 %).
    assert rates[None] == (D(200), D(1000), D(20))
    assert rates[FONTBOUILLANT] == (D(45), D(150), D(30))


def test_changing_a_rate_changes_its_terms_and_the_rate_follows(client, anne, indicateur):
    indicateur.taux = True
    indicateur.save()
    value = Mesure.objects.create(
        indicateur=indicateur, annee=2024, numerateur=D(120), denominateur=D(600)
    )

    response = client.post(
        url("mesure_modifier", value),
        {"numerateur": "150", "denominateur": "600", "source": "", "version_lue": "1"},
    )

    assert response.status_code == 302
    value.refresh_from_db()
    assert (value.numerateur, value.valeur) == (D(150), D(25))
    response = client.post(
        url("mesure_modifier", value),
        {"numerateur": "150", "denominateur": "0", "source": "", "version_lue": "2"},
    )
    assert "dénominateur (positif)" in unescape(response.content.decode())


def test_a_period_of_another_kind_is_refused(client, anne, indicateur):
    indicateur.periodicite = Indicateur.Periodicite.ANNUELLE
    indicateur.save()
    data = saisie_data(valeurs=("12", "", "", ""), type_periode="trimestre", numero_periode="1")

    response = client.post(url("saisie", indicateur), data)

    assert "cet indicateur est suivi par année" in unescape(response.content.decode()).lower()
    assert not indicateur.mesures.exists()


def test_the_first_value_gives_an_indicator_its_periodicity(client, anne, indicateur):
    data = saisie_data(valeurs=("12", "", "", ""), type_periode="trimestre", numero_periode="2")

    response = client.post(url("saisie", indicateur), data)

    assert response.status_code == 302
    indicateur.refresh_from_db()
    assert indicateur.periodicite == Indicateur.Periodicite.TRIMESTRIELLE


def test_the_type_cannot_change_under_values_that_would_not_fit(client, anne, indicateur):
    mesure(indicateur, 2023, 20)

    response = client.post(url("modifier", indicateur), informations(indicateur, type="qualitatif"))

    assert "1 mesure de cet indicateur a une valeur" in response.content.decode()
    indicateur.refresh_from_db()
    assert indicateur.type == Indicateur.Type.QUANTITATIF


def test_a_stale_change_of_information_is_refused(client, anne, indicateur):
    data = informations(indicateur)
    indicateur.unite = "points"
    entry.update_indicateur(indicateur, indicateur.version)

    response = client.post(url("modifier", indicateur), data)

    assert "Cet indicateur a été modifié par quelqu'un d'autre" in unescape(
        response.content.decode()
    )
    indicateur.refresh_from_db()
    assert indicateur.unite == "points"


# History ---------------------------------------------------------------------------------


def test_the_history_lists_who_changed_what(client, anne, indicateur):
    indicateur.periodicite = Indicateur.Periodicite.ANNUELLE
    indicateur.save()
    client.post(url("saisie", indicateur), saisie_data(valeurs=("20,1", "", "", "")))
    value = indicateur.mesures.get()
    client.post(url("mesure_modifier", value), {"valeur": "19,8", "version_lue": "1"})
    client.post(url("mesure_supprimer", value), {"version_lue": "2"})

    response = client.get(url("historique", indicateur))

    entries = response.context["entrees"]
    assert [(e.action, e.objet, e.auteur, e.raison) for e in entries[:3]] == [
        ("Suppression", "Valeur 2024, ensemble du territoire", "Anne Durand", "Suppression"),
        ("Modification", "Valeur 2024, ensemble du territoire", "Anne Durand", "Modification"),
        ("Création", "Valeur 2024, ensemble du territoire", "Anne Durand", "Saisie"),
    ]
    assert ("valeur", "20,1", "19,8") in entries[1].changements
    assert "Historique de l’indicateur" in response.content.decode()
