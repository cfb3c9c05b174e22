"""History links become columns for the indicators and their measures, as for the rest of
the diagnostic (diagnostics 0009)."""

import django.db.models.deletion
from django.db import migrations, models

from diagnostics.migrations._liens_historique import (
    link_deletions,
    link_imports,
    unlink_deletions,
    unlink_imports,
)

HISTORICAL = ["historicalindicateur", "historicalmesure"]


def link_field(to, verbose_name):
    return models.ForeignKey(
        blank=True,
        db_constraint=False,
        null=True,
        on_delete=django.db.models.deletion.DO_NOTHING,
        related_name="+",
        to=to,
        verbose_name=verbose_name,
    )


def historical(apps):
    return [apps.get_model("indicateurs", name) for name in HISTORICAL]


def forward(apps, schema_editor):
    link_imports(apps, historical(apps))
    link_deletions(apps, historical(apps))


def backward(apps, schema_editor):
    unlink_deletions(apps, historical(apps))
    unlink_imports(apps, historical(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0009_liens_historique"),
        ("indicateurs", "0004_diagnostic_des_indicateurs"),
    ]

    operations = [
        *(
            migrations.AddField(model_name=name, name=field, field=link_field(to, label))
            for name in HISTORICAL
            for field, to, label in (
                ("import_source", "diagnostics.import", "écrite par l'import"),
                ("annulation_de", "diagnostics.import", "écrite par l'annulation de l'import"),
                ("suppression", "diagnostics.suppression", "supprimée avec"),
            )
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
