"""Every indicator carries its diagnostic, as the difficultés do (diagnostics 0008)."""

from django.db import migrations

from diagnostics.migrations._diagnostic_des_elements import (
    composite_foreign_keys,
    diagnostic_field,
    fill_items,
    historical_diagnostic_field,
    settle_constraints,
)

PARENTS = [
    ("indicateurs_indicateur_meme_diagnostic_que_son_theme", "theme_id", "diagnostics_theme"),
    (
        "indicateurs_indicateur_meme_diagnostic_que_son_sous_theme",
        "sous_theme_id",
        "diagnostics_soustheme",
    ),
]


def fill(apps, schema_editor):
    def model(name):
        return apps.get_model("diagnostics", name)

    fill_items(
        apps.get_model("indicateurs", "Indicateur"),
        apps.get_model("indicateurs", "HistoricalIndicateur"),
        model("Theme"),
        model("HistoricalTheme"),
        model("SousTheme"),
        model("HistoricalSousTheme"),
    )
    settle_constraints(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0008_diagnostic_des_elements"),
        ("indicateurs", "0003_mesure_donnee_fictive"),
    ]

    operations = [
        migrations.AddField(
            model_name="indicateur", name="diagnostic", field=diagnostic_field(True)
        ),
        migrations.AddField(
            model_name="historicalindicateur",
            name="diagnostic",
            field=historical_diagnostic_field(),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="indicateur", name="diagnostic", field=diagnostic_field(False)
        ),
        migrations.RunPython(*composite_foreign_keys("indicateurs_indicateur", PARENTS)),
    ]
