"""ProConnect's URLs (comptes.proconnect_views), under /oidc/: they answer 404 while
ProConnect is not configured. Register with ProConnect the callback
https://<site>/oidc/retour/ and, after logout, https://<site>/ (the home page)."""

from django.urls import path

from . import proconnect_views

urlpatterns = [
    path("connexion/", proconnect_views.ProConnectLoginView.as_view(), name="proconnect_login"),
    path("retour/", proconnect_views.ProConnectCallbackView.as_view(), name="proconnect_callback"),
    path("echec/", proconnect_views.ProConnectEchecView.as_view(), name="proconnect_echec"),
]
