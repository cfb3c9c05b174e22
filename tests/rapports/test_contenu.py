"""The generated parts of a report: the evolution of the quartiers from the indicators
(secret statistique as for a partner, always) and the changes of the diagnostic."""

import datetime

import pytest
from django.utils import timezone

from diagnostics.editions.copy import start_edition
from diagnostics.models import Diagnostic
from indicateurs.models import Mesure, TerritoireComparaison
from rapports import blocs, contenu, document, etats
from tests.factories import InstanceFactory, QuartierFactory, UserFactory
from tests.indicateurs_data import quantitatif, serie

from .donnees import JEUNES, PERMIS, indicateurs, publier


@pytest.fixture
def edition(montlucon):
    return publier(montlucon)


@pytest.fixture
def deux(edition):
    return indicateurs(edition)


def tableau_de(parties, libelle):
    return next(
        b for b in parties if b["type"] == blocs.TABLEAU and b["legende"].startswith(libelle)
    )


def ligne(tableau, debut):
    return next(row for row in tableau["lignes"] if row[0].startswith(debut))


def test_each_indicator_gives_its_latest_values_changes_target_and_status(edition, deux):
    parties = contenu.evolution(edition, 2025)
    permis = tableau_de(parties, PERMIS)
    territoire = ligne(permis, contenu.TERRITOIRE)
    assert territoire[1:5] == ["362\u00a0personnes", "2024", "-9", "-58"]
    assert territoire[5] == "300\u00a0personnes"
    assert territoire[6] == "En progrès"
    assert ligne(permis, "Rive Gauche")[1] == "139\u00a0personnes"
    titres = [b["texte"] for b in parties if b["type"] == blocs.TITRE]
    assert any(t.startswith("Pilier 1 :") for t in titres)
    assert any(b["type"] == blocs.GRAPHIQUE and PERMIS in b["titre"] for b in parties)


def test_small_counts_are_secret_whoever_generates_the_report(edition, deux):
    parties = contenu.evolution(edition, 2025)
    jeunes = tableau_de(parties, JEUNES)
    assert ligne(jeunes, "Fontbouillant")[1] == "secret"
    # The total would give Fontbouillant's 3 away: hidden too.
    assert ligne(jeunes, contenu.TERRITOIRE)[1] == "secret"
    assert ligne(jeunes, "Rive Gauche")[1] == "31\u00a0jeunes"
    graphique = next(b for b in parties if b["type"] == blocs.GRAPHIQUE and JEUNES in b["titre"])
    valeurs = [v for s in graphique["trace"]["series"] for v in s["valeurs"]]
    assert 3.0 not in valeurs and 57.0 not in valeurs
    assert ">3<" not in graphique["svg"] and ">57<" not in graphique["svg"]


def test_only_the_years_up_to_the_report_s_are_read(edition, deux):
    permis, _ = deux
    serie(permis, {2026: 350})
    territoire = ligne(tableau_de(contenu.evolution(edition, 2025), PERMIS), contenu.TERRITOIRE)
    assert territoire[1:3] == ["362\u00a0personnes", "2024"]
    territoire = ligne(tableau_de(contenu.evolution(edition, 2026), PERMIS), contenu.TERRITOIRE)
    assert territoire[1:3] == ["350\u00a0personnes", "2026"]


def test_the_number_of_queries_does_not_grow_with_indicators_or_quartiers(
    edition, deux, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20) as first:
        contenu.evolution(edition, 2025)
    for n in range(10):
        quartier = QuartierFactory(code=f"QN0990{n}M", nom=f"Quartier {n}")
        edition.quartiers.add(quartier)
        indicateur = quantitatif(edition, libelle=f"Indicateur {n}")
        serie(indicateur, {2023: n, 2024: n + 1})
        serie(indicateur, {2023: n, 2024: n + 1}, quartier=quartier)
    with django_assert_max_num_queries(len(first.captured_queries)):
        parties = contenu.evolution(edition, 2025)
    assert ligne(tableau_de(parties, "Indicateur 9"), "Quartier 9")[1] == "10 %"


def test_the_comparison_territories_give_their_value_of_the_same_period(edition, deux):
    permis, _ = deux
    allier = TerritoireComparaison.objects.create(
        code="03", nom="Allier", echelon=TerritoireComparaison.Echelon.DEPARTEMENT
    )
    for annee, valeur in ((2023, 5100), (2024, 5000)):
        Mesure.objects.create(indicateur=permis, annee=annee, valeur=valeur, territoire=allier)
    row = ligne(tableau_de(contenu.evolution(edition, 2025), PERMIS), "Allier")
    assert row[:3] == ["Allier (comparaison)", "5 000 personnes", "2024"]


def test_the_changes_of_the_year_count_what_was_done_not_the_copies(edition):
    user = UserFactory()
    annee = timezone.localdate().year
    pilier = edition.piliers.order_by("numero").first()
    # A revision of the year: its copy of the diagnostic is not a change…
    revision = start_edition(
        edition.contrat, nom="Révision à mi-parcours", date=timezone.localdate(), user=user
    )
    parties = contenu.changements(edition.contrat, annee)
    texte = "\n".join(blocs.texte_de(b) for b in parties)
    assert "« Révision à mi-parcours » commencée" in texte
    assert "La révision n'a rien changé au diagnostic." in texte
    # (The seed diagnostic itself was imported this year: its piliers were created.)
    avant = ligne(tableau_de(parties, "Modifications apportées"), "Piliers")
    # …a pilier renamed in it is.
    nouveau = revision.piliers.get(lignee=pilier.lignee)
    nouveau.libelle = "Cohésion sociale et santé"
    nouveau._history_user = user
    nouveau.save()
    parties = contenu.changements(edition.contrat, annee)
    modifs = tableau_de(parties, "Modifications apportées")
    apres = ligne(modifs, "Piliers")
    assert (apres[1], int(apres[2]), apres[3]) == (avant[1], int(avant[2]) + 1, avant[3])
    revision_texte = "\n".join(blocs.texte_de(b) for b in parties)
    assert "Cohésion sociale et santé" in revision_texte
    assert Diagnostic.objects.filter(contrat=edition.contrat).count() == 2


def test_an_adopted_report_keeps_what_it_said(edition, deux):
    user = UserFactory()
    rapport = etats.commencer(edition.contrat, 2025, user)
    InstanceFactory(rapport=rapport, date_envoi=datetime.date(2026, 9, 1))
    etats.mettre_en_consultation(rapport, user)
    etats.adopter(rapport, user, datetime.date(2026, 11, 2), aujourd_hui=datetime.date(2026, 11, 2))
    permis, _ = deux
    permis.mesures.filter(annee=2024, quartier__isnull=True).update(valeur=1000)
    rapport.refresh_from_db()
    texte = document.construire(rapport).texte
    assert "362\u00a0personnes" in texte
    assert "1\u202f000" not in texte
