from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("indicateurs", "0002_metadonnees_mesures_historique"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalmesure",
            name="fictive",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="Valeur inventée pour la démonstration, jamais chargée en production.",
                verbose_name="donnée fictive de démonstration",
            ),
        ),
        migrations.AddField(
            model_name="mesure",
            name="fictive",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="Valeur inventée pour la démonstration, jamais chargée en production.",
                verbose_name="donnée fictive de démonstration",
            ),
        ),
    ]
