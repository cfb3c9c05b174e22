"""The bulk path of the source-table import writes what the resources write, row by row:
the same piliers, thèmes, sous-thèmes and items, positions, source cells, history and report."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from diagnostics.imports import import_source_table, source_table, undo
from diagnostics.models import (
    CelluleSource,
    Diagnostic,
    Difficulte,
    Import,
    Pilier,
    SousTheme,
    Suppression,
    Theme,
)
from indicateurs.models import Indicateur
from tests.conftest import SEED
from tests.factories import DiagnosticFactory, UserFactory

HEADER = "Pilier\tThème\tSous-thème\tDifficultés prégnantes\tIndicateur"
LEVELS = (Pilier, Theme, SousTheme, Difficulte, Indicateur)
# What differs by nature between two runs of the same import (a new lineage is random:
# `lineages_are_consistent` checks it apart; so is the action of the history rows, one per
# run: tests/diagnostics/history/test_actions.py checks it).
VARYING = {"id", "created_at", "updated_at", "history_id", "history_date", "lignee", "action"}


def names():
    """A name for every object an import writes, from its natural key (not its pk)."""
    found = {(Diagnostic, d.pk): ("diagnostic", d.slug) for d in Diagnostic.objects.all()}
    found |= {(Import, i.pk): ("import", i.nom_fichier) for i in Import.objects.all()}
    for rank, suppression in enumerate(Suppression.objects.order_by("pk")):
        found[Suppression, suppression.pk] = ("suppression", rank)
    for cell in CelluleSource.objects.all():
        found[CelluleSource, cell.pk] = (
            "cellule",
            found[Import, cell.import_source_id],
            cell.ligne,
            cell.colonne,
        )
    for pilier in Pilier.objects.all():
        found[Pilier, pilier.pk] = (found[Diagnostic, pilier.diagnostic_id], pilier.numero)
    for theme in Theme.objects.all():
        found[Theme, theme.pk] = (found[Pilier, theme.pilier_id], theme.cle)
    for sous_theme in SousTheme.objects.all():
        found[SousTheme, sous_theme.pk] = (found[Theme, sous_theme.theme_id], sous_theme.cle)
    for model in (Difficulte, Indicateur):
        for item in model.objects.all():
            parent = (
                found[SousTheme, item.sous_theme_id]
                if item.sous_theme_id
                else found[Theme, item.theme_id]
            )
            found[model, item.pk] = (model.__name__, parent, item.cle)
    return found


def lineages_are_consistent():
    """Each history row carries the lineage of its row; two rows never share one."""
    for model in LEVELS:
        live = dict(model.objects.values_list("pk", "lignee"))
        assert len(set(live.values())) == len(live)
        for pk, lignee in model.history.values_list("id", "lignee"):
            assert pk not in live or live[pk] == lignee
    return True


def state():
    """Every row of the import's tables and of their history, described by natural keys."""
    found = names()
    imports = {pk: name[1] for (model, pk), name in found.items() if model is Import}

    def described(model, row):
        for field in model._meta.fields:
            related = field.related_model
            value = row.get(field.attname)
            if related in (Diagnostic, Import, CelluleSource, Suppression, *LEVELS) and (
                value is not None
            ):
                row[field.attname] = found.get((related, value), "supprimé")
        reason = row.get("history_change_reason") or ""
        if reason.startswith("import:"):
            row["history_change_reason"] = f"import de {imports[int(reason[7:])]}"
        return {name: value for name, value in row.items() if name not in VARYING}

    result = {}
    for model in (Diagnostic, Import, CelluleSource, *LEVELS):
        rows = [(found[model, row["id"]], described(model, row)) for row in model.objects.values()]
        result[model.__name__] = sorted(rows, key=repr)
        if hasattr(model, "history"):
            history = model.history.model
            rows = [
                (found.get((model, row["id"]), "supprimé"), described(history, row))
                for row in model.history.values()
            ]
            result[f"history {model.__name__}"] = sorted(rows, key=repr)
    return result


def report_of(report):
    return (
        report.as_lines(),
        {key: vars(count) for key, count in report.counts.items()},
        report.entries,
        report.warnings,
        report.errors,
        report.shifted_lines,
    )


def import_every_way(diagnostic, filename, content, **options):
    """(report, state) after the import by each path, each rolled back."""
    results = {}
    is_new = diagnostic.pk is None
    for engine in ("resource", "bulk"):
        with transaction.atomic():
            report = import_source_table(diagnostic, filename, content, engine=engine, **options)
            assert report.engine == engine
            assert lineages_are_consistent()
            results[engine] = (report_of(report), state())
            transaction.set_rollback(True)
        if is_new:  # the new diagnostic was saved in the transaction rolled back
            diagnostic.pk = None
            diagnostic._state.adding = True
    return results


def tsv(*rows):
    return "\n".join([HEADER, *rows]).encode()


def test_the_seed_gives_the_same_diagnostic_by_both_paths():
    user = UserFactory(username="import")

    results = import_every_way(DiagnosticFactory(), SEED.name, SEED.read_bytes(), user=user)

    assert results["bulk"] == results["resource"]
    assert results["bulk"][0][0][0] == "Import de « diagnostic-montlucon.tsv » enregistré."


def test_a_new_diagnostic_gets_the_same_rows_by_both_paths():
    diagnostic = Diagnostic(
        titre="Nouveau", slug="nouveau", territoire="Vichy", annee_debut=2024, annee_fin=2030
    )

    results = import_every_way(diagnostic, SEED.name, SEED.read_bytes())

    assert results["bulk"] == results["resource"]


