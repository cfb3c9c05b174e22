from django.urls import path, re_path

from . import views

app_name = "indicateurs"

urlpatterns = [
    path("", views.IndicateurListView.as_view(), name="liste"),
    re_path(r"^export\.(?P<format>xlsx|csv)$", views.IndicateurExportView.as_view(), name="export"),
    # Pages of the indicators of one diagnostic --------------------------------------
    path(
        "<slug:slug>/tableau-de-bord/",
        views.TableauDeBordView.as_view(),
        name="tableau_de_bord",
    ),
    re_path(
        r"^(?P<slug>[-a-zA-Z0-9_]+)/tableau-de-bord/export\.(?P<format>xlsx|csv)$",
        views.TableauDeBordExportView.as_view(),
        name="tableau_de_bord_export",
    ),
    path("<slug:slug>/<int:pk>/", views.IndicateurView.as_view(), name="detail"),
    path("<slug:slug>/<int:pk>/modifier/", views.IndicateurModifierView.as_view(), name="modifier"),
    path("<slug:slug>/<int:pk>/saisie/", views.SaisieView.as_view(), name="saisie"),
    path("<slug:slug>/<int:pk>/references/", views.ReperesView.as_view(), name="reperes"),
    path("<slug:slug>/<int:pk>/historique/", views.HistoriqueView.as_view(), name="historique"),
    path(
        "<slug:slug>/mesures/<int:pk>/modifier/",
        views.MesureModifierView.as_view(),
        name="mesure_modifier",
    ),
    path(
        "<slug:slug>/mesures/<int:pk>/supprimer/",
        views.MesureSupprimerView.as_view(),
        name="mesure_supprimer",
    ),
]
