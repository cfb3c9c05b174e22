"""The site's URLs. Error pages: Django's default handlers render templates/403.html,
404.html and 500.html (500.html without any context, so base.html must not need one)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from comptes.forms import LoginForm
from comptes.views import PasswordResetView
from diagnostics.views.consultation import AccessibiliteView, HomeView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", HomeView.as_view(), name="home"),
    path("accessibilite/", AccessibiliteView.as_view(), name="accessibilite"),
    # Accounts: Django's views with our templates (templates/registration/).
    path(
        "connexion/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
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
    path("", include("diagnostics.urls")),
]
