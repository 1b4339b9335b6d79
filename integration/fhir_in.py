"""A FHIR R4 DiagnosticReport (JSON) read into a ``Report`` of plain values (services.receive places it).

Validated with fhir.resources' R4B models (wire-compatible with R4 for DiagnosticReport, Patient and
Observation): a report that is not valid FHIR is refused with the element that is wrong. Then the
rules of docs/integration.md ("## FHIR"):

- the subject is a contained Patient ("#id") or ``subject.identifier``, with an NHS number
  (system https://fhir.nhs.uk/Id/nhs-number); a contained Patient gives family name and birth date too;
- the exam code is the first ``code.coding`` the code map knows (else the first): LOINC -> "LN",
  SNOMED CT -> "SCT", a NICIP system -> "NICIP", any other system -> "LOCAL";
- ``effectiveDateTime`` / ``effectivePeriod.start`` -> performed, ``issued`` -> reported;
- the text is ``conclusion``, the contained Observations' text and ``presentedForm`` text/plain;
- ``final`` is a report, ``amended`` / ``corrected`` / ``appended`` an amendment (an addendum also
  changes what the clinician must read); any other status is refused with why;
- ``identifier`` is required: it is what makes a resend a duplicate and an amendment find its report
  (the control id is identifier|status, then ``meta.versionId``, or an amendment's ``issued``);
- ``conclusionCode`` (SNOMED CT) pre-fills the classification where the code is sure (``suggest``).
"""

import json
from datetime import date, datetime
from functools import reduce
from operator import or_

from django.db.models import Q
from django.utils import timezone
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from pydantic import ValidationError

from followup import choices as c
from followup.nhs import nhs_number_error, normalise_nhs_number

from .models import ExamCode
from .services import Report, Unreadable

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
LOINC_SYSTEM = "http://loinc.org"
SNOMED_SYSTEM = "http://snomed.info/sct"

REPORT_STATUSES = {"final": False, "amended": True, "corrected": True, "appended": True}
REFUSED_STATUSES = {
    "registered": "The report is only registered: send it when it is final.",
    "partial": "The report is partial: send it when it is final.",
    "preliminary": "The report is preliminary: send it when it is final (a preliminary report is not recorded).",
    "cancelled": "The report is cancelled: there is no result to record. Tell the breast care team if a "
    "result of this exam was sent before.",
    "entered-in-error": "The report says it was entered in error: it is not recorded. Tell the breast care "
    "team if it was sent before, so that a person removes the result.",
}


class NotFhir(Unreadable):
    """Not JSON, not a DiagnosticReport, or not valid FHIR R4: the sender's message is malformed (HTTP 400)."""


# What a SNOMED CT conclusion code says, in words that do not depend on the kind of exam.
NO_ABNORMALITY, ABNORMAL, EQUIVOCAL, METASTATIC = "no-abnormality", "abnormal", "equivocal", "metastatic"
SNOMED_FINDINGS = {
    "281900007": NO_ABNORMALITY,  # No abnormality detected
    "17621005": NO_ABNORMALITY,  # Normal
    "263654008": ABNORMAL,  # Abnormal
    "42425007": EQUIVOCAL,  # Equivocal
    "128462008": METASTATIC,  # Secondary malignant neoplastic disease
    "94222008": METASTATIC,  # Secondary malignant neoplasm of bone
    "94391008": METASTATIC,  # Secondary malignant neoplasm of lung
    "94381002": METASTATIC,  # Secondary malignant neoplasm of liver
    "94225005": METASTATIC,  # Secondary malignant neoplasm of brain
}
# A finding as a staging result (looking for distant spread) and as a follow-up imaging outcome.
# "Abnormal" is not "distant disease", and COSD's imaging outcomes have no "equivocal": no guess.
AS_STAGING = {
    NO_ABNORMALITY: c.StagingResult.CLEAR,
    EQUIVOCAL: c.StagingResult.EQUIVOCAL,
    METASTATIC: c.StagingResult.DISTANT,
}
AS_IMAGING = {
    NO_ABNORMALITY: c.ImagingOutcome.NORMAL,
    ABNORMAL: c.ImagingOutcome.ABNORMAL,
    METASTATIC: c.ImagingOutcome.ABNORMAL,
}


