from django.apps import AppConfig
from django.db.models import Q
from django.urls import reverse


class IndicateursConfig(AppConfig):
    name = "indicateurs"
    verbose_name = "Indicateurs"

    def ready(self):
        from diagnostics import backup, kinds
        from diagnostics.history import recent
        from diagnostics.imports import natures
        from diagnostics.models import Import

        from .imports import import_measures
        from .imports.measures import summary
        from .imports.source_table import IndicateurResource
        from .models import (
            INFORMATIONS,
            Indicateur,
            Mesure,
            TerritoireComparaison,
            mesure_detail_sql,
        )
        from .secret import hidden_for
        from .tableau import attach_latest_mesures

        backup.register_referentiel(
            "territoires_comparaison", TerritoireComparaison, ("code", "nom", "echelon")
        )
        kinds.register(
            kinds.Kind(
                key="indicateur",
                model=Indicateur,
                nom=kinds.Nom(
                    "indicateur",
                    "indicateurs",
                    "l'indicateur",
                    "de l'indicateur",
                    "cet indicateur",
                    "un indicateur",
                    False,
                ),
                category=kinds.ITEM,
                slug="indicateur",
                resource=IndicateurResource,
                nature="indicateurs",
                detail_url_name="indicateurs:detail",
                details_template="indicateurs/_valeurs_element.html",
                load=attach_latest_mesures,
                compared_fields=INFORMATIONS,
            )
        )
        kinds.register(
            kinds.Kind(
                key="mesure",
                model=Mesure,
                nom=kinds.Nom(
                    "valeur d'indicateur",
                    "valeurs d'indicateurs",
                    "la valeur",
                    "de la valeur",
                    "cette valeur",
                    "une valeur",
                    True,
                ),
                category=kinds.VALUE,
                slug="mesure",
                parent="indicateur",
                detail=mesure_detail_sql,
                copied_with_edition=Q(nature__in=Mesure.NATURES_DE_L_EDITION),
                hidden=hidden_for,
                compared_key=(
                    "nature",
                    "quartier",
                    "territoire",
                    "annee",
                    "type_periode",
                    "numero_periode",
                ),
                compared_fields=("valeur", "numerateur", "denominateur"),
                merge_refused=(
                    "Un des indicateurs cochés a des valeurs saisies : elles seraient perdues. "
                    "Supprimez-les ou reportez-les d'abord sur cet indicateur."
                ),
            )
        )
        # The values entered or imported appear on a diagnostic's "Dernières modifications",
        # each linked to its indicator's history.
        recent.register_values(
            recent.ValueSource(
                kind_key="mesure",
                history_url=lambda diagnostic, pk: reverse(
                    "indicateurs:historique", args=[diagnostic.slug, pk]
                ),
            )
        )
        natures.register(
            natures.Nature(
                key=Import.Nature.MESURES,
                importer=import_measures,
                max_file_size_setting="IMPORT_MESURES_MAX_FILE_SIZE",
                pour="des valeurs d'indicateurs",
                summary=summary,
                aide="des valeurs d'indicateurs vont dans un diagnostic existant",
                diagnostic_required=(
                    "Choisissez le diagnostic dont ces valeurs mesurent les indicateurs."
                ),
            )
        )
