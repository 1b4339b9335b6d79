"""A letter's words, all from the record: who it is to, about whom, the result, the dates, whom to call.

The user adds one paragraph at most; everything else is here, so a name, an NHS number or a GP's
address is never typed twice. Plain English, written to the patient and copied to the GP (the
Academy of Medical Royal Colleges' "Please, write to me"). What to watch for is followup/advice.py's.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html

from followup import advice
from followup import choices as c
from followup.models import FollowUpItem, Patient, StagingTest, User

from .choices import RECIPIENT_OF, RESULT_KINDS, LetterKind, Recipient
from .models import Letterhead


def long_date(value: date | datetime | None) -> str:
    """ "1 December 2026": a letter spells the month out."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return dateformat.format(value, "j F Y")


def pifu_until(patient: Patient) -> date | None:
    """The day patient-initiated follow-up ends: the patient's PIFU period (set from the protocol or by
    the nurse, followup.services.patient_set_pifu_period); None when no period is set."""
    return patient.pifu_ends_on


def _who(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user else ""


def patient_address(patient: Patient) -> list[str]:
    lines = (patient.address_line_1, patient.address_line_2, patient.town, patient.postcode)
    return [line for line in lines if line]


# Results --------------------------------------------------------------------------------------------

ITEM_OUTCOME_WORDS = {
    c.ImagingOutcome.NORMAL: "was normal. It showed no sign of cancer.",
    c.ImagingOutcome.BENIGN: "showed a change that is not cancer (benign). No treatment is needed for it.",
    c.ImagingOutcome.ABNORMAL: "showed a change that needs more tests to find out what it is. "
    "We will contact you to arrange them, if we have not already.",
    c.ImagingOutcome.NON_DIAGNOSTIC: "could not give a clear answer, so it needs to be repeated. "
    "We will contact you to arrange this.",
    c.ImagingOutcome.INADEQUATE: "could not be read properly, so it needs to be repeated. "
    "We will contact you to arrange this.",
    c.ImagingOutcome.NOT_KNOWN: "has no result we can give you yet. We will write again when we have it.",
}
TEST_OUTCOME_WORDS = {
    c.StagingResult.CLEAR: "showed no sign that the cancer has spread to other parts of the body.",
    c.StagingResult.EQUIVOCAL: "did not give a clear answer, so you need a further test. "
    "We will contact you to arrange it.",
    c.StagingResult.DISTANT: "showed signs that the cancer has spread ({sites}). "
    "Your team will talk with you about what this means and about treatment.",
}


@dataclass
class Result:
    test: str  # "Mammogram"
    on: date  # the day it was done (or reported)
    outcome: str  # the coded outcome, as the record names it: "Normal"
    words: str  # what it means, in plain English

    @property
    def sentence(self) -> str:
        return f"Your {self.test[:1].lower() + self.test[1:]} on {long_date(self.on)} {self.words}"


def result_of(record: FollowUpItem | StagingTest) -> Result:
    # A report not yet classified has no words for the patient: refusal() refuses the letter.
    if isinstance(record, FollowUpItem):
        return Result(
            record.get_kind_display(),
            record.done_on,
            record.get_result_display(),
            ITEM_OUTCOME_WORDS.get(record.result, ""),
        )
    sites = ", ".join(str(site).lower() for site in record.sites.all()) or "site not recorded"
    words = TEST_OUTCOME_WORDS.get(record.result, "").format(sites=sites)
    return Result(
        record.get_modality_display(), record.performed_on or record.reported_on, record.get_result_display(), words
    )


def result_label(record: FollowUpItem | StagingTest) -> str:
    """A result as the "Write a letter" page offers it."""
    result = result_of(record)
    return f"{result.test}, {long_date(result.on)}: {result.outcome}"


def results_for_letters(patient: Patient) -> dict[str, FollowUpItem | StagingTest]:
    """The patient's live results a letter can be about, newest first, keyed "item-<pk>" / "test-<pk>"."""
    items = FollowUpItem.objects.live().filter(patient=patient).exclude(result="")
    tests = StagingTest.objects.live().filter(episode__recurrence__patient=patient).exclude(result="")
    rows = [(f"item-{i.pk}", i, i.done_on) for i in items] + [
        (f"test-{t.pk}", t, t.performed_on or t.reported_on) for t in tests.prefetch_related("sites")
    ]
    rows.sort(key=lambda row: (row[2], row[0]), reverse=True)
    return {key: record for key, record, _ in rows}


# Refusals ---------------------------------------------------------------------------------------------


UNCLASSIFIED_REFUSAL = "Classify the result before writing about it."
AMENDED_REFUSAL = "The report was amended: classify it again before writing about it."


def result_refusal(kind: str, result: FollowUpItem | StagingTest | None) -> str:
    """Why a result letter cannot be about this result ("" when it can): a report that arrived by
    itself says nothing a patient or GP can be told until a clinician has classified it (H22), and
    an amended report not yet read again may say something else than the classification (H21)."""
    if kind not in RESULT_KINDS or result is None:
        return ""
    if result.result in c.UNCLASSIFIED_RESULTS:
        return UNCLASSIFIED_REFUSAL
    if result.report_amended:
        return AMENDED_REFUSAL
    return ""


def refusal(
    *,
    patient: Patient,
    kind: str,
    letterhead: Letterhead | None,
    today: date,
    result: FollowUpItem | StagingTest | None = None,
    discharging: bool = False,
) -> str:
    """Why this letter cannot be written for this patient now ("" when it can); the page links the fix.
    ``discharging``: the patient is discharged in the same step as the letter (services.pifu_end)."""
    if result_refusal(kind, result):
        return result_refusal(kind, result)
    if letterhead is None:
        return f"{patient.team} has no letterhead yet: an admin sets it up in the admin site (Letterheads)."
    if RECIPIENT_OF[kind] == Recipient.PATIENT and patient.status == c.PatientStatus.DECEASED:
        return "This patient has died: no letter is written to them."
    if RECIPIENT_OF[kind] == Recipient.GP and patient.gp_practice_id is None:
        return "No GP practice is recorded for this patient, so a letter to the GP cannot be written."
    if RECIPIENT_OF[kind] == Recipient.PATIENT and not (patient.address_line_1 and patient.postcode):
        return "No address is recorded for this patient, so a letter to them cannot be written."
    discharge_kinds = (LetterKind.DISCHARGE_PATIENT, LetterKind.DISCHARGE_GP)
    if kind in discharge_kinds and patient.status != c.PatientStatus.DISCHARGED and not discharging:
        # A discharge letter tells the patient their follow-up has ended: never while it goes on.
        return "This patient is not discharged: record the discharge first (Status changes), then write the letters."
    if kind == LetterKind.PIFU and patient.follow_up_model != c.FollowUpModel.PIFU:
        return (
            f"This patient's follow-up is {patient.get_follow_up_model_display().lower()}, not patient-initiated: "
            "change the follow-up model first."
        )
    if kind == LetterKind.PIFU:
        until = pifu_until(patient)
        if until is None:
            return "No PIFU period is set for this patient: set it first (PIFU period), then write the letter."
        if patient.pifu_ended(today):
            return (
                f"Patient-initiated follow-up ended on {long_date(until)}: end PIFU and discharge instead "
                "(the discharge letters are issued with it)."
            )
    return ""


def refusal_fix(patient: Patient, message: str):
    """A link that fixes a refusal, where the record holds the answer (None otherwise)."""
    if "address" in message or "GP practice" in message:
        return format_html(
            '<a href="{}">Change contact details</a>', reverse("followup:patient_contact_details", args=[patient.pk])
        )
    if "PIFU period" in message:
        return format_html(
            '<a href="{}">Set the PIFU period</a>', reverse("followup:patient_pifu_period", args=[patient.pk])
        )
    if "end PIFU and discharge" in message:
        return format_html('<a href="{}">End PIFU and discharge</a>', reverse("letters:pifu_end", args=[patient.pk]))
    return None


def check_can_write(
    *,
    patient: Patient,
    kind: str,
    letterhead: Letterhead | None,
    today: date,
    result: FollowUpItem | StagingTest | None = None,
) -> None:
    message = refusal(patient=patient, kind=kind, letterhead=letterhead, today=today, result=result)
    if message:
        raise ValidationError({"result" if message == UNCLASSIFIED_REFUSAL else "kind": message})


# The letter -------------------------------------------------------------------------------------------


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)  # (term, words), as a two-column list


