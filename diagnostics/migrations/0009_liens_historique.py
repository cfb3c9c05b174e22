"""History links become columns: the import that wrote a row, the import whose undo wrote
it, the deletion it belongs to (a new `Suppression`), filled from today's reasons, which
become sentences (see `_liens_historique`). Indicators and measures: indicateurs 0005."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from ._diagnostic_des_elements import settle_constraints
from ._liens_historique import (
    link_deletions,
    link_fields,
    link_imports,
    unlink_deletions,
    unlink_imports,
)

HISTORICAL = [
    "historicaldiagnostic",
    "historicalpilier",
    "historicaltheme",
    "historicalsoustheme",
    "historicaldifficulte",
]


def historical(apps):
    return [apps.get_model("diagnostics", name) for name in HISTORICAL]


def forward(apps, schema_editor):
    link_imports(apps, historical(apps))
    link_deletions(
        apps,
        [apps.get_model("diagnostics", n) for n in ("HistoricalSousTheme", "HistoricalDifficulte")],
    )
    settle_constraints(schema_editor)


def backward(apps, schema_editor):
    unlink_deletions(apps, historical(apps))
    unlink_imports(apps, historical(apps))
    settle_constraints(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0008_diagnostic_des_elements"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Suppression",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "date",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="date"),
                ),
                (
                    "diagnostic",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="diagnostics.diagnostic",
                        verbose_name="diagnostic",
                    ),
                ),
                (
                    "par",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="par",
                    ),
                ),
            ],
            options={
                "verbose_name": "suppression",
                "verbose_name_plural": "suppressions",
                "ordering": ["-date", "-id"],
            },
        ),
        *(
            operation
            for name in HISTORICAL
            for operation in link_fields(name, f"diagnostics_{name}")
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
