"""Every thème, sous-thème and difficulté carries its diagnostic (`InDiagnostic`), filled
from its parent, in the history tables too; on PostgreSQL, composite foreign keys hold it
equal to the parent's. The indicators get theirs in indicateurs 0004."""

from django.db import migrations, models

from ._diagnostic_des_elements import (
    composite_foreign_keys,
    diagnostic_field,
    fill_items,
    fill_level,
    historical_diagnostic_field,
    settle_constraints,
)

PARENTS = {
    "diagnostics_theme": [
        ("diagnostics_theme_meme_diagnostic_que_son_pilier", "pilier_id", "diagnostics_pilier"),
    ],
    "diagnostics_soustheme": [
        ("diagnostics_soustheme_meme_diagnostic_que_son_theme", "theme_id", "diagnostics_theme"),
    ],
    "diagnostics_difficulte": [
        ("diagnostics_difficulte_meme_diagnostic_que_son_theme", "theme_id", "diagnostics_theme"),
        (
            "diagnostics_difficulte_meme_diagnostic_que_son_sous_theme",
            "sous_theme_id",
            "diagnostics_soustheme",
        ),
    ],
}


def fill(apps, schema_editor):
    def model(name):
        return apps.get_model("diagnostics", name)

    fill_level(
        model("Theme"),
        model("HistoricalTheme"),
        model("Pilier"),
        model("HistoricalPilier"),
        "pilier",
    )
    fill_level(
        model("SousTheme"),
        model("HistoricalSousTheme"),
        model("Theme"),
        model("HistoricalTheme"),
        "theme",
    )
    fill_items(
        model("Difficulte"),
        model("HistoricalDifficulte"),
        model("Theme"),
        model("HistoricalTheme"),
        model("SousTheme"),
        model("HistoricalSousTheme"),
    )
    settle_constraints(schema_editor)


def unique_id_and_diagnostic(model_name):
    return migrations.AddConstraint(
        model_name=model_name,
        constraint=models.UniqueConstraint(
            fields=("id", "diagnostic"),
            name=f"diagnostics_{model_name}_unique_id_diagnostic",
            violation_error_message="Cette paire (numéro, diagnostic) existe déjà.",
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0007_recherche_vecteur_stocke"),
    ]

    operations = [
        *(
            migrations.AddField(model_name=name, name="diagnostic", field=diagnostic_field(True))
            for name in ("theme", "soustheme", "difficulte")
        ),
        *(
            migrations.AddField(
                model_name=name, name="diagnostic", field=historical_diagnostic_field()
            )
            for name in ("historicaltheme", "historicalsoustheme", "historicaldifficulte")
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        *(
            migrations.AlterField(model_name=name, name="diagnostic", field=diagnostic_field(False))
            for name in ("theme", "soustheme", "difficulte")
        ),
        *(unique_id_and_diagnostic(name) for name in ("pilier", "theme", "soustheme")),
        *(
            migrations.RunPython(*composite_foreign_keys(table, parents))
            for table, parents in PARENTS.items()
        ),
    ]
