"""Demo results that arrived by themselves: a demo results system and a few real messages through
``services.receive``, so the demo shows each way a result goes (matched to a restaging CT, matched
to a mammogram, unmatched for an unknown NHS number, unmatched for a date of birth that disagrees,
and an amended report). Deterministic: the same patients and words on every run; once only.

The messages are short ER7 texts, built here from the values they carry and read back by the
real HL7v2 reader (hl7.py), as an engine's messages are.
"""

from dataclasses import replace
from datetime import date, timedelta

from nhs_number import calculate_checksum

from followup import choices as c
from followup.models import FollowUpItem, Patient, StagingTest, Team, User

from . import hl7, services
from .clients import client_register
from .models import ApiClient, InboxMessage, MessageFormat

CLIENT_NAME = "Demo RIS (Radiology)"


def unknown_nhs_number() -> str:
    """A valid number of the 999 test range that no demo patient has (the top of the range)."""
    stem = 999_999
    while True:
        digits = f"999{stem:06d}"
        check = calculate_checksum(digits)
        number = f"{digits}{check}"
        repeated = len(set(number)) == 1  # 9999999999 passes the check digit but is no NHS number
        if check != 10 and not repeated and not Patient.all_objects.filter(nhs_number=number).exists():
            return number
        stem -= 1


def er7(report: services.Report) -> str:
    """The message as an integration engine sends it (enough of an ORU^R01 to read by eye)."""
    day = report.reported_on or date.today()
    born = report.date_of_birth.strftime("%Y%m%d") if report.date_of_birth else ""
    lines = [
        f"MSH|^~\\&|DEMO-RIS|DEMO-HOSP|FOLLOWUP|BREAST|{day:%Y%m%d}0930||ORU^R01^ORU_R01|{report.control_id}|P|2.5.1",
        f"PID|1||{report.nhs_number}^^^NHS^NH||{report.family_name.upper()}^{report.given_name}||{born}|F",
        f"OBR|1||{report.report_id}|{report.exam_code}^{report.exam_name}^{report.exam_system}|||"
        f"{(report.performed_on or day):%Y%m%d}|||||||||||||||{day:%Y%m%d}||||{'C' if report.amendment else 'F'}",
    ]
    for n, line in enumerate(report.report_text.splitlines(), start=1):
        lines.append(f"OBX|{n}|TX|{report.exam_code}^{report.exam_name}^{report.exam_system}||{line}||||||"
                     f"{'C' if report.amendment else 'F'}")  # fmt: skip
    return "\r".join(lines)


def _send(client: ApiClient, report: services.Report) -> InboxMessage:
    """Through the real HL7v2 reader (hl7.py); only a suggested classification, which HL7v2 does not
    carry here, is added to what it reads."""

    def read(body: str) -> services.Report:
        return replace(hl7.read(body), suggested_result=report.suggested_result)

    return services.receive(client=client, format=MessageFormat.HL7V2, body=er7(report), read=read)


def _report(patient: Patient, n: int, *, exam: tuple[str, str], on: date, text: str, **changes) -> services.Report:
    code, name = exam
    report = services.Report(
        control_id=f"DEMO{n:04}",
        report_id=f"DEMOACC{n:04}",
        nhs_number=patient.nhs_number,
        family_name=patient.family_name,
        given_name=patient.given_name,
        date_of_birth=patient.date_of_birth,
        exam_code=code,
        exam_system="LOCAL",
        exam_name=name,
        performed_on=on,
        reported_on=on,
        report_text=text,
    )
    return replace(report, **changes)


def _one_candidate(patient: Patient, code: str, on: date) -> bool:
    codes = services.exam_codes(services.Report(control_id="", exam_code=code, exam_system="LOCAL"))
    return len(services.candidates(patient, codes, on)) == 1


CT_TEXT = (
    "CT chest, abdomen and pelvis with contrast.\n"
    "Comparison: none available.\n"
    "Findings: two new low-attenuation lesions in the right lobe of the liver, the larger 14 mm.\n"
    "No lung nodules. No lymphadenopathy. Bones: no destructive lesion.\n"
    "Conclusion: liver lesions suspicious for metastases; MRI liver suggested."
)
CT_AMENDED = (
    CT_TEXT + "\nAddendum (same day): reviewed with prior imaging from another trust; the larger lesion was "
    "present in 2024 and is unchanged, in keeping with a haemangioma. The smaller lesion remains indeterminate."
)
MAMMOGRAM_TEXT = (
    "Bilateral mammograms, two views.\nBreasts predominantly fatty.\n"
    "Post-surgical changes on the left are stable. No suspicious mass, calcification or distortion.\n"
    "Conclusion: no evidence of malignancy. BI-RADS 2."
)


