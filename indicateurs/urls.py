from django.urls import path, re_path

from . import views

app_name = "indicateurs"

urlpatterns = [
    path("", views.IndicateurListView.as_view(), name="liste"),
    re_path(r"^export\.(?P<format>xlsx|csv)$", views.IndicateurExportView.as_view(), name="export"),
]
