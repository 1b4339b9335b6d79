"""MDT writes: one function per action, atomic, keyword-only (followup/services' rules)."""

from datetime import date

from django.db import transaction

from followup.models import Recurrence, User
from followup.services import lock, save_record

from .models import MDTDiscussion


@transaction.atomic
def mdt_discussion_record(
    *, recurrence: Recurrence, meeting_on: date, outcome: str, plan: str, attendees: str, by: User
) -> MDTDiscussion:
    """Record that the recurrence was discussed at the MDT meeting of ``meeting_on``, with its coded
    outcome, plan and who attended. The recurrence is re-read under a lock: one marked entered in
    error meanwhile is refused. It leaves "Recurrence not yet discussed at MDT"."""
    recurrence = lock(recurrence, expected_version=None)
    discussion = MDTDiscussion(
        patient_id=recurrence.patient_id,
        recurrence=recurrence,
        meeting_on=meeting_on,
        outcome=outcome,
        plan=plan.strip(),
        attendees=attendees.strip(),
    )
    save_record(discussion, by)
    return discussion
