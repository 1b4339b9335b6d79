"""The API's gate (integration.api.api_endpoint): who gets in, what they may do, how much, and the audit.

The checks run against every endpoint in SEND_ENDPOINTS / READ_ENDPOINTS: the test-only endpoints of
tests/integration/urls_test.py (the real gate around a tiny view), and the real ones as they arrive
(add them to the lists: (method, path)). Every refusal is checked byte for byte against the others of
its endpoint: a missing, malformed, wrong, revoked or rotated-away token must not be told apart.
"""

import hashlib
import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from integration import tokens
from integration.clients import client_register, client_revoke, client_rotate
from integration.models import ApiAction, ApiClient, ApiOutcome, ApiRequest
from tests.factories import PatientFactory

pytestmark = [pytest.mark.urls("tests.integration.urls_test"), pytest.mark.django_db]

# (method, path, action it is audited as). The lead adds the real endpoints here at merge, e.g.
# ("post", "/api/hl7/v2/", ApiAction.HL7_RESULT), ("post", "/fhir/DiagnosticReport", ApiAction.FHIR_RESULT).
SEND_ENDPOINTS = [
    ("post", "/test-api/send/", ApiAction.HL7_RESULT),
    ("post", "/api/hl7/v2/", ApiAction.HL7_RESULT),
    ("post", "/fhir/DiagnosticReport", ApiAction.FHIR_RESULT),
]
# e.g. ("get", "/fhir/Patient?identifier=...", ApiAction.FHIR_READ), ("get", "/fhir/metadata", ...).
READ_ENDPOINTS = [
    ("get", "/test-api/read/", ApiAction.FHIR_READ),
    ("get", "/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919", ApiAction.FHIR_READ),
    ("get", "/fhir/Patient/1", ApiAction.FHIR_READ),
    ("get", "/fhir/Condition?patient=1", ApiAction.FHIR_READ),
    ("get", "/fhir/DiagnosticReport?patient=1", ApiAction.FHIR_READ),
]
ENDPOINTS = SEND_ENDPOINTS + READ_ENDPOINTS

ids = [f"{method} {path}" for method, path, _ in ENDPOINTS]
send_ids = [f"{method} {path}" for method, path, _ in SEND_ENDPOINTS]


def api() -> Client:
    """A client with no session that enforces CSRF like a browser: an integration engine."""
    return Client(enforce_csrf_checks=True)


BODY = b"MSH|^~\\&|RIS"


