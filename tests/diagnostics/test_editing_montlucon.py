"""The Équipe ville turns the imported Montluçon diagnostic into a clean one without the
admin: the two items the import made of the lead-in "Il serait intéressant d'inciter : …"
and its two phrases (each starting with it) become its two real difficulties, reworded;
items move; quartiers are tagged. Every step shows in the history and can be undone."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from diagnostics.models import Difficulte, Quartier, SousTheme
from tests.conftest import FIXTURES

LEAD_IN = "Il serait intéressant d'inciter :"
ECOGESTES = (
    "à des actions de sensibilisation des habitants aux écogestes dans le logement dans le "
    "contexte de sobriété énergétique et de hausse de la facture énergétique"
)
DECHETS = "à la gestion des déchets (tri sélectif...)."
IMPORTED = [f"{LEAD_IN} {ECOGESTES}", f"{LEAD_IN} {DECHETS}"]
# The two joined as sentences by the merge.
MERGED = f"{LEAD_IN} {ECOGESTES}. {LEAD_IN} {DECHETS}"
REAL = [
    "Inciter à des actions de sensibilisation des habitants aux écogestes dans le logement, "
    "dans le contexte de sobriété énergétique et de hausse de la facture énergétique",
    "Inciter à la gestion des déchets (tri sélectif…)",
]


@pytest.fixture
def marie_connectee(client, marie):
    client.force_login(marie)
    return marie


@pytest.fixture
def logement(montlucon):
    call_command("loaddata", FIXTURES / "quartiers-montlucon.json", verbosity=0)
    montlucon.quartiers.set(Quartier.objects.all())
    return SousTheme.objects.get(theme__pilier__diagnostic=montlucon, libelle="Logement et habitat")


def libelles(sous_theme):
    return list(sous_theme.difficultes.order_by("position", "pk").values_list("libelle", flat=True))


def url(name, item):
    return reverse(f"diagnostics:{name}", args=["montlucon", "difficultes", item.pk])


def post(client, address, data):
    response = client.post(address, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


def restore(client, record, version=None):
    address = reverse(
        "diagnostics:restaurer",
        args=["montlucon", "difficulte", record.history_id],
    )
    return post(client, address, {} if version is None else {"version": version})


def test_the_lead_in_becomes_its_two_real_difficulties_and_every_step_can_be_undone(
    client, marie_connectee, logement
):
    assert libelles(logement) == IMPORTED
    lead, dechets = logement.difficultes.order_by("position")
    source = lead.source
    assert source.ligne == 33

    # Merge the two items, then split the result into the two difficulties, reworded.
    page = client.get(url("element_fusionner", lead)).content.decode()
    assert f'value="{dechets.pk}:1"' in page
    post(
        client,
        url("element_fusionner", lead),
        {"autres": [f"{dechets.pk}:1"], "libelle": "", "version": 1},
    )
    lead.refresh_from_db()
    assert lead.libelle == MERGED
    post(client, url("element_scinder", lead), {"libelles": "\n".join(REAL), "version": 2})
    assert libelles(logement) == REAL
    second = logement.difficultes.get(libelle=REAL[1])
    assert second.source == source  # provenance kept: line 33 of the seed

    # Tag quartiers, reorder, move a difficulty to its thème's level.
    rive_gauche = Quartier.objects.get(code="QN00304M")
    fontbouillant = Quartier.objects.get(code="QN00305M")
    post(
        client,
        url("element_modifier", second),
        {"libelle": REAL[1], "quartiers": [rive_gauche.pk, fontbouillant.pk], "version": 1},
    )
    post(client, url("element_ordre", second), {"sens": "haut"})
    assert libelles(logement) == [REAL[1], REAL[0]]
    second.refresh_from_db()
    post(
        client,
        url("element_deplacer", second),
        {"destination": f"theme-{logement.theme_id}", "version": second.version},
    )
    assert libelles(logement) == [REAL[0]]

    # Every step is in the history, by Marie.
    page = client.get(reverse("diagnostics:modifications", args=["montlucon"])).content.decode()
    theme = logement.theme.libelle.replace("'", "&#x27;")
    for step in (
        "Fusion de 2 éléments",  # the two items came from the same cell: no other source
        "Scission de « Il serait intéressant d&#x27;inciter : à des actions",
        "Déplacement vers le haut",
        f"Déplacement vers « {theme} »",
    ):
        assert step in page, step
    assert page.count("Marie Dupont") >= 6
    # The item merged into the other says into what (its own history).
    deletion = Difficulte.history.get(id=dechets.pk, history_type="-")
    assert deletion.history_change_reason.startswith(f"Fusion dans « {LEAD_IN} à des actions")

    # Undo, newest first: the move, the split, the merge.
    records = Difficulte.history.filter(id=second.pk).order_by("history_id")
    second.refresh_from_db()
    restore(
        client,
        records.filter(history_change_reason="Déplacement vers le haut").get(),
        second.version,
    )
    assert libelles(logement)[-1] == REAL[1]
    restore(client, records.earliest(), Difficulte.objects.get(pk=second.pk).version)
    second.refresh_from_db()
    assert list(second.quartiers.all()) == []
    post(client, url("element_supprimer", second), {"version": second.version})

    lead.refresh_from_db()
    before_split = Difficulte.history.filter(
        id=lead.pk, history_change_reason__startswith="Fusion de"
    ).get()
    restore(client, before_split, lead.version)
    lead.refresh_from_db()
    assert lead.libelle == MERGED
    original = Difficulte.history.filter(id=lead.pk).earliest()
    restore(client, original, lead.version)
    deletion = Difficulte.history.get(id=dechets.pk, history_type="-")
    restore(client, deletion)

    assert libelles(logement) == IMPORTED
    assert {item.source_id for item in logement.difficultes.all()} == {source.pk}
