"""PostgreSQL: the search vector of each libellé stored in its row, indexed (nothing on SQLite).

Migration 0003 indexed the expression `to_tsvector('french_unaccent', COALESCE(libelle,
''))`: the index finds the hits, but ranking them (`ts_rank`) computed the vector again for
every hit, about 10 µs each: with thousands of hits at national scale (a common word in
435 diagnostics), most of a search's time. Here the vector becomes a generated column,
`recherche`, computed by PostgreSQL when a row is written (COPY and bulk inserts
included, since no one writes it), and the GIN index moves onto it under the same name.
The search (diagnostics/search.py) filters and ranks on this column.

The column exists in the database only: the models stay identical on both databases (a
Django field would need SQLite to compute a text search vector). Adding it rewrites each
table once (a lock for the duration of the migration: a few seconds at national scale).
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIG = "french_unaccent"
COLUMN = "recherche"
SEARCHED = [
    ("diagnostics", "pilier", "diag_pilier_recherche_idx"),
    ("diagnostics", "theme", "diag_theme_recherche_idx"),
    ("diagnostics", "soustheme", "diag_soustheme_recherche_idx"),
    ("diagnostics", "difficulte", "diag_difficulte_recherche_idx"),
    ("indicateurs", "indicateur", "ind_indicateur_recherche_idx"),
]


def store_vectors(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for app_label, model_name, index_name in SEARCHED:
        table = quote(apps.get_model(app_label, model_name)._meta.db_table)
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(index_name)}")
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN {quote(COLUMN)} tsvector GENERATED ALWAYS AS "
            f"(to_tsvector('{CONFIG}'::regconfig, COALESCE(libelle, '')::text)) STORED"
        )
        schema_editor.execute(
            f"CREATE INDEX {quote(index_name)} ON {table} USING gin ({quote(COLUMN)})"
        )


def compute_vectors(apps, schema_editor):
    """Back to 0003: the expression indexes, no column."""
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for app_label, model_name, index_name in SEARCHED:
        model = apps.get_model(app_label, model_name)
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(index_name)}")
        schema_editor.execute(
            f"ALTER TABLE {quote(model._meta.db_table)} DROP COLUMN IF EXISTS {quote(COLUMN)}"
        )
        schema_editor.add_index(
            model, GinIndex(SearchVector("libelle", config=CONFIG), name=index_name)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0006_import_en_attente"),
        ("indicateurs", "0003_mesure_donnee_fictive"),
    ]

    operations = [migrations.RunPython(store_vectors, compute_vectors)]