@dataclass
class LetterText:
    """Everything a letter template prints."""

    kind: str
    title: str
    letterhead: Letterhead
    dated: str
    to_name: str
    to_lines: list[str]
    salutation: str
    about: list[tuple[str, str]]  # the "Re:" block: name, NHS number, date of birth, address
    opening: list[str]
    sections: list[Section]
    extra_paragraph: str
    closing: list[str]
    signed_by: str  # the named nurse
    cc_name: str
    cc_lines: list[str]
    hospital_number: str = ""


def _nurse_line(patient: Patient, letterhead: Letterhead) -> str:
    nurse = _who(patient.named_nurse)
    return f"Your named breast care nurse is {nurse}. You can call the breast care nurses on {letterhead.phone}."


def _how_to_contact(patient: Patient, letterhead: Letterhead) -> Section:
    rows = [
        ("Your breast care nurse", f"{_who(patient.named_nurse)}, {letterhead.unit_name}"),
        ("Breast care nurses", letterhead.phone),
        ("Acute oncology (urgent, any time)", letterhead.acute_oncology_phone),
    ]
    if letterhead.email:
        rows.append(("Email (not for urgent problems)", letterhead.email))
    return Section("How to contact us", rows=rows)


def _urgent(letterhead: Letterhead) -> Section:
    numbers = {"acute_oncology": f" Acute oncology: {letterhead.acute_oncology_phone}.", "999": "", "team": ""}
    paragraphs = [f"{u.symptoms} {u.action}{numbers[u.call]}" for u in advice.URGENT]
    paragraphs.append(f"{advice.EVERYTHING_ELSE} Breast care nurses: {letterhead.phone}.")
    return Section("Get help straight away", paragraphs)


