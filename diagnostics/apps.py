from django.apps import AppConfig


class DiagnosticsConfig(AppConfig):
    name = "diagnostics"
    verbose_name = "Diagnostics"

    def ready(self):
        from simple_history.signals import pre_create_historical_record

        from . import kinds
        from .models import copy_history_links

        pre_create_historical_record.connect(
            copy_history_links, dispatch_uid="diagnostics_copy_history_links"
        )
        from .history.actions import stamp_action

        pre_create_historical_record.connect(
            stamp_action, dispatch_uid="diagnostics_history_action"
        )
        from . import backup
        from .imports import natures, resources
        from .imports.source_table import import_source_table, summary
        from .models import Contrat, Difficulte, Import, Pilier, SousTheme, Theme

        # An edition's backup carries its contract, created on restore when missing.
        backup.register_referentiel(
            "contrats",
            Contrat,
            ("slug", "nom", "territoire", "signataires", "annee_debut", "annee_fin"),
        )

        kinds.register(
            kinds.Kind(
                key="pilier",
                model=Pilier,
                nom=kinds.Nom(
                    "pilier", "piliers", "le pilier", "du pilier", "ce pilier", "un pilier", False
                ),
                category=kinds.LEVEL,
                slug="pilier",
                resource=resources.PilierResource,
                parent="diagnostic",
            )
        )
        kinds.register(
            kinds.Kind(
                key="theme",
                model=Theme,
                nom=kinds.Nom(
                    "thème", "thèmes", "le thème", "du thème", "ce thème", "un thème", False
                ),
                category=kinds.LEVEL,
                slug="theme",
                resource=resources.ThemeResource,
                parent="pilier",
            )
        )
        kinds.register(
            kinds.Kind(
                key="sous_theme",
                model=SousTheme,
                nom=kinds.Nom(
                    "sous-thème",
                    "sous-thèmes",
                    "le sous-thème",
                    "du sous-thème",
                    "ce sous-thème",
                    "un sous-thème",
                    False,
                ),
                category=kinds.LEVEL,
                slug="sous-theme",
                resource=resources.SousThemeResource,
                parent="theme",
            )
        )
        kinds.register(
            kinds.Kind(
                key="difficulte",
                model=Difficulte,
                nom=kinds.Nom(
                    "difficulté",
                    "difficultés",
                    "la difficulté",
                    "de la difficulté",
                    "cette difficulté",
                    "une difficulté",
                    True,
                ),
                category=kinds.ITEM,
                slug="difficulte",
                titre="Difficultés prégnantes",
                resource=resources.DifficulteResource,
                nature="difficultes",
            )
        )
        natures.register(
            natures.Nature(
                key=Import.Nature.DIAGNOSTIC,
                importer=import_source_table,
                max_file_size_setting="IMPORT_MAX_FILE_SIZE",
                pour="un tableau de diagnostic",
                aide=(
                    "un tableau de diagnostic complète un diagnostic existant ou en crée un nouveau"
                ),
                summary=summary,
                creates_diagnostic=True,
            )
        )
