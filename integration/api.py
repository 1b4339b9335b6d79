"""The gate of every API endpoint: bearer token, permission, rate and size limits, and the audit.

Endpoints are plain functions ``view(request, client) -> HttpResponse`` wrapped by ``api_endpoint``.
They take no session and no CSRF token; no staff URL takes a token (staff views know only the
session). What a view wants in the audit it puts in ``request.api_audit`` (outcome, detail,
message, patient_ids); the gate writes one ApiRequest row per request, whatever happened.
"""

import functools
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from .clients import client_for_token
from .models import ApiClient, ApiOutcome, ApiRequest

# (request, HTTP status, text for the sending system) -> the response in the endpoint's own format.
Refusal = Callable[[HttpRequest, int, str], HttpResponse]


def bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def remote_addr(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def audit(
    request: HttpRequest,
    *,
    client: ApiClient | None,
    action: str,
    outcome: str,
    status_code: int,
    detail: str = "",
    message=None,
    patient_ids=(),
) -> ApiRequest:
    return ApiRequest.objects.create(
        client=client,
        action=action,
        method=(request.method or "")[:8],
        path=request.get_full_path()[:500],
        outcome=outcome,
        status_code=status_code,
        detail=detail,
        remote_addr=remote_addr(request),
        message=message,
        patient_ids=list(patient_ids),
    )


def over_rate_limit(client: ApiClient) -> bool:
    """More requests in the last minute than the client may make (counted from the audit, so every
    worker process and machine agrees)."""
    since = timezone.now() - timedelta(minutes=1)
    # Its own 429s do not count: an engine that retries too fast gets back in once it slows down.
    made = ApiRequest.objects.filter(client=client, at__gte=since).exclude(outcome=ApiOutcome.RATE_LIMITED)
    return made.count() >= client.rate_limit_per_minute


def content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def api_endpoint(*, action: str, needs: str, refuse: Refusal, max_bytes: int | None = None):
    """Wrap an endpoint: ``needs`` is "send" or "read"."""

    def decorate(view):
        @csrf_exempt
        @login_not_required
        @functools.wraps(view)
        def gate(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            def refused(client, status: int, outcome: str, text: str) -> HttpResponse:
                audit(request, client=client, action=action, outcome=outcome, status_code=status, detail=text)
                response = refuse(request, status, text)
                if status == 401:
                    response["WWW-Authenticate"] = 'Bearer realm="followup"'
                return response

            token = bearer_token(request)
            client = client_for_token(token) if token else None
            if client is None:
                # One answer for a missing, wrong, unknown or revoked token: nothing leaks.
                return refused(None, 401, ApiOutcome.REFUSED, "A valid bearer token is needed.")
            allowed = client.can_send if needs == "send" else client.can_read
            if not allowed:
                what = "send results" if needs == "send" else "read records"
                return refused(client, 403, ApiOutcome.REFUSED, f"This client may not {what}.")
            if over_rate_limit(client):
                response = refused(client, 429, ApiOutcome.RATE_LIMITED, "Too many requests: try again in a minute.")
                response["Retry-After"] = "60"
                return response
            limit = max_bytes or settings.INTEGRATION_MAX_MESSAGE_BYTES
            if content_length(request) > limit:
                return refused(client, 413, ApiOutcome.TOO_LARGE, f"The message is larger than {limit} bytes.")
            request.api_audit = {}
            response = view(request, client, *args, **kwargs)
            record = request.api_audit
            audit(
                request,
                client=client,
                action=action,
                outcome=record.get("outcome", ApiOutcome.ACCEPTED if response.status_code < 400 else ApiOutcome.ERROR),
                status_code=response.status_code,
                detail=record.get("detail", ""),
                message=record.get("message"),
                patient_ids=record.get("patient_ids", ()),
            )
            # To the minute: one write a minute, not a write (and a row lock every sender waits on) a request.
            now = timezone.now()
            ApiClient.objects.filter(pk=client.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(minutes=1))
            ).update(last_used_at=now)
            return response

        return gate

    return decorate