def read(body: str) -> Report:
    """The report the message carries, or ``Unreadable`` (``NotFhir`` for a malformed one) with why."""
    report = _validated(body)
    status = report.status
    if status in REFUSED_STATUSES:
        raise Unreadable(REFUSED_STATUSES[status])
    if status not in REPORT_STATUSES:
        raise NotFhir(f"DiagnosticReport.status: '{status}' is not a FHIR R4 report status.")
    report_id = _report_id(report)
    control_id = f"{report_id}|{status}"
    if report.meta and report.meta.versionId:
        control_id += f"|{report.meta.versionId}"
    elif REPORT_STATUSES[status] and report.issued:
        # A second amendment of the same report, sent without a version, is a new message (a new
        # issued time), not a resend of the first: dropping it as a duplicate would lose it.
        control_id += f"|{report.issued.isoformat()}"
    if len(control_id) > 300:
        raise Unreadable("DiagnosticReport.identifier is too long (over 250 characters).")
    contained = {resource.id: resource for resource in report.contained or [] if resource.id}
    patient = _subject(report, contained)
    exam_system, exam_code, exam_name, codes = _exam(report)
    return Report(
        control_id=control_id,
        report_id=report_id,
        nhs_number=patient["nhs_number"],
        family_name=patient["family_name"][:100],
        given_name=patient["given_name"][:100],
        date_of_birth=patient["date_of_birth"],
        exam_code=exam_code,
        exam_system=exam_system,
        exam_name=exam_name[:200],
        performed_on=_day(report.effectiveDateTime or (report.effectivePeriod and report.effectivePeriod.start)),
        reported_on=_day(report.issued),
        report_text=_text(report, contained),
        amendment=REPORT_STATUSES[status],
        suggested_result=suggest(_findings(report), codes),
    )


def _validated(body: str) -> DiagnosticReport:
    try:
        data = json.loads(body)
    except ValueError as error:
        raise NotFhir(f"The body is not JSON: {error}.") from None
    if not isinstance(data, dict) or data.get("resourceType") != "DiagnosticReport":
        found = data.get("resourceType") if isinstance(data, dict) else None
        raise NotFhir(f"Expected a FHIR DiagnosticReport resource, got {found or 'something else'}.")
    try:
        return DiagnosticReport.model_validate(data)
    except ValidationError as error:
        raise NotFhir("The DiagnosticReport is not valid FHIR R4: " + describe(error, "DiagnosticReport")) from None


def describe(error: ValidationError, resource: str, limit: int = 3) -> str:
    """A pydantic error in FHIR's words: DiagnosticReport.contained[0].birthDate: the reason."""
    parts = []
    for problem in error.errors()[:limit]:
        path = resource
        for step in problem["loc"]:
            if isinstance(step, int):
                path += f"[{step}]"
            elif step not in ("__root__",):
                path += f".{'resourceType' if step == 'resource_type' else step}"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "is not an element of this resource"
        parts.append(f"{path}: {' '.join(message.split())}")
    more = len(error.errors()) - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "") + "."


def _report_id(report: DiagnosticReport) -> str:
    for identifier in report.identifier or []:
        if identifier.value:
            return f"{identifier.system or ''}|{identifier.value}"
    raise Unreadable("DiagnosticReport.identifier is needed so that a resend is recorded once.")


def _nhs_number(identifiers) -> str:
    for identifier in identifiers or []:
        if identifier.system == NHS_NUMBER_SYSTEM and identifier.value:
            number = normalise_nhs_number(identifier.value)
            error = nhs_number_error(number)
            if error:
                raise Unreadable(f"The NHS number {identifier.value} is not valid: {error}")
            return number
    return ""


def _subject(report: DiagnosticReport, contained: dict) -> dict:
    """The subject's NHS number, names and birth date (a contained Patient), or its identifier only."""
    found = {"nhs_number": "", "family_name": "", "given_name": "", "date_of_birth": None}
    subject = report.subject
    if subject is None:
        raise Unreadable("DiagnosticReport.subject is needed: the patient, with an NHS number.")
    reference = subject.reference or ""
    if reference.startswith("#"):
        patient = contained.get(reference[1:])
        if not isinstance(patient, FhirPatient):
            raise Unreadable(f"DiagnosticReport.subject refers to {reference}, which is not a contained Patient.")
        found["nhs_number"] = _nhs_number(patient.identifier)
        name = (patient.name or [None])[0]
        if name is not None:
            found["family_name"] = name.family or ""
            found["given_name"] = " ".join(name.given or [])
        found["date_of_birth"] = patient.birthDate if isinstance(patient.birthDate, date) else None
    if not found["nhs_number"] and subject.identifier is not None:
        found["nhs_number"] = _nhs_number([subject.identifier])
    if not found["nhs_number"]:
        raise Unreadable(
            f"The report has no NHS number: give the subject (a contained Patient, or subject.identifier) "
            f"an identifier with system {NHS_NUMBER_SYSTEM}."
        )
    return found


