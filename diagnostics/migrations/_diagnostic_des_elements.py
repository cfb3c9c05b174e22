"""Helpers of the migrations that give levels and items their diagnostic column
(diagnostics 0008, indicateurs 0004). Not a migration: the loader skips modules whose
name starts with "_".

The column is filled from the parent: in the live tables, from the live parent; in the
history tables, from the live parent when it still exists, else from any history row of
the parent (a parent never changes diagnostic), so that the history of what was deleted
since is found by its diagnostic too.
"""

import django.db.models.deletion
from django.db import models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce


def diagnostic_field(null):
    """`InDiagnostic.diagnostic`; null while the migration fills it."""
    return models.ForeignKey(
        editable=False,
        null=null,
        on_delete=django.db.models.deletion.CASCADE,
        related_name="%(class)ss",
        to="diagnostics.diagnostic",
        verbose_name="diagnostic",
    )


def historical_diagnostic_field():
    """The same column in a history table (as simple_history copies a foreign key)."""
    return models.ForeignKey(
        blank=True,
        db_constraint=False,
        editable=False,
        null=True,
        on_delete=django.db.models.deletion.DO_NOTHING,
        related_name="+",
        to="diagnostics.diagnostic",
        verbose_name="diagnostic",
    )


def _diagnostic_of(model, pk_field, outer):
    rows = model.objects.filter(**{pk_field: OuterRef(outer)}).exclude(diagnostic_id=None)
    return Subquery(rows.order_by().values("diagnostic_id")[:1])


def settle_constraints(schema_editor):
    """Check now the foreign keys that the data changes of a migration left to check at
    commit: PostgreSQL refuses to change a table's schema (its indexes) while such checks
    are pending on it ("pending trigger events")."""
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def fill_level(model, historical, parent, parent_historical, parent_field):
    """A thème from its pilier, a sous-thème from its thème."""
    outer = f"{parent_field}_id"
    model.objects.filter(diagnostic_id=None).update(
        diagnostic_id=_diagnostic_of(parent, "pk", outer)
    )
    historical.objects.filter(diagnostic_id=None).update(
        diagnostic_id=Coalesce(
            _diagnostic_of(parent, "pk", outer), _diagnostic_of(parent_historical, "id", outer)
        )
    )


def fill_items(model, historical, theme, theme_historical, sous_theme, sous_theme_historical):
    """An item from its sous-thème, or from its thème at the thème's own level."""
    model.objects.filter(diagnostic_id=None).update(
        diagnostic_id=Coalesce(
            _diagnostic_of(sous_theme, "pk", "sous_theme_id"),
            _diagnostic_of(theme, "pk", "theme_id"),
        )
    )
    historical.objects.filter(diagnostic_id=None).update(
        diagnostic_id=Coalesce(
            _diagnostic_of(sous_theme, "pk", "sous_theme_id"),
            _diagnostic_of(sous_theme_historical, "id", "sous_theme_id"),
            _diagnostic_of(theme, "pk", "theme_id"),
            _diagnostic_of(theme_historical, "id", "theme_id"),
        )
    )


def composite_foreign_keys(table, parents):
    """(forward, backward) RunPython functions adding to `table`, on PostgreSQL only, a
    foreign key (parent column, diagnostic_id) -> parent table (id, diagnostic_id) for
    each (constraint name, parent column, parent table) of `parents`. Checked at commit,
    as Django's own foreign keys: a deletion may remove a parent before its children."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        for name, column, parent_table in parents:
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} "
                f"FOREIGN KEY ({quote(column)}, {quote('diagnostic_id')}) "
                f"REFERENCES {quote(parent_table)} ({quote('id')}, {quote('diagnostic_id')}) "
                "DEFERRABLE INITIALLY DEFERRED"
            )

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        for name, _, _ in parents:
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(name)}"
            )

    return forward, backward