def call(http: Client, method: str, path: str, token: str | None = None, body: bytes = BODY, **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if method == "post":
        return http.post(path, data=body, content_type="text/plain", **headers)
    return http.get(path, **headers)


def audit_rows(since_pk: int = 0) -> list[tuple]:
    return list(
        ApiRequest.objects.filter(pk__gt=since_pk)
        .order_by("pk")
        .values_list("client__name", "action", "outcome", "status_code")
    )


def last_pk() -> int:
    return ApiRequest.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture
def both_and_token(team, admin_user):
    """A system that sends and reads: (client, token)."""
    return client_register(name="Both ways", teams=[team], can_send=True, can_read=True, by=admin_user)


# One 401 for every bad token ---------------------------------------------------------------------------------


def _bad_tokens(team, admin_user) -> dict[str, str | None]:
    live, live_token = client_register(name="Live", teams=[team], can_send=True, can_read=True, by=admin_user)
    revoked, revoked_token = client_register(name="Gone", teams=[team], can_send=True, can_read=True, by=admin_user)
    client_revoke(client=revoked, reason="Replaced by the new RIS.", by=admin_user)
    rotated, old_token = client_register(name="Rotated", teams=[team], can_send=True, can_read=True, by=admin_user)
    client_rotate(client=rotated, by=admin_user)
    prefix = tokens.prefix_of(live_token)
    return {
        "missing": None,
        "empty": "",
        "malformed": "not-a-token",
        "wrong secret, valid prefix": f"ftk_{prefix}_{'A' * 43}",
        "unknown prefix": f"ftk_{'0' * 12}_{live_token[-43:]}",
        "revoked client": revoked_token,
        "old token after rotation": old_token,
    }


def _stable(content: bytes) -> bytes:
    """The answer without what differs by design on every answer: an HL7 ACK's own MSH segment (its
    time and control id are new each time); the refusal itself (MSA, ERR) must be the same."""
    if content.startswith(b"MSH|"):
        return b"\r".join(line for line in content.split(b"\r") if not line.startswith(b"MSH|"))
    return content


@pytest.mark.parametrize(("method", "path", "action"), ENDPOINTS, ids=ids)
def test_every_bad_token_gets_the_same_401_and_an_anonymous_audit_row(method, path, action, team, admin_user):
    bad = _bad_tokens(team, admin_user)
    before = last_pk()
    answers = {}
    for name, token in bad.items():
        response = call(api(), method, path, token)
        answers[name] = (response.status_code, _stable(response.content), response.headers.get("WWW-Authenticate"))
    first = answers["missing"]
    assert first[0] == 401
    assert first[2] == 'Bearer realm="followup"'
    assert {name: answer for name, answer in answers.items() if answer != first} == {}
    # One row each, none naming a client: not even the revoked one or the rotated one.
    assert audit_rows(before) == [(None, action, ApiOutcome.REFUSED, 401)] * len(bad)


@pytest.mark.parametrize(("method", "path", "action"), ENDPOINTS, ids=ids)
def test_a_basic_or_other_scheme_is_not_a_bearer_token(method, path, action, both_and_token):
    _, token = both_and_token
    for header in (f"Basic {token}", token, f"Token {token}", f"Bearer{token}"):
        response = call(api(), method, path, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header


def test_the_rotated_token_works_at_once_and_the_old_one_is_refused_at_once(both_and_token, admin_user):
    client, old = both_and_token
    assert call(api(), "get", "/test-api/read/", old).status_code == 200
    new = client_rotate(client=client, by=admin_user)
    assert call(api(), "get", "/test-api/read/", old).status_code == 401
    assert call(api(), "get", "/test-api/read/", new).status_code == 200


def test_revoking_refuses_the_token_on_its_next_request(both_and_token, admin_user):
    client, token = both_and_token
    assert call(api(), "post", "/test-api/send/", token).status_code == 200
    client_revoke(client=client, reason="The token was pasted into a ticket.", by=admin_user)
    assert call(api(), "post", "/test-api/send/", token).status_code == 401


# Permissions ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "action"), SEND_ENDPOINTS, ids=send_ids)
def test_a_client_that_may_only_read_may_not_send_results(method, path, action, reader_and_token):
    reader, token = reader_and_token
    before = last_pk()
    response = call(api(), method, path, token)
    assert response.status_code == 403
    assert b"may not send results" in response.content
    assert audit_rows(before) == [(reader.name, action, ApiOutcome.REFUSED, 403)]


@pytest.mark.parametrize(("method", "path", "action"), READ_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in READ_ENDPOINTS])
def test_a_client_that_may_only_send_may_not_read(method, path, action, sender_and_token):
    sender, token = sender_and_token
    before = last_pk()
    response = call(api(), method, path, token)
    assert response.status_code == 403
    assert b"may not read records" in response.content
    assert audit_rows(before) == [(sender.name, action, ApiOutcome.REFUSED, 403)]


# Rate and size limits ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "action"), ENDPOINTS, ids=ids)
def test_rate_limit_refuses_with_429_and_retry_after_past_the_clients_limit(method, path, action, team, admin_user):
    client, token = client_register(
        name="Chatty", teams=[team], can_send=True, can_read=True, by=admin_user, rate_limit_per_minute=3
    )
    # Requests more than a minute ago do not count.
    ApiRequest.objects.bulk_create(
        ApiRequest(client=client, at=timezone.now() - timedelta(seconds=61), action=action, method="POST",
                   path=path, outcome=ApiOutcome.ACCEPTED, status_code=200)
        for _ in range(5)
    )  # fmt: skip
    before = last_pk()
    statuses = [call(api(), method, path, token).status_code for _ in range(3)]
    refused = call(api(), method, path, token)
    assert [status for status in statuses if status in (401, 403, 413, 429) or status >= 500] == []
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert audit_rows(before)[-1] == (client.name, action, ApiOutcome.RATE_LIMITED, 429)
    assert len(audit_rows(before)) == 4


def test_rate_limit_is_per_client(team, admin_user, both_and_token):
    busy, busy_token = client_register(
        name="Busy", teams=[team], can_send=True, can_read=True, by=admin_user, rate_limit_per_minute=1
    )
    _, quiet_token = both_and_token
    assert call(api(), "get", "/test-api/read/", busy_token).status_code == 200
    assert call(api(), "get", "/test-api/read/", busy_token).status_code == 429
    assert call(api(), "get", "/test-api/read/", quiet_token).status_code == 200


@pytest.mark.parametrize(("method", "path", "action"), SEND_ENDPOINTS, ids=send_ids)
def test_a_message_over_the_size_limit_gets_413_before_djangos_own_limit(method, path, action, both_and_token):
    client, token = both_and_token
    limit = settings.INTEGRATION_MAX_MESSAGE_BYTES
    before = last_pk()
    for size in (limit + 1, settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1):
        response = call(api(), method, path, token, body=b"x" * size)
        assert response.status_code == 413, size
        assert str(limit).encode() in response.content
    assert audit_rows(before) == [(client.name, action, ApiOutcome.TOO_LARGE, 413)] * 2


def test_a_message_of_exactly_the_limit_is_read_whole(both_and_token):
    client, token = both_and_token
    limit = settings.INTEGRATION_MAX_MESSAGE_BYTES
    # Django reads up to DATA_UPLOAD_MAX_MEMORY_SIZE: it must never refuse a body the gate let through.
    assert limit < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = call(api(), "post", "/test-api/send/", token, body=b"x" * limit)
    assert (response.status_code, response.json()) == (200, {"client": client.name, "bytes": limit})
    assert ApiRequest.objects.get().detail == f"{limit} bytes"


# No session, no CSRF; no staff URL takes a token ------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "action"), ENDPOINTS, ids=ids)
def test_no_csrf_token_and_no_session_are_needed(method, path, action, both_and_token):
    client, token = both_and_token
    http = api()
    response = call(http, method, path, token)
    assert response.status_code not in (401, 403, 413, 429) and response.status_code < 500
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    assert ApiRequest.objects.get().client == client


@pytest.mark.parametrize(("method", "path", "action"), ENDPOINTS, ids=ids)
def test_a_staff_session_alone_does_not_open_the_api(method, path, action, admin_user, nurse):
    for user in (admin_user, nurse):
        http = api()
        http.force_login(user)
        response = call(http, method, path)
        assert response.status_code == 401
    assert audit_rows() == [(None, action, ApiOutcome.REFUSED, 401)] * 2


def test_a_staff_url_with_only_a_bearer_token_redirects_to_login(both_and_token, nurse):
    _, token = both_and_token
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    for path in ("/", "/worklists/", f"/patients/{patient.pk}/", "/integration/clients/", "/patients/new/"):
        response = call(api(), "get", path, token)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/accounts/login/"), path
    refused = call(api(), "post", "/patients/new/", token, body=b"family_name=Example")
    assert refused.status_code in (302, 403)  # CSRF refuses it before the login check does; never in
    assert ApiRequest.objects.count() == 0  # not an API request: the gate never saw them


# The audit ------------------------------------------------------------------------------------------------------


def test_every_request_accepted_or_refused_leaves_one_audit_row(team, admin_user, reader_and_token):
    both, token = client_register(
        name="Audited", teams=[team], can_send=True, can_read=True, by=admin_user, rate_limit_per_minute=3
    )
    reader, reader_token = reader_and_token
    call(api(), "post", "/test-api/send/", token)
    call(api(), "get", "/test-api/read/", token)
    call(api(), "post", "/test-api/send/", "ftk_nope")
    call(api(), "post", "/test-api/send/", reader_token)
    call(api(), "post", "/test-api/send/", token, body=b"x" * (settings.INTEGRATION_MAX_MESSAGE_BYTES + 1))
    call(api(), "get", "/test-api/read/", token)
    assert audit_rows() == [
        ("Audited", ApiAction.HL7_RESULT, ApiOutcome.ACCEPTED, 200),
        ("Audited", ApiAction.FHIR_READ, ApiOutcome.ACCEPTED, 200),
        (None, ApiAction.HL7_RESULT, ApiOutcome.REFUSED, 401),
        ("Regional record", ApiAction.HL7_RESULT, ApiOutcome.REFUSED, 403),
        ("Audited", ApiAction.HL7_RESULT, ApiOutcome.TOO_LARGE, 413),
        ("Audited", ApiAction.FHIR_READ, ApiOutcome.RATE_LIMITED, 429),
    ]
    first = ApiRequest.objects.order_by("pk").first()
    assert (first.method, first.path, first.detail, first.remote_addr) == (
        "POST",
        "/test-api/send/",
        f"{len(BODY)} bytes",
        "127.0.0.1",
    )
    both.refresh_from_db()
    assert both.last_used_at is not None  # an accepted request marks it used


def test_the_audit_never_holds_the_token(both_and_token, caplog):
    _, token = both_and_token
    with caplog.at_level(logging.DEBUG):
        call(api(), "post", f"/test-api/send/?token={token[:8]}", token)
        call(api(), "get", "/test-api/read/", token[:-1] + "x")
    stored = list(ApiRequest.objects.values_list("path", "detail", "method"))
    assert token not in repr(stored)
    assert token not in caplog.text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_audit_rows_cannot_be_changed_or_deleted_on_postgresql(both_and_token):
    _, token = both_and_token
    call(api(), "post", "/test-api/send/", token)
    row = ApiRequest.objects.get()
    for attempt in (
        lambda: ApiRequest.objects.filter(pk=row.pk).update(outcome=ApiOutcome.REFUSED),
        lambda: ApiRequest.objects.filter(pk=row.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert ApiRequest.objects.get().outcome == ApiOutcome.ACCEPTED


# How tokens are kept ----------------------------------------------------------------------------------------------


def _row_text(client: ApiClient) -> str:
    row = ApiClient.objects.filter(pk=client.pk).values().get()
    history = list(client.history.values())
    return repr(row) + repr(history)


def test_a_token_is_stored_only_as_its_digest_and_found_by_its_prefix(team, admin_user):
    client, token = client_register(name="Kept", teams=[team], can_send=True, can_read=False, by=admin_user)
    assert token.startswith(f"ftk_{client.token_prefix}_")
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    secret = token.rsplit("_", 1)[1]
    assert token not in _row_text(client) and secret not in _row_text(client)
    # The history (readable on the admin site) keeps neither the token nor its digest.
    assert client.token_hash not in repr(list(client.history.values()))
    new = client_rotate(client=client, by=admin_user)
    client.refresh_from_db()
    assert new.startswith(f"ftk_{client.token_prefix}_") and new not in _row_text(client)


def test_two_tokens_never_share_a_prefix_or_a_secret(team, admin_user):
    issued = [
        client_register(name=f"System {n}", teams=[team], can_send=True, can_read=False, by=admin_user)[1]
        for n in range(20)
    ]
    assert len({tokens.prefix_of(token) for token in issued}) == 20
    assert len({token.rsplit("_", 1)[1] for token in issued}) == 20
    assert all(tokens.matches(token, tokens.digest(token)) for token in issued)
    assert not tokens.matches(issued[0], tokens.digest(issued[1]))
