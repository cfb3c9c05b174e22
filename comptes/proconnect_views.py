"""The pages of the ProConnect login (comptes.proconnect): its start, its return, its
failure page, and the logout that also ends the ProConnect session."""

import logging
import secrets
from urllib.parse import urlencode

import jwt
import requests
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from .proconnect import (
    BACKEND,
    AccountRefused,
    ProConnectUnavailable,
    is_configured,
    oidc_setting,
    provider,
)

logger = logging.getLogger(__name__)

ID_TOKEN_KEY = "oidc_id_token"


class ConfiguredOnlyMixin:
    """Without ProConnect's settings, its pages do not exist."""

    def dispatch(self, request, *args, **kwargs):
        if not is_configured():
            raise Http404("ProConnect n'est pas configuré.")
        return super().dispatch(request, *args, **kwargs)


class ProConnectLoginView(ConfiguredOnlyMixin, OIDCAuthenticationRequestView):
    """Sends the browser to ProConnect with a new `state` and `nonce` (kept in the
    session) and remembers the page to come back to (`next`, on this site only)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # the parent's reads the provider's endpoints

    def get(self, request):
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider()["authorization_endpoint"]
        except ProConnectUnavailable as error:
            logger.warning("ProConnect login impossible: %s", error)
            return HttpResponseRedirect(reverse("proconnect_echec"))
        self.OIDC_RP_CLIENT_ID = oidc_setting("OIDC_RP_CLIENT_ID")
        return super().get(request)


class ProConnectCallbackView(ConfiguredOnlyMixin, OIDCAuthenticationCallbackView):
    """ProConnect's return: checks the `state`, exchanges the code, checks the tokens
    (comptes.proconnect.ProConnectBackend) and signs in. Any failure (wrong or replayed
    `state` or code, invalid or expired token, provider's error) ends on the failure
    page, logged; someone without an account who may not get one sees why (403)."""

    get_settings = staticmethod(oidc_setting)

    @property
    def failure_url(self):
        return reverse("proconnect_echec")

    def get(self, request):
        if request.GET.get("error"):
            logger.warning(
                "ProConnect login failed: provider error %r (%s)",
                request.GET.get("error"),
                request.GET.get("error_description", ""),
            )
        try:
            response = super().get(request)
        except AccountRefused as refusal:
            return render(
                request,
                "registration/proconnect_refus.html",
                {"email": refusal.email},
                status=403,
            )
        except (
            SuspiciousOperation,
            ProConnectUnavailable,
            requests.RequestException,
            jwt.InvalidTokenError,
        ) as error:
            logger.warning("ProConnect login failed: %s", error)
            return self.login_failure()
        if response.url == self.failure_url:
            logger.warning("ProConnect login failed (no account signed in).")
        return response


class ProConnectEchecView(TemplateView):
    """Where a failed ProConnect login ends (exists even when ProConnect is off: an old
    link must not look like an error of the site)."""

    template_name = "registration/proconnect_echec.html"


def opened_with_proconnect(request):
    return request.session.get(auth.BACKEND_SESSION_KEY) == BACKEND and bool(
        request.session.get(ID_TOKEN_KEY)
    )


class LogoutView(auth_views.LogoutView):
    """Django's logout; a session opened with ProConnect is then ended at ProConnect
    too, at its end_session_endpoint (with the id_token, a `state`, and our home page
    to come back to).

    The browser goes there from a page of ours (immediate refresh, and a link), not by a
    redirection of the logout form: Chromium applies the form's `form-action` to every
    redirection that follows it, and ProConnect redirects on to the identity provider
    (another origin, unknown here), which would be blocked."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get(ID_TOKEN_KEY) if opened_with_proconnect(request) else None
        response = super().post(request, *args, **kwargs)
        if not id_token or not is_configured():
            return response
        try:
            end_session = provider().get("end_session_endpoint")
        except ProConnectUnavailable as error:
            logger.warning("ProConnect logout impossible: %s", error)
            return response
        if not end_session:
            return response
        query = urlencode(
            {
                "id_token_hint": id_token,
                "state": secrets.token_urlsafe(32),
                "post_logout_redirect_uri": request.build_absolute_uri(reverse("home")),
            }
        )
        separator = "&" if "?" in end_session else "?"
        return render(
            request,
            "registration/proconnect_deconnexion.html",
            {"fin_de_session": f"{end_session}{separator}{query}"},
        )