def exam_system_of(system: str) -> str:
    if system == LOINC_SYSTEM:
        return "LN"
    if system == SNOMED_SYSTEM:
        return "SCT"
    if "nicip" in system.casefold():
        return "NICIP"
    return "LOCAL"


def _exam(report: DiagnosticReport) -> tuple[str, str, str, list[ExamCode]]:
    """(system, code, name, the code map's rows for it): the first coding the map knows, else the first."""
    codings = [coding for coding in report.code.coding or [] if coding.code]
    text = report.code.text or ""
    if not codings:
        return "", "", text, []
    keyed = [(exam_system_of(coding.system or ""), coding.code.strip(), coding) for coding in codings]
    # Codes compare without case, as services.exam_codes() does: one query for all the codings.
    wanted = reduce(or_, (Q(code__iexact=code) for _, code, _ in keyed))
    known = list(ExamCode.objects.filter(wanted, active=True))
    for system, code, coding in keyed:
        rows = [row for row in known if row.code.casefold() == code.casefold() and row.system == system]
        if rows:
            return system, code[:40], coding.display or text, rows
    system, code, coding = keyed[0]
    return system, code[:40], coding.display or text, []


def _day(value) -> date | None:
    """A FHIR date, dateTime or instant as our day (local time); a year or year-month alone is no day."""
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    return None


def _observation_text(observation: Observation) -> str:
    parts = []
    if observation.valueString:
        parts.append(observation.valueString)
    elif observation.valueCodeableConcept is not None and observation.valueCodeableConcept.text:
        parts.append(observation.valueCodeableConcept.text)
    elif observation.valueQuantity is not None and observation.valueQuantity.value is not None:
        quantity = observation.valueQuantity
        parts.append(f"{quantity.value} {quantity.unit or quantity.code or ''}".strip())
    if parts and observation.code is not None:
        name = observation.code.text or next((c.display for c in observation.code.coding or [] if c.display), "")
        if name and len(parts[0]) < 80:
            parts[0] = f"{name}: {parts[0]}"
    parts += [note.text for note in observation.note or [] if note.text]
    return "\n".join(parts)


def _text(report: DiagnosticReport, contained: dict) -> str:
    """The conclusion, then each result Observation's text, then any plain-text presented form."""
    parts = [report.conclusion] if report.conclusion else []
    seen = set()
    for result in report.result or []:
        reference = result.reference or ""
        observation = contained.get(reference[1:]) if reference.startswith("#") else None
        if isinstance(observation, Observation):
            seen.add(observation.id)
            parts.append(_observation_text(observation))
        elif reference:
            # Never lose silently what the report points at: the reader is told it was not sent.
            parts.append(f"[The result {reference} was referred to but not sent with the report.]")
    for resource in report.contained or []:
        if isinstance(resource, Observation) and resource.id not in seen:
            parts.append(_observation_text(resource))
    for form in report.presentedForm or []:
        if (form.contentType or "").split(";")[0].strip() == "text/plain" and form.data:
            parts.append(form.data.decode("utf-8", errors="replace"))
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


def _findings(report: DiagnosticReport) -> set[str]:
    return {
        SNOMED_FINDINGS[coding.code]
        for concept in report.conclusionCode or []
        for coding in concept.coding or []
        if coding.system == SNOMED_SYSTEM and coding.code in SNOMED_FINDINGS
    }


def suggest(findings: set[str], codes: list[ExamCode]) -> str:
    """The classification a coded conclusion suggests, in the vocabulary of what the exam answers.

    One finding only (codes that disagree suggest nothing). An exam the code map sends to staging
    tests only gets a staging result, one sent to follow-up items only an imaging outcome; a code
    mapped to both (bloods) suggests nothing, since which one it answers is known only once placed.
    It pre-fills the clinician's classification; it never classifies nor acknowledges.
    """
    if len(findings) != 1 or not codes:
        return ""
    (finding,) = findings
    staging = any(code.staging_modality for code in codes)
    followup = any(code.followup_kind for code in codes)
    if staging and not followup:
        return AS_STAGING.get(finding, "")
    if followup and not staging:
        return AS_IMAGING.get(finding, "")
    return ""
