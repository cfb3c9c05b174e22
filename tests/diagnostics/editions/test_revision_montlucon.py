"""The Montluçon story: the seed imported and published, frozen as the 2024 edition; the
2027 revision started, edited through the pages (reword, split, merge, move, delete, add);
then what changed, read by a partner: each change listed once, with its nature."""

import html

from django.urls import reverse

from comptes.roles import Role
from diagnostics.editions import diff
from diagnostics.models import Diagnostic, Difficulte, SousTheme
from tests.factories import UserFactory


def element_url(name, element, slug):
    return reverse(f"diagnostics:{name}", args=[slug, "difficultes", element.pk])


def test_the_2027_revision_of_montlucon(montlucon, client, paul):
    client.force_login(paul)
    contrat = montlucon.contrat

    # The signed version is frozen as the 2024 edition.
    assert (
        client.post(reverse("diagnostics:etat_edition", args=[montlucon.slug, "figer"])).status_code
        == 302
    )
    response = client.post(
        reverse("diagnostics:nouvelle_edition", args=[contrat.slug]),
        {"nom": "Révision à mi-parcours — 2027", "date": "15/03/2027"},
    )
    assert response.status_code == 302
    revision = contrat.editions.get(statut=Diagnostic.Statut.BROUILLON)
    slug = revision.slug
    items = list(Difficulte.objects.filter(diagnostic=revision).order_by("pk"))
    assert len(items) == Difficulte.objects.filter(diagnostic=montlucon).count()
    reword, split, move, delete = items[0], items[3], items[10], items[12]
    keep, absorbed = next(
        (a, b)
        for a, b in zip(items, items[1:], strict=False)
        if a.sous_theme_id
        and a.sous_theme_id == b.sous_theme_id
        and not {a.pk, b.pk} & {reword.pk, split.pk, move.pk, delete.pk}
    )

    # Reword.
    reworded = "Des habitants qui renoncent aux soins faute de médecin"
    assert (
        client.post(
            element_url("element_modifier", reword, slug),
            {"libelle": reworded, "version": reword.version},
        ).status_code
        == 302
    )
    # Split: the item keeps its first part, a new item holds the second.
    split_first, split_second = "Première partie de la difficulté", "Seconde partie, nouvelle"
    assert (
        client.post(
            element_url("element_scinder", split, slug),
            {"libelles": f"{split_first}\n{split_second}", "version": split.version},
        ).status_code
        == 302
    )
    # Merge: `absorbed` goes into `keep`, whose text becomes both.
    keep.refresh_from_db()
    absorbed.refresh_from_db()
    response = client.post(
        element_url("element_fusionner", keep, slug),
        {"autres": [f"{absorbed.pk}:{absorbed.version}"], "libelle": "", "version": keep.version},
    )
    assert response.status_code == 302
    # Move to a sous-thème of another thème.
    move.refresh_from_db()
    destination = (
        SousTheme.objects.filter(diagnostic=revision)
        .exclude(theme=move.parent.theme if move.sous_theme_id else move.theme)
        .first()
    )
    assert (
        client.post(
            element_url("element_deplacer", move, slug),
            {"destination": f"sous_theme-{destination.pk}", "version": move.version},
        ).status_code
        == 302
    )
    # Delete, and add.
    delete.refresh_from_db()
    assert (
        client.post(
            element_url("element_supprimer", delete, slug), {"version": delete.version}
        ).status_code
        == 302
    )
    added = "Une difficulté constatée en 2027"
    assert (
        client.post(
            reverse(
                "diagnostics:element_ajouter",
                args=[slug, "sous-themes", destination.pk, "difficultes"],
            ),
            {"libelle": added},
        ).status_code
        == 302
    )

    # The revision is published; a partner reads what changed.
    assert (
        client.post(reverse("diagnostics:etat_edition", args=[slug, "publier"])).status_code == 302
    )
    partner = UserFactory(role=Role.PARTENAIRE, contrat=contrat)
    client.force_login(partner)
    page = client.get(reverse("diagnostics:comparaison", args=[contrat.slug]))
    assert page.status_code == 200

    comparaison = diff.compare(montlucon, revision)
    difficultes = [c for c in comparaison.changements if c.kind.key == "difficulte"]
    by_lineage = {}
    for change in difficultes:
        lignee = (change.apres or change.avant).lignee
        assert lignee not in by_lineage, "a change is listed once"
        by_lineage[lignee] = set(change.natures)
    assert by_lineage == {
        reword.lignee: {diff.REFORMULE},
        split.lignee: {diff.REFORMULE},
        Difficulte.objects.get(diagnostic=revision, libelle=split_second).lignee: {diff.AJOUTE},
        keep.lignee: {diff.REFORMULE},
        absorbed.lignee: {diff.SUPPRIME},
        move.lignee: {diff.DEPLACE},
        delete.lignee: {diff.SUPPRIME},
        Difficulte.objects.get(diagnostic=revision, libelle=added).lignee: {diff.AJOUTE},
    }
    # Nothing else changed: no level, no indicator.
    assert len(comparaison.changements) == len(difficultes)
    text = html.unescape(page.content.decode())
    for libelle in (split_second, added, delete.libelle[:40], move.libelle[:40]):
        assert libelle in text
