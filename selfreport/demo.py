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

from .forms import NONE, SelfReportForm, symptoms_field
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
    # The page's own answers (forms.SelfReportForm): area, its symptoms, the urgent question, how long, worse,
    # the patient's words. The form words the report exactly as it does a patient's.
    ("bone", ["pain", "legs"], [NONE], c.SymptomDuration.UNDER_A_WEEK, c.Worsening.YES,
     "Back pain since Monday, worse lying down. My legs feel heavy on the stairs."),
    ("lung", ["cough"], [NONE], c.SymptomDuration.OVER_TWO_WEEKS, c.Worsening.NOT_SURE,
     "A dry cough for about three weeks. No temperature."),
    ("arm", ["arm_swelling"], [NONE], c.SymptomDuration.ONE_TO_TWO_WEEKS, c.Worsening.YES,
     "My right hand and wrist are puffy by the evening. My ring is tight."),
    ("general", ["tired"], [NONE], c.SymptomDuration.OVER_TWO_WEEKS, c.Worsening.NO,
     "Tired all the time since I started the new tablets."),
]  # fmt: skip


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
    for patient, (area, ticked, urgent, lasted, worse, words) in zip(others, REPORTS, strict=False):
        born = patient.date_of_birth
        form = SelfReportForm(
            {
                "code": DEMO_CODE,  # the form checks only the code's shape; the page then verifies it
                "born_0": born.day,
                "born_1": born.month,
                "born_2": born.year,
                "urgent": urgent,
                "area": area,
                symptoms_field(area): ticked,
                "lasted": lasted,
                "worsening": worse,
                "description": words,
            }  # fmt: skip
        )
        if not form.is_valid():
            raise ValueError(f"Demo report refused by the page's form: {form.errors.as_text()}")
        self_report_record(
            patient=patient,
            area=form.symptom_area(),
            description=form.report_text(),
            red_flags=form.red_flags(),
            lasted=lasted,
            worsening=worse,
        )
    return SymptomReport.objects.filter(source=c.ReportSource.PATIENT).count()
