"""Demo personal codes and patient reports: a known code for one named demo patient (README, "Try the
patient's page"), random ones for a few more, and four reports sent from the page, one with signs of
spinal cord compression. Deterministic; once only.

The demo's own patients have birth dates counted back from the day the demo was loaded, so the
patient of the known code is one of this module's, with a fixed date of birth anyone can type."""

from datetime import date

from nhs_number import calculate_checksum

from followup import choices as c
from followup.models import Patient, SymptomReport, User
from followup.nhs import nhs_number_error
from followup.services import patient_create

from .forms import URGENT_CHOICES
from .models import PersonalCode
from .services import personal_code_issue, self_report_record

# Anyone may try the page with this code and the demo patient's date of birth (README).
DEMO_CODE = "TRY2-THE3-PAGE"
DEMO_PATIENT = {
    "given_name": "Hazel",
    "family_name": "Trywell",
    "date_of_birth": date(1961, 3, 14),
    "hospital_number": "SELFREPORT1",
    "sex": c.Sex.FEMALE,
    "town": "Testville",
    "postcode": "ZZ99 5SR",
    "address_line_1": "1 Example Row",
    "phone_mobile": "07700 900314",
}

REPORTS = [
    # (area, red flags, how long, worse, the area's symptoms as the page words them, the patient's words)
    (
        c.SymptomArea.BONE,
        [c.RedFlag.CORD_COMPRESSION],
        c.SymptomDuration.UNDER_A_WEEK,
        c.Worsening.YES,
        "Bones (for example, your back, hips or ribs): Pain in your back, hips or ribs; Weak legs or numbness.",
        "Back pain since Monday, worse lying down. My legs feel heavy on the stairs.",
    ),
    (
        c.SymptomArea.LUNG,
        [],
        c.SymptomDuration.OVER_TWO_WEEKS,
        c.Worsening.NOT_SURE,
        "Chest and breathing: A cough that will not go away.",
        "A dry cough for about three weeks. No temperature.",
    ),
    (
        c.SymptomArea.LYMPHOEDEMA,
        [],
        c.SymptomDuration.ONE_TO_TWO_WEEKS,
        c.Worsening.YES,
        "Arm swelling: Swelling in your arm or hand.",
        "My right hand and wrist are puffy by the evening. My ring is tight.",
    ),
    (
        c.SymptomArea.GENERAL,
        [],
        c.SymptomDuration.OVER_TWO_WEEKS,
        c.Worsening.NO,
        "Feeling generally unwell: Feeling very tired.",
        "Tired all the time since I started the new tablets.",
    ),
]


def _candidates():
    """The main demo nurse's active demo patients, in the demo's order."""
    return Patient.objects.filter(
        named_nurse__username="nurse", status__in=c.ACTIVE_PATIENT_STATUSES, hospital_number__startswith="DEMO"
    ).order_by("hospital_number")


def _free_nhs_number() -> str:
    """A valid number of the 999 test range no patient has, from the middle of the range down (the demo's
    patients take the bottom, integration's unknown result the top)."""
    stem = 500_000
    while True:
        digits = f"999{stem:06d}"
        check = calculate_checksum(digits)
        number = f"{digits}{check}"
        if check != 10 and not nhs_number_error(number) and not Patient.all_objects.filter(nhs_number=number).exists():
            return number
        stem -= 1


def demo_patient(nurse: User) -> Patient:
    """Hazel TRYWELL, the patient of the known code, on the main demo nurse's caseload."""
    existing = Patient.objects.filter(hospital_number=DEMO_PATIENT["hospital_number"], team=nurse.team).first()
    if existing is not None:
        return existing
    return patient_create(by=nurse, team=nurse.team, named_nurse=nurse, nhs_number=_free_nhs_number(), **DEMO_PATIENT)


def seed(*, today: date) -> int:
    """Issue the demo codes and send the demo reports; nothing on a second run. Returns the reports sent."""
    nurse = User.objects.filter(username="nurse").first()
    if nurse is None or PersonalCode.objects.exists():
        return 0
    first = demo_patient(nurse)
    personal_code_issue(patient=first, by=nurse, code=DEMO_CODE)
    others = list(
        Patient.objects.filter(
            named_nurse=nurse, status__in=c.ACTIVE_PATIENT_STATUSES, hospital_number__startswith="DEMO"
        )
        .exclude(pk=first.pk)
        .order_by("hospital_number")[: len(REPORTS)]
    )
    for patient in others:
        personal_code_issue(patient=patient, by=nurse)  # the code itself is not kept: the slip went by post
    urgent_words = dict(URGENT_CHOICES)
    for patient, (area, flags, lasted, worse, ticked, words) in zip(others, REPORTS, strict=False):
        lines = [f"Urgent symptoms now: {'; '.join(urgent_words[f] for f in flags)}."] if flags else []
        lines += [ticked, f"In their own words: {words}"]
        self_report_record(
            patient=patient, area=area, description="\n".join(lines), red_flags=flags, lasted=lasted, worsening=worse
        )
    return SymptomReport.objects.filter(source=c.ReportSource.PATIENT).count()
