"""The annual reports' pages, under their contract: /contrats/<slug>/rapports/…"""

from django.urls import path, register_converter

from .views import consultation, documents, rapport


class Annee:
    regex = r"\d{4}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):04d}"


class Version:
    regex = r"\d{1,3}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(int(value))


register_converter(Annee, "annee")
register_converter(Version, "version")

app_name = "rapports"
RAPPORT = "contrats/<slug:slug>/rapports/<annee:annee>/v<version:version>/"

urlpatterns = [
    path("contrats/<slug:slug>/rapports/", rapport.ListeView.as_view(), name="liste"),
    path(
        "contrats/<slug:slug>/rapports/<annee:annee>/",
        rapport.DerniereVersionView.as_view(),
        name="annee",
    ),
    path(RAPPORT, rapport.RapportView.as_view(), name="rapport"),
    path(RAPPORT + "etat/", rapport.EtatView.as_view(), name="etat"),
    path(RAPPORT + "sections/<int:pk>/", rapport.SectionView.as_view(), name="section"),
    path(RAPPORT + "contributions/", rapport.ContributionView.as_view(), name="contributions"),
    path(RAPPORT + "consultation/", consultation.ConsultationView.as_view(), name="consultation"),
    path(
        RAPPORT + "consultation/<int:pk>/",
        consultation.InstanceView.as_view(),
        name="instance",
    ),
    path(
        RAPPORT + "consultation/<int:pk>/fichier/",
        consultation.FichierView.as_view(),
        name="fichier",
    ),
    path(RAPPORT + "rapport.<str:format>", documents.DocumentView.as_view(), name="document"),
]
