"""Single sign-on by OpenID Connect (NHS CIS2, Microsoft Entra ID), with mozilla-django-oidc.

On when OIDC_ISSUER is set. The provider's endpoints and signing keys come from its discovery document
(read when needed, kept for an hour). The authorization code flow with PKCE, state and nonce is the
library's; this module adds what it leaves out and what this product needs:

- the ID token's signature, issuer, audience and expiry are all checked (the library checks no audience);
- the user is the active account an admin linked to the provider's claim OIDC_USER_CLAIM (User.sso_id):
  nobody is created, and an unknown or disabled person is refused with a message that says why;
- a refusal is a clear message on the login page and a security event, never an error page.
"""

import logging
import time
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from followup.auth import UserWithTeamBackend

from . import signin
from .events import record
from .models import Event

log = logging.getLogger(__name__)
BACKEND = "accounts.sso.SSOBackend"
CALLBACK = "oidc_authentication_callback"
DISCOVERY_SECONDS = 3600


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read or does not describe OIDC_ISSUER."""


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


_discovered: dict[str, tuple[float, dict]] = {}


def forget_provider() -> None:
    _discovered.clear()


def provider() -> dict:
    """The provider's discovery document (its endpoints), checked to be for OIDC_ISSUER."""
    url = settings.OIDC_DISCOVERY_URL
    hit = _discovered.get(url)
    if hit and time.monotonic() - hit[0] < DISCOVERY_SECONDS:
        return hit[1]
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"could not read the discovery document {url}: {exc}") from exc
    if document.get("issuer") != settings.OIDC_ISSUER:
        raise ProviderUnavailable(f"the discovery document names issuer {document.get('issuer')!r}, not OIDC_ISSUER")
    missing = [key for key in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(key)]
    if missing:
        raise ProviderUnavailable(f"the discovery document has no {', '.join(missing)}")
    _discovered[url] = (time.monotonic(), document)
    return document


def not_counted_by_lockout(request, credentials) -> bool:
    """AXES_WHITELIST_CALLABLE: a single sign-on callback is not a password guess. Counting its refusals
    (which carry no username) would lock every colleague behind the same address out of single sign-on."""
    match = getattr(request, "resolver_match", None)
    return match is not None and match.url_name == CALLBACK


class Refused(Exception):
    def __init__(self, message: str, detail: str):
        super().__init__(detail)
        self.message = message
        self.detail = detail


UNREACHABLE = (
    "Single sign-on is not available: the identity provider could not be reached. Try again in a few "
    "minutes. If it keeps happening, tell your IT service desk."
)

NOT_CHECKED = (
    "Single sign-on did not work: the answer from the identity provider could not be checked. Try again. "
    "If it keeps happening, tell your IT service desk."
)


class SSOBackend(OIDCAuthenticationBackend):
    """Authenticates only on the callback, only when single sign-on is configured."""

    def __init__(self, *args, **kwargs):
        # The library reads its endpoints here; ours come from discovery, when a callback needs them.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        match = getattr(request, "resolver_match", None)
        if not enabled() or match is None or match.url_name != CALLBACK:
            return None
        try:
            document = provider()
        except ProviderUnavailable as exc:
            request.sso_refused = Refused(UNREACHABLE, str(exc))
            return None
        self.OIDC_OP_TOKEN_ENDPOINT = document["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = document.get("userinfo_endpoint")
        self.OIDC_OP_JWKS_ENDPOINT = document["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        try:
            return super().authenticate(request, **kwargs)
        except Refused as exc:
            request.sso_refused = exc
        except (SuspiciousOperation, jwt.PyJWTError, requests.RequestException, ValueError, KeyError) as exc:
            request.sso_refused = Refused(NOT_CHECKED, f"{type(exc).__name__}: {exc}")
        return None

    def _verify_jws(self, payload, key):
        """The signature with the provider's key, and the issuer, audience (this client) and expiry."""
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(f"ID token signed with {header.get('alg')!r}, not {self.OIDC_RP_SIGN_ALGO}")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                leeway=60,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc

    def store_tokens(self, access_token, id_token):
        # Only the ID token is kept (OIDC_STORE_ID_TOKEN): the provider's logout needs it.
        self.request.session["oidc_id_token"] = id_token

    def get_or_create_user(self, access_token, id_token, payload):
        """The linked, active account of the person the verified ID token (and userinfo) names."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = self.get_userinfo(access_token, id_token, payload)
            if userinfo.get("sub") != payload.get("sub"):
                # A Refused, not SuspiciousOperation: the library would catch that and lose the reason.
                raise Refused(NOT_CHECKED, "userinfo is about another subject than the ID token")
            claims.update(userinfo)
        value = claims.get(settings.OIDC_USER_CLAIM)
        if not isinstance(value, str) or not value.strip():
            raise Refused(NOT_CHECKED, f"the provider sent no {settings.OIDC_USER_CLAIM!r} claim (OIDC_USER_CLAIM)")
        value = value.strip()
        user = self.UserModel._default_manager.filter(sso_id__iexact=value).first()
        if user is None:
            raise Refused(
                f"Your account at the identity provider is not linked to an account in this tracker. Ask an "
                f"admin of the tracker to link it: they need your ID, {value}.",
                f"no account has single sign-on ID {value!r}",
            )
        if not user.is_active:
            raise Refused(
                "Your account in this tracker is switched off. Ask an admin of the tracker if you need it.",
                f"{user.username} is inactive",
            )
        return user

    def get_user(self, user_id):
        return UserWithTeamBackend().get_user(user_id)


class SSORequestView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider (code flow with PKCE, state and nonce)."""

    def __init__(self, *args, **kwargs):
        View.__init__(self, *args, **kwargs)  # the library reads its endpoint here; ours is discovered
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        if not enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider()["authorization_endpoint"]
        except ProviderUnavailable as exc:
            log.warning("Single sign-on: %s", exc)
            messages.error(request, UNREACHABLE)
            return redirect("login")
        return super().get(request)


class SSOCallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back: logs the linked user in, or says why not."""

    def get(self, request):
        if not enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            return super().get(request)
        except SuspiciousOperation as exc:  # a state this session did not start (another window, a replay)
            request.sso_refused = Refused(
                "Single sign-on did not work: it was started in another window or took too long. Try again.",
                str(exc),
            )
            return self.login_failure()

    def login_success(self):
        return signin.complete(self.request, self.user, backend=BACKEND, method=signin.SSO, next_url=self.success_url)

    def login_failure(self):
        request = self.request
        refused = getattr(request, "sso_refused", None)
        if refused is None:
            error = request.GET.get("error", "")
            refused = Refused(
                "Single sign-on was cancelled or refused by the identity provider. Try again.",
                f"the provider answered {error or 'without a code'}",
            )
        log.warning("Single sign-on refused: %s", refused.detail)
        record(Event.SSO_REFUSED, request=request, detail=refused.detail)
        messages.error(request, refused.message)
        return redirect("login")


def provider_logout_url(request) -> str | None:
    """The provider's logout page for a session signed in by single sign-on, with the way back here; None
    when the provider has none (or is unreachable: the session here still ends)."""
    if request.session.get(signin.SIGNED_IN_WITH) != signin.SSO or not enabled():
        return None
    try:
        end_session = provider().get("end_session_endpoint")
    except ProviderUnavailable:
        return None
    if not end_session:
        return None
    query = {
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    if request.session.get("oidc_id_token"):
        query["id_token_hint"] = request.session["oidc_id_token"]
    return f"{end_session}?{urlencode(query)}"
