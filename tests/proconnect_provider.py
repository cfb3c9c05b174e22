"""A real OpenID Connect provider for the ProConnect tests: oidc-provider-mock (Authlib and
Flask), served on 127.0.0.1 by a thread, started once per test session.

It issues real authorization codes (single use), RS256-signed id_tokens and access
tokens, and serves its discovery document, key set (JWKS), userinfo and end-session
pages. Two things are added here, around it, not inside it:

- its userinfo answers JSON; ProConnect answers a JWT signed with the same key as the
  id_token (`application/jwt`), so the main provider's userinfo is turned into such a JWT
  (the provider's own key, `kid` in the header). The provider under `/json` keeps JSON.
- the provider under `/perime` issues tokens that expired before they were issued
  (their lifetime is negative, as a provider's clock far ahead would make them).

The claims of a person (`sub`) are set with `Provider.set_user` (the mock's PUT
/users/<sub>); its authorization page then takes the `sub` by form POST.
"""

import atexit
import threading
import warnings
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
import werkzeug.serving
from werkzeug.middleware.dispatcher import DispatcherMiddleware

with warnings.catch_warnings():
    # oidc-provider-mock imports authlib.jose, which Authlib deprecates (not our code).
    warnings.simplefilter("ignore")
    import flask
    import oidc_provider_mock

CLIENT_ID = "contrat-ville-tests"
CLIENT_SECRET = "secret-des-tests"
# The mock grants the OpenID standard scopes only and gives `given_name` with `profile`;
# ProConnect has a scope per claim. The tests ask for both.
SCOPES = "openid email profile given_name usual_name siret uid"


def _userinfo_as_signed_jwt(app):
    """ProConnect's userinfo: the claims in a JWT signed by the provider's key."""

    @app.after_request
    def sign(response):
        if flask.request.path.endswith("/userinfo") and response.status_code == 200:
            key = flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True)
            claims = {**response.get_json(), "iss": flask.request.host_url.rstrip("/")}
            claims["aud"] = CLIENT_ID
            token = jwt.encode(
                claims,
                jwt.PyJWK(key, algorithm="RS256").key,
                algorithm="RS256",
                headers={"kid": key["kid"]},
            )
            response.set_data(token)
            response.content_type = "application/jwt"
        return response

    return app


def _app(**options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return oidc_provider_mock.app(require_nonce=True, **options)


class _QuietHandler(werkzeug.serving.WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class Provider:
    def __init__(self):
        application = DispatcherMiddleware(
            _userinfo_as_signed_jwt(_app()),
            {
                "/json": _app(),
                "/perime": _userinfo_as_signed_jwt(
                    _app(access_token_max_age=timedelta(seconds=-3600))
                ),
            },
        )
        self.server = werkzeug.serving.make_server(
            "127.0.0.1", 0, application, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self.thread.start()

    def discovery_url(self, prefix=""):
        return f"{self.url}{prefix}/.well-known/openid-configuration"

    def configuration(self, prefix=""):
        return requests.get(self.discovery_url(prefix), timeout=5).json()

    def set_user(self, sub, prefix="", **claims):
        response = requests.put(f"{self.url}{prefix}/users/{sub}", json=claims, timeout=5)
        response.raise_for_status()

    def authorize(self, authorization_url, sub):
        """What a person does on the provider's page: sign in as `sub`. Returns the
        redirection to the site's callback (with `code` and `state`)."""
        response = requests.post(
            authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5
        )
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(2)


_provider = None
_lock = threading.Lock()


def provider():
    """The session's provider (started on first use, stopped at exit)."""
    global _provider
    with _lock:
        if _provider is None:
            _provider = Provider()
            atexit.register(_provider.stop)
        return _provider


# Deprecation warnings of Authlib's code as oidc-provider-mock calls it (not ours): the test
# settings turn warnings into errors, which would break the provider's answers.
PROVIDER_WARNINGS = [
    r"get_jwt_config\(self, grant\) is deprecated",
    r"authlib\.jose module is deprecated",
]


@pytest.fixture(autouse=True)
def _provider_warnings_are_not_ours():
    for message in PROVIDER_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=DeprecationWarning)


def query(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
