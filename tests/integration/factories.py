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
