"""The synthetic data of the benchmarks (bench/generate_scale_data.py, bench/scale_data.py):
its sizes at every level, its marks, its top-up and its removal, on the real database."""

import datetime
import re
import uuid
from collections import Counter
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils.html import escape

from bench import scale_data
from bench.common import generate_scale_data, manage
from bench.generate_scale_data import Command
from comptes.roles import Role
from diagnostics.editions.copy import start_edition
from diagnostics.membres import add_member, invite
from diagnostics.models import (
    CelluleSource,
    Contrat,
    Diagnostic,
    Difficulte,
    Import,
    Membre,
    Pilier,
    Quartier,
    SousTheme,
    Theme,
)
from diagnostics.search import query_words
from diagnostics.text import fingerprint, normalize_key
from indicateurs.models import Indicateur, Mesure
from tests.factories import QuartierFactory, UserFactory

SCALE = 0.005  # 2 diagnostics, 7 quartiers
LEVELS = (Pilier, Theme, SousTheme, Difficulte, Indicateur)


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def generate(scale=SCALE, **options):
    out = StringIO()
    call_command(Command(), scale=scale, stdout=out, **options)
    return out.getvalue()


def remove():
    out = StringIO()
    call_command(Command(), retirer=True, stdout=out)
    return out.getvalue()


def items_of(model, diagnostic):
    return model.objects.du_diagnostic(diagnostic)