def _symptoms() -> Section:
    rows = []
    for area in advice.SYMPTOMS_TO_REPORT:
        words = area.symptoms[:1].upper() + area.symptoms[1:] + "."
        if area.urgent:
            words += f" Urgent: {area.urgent}."
        rows.append((area.heading, words))
    return Section("Symptoms to report", [advice.REPORT_NEW_SYMPTOMS], rows)


def _report_online() -> Section:
    """The self-report page (selfreport/): the personal code is never in the letter, and not every
    letter goes with one, so the wording holds whether or not a code was sent."""
    return Section(
        "Report symptoms online",
        [
            f"You can also tell us about new symptoms online at {settings.SITE_URL}/report-symptoms/. "
            "You need your date of birth and your personal code. Your breast care nurse gives you the code; "
            "ask us if you do not have one. "
            "We reply within "
            f"{settings.SELF_REPORT_RESPONSE_DAYS} working day{pluralize(settings.SELF_REPORT_RESPONSE_DAYS)}. "
            "It is not for emergencies: for anything urgent, call the numbers below."
        ],
    )


def _surveillance(patient: Patient) -> Section:
    items = FollowUpItem.objects.open().filter(patient=patient).order_by("due_on", "pk")
    rows = []
    for item in items:
        if item.status == c.FollowUpStatus.BOOKED:
            rows.append((item.get_kind_display(), f"booked for {long_date(item.booked_for)}"))
        else:
            rows.append((item.get_kind_display(), f"due {long_date(item.due_on)}"))
    if not rows:
        return Section("Your check-ups", ["No check-ups are booked or due at the moment. We will write when they are."])
    return Section("Your check-ups", ["These are the check-ups planned for you:"], rows)