def seed(*, today: date) -> list[InboxMessage]:
    """Register the demo results system (once) and send its messages; nothing on a second run."""
    if ApiClient.objects.filter(name=CLIENT_NAME).exists():
        return []
    admin = User.objects.filter(username="admin").first()
    nurse = User.objects.filter(username="nurse").first()
    if admin is None or nurse is None:
        return []
    client, _token = client_register(
        name=CLIENT_NAME, teams=list(Team.objects.order_by("code")), can_send=True, can_read=False, by=admin
    )
    mine = Patient.objects.filter(named_nurse=nurse, status__in=c.ACTIVE_PATIENT_STATUSES).exclude(nhs_number="")
    sent = []
    # 1. A restaging CT, matched to the one open CT it answers; 5. then amended.
    ct_on = today - timedelta(days=1)
    tests = (
        StagingTest.objects.live()
        .filter(episode__recurrence__patient__in=mine, modality=c.StagingModality.CT_CAP, result="")
        .filter(cancelled_on__isnull=True, requested_on__lte=ct_on, requested_on__gte=ct_on - timedelta(days=50))
        .select_related("episode__recurrence__patient")
        .order_by("requested_on", "pk")
    )
    ct_patient = next(
        (t.episode.recurrence.patient for t in tests if _one_candidate(t.episode.recurrence.patient, "CTCAP", ct_on)),
        None,
    )
    if ct_patient is not None:
        first = _report(ct_patient, 1, exam=("CTCAP", "CT chest, abdomen and pelvis"), on=ct_on, text=CT_TEXT)
        sent.append(_send(client, first))
        sent.append(_send(client, replace(first, control_id="DEMO0005", amendment=True, report_text=CT_AMENDED)))
    # 2. A mammogram, matched to the one due, suggested "Normal" by the sender.
    mammogram_on = today - timedelta(days=2)
    items = (
        FollowUpItem.objects.live()
        .filter(patient__in=mine, kind=c.FollowUpKind.MAMMOGRAM, status__in=c.OPEN_FOLLOWUP_STATUSES)
        .filter(due_on__gte=mammogram_on - timedelta(days=30), due_on__lte=mammogram_on + timedelta(days=30))
        .exclude(patient=ct_patient)
        .select_related("patient")
        .order_by("due_on", "pk")
    )
    mammogram_patient = next((i.patient for i in items if _one_candidate(i.patient, "MAMMOB", mammogram_on)), None)
    if mammogram_patient is not None:
        sent.append(
            _send(
                client,
                _report(
                    mammogram_patient,
                    2,
                    exam=("MAMMOB", "Mammogram, both breasts"),
                    on=mammogram_on,
                    text=MAMMOGRAM_TEXT,
                    suggested_result=c.ImagingOutcome.NORMAL,
                ),
            )
        )
    # 3. An NHS number no patient of ours has; 4. a date of birth that is not the patient's.
    others = list(mine.exclude(pk__in=[p.pk for p in (ct_patient, mammogram_patient) if p]).order_by("pk")[:2])
    if others:
        stranger = _report(others[0], 3, exam=("MAMMOB", "Mammogram, both breasts"), on=mammogram_on,
                           text=MAMMOGRAM_TEXT, nhs_number=unknown_nhs_number(), family_name="Demo-Unknown",
                           given_name="Alice")  # fmt: skip
        sent.append(_send(client, stranger))
    if len(others) > 1:
        wrong_birth = others[1].date_of_birth - timedelta(days=365)
        sent.append(
            _send(
                client,
                _report(
                    others[1],
                    4,
                    exam=("XRCHEST", "Chest X-ray"),
                    on=ct_on,
                    text="Chest X-ray PA.\nLungs clear. No pleural effusion.",
                    date_of_birth=wrong_birth,
                ),
            )  # fmt: skip
        )
    return sent
