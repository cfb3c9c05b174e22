from django.urls import path, re_path

from . import views

app_name = "diagnostics"

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
]
