from django.urls import path, re_path, register_converter

from .converters import ModeleConverter, NatureConverter, NiveauConverter
from .views import comparaison, consultation, edition, editions, lists, membres
from .views import history as history_views
from .views import imports as import_views
from .views import quartiers as quartiers_views
from .views import referentiel as referentiel_views

app_name = "diagnostics"

register_converter(NatureConverter, "nature")
register_converter(ModeleConverter, "modele")
register_converter(NiveauConverter, "niveau")

urlpatterns = [
    # Consultation pages (pages of the diagnostic) -----------------------------------
    path("diagnostics/<slug:slug>/", consultation.DiagnosticView.as_view(), name="diagnostic"),
    path(
        "diagnostics/<slug:slug>/piliers/<int:numero>/",
        consultation.PilierView.as_view(),
        name="pilier",
    ),
    path(
        "diagnostics/<slug:slug>/sous-themes/<int:pk>/",
        consultation.SousThemeView.as_view(),
        name="sous_theme",
    ),
    path(
        "diagnostics/<slug:slug>/sources/<int:pk>/",
        consultation.SourceView.as_view(),
        name="source",
    ),
    # Contracts and their editions (views.editions, views.comparaison) ----------------
    path("contrats/<slug:slug>/", editions.ContratView.as_view(), name="contrat"),
    path(
        "contrats/<slug:slug>/nouvelle-edition/",
        editions.NouvelleEditionView.as_view(),
        name="nouvelle_edition",
    ),
    path(
        "contrats/<slug:slug>/comparer/",
        comparaison.ComparaisonView.as_view(),
        name="comparaison",
    ),
    path(
        "contrats/<slug:slug>/comparer.xlsx",
        comparaison.ComparaisonExportView.as_view(),
        name="comparaison_export",
    ),
    # The quartiers of a contract, chosen from the référentiel (views.quartiers): its
    # Administrateurs only
    path(
        "contrats/<slug:slug>/quartiers/",
        quartiers_views.QuartiersContratView.as_view(),
        name="quartiers_contrat",
    ),
    # The QPV référentiel (views.referentiel): the platform's administrator only ----------
    path(
        "quartiers/referentiel/",
        referentiel_views.ReferentielView.as_view(),
        name="referentiel_quartiers",
    ),
    # (end of the référentiel's block)
    # The members of a contract (views.membres): its Administrateurs only
    path("contrats/<slug:slug>/membres/", membres.MembresView.as_view(), name="membres"),
    path(
        "contrats/<slug:slug>/membres/organisation/",
        membres.OrganisationPartenaireView.as_view(),
        name="membre_organisation",
    ),
    path(
        "contrats/<slug:slug>/membres/<int:pk>/role/",
        membres.RoleView.as_view(),
        name="membre_role",
    ),
    path(
        "contrats/<slug:slug>/membres/<int:pk>/retirer/",
        membres.RetirerView.as_view(),
        name="membre_retirer",
    ),
    path(
        "contrats/<slug:slug>/invitations/<int:pk>/annuler/",
        membres.AnnulerInvitationView.as_view(),
        name="invitation_annuler",
    ),
    path(
        "diagnostics/<slug:slug>/edition/<str:action>/",
        editions.EtatEditionView.as_view(),
        name="etat_edition",
    ),
    # Lists, exports and search -------------------------------------------------------
    path("difficultes/", lists.DifficulteListView.as_view(), name="difficultes"),
    re_path(
        r"^difficultes/export\.(?P<format>xlsx|csv)$",
        lists.DifficulteExportView.as_view(),
        name="difficultes_export",
    ),
    path("recherche/", lists.RechercheView.as_view(), name="recherche"),
    # Imports and exports of the administrators (views.imports) ---------------------
    path("imports/", import_views.ImportListView.as_view(), name="imports"),
    path("imports/nouveau/", import_views.ImportNouveauView.as_view(), name="import_nouveau"),
    path(
        "imports/apercu/<str:token>/",
        import_views.ImportApercuView.as_view(),
        name="import_apercu",
    ),
    path("imports/<int:pk>/", import_views.ImportDetailView.as_view(), name="import_detail"),
    path(
        "imports/<int:pk>/annuler/",
        import_views.ImportAnnulerView.as_view(),
        name="import_annuler",
    ),
    re_path(
        r"^diagnostics/(?P<slug>[-a-zA-Z0-9_]+)/tableau-source\.(?P<format>xlsx|csv|tsv)$",
        import_views.ExportSourceView.as_view(),
        name="export_source",
    ),
    # Editing and history (views.edition, views.history): Équipe ville and Administrateur only
    path(
        "diagnostics/<slug:slug>/modifications/",
        history_views.ModificationsView.as_view(),
        name="modifications",
    ),
    path(
        "diagnostics/<slug:slug>/historique/<modele:modele>/<int:history_id>/restaurer/",
        history_views.RestoreView.as_view(),
        name="restaurer",
    ),
    path(
        "diagnostics/<slug:slug>/piliers/<int:numero>/modifier/",
        edition.PilierUpdateView.as_view(),
        name="pilier_modifier",
    ),
    path(
        "diagnostics/<slug:slug>/piliers/<int:numero>/historique/",
        history_views.PilierHistoryView.as_view(),
        name="pilier_historique",
    ),
    path(
        "diagnostics/<slug:slug>/piliers/<int:numero>/themes/ajouter/",
        edition.ThemeCreateView.as_view(),
        name="theme_ajouter",
    ),
    path(
        "diagnostics/<slug:slug>/themes/<int:pk>/modifier/",
        edition.ThemeUpdateView.as_view(),
        name="theme_modifier",
    ),
    path(
        "diagnostics/<slug:slug>/themes/<int:pk>/supprimer/",
        edition.ThemeDeleteView.as_view(),
        name="theme_supprimer",
    ),
    path(
        "diagnostics/<slug:slug>/themes/<int:pk>/ordre/",
        edition.ThemeOrderView.as_view(),
        name="theme_ordre",
    ),
    path(
        "diagnostics/<slug:slug>/themes/<int:pk>/historique/",
        history_views.ThemeHistoryView.as_view(),
        name="theme_historique",
    ),
    path(
        "diagnostics/<slug:slug>/themes/<int:pk>/sous-themes/ajouter/",
        edition.SousThemeCreateView.as_view(),
        name="sous_theme_ajouter",
    ),
    path(
        "diagnostics/<slug:slug>/sous-themes/<int:pk>/modifier/",
        edition.SousThemeUpdateView.as_view(),
        name="sous_theme_modifier",
    ),
    path(
        "diagnostics/<slug:slug>/sous-themes/<int:pk>/deplacer/",
        edition.SousThemeMoveView.as_view(),
        name="sous_theme_deplacer",
    ),
    path(
        "diagnostics/<slug:slug>/sous-themes/<int:pk>/supprimer/",
        edition.SousThemeDeleteView.as_view(),
        name="sous_theme_supprimer",
    ),
    path(
        "diagnostics/<slug:slug>/sous-themes/<int:pk>/ordre/",
        edition.SousThemeOrderView.as_view(),
        name="sous_theme_ordre",
    ),
    path(
        "diagnostics/<slug:slug>/sous-themes/<int:pk>/historique/",
        history_views.SousThemeHistoryView.as_view(),
        name="sous_theme_historique",
    ),
    # Items: <nature> is a kind of item ("difficultes", "indicateurs"), added under a
    # thème's own level ("themes") or a sous-thème ("sous-themes").
    path(
        "diagnostics/<slug:slug>/<niveau:niveau>/<int:pk>/<nature:nature>/ajouter/",
        edition.ElementCreateView.as_view(),
        name="element_ajouter",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/modifier/",
        edition.ElementUpdateView.as_view(),
        name="element_modifier",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/deplacer/",
        edition.ElementMoveView.as_view(),
        name="element_deplacer",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/scinder/",
        edition.ElementSplitView.as_view(),
        name="element_scinder",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/fusionner/",
        edition.ElementMergeView.as_view(),
        name="element_fusionner",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/supprimer/",
        edition.ElementDeleteView.as_view(),
        name="element_supprimer",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/ordre/",
        edition.ElementOrderView.as_view(),
        name="element_ordre",
    ),
    path(
        "diagnostics/<slug:slug>/<nature:nature>/<int:pk>/historique/",
        history_views.ElementHistoryView.as_view(),
        name="element_historique",
    ),
]