def test_a_later_import_continues_the_same_way_by_both_paths(montlucon):
    sante = Theme.objects.get(libelle="Santé")
    sante.position = 99
    sante.save()
    content = tsv(
        "1 COHESION SOCIALE\tSanté\tAccès aux soins\t- Délais de rendez-vous\t- Nombre de RDV",
        "\t\tSanté mentale\t- Isolement - Délais de rendez-vous\t",
        "Cadre de vie et renouvellement urbain\tTranquillité et sûreté publique\t\t"
        "- Rodéos urbains\t",
        "\tÉducation\tProgramme de Réussite Éducative\t- Manque de visibilité concernant la "
        "prise en charge des pédagogies alternatives. - Une nouvelle difficulté\t",
        "Transition écologique\tÉnergie\t\t\t",
        "1 Emploi\tInsertion\tMobilité\t- Pas de permis - PAS DE PERMIS\t",
    )

    results = import_every_way(montlucon, "complement.tsv", content, user=UserFactory())

    assert results["bulk"] == results["resource"]
    lines = results["bulk"][0][0]
    assert "Piliers : 1 créé, 2 inchangés" in lines


def test_a_spreadsheet_with_merged_cells_gives_the_same_rows_by_both_paths(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Axe", "Thématique", "Sous-thématique", "Difficultés", "Indicateurs"])
    sheet.append(["Axe 1 – Emploi", "Insertion", "Mobilité", "- Pas de permis\n- Pas de bus", None])
    sheet.append([None, None, None, "Horaires décalés", "• Nombre d'offres"])
    sheet.append([None, "Formation", "Langue", "<ul><li>Illettrisme</li></ul>", None])
    sheet.merge_cells("A2:A4")
    sheet.merge_cells("B2:B3")
    path = tmp_path / "diagnostic.xlsx"
    workbook.save(path)

    results = import_every_way(DiagnosticFactory(), path.name, path.read_bytes())

    assert results["bulk"] == results["resource"]


def test_both_paths_refuse_the_same_rows_with_the_same_messages():
    too_long = "Un sous-thème dont le nom n'en finit pas " * 8
    content = tsv(
        "1 Emploi\tInsertion\tMobilité\t- Pas de permis\t",
        f"\t\t{too_long}\t- Une difficulté\t",
        f"\t{too_long}\t\t\t",
    )

    results = import_every_way(DiagnosticFactory(), "trop-long.tsv", content)

    assert results["bulk"] == results["resource"]
    lines, _, _, _, errors, _ = results["bulk"][0]
    assert lines[0] == "Fichier « trop-long.tsv » refusé : rien n'a été enregistré."
    assert [line for line, _ in errors] == [4]
    assert "au plus 255 caractères" in errors[0][1]


def test_a_dry_run_reports_the_same_by_both_paths(montlucon):
    content = tsv("1 COHESION SOCIALE\tSanté\tAccès aux soins\t- Délais de rendez-vous\t")

    results = import_every_way(montlucon, "simulation.tsv", content, dry_run=True)

    assert results["bulk"] == results["resource"]
    assert results["bulk"][0][0][0].startswith("Simulation de l'import")


def test_large_tables_take_the_bulk_path(monkeypatch):
    monkeypatch.setattr(source_table, "RESOURCE_MAX_ROWS", 29)
    small = tsv("1 Emploi\tInsertion\tMobilité\t- Pas de permis\t")

    assert import_source_table(DiagnosticFactory(), "petit.tsv", small).engine == "resource"
    assert import_source_table(DiagnosticFactory(), SEED.name, SEED.read_bytes()).engine == "bulk"


def _repeated_seed(times):
    """The seed's rows `times` over, under other piliers: a table `times` as large."""
    lines = SEED.read_text().splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("Pilier"))
    rows = [line for line in lines[header + 1 :] if line.strip() and not line.startswith("Pilier")]
    table = [lines[header]]
    for copy in range(times):
        for row in rows:
            cells = row.split("\t")
            if cells[0]:
                numero, libelle = cells[0].split(" ", 1)
                cells[0] = f"{int(numero) + 3 * copy} {libelle} {copy}"
            table.append("\t".join(cells))
    return "\n".join(table).encode()


def test_the_bulk_path_runs_as_many_queries_for_a_large_table_as_for_a_small_one():
    counted = []
    for times in (1, 4):
        with CaptureQueriesContext(connection) as queries:
            report = import_source_table(
                DiagnosticFactory(), "x.tsv", _repeated_seed(times), engine="bulk"
            )
        assert report.ok, report.as_lines()
        assert report.counts["difficulte"].created == 45 * times
        statements = [query["sql"] for query in queries]
        inserts = [sql for sql in statements if sql.startswith("INSERT")]
        counted.append((len(statements) - len(inserts), len(inserts)))

    assert counted[0][0] == counted[1][0]
    # SQLite takes at most 999 parameters per statement: Django splits its INSERTs further.
    if connection.vendor == "postgresql":
        assert counted[0][1] == counted[1][1]


def test_an_import_written_by_the_bulk_path_is_undone_like_any_other():
    diagnostic = DiagnosticFactory()
    report = import_source_table(diagnostic, SEED.name, SEED.read_bytes(), engine="bulk")

    undo.undo(report.import_record, UserFactory())

    for model in LEVELS:
        assert not model.objects.exists()
    report = import_source_table(diagnostic, SEED.name, SEED.read_bytes(), engine="bulk")
    assert report.counts["indicateur"].created == 18


@pytest.mark.parametrize("engine", ["resource", "bulk"])
def test_a_second_import_of_the_same_table_changes_nothing(montlucon, engine):
    before = state()

    report = import_source_table(montlucon, SEED.name, SEED.read_bytes(), engine=engine)

    assert report.ok
    assert report.import_record is None
    assert not report.created
    assert state() == before