def row_counts():
    """The number of rows of every table of the project (history tables included)."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models(include_auto_created=True)
    }


def content():
    """What the synthetic diagnostics hold, without database ids: equal for equal data."""

    def parent(item):
        if item.sous_theme_id:
            theme = item.sous_theme.theme
            return (theme.pilier.numero, theme.position, item.sous_theme.position)
        return (item.theme.pilier.numero, item.theme.position, 0)

    result = {}
    for diagnostic in scale_data.synthetic_diagnostics():
        items = {}
        for model in (Difficulte, Indicateur):
            queryset = (
                items_of(model, diagnostic)
                .select_related("theme__pilier", "sous_theme__theme__pilier", "source")
                .prefetch_related("quartiers")
            )
            items[model.__name__] = sorted(
                (
                    parent(item),
                    item.position,
                    item.libelle,
                    item.source.texte,
                    tuple(sorted(q.code for q in item.quartiers.all())),
                    tuple(getattr(item, name, None) for name in ("unite", "sens_souhaite")),
                )
                for item in queryset
            )
        measures = Mesure.objects.filter(indicateur__in=items_of(Indicateur, diagnostic))
        result[diagnostic.slug] = {
            "diagnostic": (diagnostic.titre, diagnostic.statut, diagnostic.est_public),
            "quartiers": sorted(diagnostic.quartiers.values_list("code", "nom", "communes__code")),
            "themes": sorted(
                Theme.objects.filter(pilier__diagnostic=diagnostic).values_list(
                    "pilier__numero", "pilier__libelle", "position", "libelle"
                )
            ),
            "sous_themes": sorted(
                SousTheme.objects.filter(theme__pilier__diagnostic=diagnostic).values_list(
                    "theme__libelle", "position", "libelle"
                )
            ),
            **items,
            "mesures": Counter(
                measures.values_list(
                    "indicateur__libelle", "quartier__code", "annee", "valeur", "texte"
                )
            ),
        }
    return result


def test_sizes_and_codes_at_scale_1():
    assert scale_data.expected_counts(1) == {
        "diagnostics": 435,
        "quartiers": 1584,
        "indicateurs": 43_500,
        "mesures": 2_019_000,  # 1,584,000 for the quartiers, 435,000 for the territories
    }
    assert scale_data.expected_counts(0.0001)["diagnostics"] == 1
    assert sum(len(scale_data.quartier_numbers(n)) for n in range(1, 436)) == 1584
    assert {len(scale_data.quartier_numbers(n)) for n in range(1, 436)} == {3, 4}
    codes = [scale_data.quartier_code(k) for k in range(1, scale_data.MAX_QUARTIERS + 1)]
    assert len(set(codes)) == len(codes)
    assert all(scale_data.quartier_number(code) == k for k, code in enumerate(codes, start=1))
    # Accepted by the model, outside every real département (QN + 001…976), never "…M".
    validator = Quartier._meta.get_field("code").validators[0]
    for code in codes[:: len(codes) // 50]:
        validator(code)
        assert code.startswith("QN99") and not code.endswith("M")
    assert scale_data.quartier_number("QN00304M") is None


def test_diagnostics_are_shaped_like_the_seed():
    plans = [scale_data.plan_diagnostic(n) for n in range(1, 26)]
    assert {len(plan.piliers) for plan in plans} == {3, 4}
    for plan in plans:
        assert 35 <= len(plan.difficultes) <= 65
        assert len(plan.indicateurs) == 100
        assert 6 <= len(plan.themes) <= 16
        # Unique within their parent, as the database requires.
        for level in (plan.piliers, plan.themes, plan.sous_themes):
            keys = [(node.parent, normalize_key(node.libelle)) for node in level]
            assert len(keys) == len(set(keys))
        for level in (plan.difficultes, plan.indicateurs):
            keys = [(i.theme, i.sous_theme, fingerprint(i.libelle)) for i in level]
            assert len(keys) == len(set(keys))
    items = [item for plan in plans for item in plan.difficultes + plan.indicateurs]
    sous_themes = sum(len(plan.sous_themes) for plan in plans)
    filled = {
        (plan.numero, item.sous_theme)
        for plan in plans
        for item in plan.difficultes + plan.indicateurs
        if item.sous_theme is not None
    }
    assert 0.2 < 1 - len(filled) / sous_themes < 0.6  # empty sous-thèmes, as in the seed
    assert any(item.theme is not None for item in items)  # items at the level of a thème
    assert 0.2 < sum(1 for item in items if item.quartiers) / len(items) < 0.5
    types = Counter(i.informations["type"] for plan in plans for i in plan.indicateurs)
    assert types[Indicateur.Type.QUALITATIF] < types[Indicateur.Type.QUANTITATIF]
    # The seed's own texts, and its indicators.
    seed = scale_data.seed_vocabulary()
    assert any(item.libelle in seed.toutes_difficultes for item in plans[0].difficultes)
    assert any(item.libelle == "Plaintes des riverains" for p in plans for item in p.indicateurs)
    # The same diagnostic for the same graine, another one for another graine.
    again = scale_data.plan_diagnostic(7)
    assert again.tableau == plans[6].tableau and again.indicateurs == plans[6].indicateurs
    assert scale_data.plan_diagnostic(7, graine=1).tableau != plans[6].tableau


def test_tiny_scale_writes_every_level_marked_synthetic(debug, montlucon):
    before = row_counts()

    output = generate()

    expected = scale_data.expected_counts(SCALE)
    assert expected == {"diagnostics": 2, "quartiers": 7, "indicateurs": 200, "mesures": 9000}
    assert "Données synthétiques prêtes : 2 diagnostics (2 créés), 7 quartiers" in output
    first, second = scale_data.synthetic_diagnostics().order_by("slug")
    assert (first.slug, second.slug) == ("synthetique-0001", "synthetique-0002")
    assert first.titre == "Diagnostic synthétique n° 1 (données de test)"
    assert first.territoire == "Territoire synthétique n° 1"
    assert first.statut == second.statut == Diagnostic.Statut.PUBLIE
    assert (first.est_public, second.est_public) == (True, False)
    # Each is the first edition of a contract of its own, marked synthetic too.
    contrats = scale_data.synthetic_contrats().order_by("slug")
    assert [c.slug for c in contrats] == ["synthetique-0001", "synthetique-0002"]
    assert [first.contrat, second.contrat] == list(contrats)
    assert first.contrat.nom == "Contrat de ville synthétique n° 1 (données de test)"
    assert first.contrat.territoire == first.territoire
    assert (first.contrat.annee_debut, first.contrat.annee_fin) == (2024, 2030)
    assert "(données de test)" in first.contrat.signataires
    assert (first.nom_edition, first.date_edition) == (
        "Diagnostic initial — janvier 2024",
        datetime.date(2024, 1, 15),
    )
    assert second.nom_edition == "Diagnostic initial — février 2024"
    assert first.precedente is None and second.precedente is None
    for contrat in contrats:
        contrat.full_clean()
        history = contrat.history.get()
        assert (history.history_type, history.nom) == ("+", contrat.nom)
    assert Diagnostic.history.get(id=first.pk).contrat_id == first.contrat_id

    quartiers = scale_data.synthetic_quartiers()
    assert quartiers.count() == 7
    assert all(re.fullmatch(r"Quartier synthétique n° [1-7]", q.nom) for q in quartiers)
    links = Diagnostic.quartiers.through.objects.filter(quartier__in=quartiers)
    assert sorted(links.values_list("quartier", flat=True)) == sorted(q.pk for q in quartiers)
    for diagnostic in (first, second):
        n = diagnostic.quartiers.count()
        assert n in (3, 4)
        assert diagnostic.piliers.count() in (3, 4)
        assert 35 <= items_of(Difficulte, diagnostic).count() <= 65
        indicateurs = items_of(Indicateur, diagnostic)
        assert indicateurs.count() == 100
        assert not indicateurs.filter(type=Indicateur.Type.A_PRECISER).exists()
        assert not indicateurs.exclude(periodicite=Indicateur.Periodicite.ANNUELLE).exists()
        assert not indicateurs.filter(source_donnees="").exists()
        measures = Mesure.objects.filter(indicateur__in=indicateurs, nature="valeur")
        assert measures.count() == 100 * 10 * (n + 1)  # each quartier and the territory
        # The territory's reference (first year) and target (2030) of each quantitative one.
        quantitatifs = indicateurs.filter(type=Indicateur.Type.QUANTITATIF)
        reperes = Mesure.objects.filter(indicateur__in=indicateurs).exclude(nature="valeur")
        assert set(reperes.values_list("nature", flat=True)) == {"cible", "reference"}
        assert reperes.count() == 2 * quantitatifs.count()
        assert not reperes.filter(quartier__isnull=False).exists()
        assert set(measures.values_list("annee", flat=True)) == set(range(2015, 2025))
        assert {q.pk for q in diagnostic.quartiers.all()} | {None} == set(
            measures.values_list("quartier", flat=True)
        )
        # Each diagnostic's rows come from its two imports, as an import writes them.
        table, values = Import.objects.filter(diagnostic=diagnostic).order_by("pk")
        assert (table.nature, values.nature) == (Import.Nature.DIAGNOSTIC, Import.Nature.MESURES)
        assert values.compte_rendu["counts"]["created"] == measures.count() + reperes.count()
        history = Mesure.history.model.objects.filter(indicateur_id__in=indicateurs.values("pk"))
        assert set(history.values_list("history_type", "import_source")) == {("+", values.pk)}
    assert Mesure.objects.filter(indicateur__in=items_of(Indicateur, first)).exists()

    synthetic = {
        Pilier: Pilier.objects.filter(diagnostic__slug__startswith="synthetique-"),
        Theme: Theme.objects.filter(pilier__diagnostic__slug__startswith="synthetique-"),
        SousTheme: SousTheme.objects.filter(
            theme__pilier__diagnostic__slug__startswith="synthetique-"
        ),
        Difficulte: Difficulte.objects.des_diagnostics(scale_data.synthetic_diagnostics()),
        Indicateur: Indicateur.objects.des_diagnostics(scale_data.synthetic_diagnostics()),
    }
    for model, queryset in synthetic.items():
        assert not queryset.filter(source__isnull=True).exists()
        history = model.history.model.objects.filter(id__in=queryset.values("pk"))
        assert history.filter(history_type="+").count() == queryset.count()
        assert not history.filter(import_source=None).exists()
        # A lineage of its own (uuid4, as the application draws one), copied from nothing;
        # its history row has the same.
        lignees = dict(queryset.values_list("pk", "lignee"))
        assert len(set(lignees.values())) == len(lignees)
        assert all(isinstance(lignee, uuid.UUID) for lignee in lignees.values())
        assert {lignee.version for lignee in lignees.values()} == {4}
        assert not queryset.filter(origine__isnull=False).exists()
        assert dict(history.values_list("id", "lignee")) == lignees
        assert not history.filter(origine__isnull=False).exists()
        if model in (Difficulte, Indicateur):
            tags = model.quartiers.through.objects.filter(
                **{f"{model._meta.model_name}__in": queryset}
            )
            assert tags.exists()
            assert scale_data._m2m_history(model).objects.count() == tags.count()
            for item in queryset[::10]:
                item.full_clean()
    assert synthetic[SousTheme].filter(difficultes=None, indicateurs=None).exists()

    mesures = Mesure.objects.filter(indicateur__in=synthetic[Indicateur])
    assert (
        mesures.count()
        == Mesure.objects.filter(fictive=True, source="Données synthétiques").count()
        == 9000 + 376  # the values, and a reference and a target per quantitative one
    )
    assert not mesures.filter(indicateur__type=Indicateur.Type.QUANTITATIF, valeur=None).exists()
    assert not mesures.filter(indicateur__type=Indicateur.Type.QUALITATIF, texte="").exists()
    for mesure in mesures[::500]:
        mesure.full_clean()
    for obj in (first, *quartiers, *CelluleSource.objects.filter(import_source__diagnostic=first)):
        obj.full_clean()

    # Nothing else changed: Montluçon, its quartiers and its history are as they were.
    after = row_counts()
    grown = {label for label in after if after[label] != before[label]}
    assert all(label.split(".")[0] in ("diagnostics", "indicateurs") for label in grown)
    assert items_of(Difficulte, montlucon).count() == 45


def test_top_up_is_idempotent_and_each_diagnostic_is_the_same_whatever_the_order(debug):
    generate(0.003)  # diagnostic 1 only
    assert list(scale_data.synthetic_diagnostics().values_list("slug", flat=True)) == [
        "synthetique-0001"
    ]
    generate(SCALE)  # tops up with diagnostic 2
    topped_up = content()
    counts = row_counts()

    output = generate(SCALE)

    assert "2 diagnostics (0 créé)" in output
    assert row_counts() == counts
    remove()
    generate(SCALE)  # at once, in an empty database
    assert content() == topped_up
    assert row_counts() == counts

    output = generate(0.003)  # down again: diagnostic 2, its contract and quartiers go

    assert "Diagnostics au-delà de l'échelle, retirés : 1." in output
    assert content() == {"synthetique-0001": topped_up["synthetique-0001"]}
    assert scale_data.synthetic_quartiers().count() == len(scale_data.quartier_numbers(1))
    assert list(scale_data.synthetic_contrats().values_list("slug", flat=True)) == [
        "synthetique-0001"
    ]


def test_a_contract_left_without_its_diagnostic_is_written_again_with_it(debug):
    generate(SCALE)
    counts = row_counts()
    second = Diagnostic.objects.get(slug="synthetique-0002")
    contrat = second.contrat
    # Deleted in the site (the ORM's cascades): its contract stays, with another edition.
    start_edition(contrat, nom="Révision", date=datetime.date(2027, 1, 1), user=None)
    second.delete()
    assert Contrat.objects.filter(pk=contrat.pk).exists()

    output = generate(SCALE)

    assert "2 diagnostics (1 créé)" in output
    again = Diagnostic.objects.get(slug="synthetique-0002")
    assert again.contrat.slug == "synthetique-0002" and again.contrat_id != contrat.pk
    assert list(again.contrat.editions.all()) == [again]
    assert not Contrat.objects.filter(pk=contrat.pk).exists()
    after = row_counts()
    # The same rows again, but the history of the deletions made in the site.
    changed = {label for label in after if after[label] != counts[label]}
    assert all(label.split(".")[1].startswith("Historical") for label in changed), changed


def test_retirer_removes_the_synthetic_data_and_nothing_else(debug, montlucon):
    equipe = UserFactory(role=Role.EQUIPE_VILLE, contrat=montlucon.contrat)
    indicateur = items_of(Indicateur, montlucon).first()
    quartier = QuartierFactory(code="QN00304M", nom="Rive Gauche")
    montlucon.quartiers.add(quartier)
    Mesure.objects.create(indicateur=indicateur, annee=2023, quartier=quartier, valeur=12)
    before = row_counts()
    generate()
    # Staff work on a synthetic diagnostic: more history rows, removed too.
    difficulte = Difficulte.objects.des_diagnostics(scale_data.synthetic_diagnostics()).first()
    difficulte.libelle = "Difficulté reformulée par l'équipe"
    difficulte._history_user = equipe
    difficulte.save()
    difficulte.quartiers.clear()
    # They take part in its contract, and invite someone: the memberships and invitations
    # of a synthetic contract go with it (their role on Montluçon's stays).
    synthetic_contrat = difficulte.diagnostic.contrat
    add_member(synthetic_contrat, role=Role.EQUIPE_VILLE, compte=equipe)
    invite(synthetic_contrat, email="invitee@example.org", role=Role.PARTENAIRE, invite_par=equipe)
    # A synthetic quartier attached to Montluçon stays (with its link).
    kept = scale_data.synthetic_quartiers().first()
    montlucon.quartiers.add(kept)
    # A new edition started from a synthetic diagnostic goes with its contract.
    edition = start_edition(
        difficulte.diagnostic.contrat, nom="Révision", date=datetime.date(2027, 1, 1), user=equipe
    )
    assert Difficulte.objects.filter(diagnostic=edition, origine__isnull=False).exists()
    copied = Mesure.objects.filter(indicateur__diagnostic=edition).count()  # its references…
    assert copied

    output = remove()

    mesures = f"{9_376 + copied:,}".replace(",", "\u202f")
    assert (
        f"Données synthétiques retirées : 3 diagnostics, 6 quartiers, {mesures} mesures." in output
    )
    assert "1 quartier(s) synthétique(s) conservé(s)" in output
    assert not scale_data.synthetic_diagnostics().exists()
    assert not scale_data.synthetic_contrats().exists()
    assert not Diagnostic.objects.filter(pk=edition.pk).exists()
    assert list(Membre.objects.filter(compte=equipe).values_list("contrat", flat=True)) == [
        montlucon.contrat_id
    ]
    assert list(scale_data.synthetic_quartiers()) == [kept]
    after = row_counts()
    after["diagnostics.Quartier"] -= 1
    after["diagnostics.Diagnostic_quartiers"] -= 1
    # …with its communes.
    after["diagnostics.Quartier_communes"] -= kept.communes.count()
    after["diagnostics.Commune"] -= kept.communes.count()
    assert after == before
    assert montlucon.quartiers.filter(pk=kept.pk).exists()

    assert "0 diagnostic, 0 quartier, 0 mesure." in remove()  # nothing left to remove


def test_generation_is_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG activé"):
        generate()
    assert not scale_data.synthetic_diagnostics().exists()
    assert "0 diagnostic" in remove()  # removing is allowed everywhere


def test_the_options_are_checked(debug):
    with pytest.raises(CommandError, match="au plus 10"):
        generate(11)
    with pytest.raises(CommandError, match="supérieure à 0"):
        generate(0)
    with pytest.raises(CommandError, match="--scale ou --retirer"):
        call_command(Command(), scale=1, retirer=True)
    with pytest.raises(CommandError, match="Indiquez l'échelle"):
        call_command(Command())


def test_silent_at_verbosity_0_and_measures_history_optional(debug):
    out = StringIO()
    call_command(Command(), scale=0.002, verbosity=0, measures_history=False, stdout=out)
    assert out.getvalue() == ""
    assert Mesure.objects.filter(nature="valeur").count() == 1000 * (3 + 1)
    assert not Mesure.history.model.objects.exists()
    assert Indicateur.history.model.objects.count() == 100


def test_pages_of_a_generated_diagnostic_render_and_the_search_finds_its_texts(debug, client):
    generate()
    public, restricted = scale_data.synthetic_diagnostics().order_by("slug")
    sous_theme = SousTheme.objects.filter(
        theme__pilier__diagnostic=public, difficultes__isnull=False
    ).first()
    indicateur = items_of(Indicateur, public).filter(type=Indicateur.Type.QUANTITATIF).first()
    difficulte = items_of(Difficulte, public).filter(libelle__regex=r"^[^'()&/:]+$").first()
    words = " ".join(query_words(difficulte.libelle)[:3])
    pages = [
        reverse("diagnostics:diagnostic", kwargs={"slug": public.slug}),
        reverse("diagnostics:pilier", kwargs={"slug": public.slug, "numero": 1}),
        reverse("diagnostics:sous_theme", kwargs={"slug": public.slug, "pk": sous_theme.pk}),
        reverse("diagnostics:difficultes") + f"?diagnostic={public.slug}",
        reverse("indicateurs:liste") + f"?diagnostic={public.slug}",
        reverse("indicateurs:tableau_de_bord", kwargs={"slug": public.slug}),
        reverse("indicateurs:detail", kwargs={"slug": public.slug, "pk": indicateur.pk}),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "synthétique" in response.content.decode(), url
    response = client.get(reverse("diagnostics:recherche"), {"q": words})
    assert response.status_code == 200
    assert escape(difficulte.libelle) in response.content.decode()
    response = client.get(reverse("diagnostics:difficultes"), {"q": words})
    assert escape(difficulte.libelle) in response.content.decode()

    restricted_url = reverse("diagnostics:diagnostic", kwargs={"slug": restricted.slug})
    assert client.get(restricted_url).status_code != 200  # not public
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=public.contrat))
    assert client.get(restricted_url).status_code != 200  # another contract's
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=restricted.contrat))
    assert client.get(restricted_url).status_code == 200

    # The history written as an import writes it: the pages of the staff read it.
    client.force_login(UserFactory(role=Role.ADMINISTRATEUR, contrat=public.contrat))
    table_import = Import.objects.filter(diagnostic=public).order_by("pk").first()
    staff_pages = [
        reverse("diagnostics:modifications", kwargs={"slug": public.slug}),
        reverse("diagnostics:imports"),
        reverse("diagnostics:import_detail", kwargs={"pk": table_import.pk}),
        reverse("diagnostics:source", kwargs={"slug": public.slug, "pk": difficulte.source_id}),
        reverse(
            "diagnostics:element_historique",
            kwargs={"slug": public.slug, "nature": "difficultes", "pk": difficulte.pk},
        ),
        reverse("indicateurs:historique", kwargs={"slug": public.slug, "pk": indicateur.pk}),
    ]
    responses = [client.get(url) for url in staff_pages]
    assert [response.status_code for response in responses] == [200] * len(staff_pages)
    assert f"diagnostic-{public.slug}.tsv" in responses[2].content.decode()
    assert "Création" in responses[4].content.decode()


def test_the_app_still_creates_rows_after_generation(debug):
    generate()
    diagnostic = scale_data.synthetic_diagnostics().first()
    sous_theme = SousTheme.objects.filter(theme__pilier__diagnostic=diagnostic).first()
    quartier = diagnostic.quartiers.first()
    indicateur = items_of(Indicateur, diagnostic).filter(type=Indicateur.Type.QUANTITATIF).first()
    last = {model: model.objects.order_by("pk").last().pk for model in (Difficulte, Mesure)}

    difficulte = Difficulte.objects.create(sous_theme=sous_theme, libelle="Nouvelle difficulté")
    difficulte.quartiers.add(quartier)
    mesure = Mesure.objects.create(indicateur=indicateur, annee=2025, quartier=quartier, valeur=3)
    pilier = Pilier.objects.create(diagnostic=diagnostic, numero=9, libelle="Nouveau pilier")
    created = [
        difficulte,
        mesure,
        pilier,
        Quartier.objects.create(code="QN00399A", nom="Nouveau quartier"),
        Import.objects.create(diagnostic=diagnostic, nom_fichier="f.tsv", sha256="0", taille=1),
        Diagnostic.objects.create(
            titre="Nouveau", slug="nouveau", territoire="Ville", annee_debut=2024, annee_fin=2030
        ),
    ]

    assert difficulte.pk > last[Difficulte] and mesure.pk > last[Mesure]
    assert all(obj.pk for obj in created)
    assert difficulte.history.count() == 2  # created, then tagged
    assert mesure.history.get().history_type == "+"


def test_the_benches_run_the_generator_as_a_script_on_their_own_database(tmp_path, migrated_sqlite):
    """`python -m bench.generate_scale_data`, as bench/run.py calls it (a database of its
    own, migrated first), sets Django up itself."""
    url = f"sqlite:///{tmp_path / 'banc.sqlite3'}"
    manage(url, "migrate", "--no-input", "-v", "0", capture=True)

    result = generate_scale_data(url, "--scale", "0.003", capture=True)

    assert "Données synthétiques prêtes : 1 diagnostic" in result.stdout
