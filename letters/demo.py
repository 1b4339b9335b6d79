"""Demo letterheads (fictitious: Ofcom drama numbers, impossible postcodes) and a few issued letters.

Only the first DEMO_LETTER_PATIENTS demo patients get letters, so seeding stays fast: each PDF is
rendered (about 30 ms), and the rows go in with bulk_create. A patient with no address gets no letter
to them, one with no GP practice none to the GP (letters.content.refusal), exactly as on the page.
"""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from contacts.models import Contact, ContactKind, ContactWith
from followup.models import FollowUpItem, Patient, Team
from followup.pdf import render_pdf

from . import content
from .choices import RECIPIENT_OF, LetterKind, Recipient
from .models import Letter, Letterhead, LetterPDF, pdf_digest
from .services import LETTER_TEMPLATE

DEMO_LETTER_PATIENTS = 20

LETTERHEADS = {
    "north": {
        "unit_name": "North Breast Unit",
        "address_line_1": "Breast Care Centre, Level 3",
        "address_line_2": "Northtown General Hospital (demo)",
        "town": "Northtown",
        "postcode": "ZZ99 1NB",
        "phone": "01632 960100",
        "acute_oncology_phone": "01632 960199",
        "email": "breastcare.north@example.nhs.uk",
        "signature_name": "The North Breast Care Nurses",
        "signature_role": "Clinical Nurse Specialists, Breast Surgery",
    },
    "south": {
        "unit_name": "South Breast Unit",
        "address_line_1": "Jasmine Suite, Outpatients B",
        "address_line_2": "Southford Infirmary (demo)",
        "town": "Southford",
        "postcode": "ZZ99 2SB",
        "phone": "01632 960200",
        "acute_oncology_phone": "01632 960299",
        "email": "breastcare.south@example.nhs.uk",
        "signature_name": "The South Breast Care Nurses",
        "signature_role": "Clinical Nurse Specialists, Breast Oncology",
    },
}


def ensure_letterheads() -> dict[int, Letterhead]:
    """One letterhead per demo team, created once; left alone (an admin may have edited it) on a re-run."""
    letterheads = {}
    for team in Team.objects.filter(code__in=LETTERHEADS):
        letterheads[team.pk] = Letterhead.objects.get_or_create(team=team, defaults=LETTERHEADS[team.code])[0]
    return letterheads


def _kinds(patient: Patient, result) -> list[tuple[str, object]]:
    """The letters a unit would have sent this patient: a result letter (and its copy to the GP), or a
    care plan; a discharge letter to both for a discharged patient; a PIFU letter for a PIFU patient."""
    if patient.status == "discharged":
        return [(LetterKind.DISCHARGE_PATIENT, None), (LetterKind.DISCHARGE_GP, None)]
    kinds = [(LetterKind.RESULT_PATIENT, result), (LetterKind.RESULT_GP, result)] if result else []
    kinds.append((LetterKind.PIFU, None) if patient.follow_up_model == "pifu" else (LetterKind.CARE_PLAN, None))
    return kinds


@transaction.atomic
def seed(*, today=None, patients: int = DEMO_LETTER_PATIENTS) -> int:
    """Letters for the first demo patients that have none yet; returns how many were issued."""
    today = today or timezone.localdate()
    letterheads = ensure_letterheads()
    if Letter.all_objects.filter(patient__hospital_number__startswith="DEMO").exists():
        return 0  # issued on the first run: a re-run (or more patients) adds none
    # Issued a fortnight ago, so the demo's later calls (contacts/demo.py) stay each row's last contact.
    today = today - timedelta(days=14)
    demo_patients = (
        Patient.objects.filter(hospital_number__startswith="DEMO", letters__isnull=True, team_id__in=letterheads)
        .select_related("named_nurse", "gp_practice", "team")
        .prefetch_related("primaries")
        .order_by("hospital_number")[:patients]
    )
    results = {}
    for item in (
        FollowUpItem.objects.live()
        .filter(patient__in=demo_patients)
        .exclude(result="")
        .filter(done_on__lte=today)
        .order_by("done_on")
    ):
        results[item.patient_id] = item  # the latest result of each
    issued_at = timezone.make_aware(datetime.combine(today, time(10, 0)))
    planned = []  # (letter, contact, pdf)
    for patient in demo_patients:
        letterhead = letterheads[patient.team_id]
        for kind, result in _kinds(patient, results.get(patient.pk)):
            if content.refusal(patient=patient, kind=kind, letterhead=letterhead, today=today):
                continue
            text = content.letter_text(patient=patient, kind=kind, letterhead=letterhead, result=result, on=today)
            pdf = render_pdf(LETTER_TEMPLATE, {"letter": text})
            nurse, to_gp = patient.named_nurse, RECIPIENT_OF[kind] == Recipient.GP
            stamps = {"created_by": nurse, "updated_by": nurse, "created_at": issued_at, "updated_at": issued_at}
            contact = Contact(
                patient=patient, kind=ContactKind.LETTER, contacted_at=issued_at, by=nurse,
                with_whom=ContactWith.GP if to_gp else ContactWith.PATIENT,
                summary=f"{text.title} ({LetterKind(kind).label.lower()}) sent to {text.to_name}.",
                outcome=f"cc {text.cc_name}." if text.cc_name else "", **stamps,
            )  # fmt: skip
            letter = Letter(
                patient=patient, kind=kind, recipient=RECIPIENT_OF[kind], addressee=text.to_name[:200],
                followup_item=result if kind in (LetterKind.RESULT_PATIENT, LetterKind.RESULT_GP) else None,
                issued_at=issued_at, issued_by=nurse, sha256=pdf_digest(pdf), size=len(pdf), **stamps,
            )  # fmt: skip
            planned.append((letter, contact, pdf))
    Contact.objects.bulk_create([contact for _, contact, _ in planned])
    for letter, contact, _ in planned:
        letter.contact = contact
    Letter.objects.bulk_create([letter for letter, _, _ in planned])
    LetterPDF.objects.bulk_create([LetterPDF(letter=letter, pdf=pdf) for letter, _, pdf in planned])
    return len(planned)
