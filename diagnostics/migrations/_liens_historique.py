"""Helpers of the migrations that turn what the history's reasons encoded into columns
(diagnostics 0009, indicateurs 0005). Not a migration: the loader skips this module.

Before, a history row was tied to what wrote it only by its `history_change_reason`:
- "import:12": written by import 12; now `import_source` = 12, and the reason names the
  file ("Import du fichier « … »");
- "annulation:import:12": written by the undo of import 12; now `annulation_de` = 12, and
  "Annulation de l'import du fichier « … »";
- "Suppression avec le thème n° 7 « … »": deleted together with thème 7; now the rows of
  one deletion point to one `Suppression` (the deleted object's own row included), and
  the reason stays as it was, a sentence.
Going back writes the old reasons again from the columns.
"""

import re

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    F,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, Left, Length, Substr


def link_fields(model_name, table):
    """The operations adding `HistoryLinks` to one history table: the three columns, and
    the partial index of `suppression` (on the rows that have one: the rows an import
    writes cost no index for it)."""
    index = f"{table}_suppression_idx"
    return [
        *(
            migrations.AddField(
                model_name=model_name,
                name=name,
                field=models.ForeignKey(
                    blank=True,
                    db_constraint=False,
                    db_index=indexed,
                    null=True,
                    on_delete=django.db.models.deletion.DO_NOTHING,
                    related_name="+",
                    to=to,
                    verbose_name=label,
                ),
            )
            for name, to, label, indexed in (
                ("import_source", "diagnostics.import", "écrite par l'import", True),
                (
                    "annulation_de",
                    "diagnostics.import",
                    "écrite par l'annulation de l'import",
                    False,
                ),
                ("suppression", "diagnostics.suppression", "supprimée avec", False),
            )
        ),
        migrations.RunSQL(
            f'CREATE INDEX "{index}" ON "{table}" ("suppression_id") '
            'WHERE "suppression_id" IS NOT NULL',
            f'DROP INDEX IF EXISTS "{index}"',
        ),
    ]


REASON_MAX_LENGTH = 100
IMPORT_PREFIX, UNDO_PREFIX = "import:", "annulation:import:"
MARKER = re.compile(r"^Suppression avec (?P<nom>.+?) n° (?P<pk>\d+) «")
# What the marker of a deletion named, and where that object's history is.
NOUNS = {
    "le pilier": ("diagnostics", "HistoricalPilier"),
    "le thème": ("diagnostics", "HistoricalTheme"),
    "le sous-thème": ("diagnostics", "HistoricalSousTheme"),
    "la difficulté": ("diagnostics", "HistoricalDifficulte"),
    "l'indicateur": ("indicateurs", "HistoricalIndicateur"),
}


def _within_length(text):
    """`reason_text` in SQL: a sentence cut to the column's length, with an ellipsis."""
    return Case(
        When(
            **{"_length__gt": REASON_MAX_LENGTH},
            then=Concat(Left(text, REASON_MAX_LENGTH - 1), Value("…")),
        ),
        default=text,
        output_field=CharField(),
    )


def link_imports(apps, models):
    """Forward: "import:N" and "annulation:import:N" become columns and sentences."""
    Import = apps.get_model("diagnostics", "Import")
    for model in models:
        for prefix, column, words in (
            (IMPORT_PREFIX, "import_source_id", "Import"),
            (UNDO_PREFIX, "annulation_de_id", "Annulation de l'import"),
        ):
            rows = model.objects.filter(history_change_reason__regex=rf"^{prefix}[0-9]+$")
            rows.update(
                **{
                    column: Cast(
                        Substr("history_change_reason", len(prefix) + 1), BigIntegerField()
                    )
                }
            )
            sentence = Concat(
                Value(f"{words} du fichier « "),
                F("nom_fichier"),
                Value(" »"),
                output_field=CharField(),
            )
            named = (
                Import.objects.filter(pk=OuterRef(column))
                .annotate(_sentence=sentence)
                .annotate(_length=Length("_sentence"))
                .annotate(_reason=_within_length(F("_sentence")))
                .values("_reason")[:1]
            )
            model.objects.filter(
                **{f"{column}__isnull": False},
                history_change_reason__startswith=prefix,
            ).update(
                history_change_reason=Coalesce(
                    Subquery(named, output_field=CharField()),
                    Value(f"{words} d'un tableau"),
                )
            )


def unlink_imports(apps, models):
    """Backward: the reasons "import:N" and "annulation:import:N" again."""
    for model in models:
        for prefix, column in (
            (IMPORT_PREFIX, "import_source_id"),
            (UNDO_PREFIX, "annulation_de_id"),
        ):
            model.objects.filter(**{f"{column}__isnull": False}).update(
                history_change_reason=Concat(
                    Value(prefix), Cast(column, CharField()), output_field=CharField()
                )
            )


def link_deletions(apps, models):
    """Forward: the rows deleted together with an object ("Suppression avec le thème n° 7
    « … »") and the object's own deletion row point to one new Suppression. A child goes
    with the deletion row of its object that came first at or after its own."""
    Suppression = apps.get_model("diagnostics", "Suppression")
    diagnostics = set(
        apps.get_model("diagnostics", "Diagnostic").objects.values_list("pk", flat=True)
    )
    for model in models:
        reasons = (
            model.objects.filter(
                history_type="-", history_change_reason__startswith="Suppression avec "
            )
            .values_list("history_change_reason", flat=True)
            .distinct()
        )
        for reason in list(reasons):
            match = MARKER.match(reason)
            if match is None or match["nom"] not in NOUNS:
                continue
            try:
                root_model = apps.get_model(*NOUNS[match["nom"]])
            except LookupError:
                continue
            roots = list(
                root_model.objects.filter(id=int(match["pk"]), history_type="-")
                .exclude(history_change_reason__startswith="Suppression avec ")
                .order_by("history_date", "history_id")
            )
            if not roots:
                continue
            children = model.objects.filter(history_type="-", history_change_reason=reason)
            for child_id, date in list(children.values_list("history_id", "history_date")):
                root = next((r for r in roots if r.history_date >= date), roots[-1])
                if root.diagnostic_id not in diagnostics:  # history of a deleted diagnostic
                    continue
                if root.suppression_id is None:
                    root.suppression_id = Suppression.objects.create(
                        diagnostic_id=root.diagnostic_id,
                        date=root.history_date,
                        par_id=root.history_user_id,
                    ).pk
                    root_model.objects.filter(history_id=root.history_id).update(
                        suppression_id=root.suppression_id
                    )
                model.objects.filter(history_id=child_id).update(suppression_id=root.suppression_id)


def unlink_deletions(apps, models):
    """Backward: the reasons still say what was deleted with what; the links go."""
    for model in models:
        model.objects.exclude(suppression_id=None).update(suppression_id=None)
