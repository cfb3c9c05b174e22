"""The edit and history pages run as many SQL queries on a diagnostic shaped like the seed
as on one ten times larger (tests/scale.py) with ten times more versions; the pages of
a pilier and of a sous-thème cost the Équipe ville, with their edit controls, what they
cost a partner (tests/diagnostics/test_query_counts.py)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comptes.roles import Role
from diagnostics import editing
from tests.factories import MembreFactory, UserFactory
from tests.scale import build_diagnostic

# page -> exact query count for the Équipe ville, the session, the user and the user's
# roles (3 queries) included.
EXPECTED = {
    "pilier": 10,  # as for a partner: the edit controls cost no query
    "sous_theme": 8,  # idem
    "element_ajouter": 5,  # + the place (1), the quartiers offered (1)
    "element_modifier": 6,  # + the item (1), its quartiers offered (1) and ticked (1)
    "element_deplacer": 6,  # + the item, the thèmes, the sous-thèmes
    "element_scinder": 4,  # + the item
    "element_fusionner": 5,  # + the item, the items of its level
    "element_supprimer": 4,  # + the item (nothing goes with a difficulté)
    "element_historique": 8,  # + diagnostic, versions, tags, parents, provenance
    "pilier_modifier": 4,
    "pilier_historique": 6,
    "theme_ajouter": 4,
    "theme_supprimer": 8,  # + the counts of what goes with it (4)
    "theme_historique": 6,
    "sous_theme_ajouter": 4,
    "sous_theme_modifier": 4,
    "sous_theme_deplacer": 7,  # + the thèmes, the counts of its items (2)
    "sous_theme_supprimer": 7,  # + the counts of what goes with it (3)
    "sous_theme_historique": 7,
    "modifications": 7,  # + diagnostic, people, count, page (one UNION), imports named
    "restaurer": 9,  # + diagnostic, version, all versions, tags, parents, provenance
}


def urls(built):
    slug = built.diagnostic.slug
    sous_theme = built.sous_theme
    item = sous_theme.difficultes.order_by("position", "pk").last()
    element = ["difficultes", item.pk]
    record = item.history.earliest()
    return {
        "pilier": reverse("diagnostics:pilier", args=[slug, 1]),
        "sous_theme": reverse("diagnostics:sous_theme", args=[slug, sous_theme.pk]),
        "element_ajouter": reverse(
            "diagnostics:element_ajouter", args=[slug, "sous-themes", sous_theme.pk, "difficultes"]
        ),
        **{
            f"element_{action}": reverse(f"diagnostics:element_{action}", args=[slug, *element])
            for action in ("modifier", "deplacer", "scinder", "fusionner", "supprimer")
        },
        "element_historique": reverse("diagnostics:element_historique", args=[slug, *element]),
        "pilier_modifier": reverse("diagnostics:pilier_modifier", args=[slug, 1]),
        "pilier_historique": reverse("diagnostics:pilier_historique", args=[slug, 1]),
        "theme_ajouter": reverse("diagnostics:theme_ajouter", args=[slug, 1]),
        "theme_supprimer": reverse("diagnostics:theme_supprimer", args=[slug, sous_theme.theme_id]),
        "theme_historique": reverse(
            "diagnostics:theme_historique", args=[slug, sous_theme.theme_id]
        ),
        "sous_theme_ajouter": reverse(
            "diagnostics:sous_theme_ajouter", args=[slug, sous_theme.theme_id]
        ),
        **{
            f"sous_theme_{action}": reverse(
                f"diagnostics:sous_theme_{action}", args=[slug, sous_theme.pk]
            )
            for action in ("modifier", "deplacer", "supprimer", "historique")
        },
        "modifications": reverse("diagnostics:modifications", args=[slug]),
        "restaurer": reverse("diagnostics:restaurer", args=[slug, "difficulte", record.history_id]),
    }


def build(scale, user):
    """A diagnostic of this scale whose fullest sous-thème's last difficulté has 3 × scale
    versions, and whose pilier has 3 × scale renamings; `user` of its Équipe ville."""
    built = build_diagnostic(scale)
    MembreFactory(contrat=built.diagnostic.contrat, compte=user, role=Role.EQUIPE_VILLE)
    item = built.sous_theme.difficultes.order_by("position", "pk").last()
    pilier = built.pilier
    for n in range(3 * scale):
        item.libelle = f"Difficulté, version {n}"
        item = editing.save_versioned(item, item.version, user, fields=["libelle"])
        pilier.libelle = f"Pilier, version {n}"
        pilier = editing.save_versioned(pilier, pilier.version, user, fields=["libelle"])
    return built


def measure(client, built):
    counts = {}
    for page, url in urls(built).items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, page
        counts[page] = len(queries)
    return counts


def test_edit_and_history_pages_run_as_many_queries_at_seed_size_as_ten_times_larger(client):
    user = UserFactory()  # of the Équipe ville of each diagnostic built (`build`)
    client.force_login(user)
    assert max(EXPECTED.values()) <= 10

    at_seed_size = measure(client, build(1, user))
    ten_times_larger = measure(client, build(10, user))

    assert at_seed_size == EXPECTED
    assert ten_times_larger == EXPECTED
