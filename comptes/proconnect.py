"""Login with ProConnect, the French State's OpenID Connect federation for professionals
(mozilla-django-oidc, authorization code flow with `state` and `nonce`).

- Enabled only when `PROCONNECT_CLIENT_ID`, `PROCONNECT_CLIENT_SECRET` and
  `PROCONNECT_DISCOVERY_URL` are set (`is_configured`). The provider's endpoints come from
  its discovery document, fetched the first time they are needed, never at startup (the
  site starts offline), then kept.
- The id_token and the userinfo (a JWT signed by ProConnect, `application/jwt`; JSON is
  accepted too) are checked with the provider's key set (JWKS): signature, algorithm,
  issuer, audience, expiry, nonce; the userinfo must be about the id_token's `sub`.
- An account is found by its ProConnect `sub` (`Profil.proconnect_sub`), else, on a first
  ProConnect login, by its e-mail (one active account only), and then linked to that
  `sub`. A new account is created only when `settings.PROCONNECT_ACCOUNT_POLICY` (a dotted
  path, e-mail -> bool: by default, a usable invitation exists for that e-mail) allows
  it; its organisation is found or created from the claims `siret`/`organization_label`.
"""

import logging
import threading
from urllib.parse import urlsplit

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from .accounts import create_account, find_or_create_organisation
from .models import Organisation, Profil, validate_siret

logger = logging.getLogger(__name__)

BACKEND = "comptes.proconnect.ProConnectBackend"


class ProConnectUnavailable(Exception):
    """The provider's discovery document or key set could not be read."""


class AccountRefused(Exception):
    """ProConnect vouched for someone who has no account here and may not get one."""

    def __init__(self, email):
        super().__init__(email)
        self.email = email


def is_configured():
    return bool(
        getattr(settings, "PROCONNECT_CLIENT_ID", "")
        and getattr(settings, "PROCONNECT_CLIENT_SECRET", "")
        and getattr(settings, "PROCONNECT_DISCOVERY_URL", "")
    )


def origin(url):
    """scheme://host[:port] of a URL (for the Content Security Policy)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# The discovery document ---------------------------------------------------------------------

_documents = {}
_documents_lock = threading.Lock()


def _timeout():
    return getattr(settings, "PROCONNECT_TIMEOUT", 10)


def provider():
    """The provider's discovery document (issuer and endpoints), fetched once per URL."""
    url = settings.PROCONNECT_DISCOVERY_URL
    document = _documents.get(url)
    if document is not None:
        return document
    with _documents_lock:
        document = _documents.get(url)
        if document is None:
            try:
                response = requests.get(url, timeout=_timeout())
                response.raise_for_status()
                document = response.json()
            except (requests.RequestException, ValueError) as error:
                raise ProConnectUnavailable(f"discovery document {url}: {error}") from error
            required = (
                "issuer",
                "authorization_endpoint",
                "token_endpoint",
                "userinfo_endpoint",
                "jwks_uri",
            )
            missing = [key for key in required if not document.get(key)]
            if missing:
                raise ProConnectUnavailable(f"discovery document {url} lacks {missing}")
            _documents[url] = document
    return document


def forget_provider():
    """Forget the discovery documents read (tests; a provider that changed its endpoints)."""
    with _documents_lock:
        _documents.clear()


