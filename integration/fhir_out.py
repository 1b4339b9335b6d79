"""Our records as FHIR R4 resources (JSON dicts), each checked by fhir.resources' R4B models.

Built from rows the caller already fetched (views_fhir.py scopes them to the client's teams):
nothing here queries the database. What is emitted, and with which codes, is in
docs/integration.md ("## FHIR"); the SNOMED CT codes below are only those we are sure of, and a
site without one is sent by its text alone.

- Patient: NHS number, name, gender, birth date, deceased, the GP practice by ODS code.
- Condition: the primary breast cancer (SNOMED CT 254837009 with the breast's laterality), each
  local or regional recurrence (254837009 with the ICHOM recurrence code), each distant recurrence
  as an mCODE SecondaryCancerCondition (a code under 128462008, body sites). Status: suspected ->
  provisional, confirmed -> confirmed, refuted -> refuted. Rows entered in error are not emitted.
- DiagnosticReport: each staging test with a result and each follow-up result.
"""

from datetime import datetime, time

from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from followup import choices as c

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICHOM_RECURRENCE = "http://hl7.org/fhir/uv/ichom-breast-cancer/CodeSystem/RecurrenceCodeSystem"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
MCODE_SECONDARY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-secondary-cancer-condition"
# The code map's own systems have no public URL we can be sure of: these name them (docs/integration.md).
NICIP_SYSTEM = "https://fhir.nhs.uk/CodeSystem/NICIP"
LOCAL_EXAM_SYSTEM = "urn:followup:local-exam-code"
CODE_MAP_SYSTEMS = {"LN": LOINC, "SCT": SNOMED, "NICIP": NICIP_SYSTEM, "LOCAL": LOCAL_EXAM_SYSTEM}

GENDER = {c.Sex.FEMALE: "female", c.Sex.MALE: "male", c.Sex.INDETERMINATE: "other", c.Sex.NOT_KNOWN: "unknown"}
BREAST = {
    c.Laterality.LEFT: ("80248007", "Left breast structure"),
    c.Laterality.RIGHT: ("73056007", "Right breast structure"),
    c.Laterality.BILATERAL: ("63762007", "Both breasts"),
}
BREAST_CANCER = ("254837009", "Malignant neoplasm of breast")
PRIMARY_BREAST_CANCER = ("372137005", "Primary malignant neoplasm of breast")
SECONDARY = ("128462008", "Secondary malignant neoplastic disease")
# Our sites as SNOMED CT body structures (where sure; the others go as text).
BODY_STRUCTURE = {
    c.Site.BREAST: ("76752008", "Breast structure"),
    c.Site.CHEST_WALL: ("78904004", "Chest wall structure"),
    c.Site.AXILLARY_NODES: ("68171009", "Axillary lymph node structure"),
    c.Site.BONE: ("272673000", "Bone structure"),
    c.Site.BONE_MARROW: ("14016003", "Bone marrow structure"),
    c.Site.LUNG: ("39607008", "Lung structure"),
    c.Site.LIVER: ("10200004", "Liver structure"),
    c.Site.BRAIN: ("12738006", "Brain structure"),
    c.Site.DISTANT_NODES: ("59441001", "Structure of lymph node"),
    c.Site.SKIN: ("39937001", "Skin structure"),
    c.Site.OVARY: ("15497006", "Ovarian structure"),
    c.Site.PLEURA: ("3120008", "Pleural membrane structure"),
    c.Site.PERITONEUM: ("15425007", "Peritoneum structure"),
}
# A distant site's own secondary-neoplasm code under 128462008 (where sure; else 128462008 itself).
SECONDARY_OF_SITE = {
    c.Site.BONE: ("94222008", "Secondary malignant neoplasm of bone"),
    c.Site.LUNG: ("94391008", "Secondary malignant neoplasm of lung"),
    c.Site.LIVER: ("94381002", "Secondary malignant neoplasm of liver"),
    c.Site.BRAIN: ("94225005", "Secondary malignant neoplasm of brain"),
}
RECURRENCE_TYPE = {
    c.MetastaticType.LOCAL: ("local-recurrence", "Yes, local recurrence", "Local recurrence of breast cancer"),
    c.MetastaticType.REGIONAL: (
        "regional-recurrence",
        "Yes, regional recurrence",
        "Regional recurrence of breast cancer",
    ),
    c.MetastaticType.DISTANT: ("distant-recurrence", "Yes, distant recurrence", "Secondary (metastatic) breast cancer"),
}
VERIFICATION = {
    c.RecurrenceStatus.SUSPECTED: "provisional",
    c.RecurrenceStatus.CONFIRMED: "confirmed",
    c.RecurrenceStatus.REFUTED: "refuted",
}
# Classified results as SNOMED CT qualifiers / findings (where sure; the others go as text).
STAGING_CONCLUSION = {
    c.StagingResult.CLEAR: ("281900007", "No abnormality detected"),
    c.StagingResult.EQUIVOCAL: ("42425007", "Equivocal"),
    c.StagingResult.DISTANT: SECONDARY,
}
IMAGING_CONCLUSION = {
    c.ImagingOutcome.NORMAL: ("17621005", "Normal"),
    c.ImagingOutcome.ABNORMAL: ("263654008", "Abnormal"),
}
LABORATORY_MODALITIES = (c.StagingModality.BLOODS, c.StagingModality.TUMOUR_MARKERS)


