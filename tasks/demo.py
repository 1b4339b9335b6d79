"""Demo tasks, in bulk with each batch of demo patients (followup/demo.py): for every nurse open tasks
(some overdue), tasks for the team as a whole, and tasks done with the phone call they took."""

import itertools
import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from contacts.models import Contact, ContactKind
from followup import choices as c

from .models import Task, TaskStatus

TO_DO = [
    "Phone to discuss the mammogram result",
    "Chase the GP practice for the letrozole prescription",
    "Book an interpreter for the next clinic review",
    "Send the bone health leaflet and the DEXA scan information",
    "Check the bloods were taken before the oncology review",
    "Phone to ask how the new lymphoedema sleeve fits",
    "Refer to the psychological support service, as agreed at clinic",
    "Confirm the date of the ultrasound with radiology",
]
OUTCOMES = [
    "Result explained; no concerns. Next mammogram as planned.",
    "Prescription sent to the pharmacy; patient informed.",
    "Patient reassured; will phone the helpline if symptoms return.",
]


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 15)))


def seed(*, patients: list, ref, today: date, seed: int) -> None:
    """Tasks for the active patients of one batch (already saved): in each team, each nurse gets one
    task overdue, one due in the coming days and one done with a phone call; the team gets two of its
    own; about one other patient in twenty gets a task, due either side of today."""
    active = [p for p in patients if p.status in c.ACTIVE_PATIENT_STATUSES and p.pk]
    if not active:
        return
    # Demo data, not secrets.
    rng = random.Random(f"{seed}-tasks-{active[0].hospital_number}")  # nosec B311
    now = timezone.now()
    tasks, contacts, done = [], [], []

    def task(patient, nurse, due_on, creator, **fields):
        row = Task(
            patient=patient,
            description=rng.choice(TO_DO),
            due_on=due_on,
            assigned_to=nurse,
            team_id=patient.team_id,
            created_by=creator,
            updated_by=creator,
            created_at=now - timedelta(days=rng.randint(1, 14)),
            updated_at=now,
            **fields,
        )
        tasks.append(row)
        return row

    by_team = {}
    for patient in active:
        by_team.setdefault(patient.team_id, []).append(patient)
    for code, team in ref.teams.items():
        nurses, team_patients = ref.nurses.get(code, []), by_team.get(team.pk, [])
        if not nurses or not team_patients:
            continue
        pick = itertools.cycle(team_patients)  # a small batch: a patient may carry two tasks
        for i, nurse in enumerate(nurses):
            colleague = nurses[(i + 1) % len(nurses)]
            task(next(pick), nurse, today - timedelta(days=rng.randint(1, 9)), colleague)  # overdue, set by a colleague
            task(next(pick), nurse, today + timedelta(days=rng.randint(0, 10)), nurse)
            patient = next(pick)
            done_on = today - timedelta(days=rng.randint(1, 30))
            row = task(patient, nurse, done_on, nurse, status=TaskStatus.DONE, done_at=_at(done_on, 10), done_by=nurse)
            contact = Contact(
                patient=patient,
                kind=ContactKind.PHONE_OUT,
                contacted_at=row.done_at,
                by=nurse,
                answered=True,
                summary=row.description,
                outcome=rng.choice(OUTCOMES),
                created_by=nurse,
                updated_by=nurse,
                created_at=row.done_at,
                updated_at=row.done_at,
            )
            contacts.append(contact)
            done.append((row, contact))
        for _ in range(2):
            task(next(pick), None, today + timedelta(days=rng.randint(-3, 7)), rng.choice(nurses))
        for patient in team_patients:
            if rng.random() < 0.05:
                task(patient, rng.choice([*nurses, None]), today + timedelta(days=rng.randint(-5, 21)), nurses[0])
    Contact.objects.bulk_create(contacts)
    for row, contact in done:
        row.contact = contact
    Task.objects.bulk_create(tasks)