def oidc_setting(name, *default):
    """mozilla-django-oidc's settings, from ours: the client's identifiers, the scopes,
    the endpoints of the discovery document."""
    if name == "OIDC_RP_CLIENT_ID":
        return settings.PROCONNECT_CLIENT_ID
    if name == "OIDC_RP_CLIENT_SECRET":
        return settings.PROCONNECT_CLIENT_SECRET
    if name == "OIDC_RP_SCOPES":
        return settings.PROCONNECT_SCOPES
    if name == "OIDC_RP_SIGN_ALGO":
        return settings.PROCONNECT_SIGN_ALGO
    if name == "OIDC_TIMEOUT":
        return _timeout()
    if name == "OIDC_AUTHENTICATION_CALLBACK_URL":
        return "proconnect_callback"
    endpoints = {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
        "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
        "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
        "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    }
    if name in endpoints:
        return provider()[endpoints[name]]
    return import_from_settings(name, *default)


# The authentication backend -------------------------------------------------------------------


def _claim(claims, name):
    value = claims.get(name)
    return " ".join(value.split()) if isinstance(value, str) else ""


class ProConnectBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with ProConnect's settings, signed userinfo, and our
    rules to find, link or create accounts. Password logins never reach it (no code)."""

    def __init__(self, *args, **kwargs):
        # Django builds every backend at every login, the password ones too: nothing is
        # read from the provider here (the parent's __init__ would need its endpoints).
        self.UserModel = get_user_model()

    get_settings = staticmethod(oidc_setting)

    OIDC_RP_IDP_SIGN_KEY = None

    # The parent's attributes, read from our settings and the discovery document.

    @property
    def OIDC_RP_CLIENT_ID(self):
        return settings.PROCONNECT_CLIENT_ID

    @property
    def OIDC_RP_CLIENT_SECRET(self):
        return settings.PROCONNECT_CLIENT_SECRET

    @property
    def OIDC_RP_SIGN_ALGO(self):
        return settings.PROCONNECT_SIGN_ALGO

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self):
        return provider()["token_endpoint"]

    @property
    def OIDC_OP_USER_ENDPOINT(self):
        return provider()["userinfo_endpoint"]

    @property
    def OIDC_OP_JWKS_ENDPOINT(self):
        return provider()["jwks_uri"]

    def authenticate(self, request, **kwargs):
        if request is None or not is_configured():
            return None
        if "code" not in request.GET or "state" not in request.GET:
            return None  # a password login
        if "nonce" not in kwargs:
            # Only the callback view, which has checked the `state` and passes the nonce
            # kept with it, may sign in with a code (not a password form given `?code=`).
            return None
        return super().authenticate(request, **kwargs)

    # Tokens ---------------------------------------------------------------------------------

    def retrieve_matching_jwk(self, token):
        """The provider's key that signed this token: the one of its `kid`, or, for a
        token without `kid`, the key set's only signing key of the expected type."""
        try:
            response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=_timeout())
            response.raise_for_status()
            keys = response.json()["keys"]
            header = jwt.get_unverified_header(token)
        except (requests.RequestException, ValueError, KeyError, jwt.InvalidTokenError) as error:
            raise SuspiciousOperation(f"ProConnect key set unreadable: {error}") from error
        algorithm = self.OIDC_RP_SIGN_ALGO
        key_type = {"RS": "RSA", "PS": "RSA", "ES": "EC"}.get(algorithm[:2])
        candidates = [
            key
            for key in keys
            if key.get("kty") == key_type
            and key.get("use", "sig") == "sig"
            and key.get("alg", algorithm) == algorithm
        ]
        if header.get("kid"):
            candidates = [key for key in candidates if key.get("kid") == header["kid"]]
        if len(candidates) != 1:
            raise SuspiciousOperation("No single ProConnect key matches the token.")
        try:
            return jwt.PyJWK(candidates[0], algorithm=algorithm)
        except jwt.PyJWKError as error:
            raise SuspiciousOperation(f"ProConnect key unusable: {error}") from error

    def _decode(self, token, key, *, id_token):
        """The claims of a signed token, after checking its signature, algorithm, issuer,
        audience and dates (an id_token must carry them all; a userinfo, those it has)."""
        algorithm = self.OIDC_RP_SIGN_ALGO
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != algorithm:
                raise SuspiciousOperation(
                    f"ProConnect token signed with {header.get('alg')!r}, not {algorithm!r}."
                )
            unverified = jwt.decode(token, options={"verify_signature": False})
            required = ["iss", "aud", "exp", "iat", "sub"] if id_token else ["sub"]
            check_aud = id_token or "aud" in unverified
            check_iss = id_token or "iss" in unverified
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.OIDC_RP_CLIENT_ID if check_aud else None,
                issuer=provider()["issuer"] if check_iss else None,
                leeway=getattr(settings, "PROCONNECT_CLOCK_LEEWAY", 30),
                options={"require": required, "verify_aud": check_aud},
            )
        except jwt.InvalidTokenError as error:
            raise SuspiciousOperation(f"ProConnect token refused: {error}") from error

    def get_payload_data(self, token, key):
        return self._decode(token, key, id_token=True)

    def get_userinfo(self, access_token, id_token, payload):
        """ProConnect answers with a JWT signed like the id_token (`application/jwt`);
        a JSON answer is accepted too. Either way, it must be about the same `sub`."""
        try:
            response = requests.get(
                self.OIDC_OP_USER_ENDPOINT,
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=_timeout(),
            )
            response.raise_for_status()
        except requests.RequestException as error:
            raise SuspiciousOperation(f"ProConnect userinfo unreadable: {error}") from error
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/jwt":
            token = response.text.strip()
            if self.OIDC_RP_SIGN_ALGO.startswith("HS"):
                key = self.OIDC_RP_CLIENT_SECRET  # as the parent does for the id_token
            else:
                key = self.retrieve_matching_jwk(token)
            claims = self._decode(token, key, id_token=False)
        else:
            try:
                claims = response.json()
            except ValueError as error:
                raise SuspiciousOperation("ProConnect userinfo is neither JWT nor JSON.") from error
        if not isinstance(claims, dict) or claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("ProConnect userinfo is not about the id_token's sub.")
        return claims

    # Accounts -------------------------------------------------------------------------------

    def verify_claims(self, claims):
        return bool(_claim(claims, "sub")) and bool(_claim(claims, "email"))

    def describe_user_by_claims(self, claims):
        return f"sub {claims.get('sub')}"

    def filter_users_by_claims(self, claims):
        """The account linked to this `sub`; else the one active account of this e-mail
        (several: all of them, which the parent refuses)."""
        users = self.UserModel.objects.filter(profil__proconnect_sub=claims["sub"])
        if users.exists():
            return users
        return self.UserModel.objects.filter(
            email__iexact=_claim(claims, "email"), is_active=True
        ).order_by("pk")

    def update_user(self, user, claims):
        """Names and e-mail as ProConnect knows them; the `sub` recorded on first login."""
        sub = claims["sub"]
        changed = []
        for field, claim in (
            ("first_name", "given_name"),
            ("last_name", "usual_name"),
            ("email", "email"),
        ):
            value = _claim(claims, claim)[: self.UserModel._meta.get_field(field).max_length]
            if value and getattr(user, field) != value:
                setattr(user, field, value)
                changed.append(field)
        with transaction.atomic():
            if changed:
                user.save(update_fields=changed)
            profil = Profil.objects.select_for_update().filter(compte=user).first()
            if profil is None:
                profil = Profil.objects.create(compte=user, organisation=self._organisation(claims))
            if profil.proconnect_sub != sub:
                if profil.proconnect_sub:
                    logger.warning(
                        "ProConnect: account %s now signs in with another sub (was %s)",
                        user.pk,
                        profil.proconnect_sub,
                    )
                profil.proconnect_sub = sub
                try:
                    with transaction.atomic():
                        profil.save(update_fields=["proconnect_sub"])
                except IntegrityError as error:
                    raise SuspiciousOperation(
                        "This ProConnect sub is linked to another account."
                    ) from error
        return user

    def create_user(self, claims):
        email = _claim(claims, "email")
        User = self.UserModel
        if User.objects.filter(username__iexact=email).exists() or (
            User.objects.filter(email__iexact=email).exists()
        ):
            # An inactive account, or an account whose username is this address.
            raise SuspiciousOperation(f"An account that may not be linked has {email}.")
        allowed = import_string(
            getattr(
                settings,
                "PROCONNECT_ACCOUNT_POLICY",
                "diagnostics.membres.has_pending_invitation",
            )
        )
        if not allowed(email):
            logger.warning("ProConnect: no account for %s and none may be created", email)
            raise AccountRefused(email)
        with transaction.atomic():
            user = create_account(
                email=email,
                first_name=_claim(claims, "given_name")[:150],
                last_name=_claim(claims, "usual_name")[:150],
                organisation=self._organisation(claims),
            )
            Profil.objects.filter(compte=user).update(proconnect_sub=claims["sub"])
        logger.info("ProConnect: account %s created for sub %s", user.pk, claims["sub"])
        return user

    @staticmethod
    def _organisation(claims):
        siret = _claim(claims, "siret").replace(" ", "")
        try:
            validate_siret(siret)
        except ValidationError:
            siret = ""  # none, or not 14 digits: the organisation is found by its name
        label = _claim(claims, "organization_label")[:200]
        nom = label or (f"Organisation {siret}" if siret else "Organisation inconnue")
        return find_or_create_organisation(nom=nom, nature=Organisation.Nature.AUTRE, siret=siret)
