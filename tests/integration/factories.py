"""Rows of the integration app for tests that need one without going through an API."""

import hashlib

from followup import choices as c
from integration.clients import client_register
from integration.models import ApiClient, ExamCode, InboxMessage, MessageFormat
from tests.factories import TeamFactory, UserFactory


def api_client(**changes) -> ApiClient:
    """A registered sending client of a new team (its token is not kept)."""
    admin = UserFactory(role=c.Role.ADMIN, team=None)
    client, _ = client_register(
        name=f"System {ApiClient.objects.count() + 1}", teams=[TeamFactory()], can_send=True, can_read=False, by=admin
    )
    for name, value in changes.items():
        setattr(client, name, value)
    return client


def inbox_message(client: ApiClient | None = None, body: str = "MSH|^~\\&|RIS", **changes) -> InboxMessage:
    """A stored message, not yet read (status "received"), not saved when ``changes`` are given."""
    message = InboxMessage(
        client=client or api_client(),
        format=MessageFormat.HL7V2,
        body=body,
        sha256=hashlib.sha256(body.encode()).hexdigest(),
    )
    for name, value in changes.items():
        setattr(message, name, value)
    return message


def exam_code(**changes) -> ExamCode:
    code = ExamCode(system="LOCAL", code=f"T{ExamCode.objects.count()}", display="Test", staging_modality="ct_cap")
    for name, value in changes.items():
        setattr(code, name, value)
    return code


def unmatched_message(team, **changes) -> InboxMessage:
    """An unmatched result from a system serving ``team`` (for the "Unmatched results" list)."""
    client = ApiClient.objects.filter(teams=team, name__startswith="Unmatched sender").first()
    if client is None:
        admin = UserFactory(role=c.Role.ADMIN, team=None)
        client, _ = client_register(
            name=f"Unmatched sender {team.pk}", teams=[team], can_send=True, can_read=False, by=admin
        )
    n = InboxMessage.objects.count() + 1
    fields = {
        "control_id": f"UNM{n:05}",
        "status": "unmatched",
        "reason": "No patient of the teams this system serves has NHS number 9990001234.",
        "nhs_number": "9990001234",
        "family_name": "Unknown",
        "given_name": "Alice",
        "exam_code": "MAMMOB",
        "exam_system": "LOCAL",
        "exam_name": "Mammogram, both breasts",
        "report_text": "No evidence of malignancy.",
    }
    message = inbox_message(client, body=f"MSH|unmatched {n}", **(fields | changes))
    message.save()
    return message
