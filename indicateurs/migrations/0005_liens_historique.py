"""History links become columns for the indicators and their measures, as for the rest of
the diagnostic (diagnostics 0009)."""

from django.db import migrations

from diagnostics.migrations._diagnostic_des_elements import settle_constraints
from diagnostics.migrations._liens_historique import (
    link_deletions,
    link_fields,
    link_imports,
    unlink_deletions,
    unlink_imports,
)

HISTORICAL = ["historicalindicateur", "historicalmesure"]


def historical(apps):
    return [apps.get_model("indicateurs", name) for name in HISTORICAL]


def forward(apps, schema_editor):
    link_imports(apps, historical(apps))
    link_deletions(apps, historical(apps))
    settle_constraints(schema_editor)


def backward(apps, schema_editor):
    unlink_deletions(apps, historical(apps))
    unlink_imports(apps, historical(apps))
    settle_constraints(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0009_liens_historique"),
        ("indicateurs", "0004_diagnostic_des_indicateurs"),
    ]

    operations = [
        *(
            operation
            for name in HISTORICAL
            for operation in link_fields(name, f"indicateurs_{name}")
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