def letter_text(
    *,
    patient: Patient,
    kind: str,
    letterhead: Letterhead,
    result: FollowUpItem | StagingTest | None = None,
    extra_paragraph: str = "",
    on: date,
) -> LetterText:
    """The letter's words. ``patient`` with named_nurse and gp_practice (for_letter())."""
    gp = patient.gp_practice
    to_gp = RECIPIENT_OF[kind] == Recipient.GP
    patient_lines = patient_address(patient)
    gp_lines = gp.address_lines if gp else []
    about = [
        ("Name", patient.full_name),
        ("NHS number", patient.nhs_number_display or "Not recorded"),
        ("Date of birth", long_date(patient.date_of_birth)),
        ("Address", ", ".join(patient_lines) or "Not recorded"),
    ]
    first = patient.given_name
    opening: list[str] = []
    sections: list[Section] = []
    closing: list[str] = []
    if kind in RESULT_KINDS:
        found = result_of(result)
        title = f"Your {found.test[:1].lower() + found.test[1:]} result" if not to_gp else f"{found.test} result"
        if to_gp:
            opening = [
                f"We are writing to tell you the result of {first} {patient.family_name}'s "
                f"{found.test[:1].lower() + found.test[1:]} on {long_date(found.on)}: {found.outcome}.",
                f"As we explain it to {first}: {found.sentence.replace('Your ', 'their ', 1)}",
            ]
        else:
            opening = [f"We are writing to tell you the result of your recent test. {found.sentence}"]
        sections.append(
            Section(
                "The result",
                rows=[("Test", found.test), ("Date", long_date(found.on)), ("Result", found.outcome)],
            )
        )
        closing = [_nurse_line(patient, letterhead)] if not to_gp else []
    elif kind == LetterKind.CARE_PLAN:
        title = "Your care plan"
        opening = [
            "This is your written care plan for the years after your treatment for breast cancer. "
            "It says when your check-ups are, what to look out for, and whom to call.",
        ]
        sections = [
            _surveillance(patient),
            _symptoms(),
            _report_online(),
            _urgent(letterhead),
            _how_to_contact(patient, letterhead),
        ]
    elif kind == LetterKind.PIFU:
        until = pifu_until(patient)
        title = "Patient-initiated follow-up"
        opening = [
            "You are now on patient-initiated follow-up. This means you will not have routine clinic "
            "appointments. Instead, you contact us when something changes or worries you, and we will see you "
            "quickly.",
            f"This lasts until {long_date(until)}. Your surveillance "
            "mammograms carry on as planned. At the end we will discharge you to your GP, and write to you both.",
        ]
        sections = [
            _surveillance(patient),
            _symptoms(),
            _report_online(),
            _urgent(letterhead),
            _how_to_contact(patient, letterhead),
        ]
    else:  # discharge
        discharged = patient.discharged_on or on
        title = "Discharge from breast care follow-up"
        if to_gp:
            opening = [
                f"{first} {patient.family_name} has completed follow-up with the breast care team and is "
                f"discharged to your care from {long_date(discharged)}.",
                "We have written to them with the symptoms to report. If any of them appear, please refer back "
                f"to us: breast care nurses {letterhead.phone}.",
            ]
            if patient.discharge_reason:
                opening.append(f"Reason for discharge: {patient.discharge_reason}")
        else:
            opening = [
                f"You have finished your follow-up with the breast care team. From {long_date(discharged)} "
                "your GP looks after your care. When you are of screening age you will be invited for NHS "
                "breast screening.",
                "If you notice any of the symptoms below, contact your GP, or call us.",
            ]
            sections = [_symptoms(), _urgent(letterhead), _how_to_contact(patient, letterhead)]
    if to_gp:
        to_name, to_lines = gp.name, gp_lines
        cc_name, cc_lines = patient.full_name, patient_lines
        salutation = "Dear Doctor"
    else:
        to_name, to_lines = patient.full_name, patient_lines
        cc_name, cc_lines = (gp.name, gp_lines) if gp else ("", [])
        salutation = f"Dear {patient.full_name}"
    return LetterText(
        kind=kind,
        title=title,
        letterhead=letterhead,
        dated=long_date(on),
        to_name=to_name,
        to_lines=to_lines,
        salutation=salutation,
        about=about,
        opening=opening,
        sections=sections,
        extra_paragraph=extra_paragraph.strip(),
        closing=closing,
        signed_by=_who(patient.named_nurse),
        cc_name=cc_name,
        cc_lines=cc_lines,
        hospital_number=patient.hospital_number,
    )
