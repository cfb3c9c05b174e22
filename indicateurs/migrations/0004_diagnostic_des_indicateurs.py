"""Every indicator carries its diagnostic, as the difficultés do (diagnostics 0008)."""

import django.db.models.deletion
from django.db import migrations, models

from diagnostics.migrations._diagnostic_des_elements import composite_foreign_keys, fill_items

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


def diagnostic_field(null):
    return models.ForeignKey(
        editable=False,
        null=null,
        on_delete=django.db.models.deletion.CASCADE,
        related_name="%(class)ss",
        to="diagnostics.diagnostic",
        verbose_name="diagnostic",
    )


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
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="diagnostics.diagnostic",
                verbose_name="diagnostic",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="indicateur", name="diagnostic", field=diagnostic_field(False)
        ),
        migrations.RunPython(*composite_foreign_keys("indicateurs_indicateur", PARENTS)),
    ]
