"""Demo MDT discussions (followup/demo.py calls seed() after each batch): most recurrences were discussed
at the weekly meeting a week or two after they were agreed; the recent ones are still to be discussed.
Fictitious clinicians only. Bulk inserts, no history rows (as the rest of the demo data)."""

import random
from datetime import date, timedelta

from django.utils import timezone

from followup import choices as fc

from .choices import MDTOutcome
from .models import MDTDiscussion

# A recurrence agreed within this many days is usually still waiting for the next meeting.
RECENT_DAYS = 14

ATTENDEES = [
    "Mr A Hartley (breast surgeon), Dr F Okoye (clinical oncologist), Dr S Mistry (radiologist), "
    "Dr J Lowe (pathologist), CNS team",
    "Ms R Dunmore (breast surgeon), Dr P Varga (medical oncologist), Dr S Mistry (radiologist), CNS team",
    "Mr A Hartley (breast surgeon), Dr P Varga (medical oncologist), Dr K Ahmed (radiologist), "
    "Dr J Lowe (pathologist), CNS team, MDT coordinator",
]

PLANS = {
    fc.MetastaticType.LOCAL: [
        (MDTOutcome.SURGERY, "Wide local excision of the recurrence; rediscuss with the histology."),
        (MDTOutcome.FURTHER_INVESTIGATION, "Core biopsy for receptor status, then rediscuss at MDT."),
        (MDTOutcome.RADIOTHERAPY, "Chest wall radiotherapy after excision; clinical oncology to see in clinic."),
    ],
    fc.MetastaticType.REGIONAL: [
        (MDTOutcome.SURGERY, "Axillary node clearance; adjuvant systemic therapy to be discussed after surgery."),
        (MDTOutcome.RADIOTHERAPY, "Radiotherapy to the supraclavicular fossa; oncology clinic in 2 weeks."),
        (MDTOutcome.FURTHER_INVESTIGATION, "Ultrasound-guided node biopsy and complete restaging, then rediscuss."),
    ],
    fc.MetastaticType.DISTANT: [
        (MDTOutcome.SYSTEMIC_THERAPY, "Start letrozole with a CDK4/6 inhibitor; medical oncology clinic in 2 weeks."),
        (MDTOutcome.SYSTEMIC_THERAPY, "Second-line chemotherapy (capecitabine); refer to the secondary breast CNS."),
        (MDTOutcome.RADIOTHERAPY, "Palliative radiotherapy to the painful bone metastasis; start denosumab."),
        (MDTOutcome.BEST_SUPPORTIVE_CARE, "Best supportive care as the patient wishes; refer to the palliative team."),
        (MDTOutcome.FURTHER_INVESTIGATION, "Biopsy of the liver lesion to confirm and retest receptors."),
    ],
}


def seed(*, recurrences, today: date | None = None, seed: int = 2026) -> int:
    """Discussions for the saved ``recurrences`` of one batch (not refuted, not too recent); returns
    how many were created. Deterministic for a given seed."""
    today = today or timezone.localdate()
    now = timezone.now()
    rows = []
    for recurrence in recurrences:
        if recurrence.pk is None or recurrence.status == fc.RecurrenceStatus.REFUTED:
            continue
        # Demo data, not secrets.
        rng = random.Random(f"{seed}-mdt-{recurrence.pk}")  # noqa: S311  # nosec B311
        age = (today - recurrence.diagnosed_on).days
        if age < RECENT_DAYS:
            continue  # still to be discussed: the failsafe list and the meeting's list show it
        if rng.random() < 0.03:
            continue  # a gap the failsafe list catches
        meeting_on = min(recurrence.diagnosed_on + timedelta(days=rng.randint(3, 12)), today)
        outcome, plan = rng.choice(PLANS[recurrence.metastatic_type])
        rows.append(
            MDTDiscussion(
                patient_id=recurrence.patient_id,
                recurrence_id=recurrence.pk,
                meeting_on=meeting_on,
                outcome=outcome,
                plan=plan,
                attendees=rng.choice(ATTENDEES),
                created_by_id=recurrence.created_by_id,
                updated_by_id=recurrence.created_by_id,
                created_at=now,
                updated_at=now,
            )
        )
    MDTDiscussion.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
