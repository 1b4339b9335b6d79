"""A small OpenID Connect provider on loopback, for the single sign-on tests: a real HTTP server, a real
RSA signing key (joserfc), the authorization code flow with PKCE (S256), a discovery document, JWKS,
userinfo and a logout endpoint.

Who signs in is set by the test (``provider.subject``), or typed on its sign-in page by a browser. How it
misbehaves is set too: sign with a key it does not publish, name another audience or issuer, send an
expired token.
"""

import base64
import hashlib
import html
import json
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "breast-care-tracker"
CLIENT_SECRET = "loopback-client-secret"  # noqa: S105 # nosec B105 - a test provider's


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Provider:
    def __init__(self):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "signing-1", "alg": "RS256", "use": "sig"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "signing-1", "alg": "RS256", "use": "sig"})
        self.reset()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reset(self):
        # Who signs in when the authorize endpoint is called without a form (None: show the form).
        self.subject: str | None = "cis2-uuid-0001"
        self.claims: dict = {"email": "jo.nurse@nhs.example", "name": "Jo Nurse"}
        # Misbehaviour, one test at a time.
        self.sign_with_other_key = False
        self.audience: str | None = None
        self.token_issuer: str | None = None
        self.expired = False
        self.nonce: str | None = None  # sent instead of the one asked for
        self.hs256 = False  # signed with the client secret (HS256), not the published key
        self.broken_id_token = False  # "id_token" that is no JWT at all
        self.userinfo_sub: str | None = None  # userinfo about someone else than the ID token
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.logouts: list[dict] = []
        self.token_requests: list[dict] = []

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def settings(self) -> dict:
        """The tracker's settings for this provider (override_settings)."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_DISCOVERY_URL": self.discovery_url,
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
        }

    def issue_code(self, query: dict, subject: str) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "subject": subject,
            "nonce": query.get("nonce"),
            "challenge": query.get("code_challenge"),
            "method": query.get("code_challenge_method"),
            "redirect_uri": query["redirect_uri"],
            "client_id": query["client_id"],
        }
        return code

    def id_token(self, grant: dict) -> str:
        now = int(time.time())
        claims = {
            "iss": self.token_issuer or self.issuer,
            "sub": grant["subject"],
            "aud": self.audience or CLIENT_ID,
            "iat": now - (7200 if self.expired else 0),
            "exp": now + (-3600 if self.expired else 300),
            "nonce": self.nonce or grant["nonce"],
        }
        if self.broken_id_token:
            return "not-a-jwt"
        if self.hs256:
            from joserfc.jwk import OctKey

            return jwt.encode({"alg": "HS256", "kid": "signing-1"}, claims, OctKey.import_key(CLIENT_SECRET))
        key = self.other_key if self.sign_with_other_key else self.key
        return jwt.encode({"alg": "RS256", "kid": "signing-1"}, claims, key)

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes = b"", content_type: str = "application/json", headers=None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if body:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, data, status: int = 200):
                self._send(status, json.dumps(data).encode())

            def _redirect_back(self, query: dict, subject: str):
                code = provider.issue_code(query, subject)
                target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
                self._send(302, headers={"Location": target})

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(parts.query).items()}
                if parts.path == "/.well-known/openid-configuration":
                    return self._json(provider.discovery())
                if parts.path == "/jwks":
                    return self._json({"keys": [provider.key.as_dict(private=False)]})
                if parts.path == "/authorize":
                    if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                        return self._send(400, b"unknown client", "text/plain")
                    if provider.subject is not None:
                        return self._redirect_back(query, provider.subject)
                    hidden = "".join(
                        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                        for k, v in query.items()
                    )
                    page = (
                        "<!doctype html><html lang='en'><head><title>Loopback identity provider</title></head><body>"
                        "<h1>Loopback identity provider</h1><form method='post' action='/authorize'>"
                        f"{hidden}<label for='subject'>Your ID</label> <input id='subject' name='subject'>"
                        "<button type='submit'>Sign in</button></form></body></html>"
                    )
                    return self._send(200, page.encode(), "text/html; charset=utf-8")
                if parts.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    grant = provider.tokens.get(token)
                    if grant is None:
                        return self._json({"error": "invalid_token"}, 401)
                    return self._json({"sub": provider.userinfo_sub or grant["subject"], **provider.claims})
                if parts.path == "/logout":
                    provider.logouts.append(query)
                    back = query.get("post_logout_redirect_uri")
                    if back:
                        return self._send(302, headers={"Location": back})
                    return self._send(200, b"Signed out", "text/plain")
                return self._send(404, b"not found", "text/plain")

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
                parts = urlsplit(self.path)
                if parts.path == "/authorize":
                    return self._redirect_back(form, form.get("subject", ""))
                if parts.path != "/token":
                    return self._send(404, b"not found", "text/plain")
                provider.token_requests.append(form)
                if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                    return self._json({"error": "invalid_client"}, 401)
                grant = provider.codes.pop(form.get("code", ""), None)  # a code works once
                if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                    return self._json({"error": "invalid_grant"}, 400)
                verifier = form.get("code_verifier", "").encode()
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
                if grant["method"] != "S256" or challenge != grant["challenge"]:
                    return self._json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
                access = secrets.token_urlsafe(24)
                provider.tokens[access] = grant
                return self._json(
                    {
                        "access_token": access,
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": provider.id_token(grant),
                    }
                )

        return Handler
