"""Demo contact histories, written with bulk inserts by followup/demo.py's seed(), batch by batch.

Each patient's contacts follow what happened to them in the demo: results given by telephone,
clinic reviews, calls to rebook an overdue test (answered or not, a message left only where the
patient allows it), calls to the CNS line about symptoms. Summaries are in plain clinical English
and name nobody: every person and number in the demo is fictitious.
"""

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from followup import choices as c

from .models import Contact, ContactKind, ContactWith

# How far back the demo's contact log goes: older contacts were kept on paper.
HISTORY_DAYS = 730

RESULT_CALLS = [
    ("Phoned with the {test} result: normal. Reassured.", "Next mammogram in a year; letter to follow."),
    ("Phoned with the {test} result: no sign of recurrence.", "Routine follow-up continues."),
    ("Gave the {test} result by telephone. Asked about aching in the scar: reassured.", "Will mention at review."),
]
RESULT_CALLS_BENIGN = [
    ("Phoned with the {test} result: benign changes only, no further tests needed.", "Routine follow-up continues."),
]
CLINIC_NOTES = [
    ("Seen in the follow-up clinic. No new symptoms; examination normal.", "Reminded of the symptoms to report."),
    ("Seen in clinic. Hot flushes on endocrine therapy discussed.", "Continue; review at next appointment."),
    ("Seen in clinic with her husband. Low mood since treatment ended.", "Referred to the psychology service."),
]
UNANSWERED = [
    ("Phoned to rebook the overdue {test}. No answer.", "Will try again next week."),
    ("Phoned about the {test} that is due. Phone rang out.", "Letter sent with a new appointment."),
]
ANSWERED = [
    ("Phoned about the overdue {test}. Had missed the letter; new date agreed.", "Booking team informed."),
    ("Phoned to rebook the {test}. Was on holiday; happy to rebook.", "Appointment to be sent by post."),
]
NEXT_OF_KIN = [
    ("Spoke to her daughter, who answered. Patient in hospital with a chest infection.", "Will phone next week."),
]
SYMPTOM_CALLS = "Rang the CNS line: {description}"
TRIAGE_OUTCOMES = {
    c.TriageOutcome.REASSURE: "Reassured; to ring back if it lasts more than two weeks.",
    c.TriageOutcome.CLINIC_REVIEW: "Clinic review booked.",
    c.TriageOutcome.URGENT: "Urgent review arranged today.",
}


def _at(rng: random.Random, day: date) -> datetime:
    """A time in the working day (9:00 to 16:45), on ``day``."""
    return timezone.make_aware(datetime.combine(day, time(rng.randint(9, 16), rng.choice([0, 10, 20, 30, 40, 45]))))


def _label(kind: str) -> str:
    return c.FollowUpKind(kind).label.lower()


class _Builder:
    def __init__(self, patient, *, seed: int, today: date, now: datetime):
        self.patient, self.today, self.now = patient, today, now
        self.rng = random.Random(f"{seed}-{patient.hospital_number}-contacts")  # nosec B311
        self.rows: list[Contact] = []
        self.earliest = today - timedelta(days=HISTORY_DAYS)

    def add(self, kind: str, day: date, summary: str, outcome: str = "", **fields) -> None:
        if day >= self.today or day < self.earliest or day < self.patient.date_of_birth:
            return  # no contact today or later (the demo starts at any hour), none before the log began
        nurse = self.patient.named_nurse
        self.rows.append(
            Contact(
                patient=self.patient, kind=kind, contacted_at=_at(self.rng, day), by=nurse, summary=summary,
                outcome=outcome, created_by=nurse, updated_by=nurse, created_at=self.now, updated_at=self.now,
                **fields,
            )
        )  # fmt: skip

    def call_out(self, day: date, summary: str, outcome: str, *, answered: bool, with_whom=ContactWith.PATIENT) -> None:
        # A message only where the patient allows it (messages_may_be_left None: not asked, allowed).
        message = not answered and self.patient.messages_may_be_left is not False and self.rng.random() < 0.6
        if message:
            summary += " Left a message asking her to ring the CNS line."
        self.add(
            ContactKind.PHONE_OUT, day, summary, outcome, answered=answered, message_left=message, with_whom=with_whom
        )

    def from_item(self, item) -> None:
        rng = self.rng
        test = _label(item.kind)
        if item.status == c.FollowUpStatus.DONE and item.result and item.result_acknowledged_at:
            if rng.random() < 0.5:
                pool = RESULT_CALLS_BENIGN if item.result == c.ImagingOutcome.BENIGN else RESULT_CALLS
                summary, outcome = rng.choice(pool)
                day = timezone.localtime(item.result_acknowledged_at).date() + timedelta(days=rng.randint(0, 2))
                self.call_out(day, summary.format(test=test), outcome, answered=True)
        elif item.status == c.FollowUpStatus.DONE and item.kind == c.FollowUpKind.CLINIC_REVIEW and item.done_on:
            if rng.random() < 0.6:
                summary, outcome = rng.choice(CLINIC_NOTES)
                self.add(ContactKind.CLINIC, item.done_on, summary, outcome)
        elif item.status in c.OPEN_FOLLOWUP_STATUSES and item.due_on < self.today - timedelta(days=21):
            # Overdue: most were phoned, a first call unanswered, then (sometimes) one that got through.
            if rng.random() < 0.25:
                return
            first = max(
                item.due_on + timedelta(days=rng.randint(7, 14)), self.today - timedelta(days=rng.randint(4, 30))
            )
            summary, outcome = rng.choice(UNANSWERED)
            self.call_out(first, summary.format(test=test), outcome, answered=False)
            if rng.random() < 0.3:
                summary, outcome = rng.choice(ANSWERED)
                self.call_out(
                    first + timedelta(days=rng.randint(2, 6)), summary.format(test=test), outcome, answered=True
                )
        elif item.status == c.FollowUpStatus.DID_NOT_ATTEND and rng.random() < 0.5:
            day = (item.booked_for or item.due_on) + timedelta(days=rng.randint(1, 5))
            if rng.random() < 0.2:
                summary, outcome = rng.choice(NEXT_OF_KIN)
                self.call_out(day, summary, outcome, answered=True, with_whom=ContactWith.NEXT_OF_KIN)
            else:
                self.call_out(day, f"Phoned after the missed {test}. No answer.", "Letter sent.", answered=False)

    def from_symptom(self, report) -> None:
        outcome = TRIAGE_OUTCOMES.get(report.triage_outcome, "")
        summary = SYMPTOM_CALLS.format(description=report.description.rstrip("."))
        self.add(ContactKind.PHONE_IN, report.reported_on, summary + ".", outcome)


def seed(*, patients, items, symptoms, today: date, seed: int, batch_size: int = 2000) -> int:
    """Contacts for the patients of one demo batch (saved already, so with their ids), from their
    follow-up items and symptom reports; returns how many were created. Deterministic per patient."""
    now = timezone.now()
    builders = {id(patient): _Builder(patient, seed=seed, today=today, now=now) for patient in patients}
    for item in items:
        builder = builders.get(id(item.patient))
        if builder is not None:
            builder.from_item(item)
    for report in symptoms:
        builder = builders.get(id(report.patient))
        if builder is not None:
            builder.from_symptom(report)
    rows = [row for builder in builders.values() for row in builder.rows]
    Contact.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)
