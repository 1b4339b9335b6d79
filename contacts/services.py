"""Recording contacts: the one place a contact row is written (letters, tasks and MDT call it too)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from followup.models import Patient, User
from followup.services import save_record

from .models import Contact, ContactKind, ContactWith


@transaction.atomic
def contact_record(
    *,
    patient: Patient,
    kind: str,
    contacted_at: datetime,
    by: User,
    summary: str,
    outcome: str = "",
    with_whom: str = ContactWith.PATIENT,
    answered: bool | None = None,
    message_left: bool = False,
    recorded_by: User | None = None,
) -> Contact:
    """Record one contact. ``by`` made or took it; ``recorded_by`` (default ``by``) is who typed it in.

    Refused, with the reason beside its field: a message left where the patient asked that none
    is; a contact made by someone outside the patient's team; a date or time in the future or
    before the patient's birth (Contact.clean(), followup/dates.py)."""
    if not (by.is_admin_role or (by.team_id is not None and by.team_id == patient.team_id)):
        raise ValidationError({"by": "Choose a member of the patient's team."})
    if kind == ContactKind.PHONE_OUT and message_left and patient.messages_may_be_left is False:
        raise ValidationError(
            {"message_left": "This patient has asked that no messages are left. Record the call without a message."}
        )
    contact = Contact(
        patient=patient,
        kind=kind,
        contacted_at=contacted_at,
        by=by,
        with_whom=with_whom,
        answered=answered if kind == ContactKind.PHONE_OUT else None,
        message_left=message_left,
        summary=summary,
        outcome=outcome,
    )
    save_record(contact, recorded_by or by)
    return contact
