"""French full-text search on PostgreSQL (see diagnostics/search.py); nothing on SQLite.

- the `unaccent` extension (needs a superuser, as the local and CI databases are used);
- the text search configuration `french_unaccent`: PostgreSQL's `french`, with `unaccent`
  before the French stemmer for the words holding accented letters;
- a GIN index per searched table on `to_tsvector('french_unaccent', COALESCE(libelle, ''))`.

Why expression indexes rather than a stored search column: the search queries compute
that very expression (`SearchVector("libelle", config="french_unaccent")`), so the
planner uses the index with no extra column to keep up to date (no trigger, no
GeneratedField, which SQLite could not compute with a text search configuration), and
the models stay identical on both databases. The indexes are built here from the same
Django expression as the queries, so the two cannot drift apart.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIG = "french_unaccent"
SEARCHED = [
    ("diagnostics", "pilier", "diag_pilier_recherche_idx"),
    ("diagnostics", "theme", "diag_theme_recherche_idx"),
    ("diagnostics", "soustheme", "diag_soustheme_recherche_idx"),
    ("diagnostics", "difficulte", "diag_difficulte_recherche_idx"),
    ("indicateurs", "indicateur", "ind_indicateur_recherche_idx"),
]


def search_index(name):
    return GinIndex(SearchVector("libelle", config=CONFIG), name=name)


def create_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    schema_editor.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{CONFIG}') THEN
                CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = french);
                ALTER TEXT SEARCH CONFIGURATION {CONFIG}
                    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
            END IF;
        END
        $$
        """
    )
    for app_label, model_name, index_name in SEARCHED:
        schema_editor.add_index(apps.get_model(app_label, model_name), search_index(index_name))


def drop_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name, index_name in SEARCHED:
        schema_editor.remove_index(apps.get_model(app_label, model_name), search_index(index_name))
    schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}")


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0002_roles"),
        ("indicateurs", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_search, drop_search)]
