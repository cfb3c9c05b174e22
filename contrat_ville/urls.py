"""The site's URLs. Error pages: Django's default handlers render templates/403.html,
404.html and 500.html (500.html without any context, so base.html must not need one)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from comptes import proconnect_views, second_factor_views
from comptes.views import PasswordResetView
from diagnostics.views.accueil import HomeView
from diagnostics.views.consultation import AccessibiliteView
from diagnostics.views.membres import InvitationView
from indicateurs.views import FicheQuartierView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", HomeView.as_view(), name="home"),
    path("accessibilite/", AccessibiliteView.as_view(), name="accessibilite"),
    path("invitations/<str:token>/", InvitationView.as_view(), name="invitation"),
    # Accounts: Django's views with our templates (templates/registration/).
    # The password login, then the second factor of those who need one.
    path("connexion/", second_factor_views.LoginView.as_view(), name="login"),
    path(
        "connexion/second-facteur/",
        second_factor_views.SecondFactorView.as_view(),
        name="second_factor",
    ),
    path(
        "connexion/second-facteur/activer/",
        second_factor_views.ActivationView.as_view(),
        name="second_factor_activation",
    ),
    path(
        "compte/second-facteur/",
        second_factor_views.AccountView.as_view(),
        name="second_factor_account",
    ),
    # Logout; a session opened with ProConnect is ended at ProConnect too.
    path("deconnexion/", proconnect_views.LogoutView.as_view(), name="logout"),
    path("oidc/", include("comptes.proconnect_urls")),  # ProConnect (404 when not set up)
    path(
        "mot-de-passe/oubli/",
        PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "mot-de-passe/oubli/envoye/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/nouveau/termine/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "mot-de-passe/modifier/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "mot-de-passe/modifier/termine/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("indicateurs/", include("indicateurs.urls")),
    # The fiche quartier: in indicateurs (it shows indicators), under the diagnostic's URL.
    path(
        "diagnostics/<slug:slug>/quartiers/<str:code>/",
        FicheQuartierView.as_view(),
        name="fiche_quartier",
    ),
    path("", include("rapports.urls")),  # the annual reports, under their contract
    path("", include("diagnostics.urls")),
]