def validated(resource: dict) -> dict:
    """The resource, once its R4B model accepts it (a Bundle checks every entry): a bug otherwise."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def coding(system: str, code: str, display: str = "") -> dict:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def concept(system: str, code: str, display: str, text: str = "") -> dict:
    return {"coding": [coding(system, code, display)], "text": text or display}


def instant(value) -> str:
    """A datetime (or a date, as the start of that day in our time zone) as a FHIR instant."""
    if not isinstance(value, datetime):
        value = timezone.make_aware(datetime.combine(value, time.min))
    return timezone.localtime(value).isoformat(timespec="seconds")


def meta(row, **more) -> dict:
    return {"lastUpdated": instant(row.updated_at), **more}


def patient(row) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": str(row.pk),
        "meta": meta(row),
        "name": [{"use": "official", "family": row.family_name, "given": [row.given_name]}],
        "gender": GENDER.get(row.sex, "unknown"),
        "birthDate": row.date_of_birth.isoformat(),
    }
    if row.nhs_number:
        resource["identifier"] = [{"system": NHS_NUMBER_SYSTEM, "value": row.nhs_number}]
    if row.date_of_death:
        resource["deceasedDateTime"] = row.date_of_death.isoformat()
    else:
        resource["deceasedBoolean"] = False
    if row.gp_practice is not None:
        resource["generalPractitioner"] = [
            {
                "type": "Organization",
                "identifier": {"system": ODS_SYSTEM, "value": row.gp_practice.ods_code},
                "display": row.gp_practice.name,
            }
        ]
    return resource


def _subject(patient_id: int) -> dict:
    return {"reference": f"Patient/{patient_id}"}


def primary_condition(row) -> dict:
    resource = {
        "resourceType": "Condition",
        "id": f"primary-{row.pk}",
        "meta": meta(row),
        "verificationStatus": concept(VERIFICATION_STATUS, "confirmed", "Confirmed"),
        "code": {
            "coding": [coding(SNOMED, *BREAST_CANCER), coding(SNOMED, *PRIMARY_BREAST_CANCER)],
            "text": "Primary breast cancer",
        },
        "subject": _subject(row.patient_id),
        "onsetDateTime": row.diagnosed_on.isoformat(),
        "recordedDate": instant(row.created_at),
    }
    if row.laterality:
        code, display = BREAST[row.laterality]
        resource["bodySite"] = [concept(SNOMED, code, display, row.get_laterality_display() + " breast")]
    return resource


def body_site(site) -> dict:
    text = site.other_site_text or site.get_site_display()
    if site.site in BODY_STRUCTURE:
        code, display = BODY_STRUCTURE[site.site]
        return concept(SNOMED, code, display, text)
    return {"text": text}


def recurrence_condition(row) -> dict:
    """A recurrence; its sites must be loaded (views_fhir prefetches those not entered in error)."""
    ichom_code, ichom_display, text = RECURRENCE_TYPE[row.metastatic_type]
    sites = list(row.sites.all())
    if row.metastatic_type == c.MetastaticType.DISTANT:
        own = {SECONDARY_OF_SITE[site.site] for site in sites if site.site in SECONDARY_OF_SITE}
        snomed = own.pop() if len(own) == 1 and len(sites) == 1 else SECONDARY
    else:
        snomed = BREAST_CANCER
    resource = {
        "resourceType": "Condition",
        "id": f"recurrence-{row.pk}",
        "meta": meta(row),
        "verificationStatus": concept(
            VERIFICATION_STATUS, VERIFICATION[row.status], VERIFICATION[row.status].capitalize()
        ),
        "code": {
            "coding": [coding(SNOMED, *snomed), coding(ICHOM_RECURRENCE, ichom_code, ichom_display)],
            "text": text,
        },
        "subject": _subject(row.patient_id),
        "onsetDateTime": row.diagnosed_on.isoformat(),
        "recordedDate": instant(row.created_at),
    }
    if row.metastatic_type == c.MetastaticType.DISTANT:
        resource["meta"]["profile"] = [MCODE_SECONDARY]
    # A refuted recurrence has no clinical status (FHIR: the condition never was).
    if row.status != c.RecurrenceStatus.REFUTED:
        resource["clinicalStatus"] = concept(CLINICAL_STATUS, "active", "Active")
    if sites:
        resource["bodySite"] = [body_site(site) for site in sites]
    return resource


def _exam_code(text: str, rows: list) -> dict:
    """The report's code: our text, with the code map's code when exactly one row maps to it."""
    code = {"text": text}
    if len(rows) == 1:
        code["coding"] = [
            coding(CODE_MAP_SYSTEMS.get(rows[0].system, LOCAL_EXAM_SYSTEM), rows[0].code, rows[0].display)
        ]
    return code


def _category(code: str, display: str) -> list[dict]:
    return [{"coding": [coding(DIAGNOSTIC_SERVICE, code, display)]}]


def _conclusion(label: str, text: str) -> str:
    return f"{label}.\n\n{text}".strip() if text.strip() else f"{label}."


def staging_report(test, *, patient_id: int, code_map: dict) -> dict:
    """A staging test with its result (its distant sites loaded); ``code_map``: modality -> code map rows."""
    laboratory = test.modality in LABORATORY_MODALITIES
    resource = {
        "resourceType": "DiagnosticReport",
        "id": f"staging-{test.pk}",
        "meta": meta(test),
        "status": "amended" if test.report_amended else "final",
        "category": _category("LAB", "Laboratory") if laboratory else _category("RAD", "Radiology"),
        "code": _exam_code(test.get_modality_display(), code_map.get(test.modality, [])),
        "subject": _subject(patient_id),
        "conclusion": _conclusion(test.get_result_display(), test.result_notes),
    }
    if test.performed_on:
        resource["effectiveDateTime"] = test.performed_on.isoformat()
    if test.reported_on:
        resource["issued"] = instant(test.reported_on)
    if test.result in STAGING_CONCLUSION:
        code, display = STAGING_CONCLUSION[test.result]
        concepts = [concept(SNOMED, code, display, test.get_result_display())]
        for site in test.sites.all():
            if site.site in SECONDARY_OF_SITE:
                concepts.append(concept(SNOMED, *SECONDARY_OF_SITE[site.site]))
            else:
                concepts.append({"text": f"Distant disease: {site.other_site_text or site.get_site_display()}"})
        resource["conclusionCode"] = concepts
    elif test.result != c.StagingResult.REPORTED:
        resource["conclusionCode"] = [{"text": test.get_result_display()}]
    return resource


def followup_report(item, *, code_map: dict) -> dict:
    """A follow-up item done with its result; ``code_map``: kind -> code map rows."""
    laboratory = item.kind == c.FollowUpKind.BLOODS
    resource = {
        "resourceType": "DiagnosticReport",
        "id": f"followup-{item.pk}",
        "meta": meta(item),
        "status": "amended" if item.report_amended else "final",
        "category": _category("LAB", "Laboratory") if laboratory else _category("RAD", "Radiology"),
        "code": _exam_code(item.get_kind_display(), code_map.get(item.kind, [])),
        "subject": _subject(item.patient_id),
        "effectiveDateTime": item.done_on.isoformat(),
        "conclusion": _conclusion(item.get_result_display(), item.report),
    }
    if item.result_recorded_on:
        resource["issued"] = instant(item.result_recorded_on)
    if item.result in IMAGING_CONCLUSION:
        code, display = IMAGING_CONCLUSION[item.result]
        resource["conclusionCode"] = [concept(SNOMED, code, display, item.get_result_display())]
    elif item.result != c.ImagingOutcome.REPORTED:
        resource["conclusionCode"] = [{"text": item.get_result_display()}]
    return resource


def bundle(*, base: str, resources: list[dict], total: int, links: dict[str, str]) -> dict:
    return {
        "resourceType": "Bundle",
        "meta": {"lastUpdated": instant(timezone.now())},
        "type": "searchset",
        "total": total,
        "link": [{"relation": relation, "url": url} for relation, url in links.items()],
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }


def operation_outcome(text: str, *, code: str = "processing", severity: str = "error", where: str = "") -> dict:
    issue = {"severity": severity, "code": code, "diagnostics": text}
    if where:
        issue["expression"] = [where]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def capability_statement(*, base: str, published) -> dict:
    def search(name: str, kind: str, doc: str) -> dict:
        return {"name": name, "type": kind, "documentation": doc}

    paging = [
        search("_count", "number", "Entries a page (default 20, at most 100)."),
        search("_offset", "number", "Entries to skip (the next and previous links carry it)."),
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(published),
        "publisher": "Breast-care follow-up tracker",
        "kind": "instance",
        "software": {"name": "Breast-care follow-up tracker"},
        "implementation": {"description": "Breast-care follow-up tracker FHIR API", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Every request but this one needs 'Authorization: Bearer <token>' of a client "
                    "an admin registered; a client sees the patients of its teams only."
                },
                "resource": [
                    {
                        "type": "Patient",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            search("identifier", "token", f"{NHS_NUMBER_SYSTEM}|<NHS number>"),
                            search("_id", "token", "The patient's id."),
                            *paging,
                        ],
                    },
                    {
                        "type": "Condition",
                        "supportedProfile": [MCODE_SECONDARY],
                        "interaction": [{"code": "search-type"}],
                        "searchParam": [search("patient", "reference", "The patient's id (required)."), *paging],
                    },
                    {
                        "type": "DiagnosticReport",
                        "interaction": [{"code": "search-type"}, {"code": "create"}],
                        "searchParam": [search("patient", "reference", "The patient's id (required)."), *paging],
                    },
                ],
            }
        ],
    }
