from django.urls import path, re_path, register_converter

from . import views, views_edition, views_imports

app_name = "diagnostics"

register_converter(views_edition.NatureConverter, "nature")
register_converter(views_edition.ModeleConverter, "modele")

urlpatterns = [
    # Consultation pages (pages of the diagnostic) -----------------------------------
    path("diagnostics/<slug:slug>/", views.DiagnosticView.as_view(), name="diagnostic"),
    path(
        "diagnostics/<slug:slug>/piliers/<int:numero>/",
        views.PilierView.as_view(),
        name="pilier",
    ),
    path(
        "diagnostics/<slug:slug>/sous-themes/<int:pk>/",
        views.SousThemeView.as_view(),
        name="sous_theme",
    ),
    path(
        "diagnostics/<slug:slug>/sources/<int:pk>/",
        views.SourceView.as_view(),
        name="source",
    ),
    # Lists, exports and search -------------------------------------------------------
    path("difficultes/", views.DifficulteListView.as_view(), name="difficultes"),
    re_path(
        r"^difficultes/export\.(?P<format>xlsx|csv)$",
        views.DifficulteExportView.as_view(),
        name="difficultes_export",
    ),
    path("recherche/", views.RechercheView.as_view(), name="recherche"),
    # Imports and exports of the administrators (views_imports) ---------------------
    path("imports/", views_imports.ImportListView.as_view(), name="imports"),
    path("imports/nouveau/", views_imports.ImportNouveauView.as_view(), name="import_nouveau"),
    path(
        "imports/apercu/<str:token>/",
        views_imports.ImportApercuView.as_view(),
        name="import_apercu",
    ),
    path("imports/<int:pk>/", views_imports.ImportDetailView.as_view(), name="import_detail"),
    path(
        "imports/<int:pk>/annuler/",
        views_imports.ImportAnnulerView.as_view(),
        name="import_annuler",
    ),
    re_path(
        r"^diagnostics/(?P<slug>[-a-zA-Z0-9_]+)/tableau-source\.(?P<format>xlsx|csv|tsv)$",
        views_imports.ExportSourceView.as_view(),
        name="export_source",
    ),
    # Editing and history (views_edition): Équipe ville and Administrateur only --------
    path(
        "diagnostics/<slug:slug>/modifications/",
        views_edition.ModificationsView.as_view(),
        name="modifications",
    ),
    path(
        "diagnostics/<slug:slug>/historique/<modele:modele>/<int:history_id>/restaurer/",
        views_edition.RestoreView.as_view(),
        name="restaurer",
    ),
    path(
        "diagnostics/<slug:slug>/piliers/<int:numero>/modifier/",
        views_edition.PilierUpdateView.as_view(),
        name="pilier_modifier",
    ),
    path(
        "diagnostics/<slug:slug>/piliers/<int:numero>/historique/",
        views_edition.PilierHistoryView.as_view(),
        name="pilier_historique",
    ),
    path(
        "diagnostics/<slug:slug>/piliers/<int:numero>/themes/ajouter/",
        views_edition.ThemeCreateView.as_view(),
        name="theme_ajouter",
    ),
    path(
        "diagnostics/<slug:slug>/themes/<int:pk>/modifier/",
        views_edition.ThemeUpdateView.as_view(),
        name="theme_modifier",
    ),
    path(
        "diagnostics/<slug:slug>/themes/<int:pk>/supprimer/",
        views_edition.ThemeDeleteView.as_view(),
        name="theme_supprimer",
    ),
    path(
        "diagnostics/<slug:slug>/themes/<int:pk>/ordre/",
        views_edition.ThemeOrderView.as_view(),
        name="theme_ordre",
    ),
    path(
        "diagnostics/<slug:slug>/themes/<int:pk>/historique/",
        views_edition.ThemeHistoryView.as_view(),
        name="theme_historique",
    ),
    path(
        "diagnostics/<slug:slug>/themes/<int:pk>/sous-themes/ajouter/",
        views_edition.SousThemeCreateView.as_view(),
        name="sous_theme_ajouter",
    ),
    path(
        "diagnostics/<slug:slug>/sous-themes/<int:pk>/modifier/",
        views_edition.SousThemeUpdateView.as_view(),
        name="sous_theme_modifier",
    ),
    path(
        "diagnostics/<slug:slug>/sous-themes/<int:pk>/deplacer/",
        views_edition.SousThemeMoveView.as_view(),
        name="sous_theme_deplacer",
    ),
    path(
        "diagnostics/<slug:slug>/sous-themes/<int:pk>/supprimer/",
        views_edition.SousThemeDeleteView.as_view(),
        name="sous_theme_supprimer",
    ),
    path(
        "diagnostics/<slug:slug>/sous-themes/<int:pk>/ordre/",
        views_edition.SousThemeOrderView.as_view(),
        name="sous_theme_ordre",
    ),
    path(
        "diagnostics/<slug:slug>/sous-themes/<int:pk>/historique/",
        views_edition.SousThemeHistoryView.as_view(),
        name="sous_theme_historique",
    ),
    # Items: <nature> is "difficultes" or "indicateurs"; added under a thème's own level
    # ("themes") or a sous-thème ("sous-themes").
    re_path(
        r"^diagnostics/(?P<slug>[-a-zA-Z0-9_]+)/(?P<niveau>themes|sous-themes)/(?P<pk>[0-9]+)/"
        r"(?P<nature>difficultes|indicateurs)/ajouter/$",
        views_edition.ElementCreateView.as_view(),
        name="element_ajouter",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/modifier/",
        views_edition.ElementUpdateView.as_view(),
        name="element_modifier",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/deplacer/",
        views_edition.ElementMoveView.as_view(),
        name="element_deplacer",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/scinder/",
        views_edition.ElementSplitView.as_view(),
        name="element_scinder",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/fusionner/",
        views_edition.ElementMergeView.as_view(),
        name="element_fusionner",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/supprimer/",
        views_edition.ElementDeleteView.as_view(),
        name="element_supprimer",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/ordre/",
        views_edition.ElementOrderView.as_view(),
        name="element_ordre",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/historique/",
        views_edition.ElementHistoryView.as_view(),
        name="element_historique",
    ),
]
