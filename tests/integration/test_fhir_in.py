"""FHIR R4 DiagnosticReports in: POST /fhir/DiagnosticReport (views_fhir.py, fhir_in.py).

Each test posts a real FHIR JSON report and asserts the response (status, OperationOutcome) and the
database (the inbox message, the staging test or follow-up item).
"""

import base64
import copy
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from followup import choices as c
from integration import fhir_in
from integration.models import ApiAction, ApiOutcome, ApiRequest, InboxMessage, MessageFormat, MessageStatus
from integration.services import Unreadable

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"
NHS = "https://fhir.nhs.uk/Id/nhs-number"
RIS = "https://ris.north.example.nhs.uk/exam-codes"
URL = "/fhir/DiagnosticReport"


def report_for(patient, *, code="CTCAP", system=RIS, status="final", accession="ACC-1001", **changes) -> dict:
    """A radiology report as a RIS sends it: a contained Patient and Observation, an accession number."""
    today = timezone.localdate()
    report = {
        "resourceType": "DiagnosticReport",
        "identifier": [{"system": "https://ris.north.example.nhs.uk/accession", "value": accession}],
        "status": status,
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}],
        "code": {"coding": [{"system": system, "code": code, "display": "CT chest, abdomen and pelvis"}]},
        "contained": [
            {
                "resourceType": "Patient",
                "id": "pat",
                "identifier": [{"system": NHS, "value": patient.nhs_number}],
                "name": [{"family": patient.family_name, "given": [patient.given_name]}],
                "birthDate": patient.date_of_birth.isoformat(),
            },
            {
                "resourceType": "Observation",
                "id": "finding",
                "status": "final",
                "code": {"text": "Findings"},
                "valueString": "Lungs clear. Liver normal in size and attenuation.",
            },
        ],
        "subject": {"reference": "#pat"},
        "effectiveDateTime": (today - timedelta(days=2)).isoformat(),
        "issued": f"{today - timedelta(days=1)}T10:30:00+00:00",
        "result": [{"reference": "#finding"}],
        "conclusion": "No evidence of metastatic disease in the chest, abdomen or pelvis.",
    }
    report.update(changes)
    return report


def post(client, token, report, *, content_type=FHIR_JSON):
    body = report if isinstance(report, str | bytes) else json.dumps(report)
    return client.post(URL, data=body, content_type=content_type, headers={"Authorization": f"Bearer {token}"})


def outcome_text(response) -> str:
    """The OperationOutcome's diagnostics, once R4B accepts the outcome."""
    assert response["Content-Type"] == FHIR_JSON
    data = response.json()
    get_fhir_model_class("OperationOutcome").model_validate(data)
    return " ".join(issue["diagnostics"] for issue in data["issue"])


def test_a_final_report_for_the_open_ct_is_stored_matched_and_answered_201(client, sender_and_token, patient_with_ct):
    sender, token = sender_and_token
    patient, test = patient_with_ct
    response = post(client, token, report_for(patient))
    message = InboxMessage.objects.get()
    test.refresh_from_db()
    assert response.status_code == 201
    assert response["Content-Type"] == FHIR_JSON
    assert response["Location"] == f"http://testserver/fhir/DiagnosticReport/_inbox/{message.pk}"
    data = response.json()
    get_fhir_model_class("DiagnosticReport").model_validate(data)
    assert (data["id"], data["identifier"][0]["value"], data["status"]) == (str(message.pk), "ACC-1001", "final")
    assert (message.format, message.status, message.staging_test, message.patient) == (
        MessageFormat.FHIR,
        MessageStatus.MATCHED,
        test,
        patient,
    )
    assert message.control_id == "https://ris.north.example.nhs.uk/accession|ACC-1001|final"
    assert message.report_id == "https://ris.north.example.nhs.uk/accession|ACC-1001"
    assert (message.exam_system, message.exam_code) == ("LOCAL", "CTCAP")
    assert test.result == c.StagingResult.REPORTED and test.acknowledged_at is None
    assert test.performed_on == timezone.localdate() - timedelta(days=2)
    assert test.reported_on == timezone.localdate() - timedelta(days=1)
    assert test.result_notes == (
        "No evidence of metastatic disease in the chest, abdomen or pelvis.\n\n"
        "Findings: Lungs clear. Liver normal in size and attenuation."
    )
    assert list(ApiRequest.objects.values_list("action", "outcome", "status_code", "message")) == [
        (ApiAction.FHIR_RESULT, ApiOutcome.ACCEPTED, 201, message.pk)
    ]


def test_a_mammogram_report_with_a_plain_text_presented_form_marks_the_item_done(
    client, sender_and_token, patient_with_mammogram
):
    _, token = sender_and_token
    patient, item = patient_with_mammogram
    text = "Both breasts: no suspicious mass, calcification or distortion."
    report = report_for(
        patient,
        code="MAMMOB",
        effectiveDateTime=timezone.localdate().isoformat(),
        issued=f"{timezone.localdate()}T09:00:00Z",
        conclusion=None,
        contained=report_for(patient)["contained"][:1],
        result=[],
        presentedForm=[{"contentType": "text/plain; charset=utf-8", "data": base64.b64encode(text.encode()).decode()}],
    )
    del report["conclusion"], report["result"]
    response = post(client, token, report)
    item.refresh_from_db()
    assert response.status_code == 201
    assert (item.status, item.result, item.report) == (c.FollowUpStatus.DONE, c.ImagingOutcome.REPORTED, text)


def test_the_subject_may_be_an_nhs_number_identifier_alone(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, test = patient_with_ct
    report = report_for(patient, subject={"identifier": {"system": NHS, "value": patient.nhs_number}})
    report["contained"] = report["contained"][1:]
    assert post(client, token, report).status_code == 201
    message = InboxMessage.objects.get()
    assert (message.status, message.staging_test, message.family_name, message.date_of_birth) == (
        MessageStatus.MATCHED,
        test,
        "",
        None,
    )


def test_a_report_without_an_nhs_number_is_refused_422_and_kept_as_rejected(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, test = patient_with_ct
    report = report_for(patient)
    del report["contained"][0]["identifier"]
    response = post(client, token, report)
    message = InboxMessage.objects.get()
    test.refresh_from_db()
    assert response.status_code == 422
    assert outcome_text(response).startswith("The report has no NHS number")
    assert (message.status, message.body) == (MessageStatus.REJECTED, json.dumps(report))
    assert message.reason.startswith("The report has no NHS number")
    assert test.result == ""
    assert ApiRequest.objects.get().outcome == ApiOutcome.ERROR


def test_an_invalid_resource_is_refused_400_naming_the_element(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    report = report_for(patient)
    report["contained"][0]["birthDate"] = "17/05/1960"
    response = post(client, token, report)
    assert response.status_code == 400
    assert outcome_text(response) == (
        "The DiagnosticReport is not valid FHIR R4: DiagnosticReport.contained[0].birthDate: "
        "Date value string does not match spec regex.."
    )
    assert InboxMessage.objects.get().status == MessageStatus.REJECTED


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("{not json", "The body is not JSON"),
        ('{"resourceType": "Observation", "status": "final"}', "Expected a FHIR DiagnosticReport resource, got"),
        ('{"resourceType": "DiagnosticReport", "code": {"text": "CT"}}', "DiagnosticReport.status: Value for the"),
        ('{"resourceType": "DiagnosticReport", "status": "final", "code": {"text": "CT"}, "colour": 1}', "colour"),
    ],
)
def test_a_malformed_body_is_refused_400_and_kept(client, sender_and_token, body, why):
    _, token = sender_and_token
    response = post(client, token, body)
    assert response.status_code == 400
    assert why in outcome_text(response)
    assert list(InboxMessage.objects.values_list("status", "body")) == [(MessageStatus.REJECTED, body)]


def test_a_report_with_no_identifier_is_refused_so_a_resend_is_recorded_once(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    response = post(client, token, report_for(patient, identifier=[]))
    assert response.status_code == 422
    assert outcome_text(response) == "DiagnosticReport.identifier is needed so that a resend is recorded once."


@pytest.mark.parametrize("status", ["registered", "partial", "preliminary", "cancelled", "entered-in-error"])
def test_a_report_that_is_not_final_is_refused_with_why(client, sender_and_token, patient_with_ct, status):
    _, token = sender_and_token
    patient, test = patient_with_ct
    response = post(client, token, report_for(patient, status=status))
    test.refresh_from_db()
    assert response.status_code == 422
    assert outcome_text(response) == fhir_in.REFUSED_STATUSES[status]
    assert InboxMessage.objects.get().status == MessageStatus.REJECTED
    assert test.result == ""


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"nhs_number": "9434765919"}, "No patient of the teams this system serves has NHS number 9434765919."),
        ({"date_of_birth": "1950-01-01"}, "The date of birth in the message is not the date of birth"),
    ],
)
def test_a_report_that_cannot_be_placed_is_201_and_unmatched_with_why(
    client, sender_and_token, patient_with_ct, changes, why
):
    _, token = sender_and_token
    patient, test = patient_with_ct
    report = report_for(patient)
    if "nhs_number" in changes:
        report["contained"][0]["identifier"][0]["value"] = changes["nhs_number"]
    else:
        report["contained"][0]["birthDate"] = changes["date_of_birth"]
    response = post(client, token, report)
    message = InboxMessage.objects.get()
    test.refresh_from_db()
    assert response.status_code == 201
    assert response.json()["id"] == str(message.pk)
    assert message.status == MessageStatus.UNMATCHED and message.reason.startswith(why)
    assert message.staging_test is None and test.result == ""


def test_another_teams_patient_is_answered_as_an_unknown_one(client, sender_and_token, other_nurse):
    """H24: a sender learns nothing of other teams' patients: the same 201 as for a number nobody has."""
    from tests.factories import PatientFactory

    _, token = sender_and_token
    elsewhere = PatientFactory(team=other_nurse.team, named_nurse=other_nurse)
    first = post(client, token, report_for(elsewhere, accession="A1"))
    unknown = copy.deepcopy(report_for(elsewhere, accession="A2"))
    unknown["contained"][0]["identifier"][0]["value"] = "9434765919"
    second = post(client, token, unknown)
    messages = list(InboxMessage.objects.order_by("pk"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert [m.status for m in messages] == [MessageStatus.UNMATCHED, MessageStatus.UNMATCHED]
    assert messages[0].reason == f"No patient of the teams this system serves has NHS number {elsewhere.nhs_number}."
    assert messages[0].patient is None


def test_an_amended_report_is_attached_to_the_first_and_marks_the_result_amended(
    client, sender_and_token, patient_with_ct
):
    _, token = sender_and_token
    patient, test = patient_with_ct
    assert post(client, token, report_for(patient)).status_code == 201
    amended = report_for(patient, status="amended", conclusion="Addendum: a 4 mm lung nodule, indeterminate.")
    response = post(client, token, amended)
    first, second = InboxMessage.objects.order_by("pk")
    test.refresh_from_db()
    assert response.status_code == 201 and response.json()["id"] == str(second.pk)
    assert (second.is_amendment, second.amends, second.status, second.staging_test) == (
        True,
        first,
        MessageStatus.MATCHED,
        test,
    )
    assert second.control_id == f"{second.report_id}|amended|{timezone.localdate() - timedelta(days=1)}T10:30:00+00:00"
    assert test.report_amended is True and test.acknowledged_at is None


def test_a_resent_report_is_recorded_once_and_answered_200_with_the_first(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, test = patient_with_ct
    first = post(client, token, report_for(patient))
    again = post(client, token, report_for(patient))
    original, duplicate = InboxMessage.objects.order_by("pk")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == str(original.pk) and again["Location"] == first["Location"]
    assert (original.status, duplicate.status, duplicate.duplicate_of) == (
        MessageStatus.MATCHED,
        MessageStatus.DUPLICATE,
        original,
    )
    assert test.history.filter(result=c.StagingResult.REPORTED).count() == 1


def test_a_new_version_of_the_same_report_is_not_a_duplicate(client, sender_and_token, patient_with_ct):
    """meta.versionId is part of the control id: version 2 of an amended report is a new message."""
    _, token = sender_and_token
    patient, _ = patient_with_ct
    post(client, token, report_for(patient))
    post(client, token, report_for(patient, status="amended", meta={"versionId": "2"}))
    post(client, token, report_for(patient, status="amended", meta={"versionId": "3"}))
    assert list(InboxMessage.objects.order_by("pk").values_list("status", "control_id")) == [
        (MessageStatus.MATCHED, "https://ris.north.example.nhs.uk/accession|ACC-1001|final"),
        (MessageStatus.MATCHED, "https://ris.north.example.nhs.uk/accession|ACC-1001|amended|2"),
        (MessageStatus.MATCHED, "https://ris.north.example.nhs.uk/accession|ACC-1001|amended|3"),
    ]


SCT = "http://snomed.info/sct"


@pytest.mark.parametrize(
    ("codes", "exam", "suggested"),
    [
        (["281900007"], "CTCAP", c.StagingResult.CLEAR),
        (["128462008"], "CTCAP", c.StagingResult.DISTANT),
        (["94222008"], "NMBONE", c.StagingResult.DISTANT),
        (["42425007"], "CTCAP", c.StagingResult.EQUIVOCAL),
        (["263654008"], "CTCAP", ""),  # abnormal is not distant disease: no guess
        (["281900007", "128462008"], "CTCAP", ""),  # codes that disagree suggest nothing
        (["281900007"], "MAMMOB", c.ImagingOutcome.NORMAL),
        (["128462008"], "MAMMOB", c.ImagingOutcome.ABNORMAL),
        (["42425007"], "MAMMOB", ""),  # COSD imaging outcomes have no "equivocal"
        (["281900007"], "NOTMAPPED", ""),
    ],
)
def test_a_coded_conclusion_pre_fills_the_classification(
    client, sender_and_token, patient_with_ct, codes, exam, suggested
):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    concepts = [{"coding": [{"system": SCT, "code": code}]} for code in codes]
    post(client, token, report_for(patient, code=exam, conclusionCode=concepts))
    assert InboxMessage.objects.get().suggested_result == suggested


def test_a_coded_conclusion_never_classifies_nor_skips_acknowledgement(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, test = patient_with_ct
    concepts = [{"coding": [{"system": SCT, "code": "281900007", "display": "No abnormality detected"}]}]
    post(client, token, report_for(patient, conclusionCode=concepts))
    test.refresh_from_db()
    assert InboxMessage.objects.get().suggested_result == c.StagingResult.CLEAR
    assert (test.result, test.acknowledged_at) == (c.StagingResult.REPORTED, None)


def test_the_first_coding_the_code_map_knows_is_the_exam_code():
    from tests.factories import PatientFactory

    patient = PatientFactory.build(nhs_number="9434765919", family_name="Whitfield")
    report = report_for(patient)
    report["code"]["coding"] = [
        {"system": "http://loinc.org", "code": "99999-9"},
        {"system": "https://nicip.example/codes", "code": "CCHAPC"},
        {"system": "http://loinc.org", "code": "2039-6", "display": "CEA"},
    ]
    read = fhir_in.read(json.dumps(report))
    assert (read.exam_system, read.exam_code, read.exam_name) == ("LN", "2039-6", "CEA")
    report["code"]["coding"] = report["code"]["coding"][:2]
    assert (fhir_in.read(json.dumps(report)).exam_system, fhir_in.read(json.dumps(report)).exam_code) == (
        "LN",
        "99999-9",
    )
    report["code"]["coding"] = report["code"]["coding"][1:]
    assert fhir_in.read(json.dumps(report)).exam_system == "NICIP"
    report["code"]["coding"] = [{"system": "https://ris.example/codes", "code": "ctcap"}]
    report["conclusionCode"] = [{"coding": [{"system": SCT, "code": "281900007"}]}]
    read = fhir_in.read(json.dumps(report))
    # Known to the code map whatever the case: the conclusion is read as a staging result.
    assert (read.exam_system, read.exam_code, read.suggested_result) == ("LOCAL", "ctcap", c.StagingResult.CLEAR)


def test_the_dates_come_from_the_effective_period_and_the_issued_instant_in_local_time():
    from tests.factories import PatientFactory

    patient = PatientFactory.build(nhs_number="9434765919")
    report = report_for(patient, issued="2026-06-30T23:30:00+00:00")  # 00:30 on 1 July in London
    del report["effectiveDateTime"]
    report["effectivePeriod"] = {"start": "2026-06-29T14:00:00+01:00"}
    read = fhir_in.read(json.dumps(report))
    assert (str(read.performed_on), str(read.reported_on)) == ("2026-06-29", "2026-07-01")


def test_a_result_referred_to_but_not_sent_is_named_in_the_text():
    from tests.factories import PatientFactory

    patient = PatientFactory.build(nhs_number="9434765919")
    report = report_for(patient, result=[{"reference": "#finding"}, {"reference": "Observation/77"}])
    assert fhir_in.read(json.dumps(report)).report_text.endswith(
        "[The result Observation/77 was referred to but not sent with the report.]"
    )


def test_an_invalid_nhs_number_is_unreadable():
    from tests.factories import PatientFactory

    report = report_for(PatientFactory.build(nhs_number="9434765918"))
    with pytest.raises(Unreadable, match="The NHS number 9434765918 is not valid"):
        fhir_in.read(json.dumps(report))


def test_a_body_that_is_not_fhir_json_is_refused_415_and_not_stored(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    response = post(client, token, json.dumps(report_for(patient)), content_type="text/plain")
    assert response.status_code == 415
    assert outcome_text(response).startswith("Send the report as application/fhir+json")
    assert InboxMessage.objects.count() == 0
    assert ApiRequest.objects.get().status_code == 415


def test_plain_application_json_is_accepted(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    assert post(client, token, report_for(patient), content_type="application/json").status_code == 201


def test_a_client_that_may_only_read_cannot_send(client, reader_and_token, patient_with_ct):
    _, token = reader_and_token
    patient, _ = patient_with_ct
    response = post(client, token, report_for(patient))
    assert response.status_code == 403
    assert outcome_text(response) == "This client may not send results."
    assert InboxMessage.objects.count() == 0


def test_no_token_is_refused_401_with_an_operation_outcome(client, patient_with_ct):
    patient, _ = patient_with_ct
    response = client.post(URL, data=json.dumps(report_for(patient)), content_type=FHIR_JSON)
    assert response.status_code == 401
    assert outcome_text(response) == "A valid bearer token is needed."
    assert response["WWW-Authenticate"] == 'Bearer realm="followup"'
    assert InboxMessage.objects.count() == 0


def test_the_endpoint_needs_no_csrf_token(sender_and_token, patient_with_ct):
    from django.test import Client

    _, token = sender_and_token
    patient, _ = patient_with_ct
    strict = Client(enforce_csrf_checks=True)
    assert post(strict, token, report_for(patient)).status_code == 201


def test_reverse_names_the_fhir_paths():
    assert reverse("integration:fhir_diagnostic_reports") == URL


def test_a_second_amendment_without_a_version_is_recorded_and_its_resend_is_not(
    client, sender_and_token, patient_with_ct
):
    """Without meta.versionId an amendment is told apart by its issued time: a later amendment is
    attached, the same amendment sent again is a duplicate."""
    _, token = sender_and_token
    patient, test = patient_with_ct
    day = timezone.localdate() - timedelta(days=1)
    post(client, token, report_for(patient))
    first = report_for(patient, status="amended", issued=f"{day}T11:00:00Z", conclusion="Addendum one.")
    second = report_for(patient, status="corrected", issued=f"{day}T12:00:00Z", conclusion="Addendum two.")
    answers = [post(client, token, first).status_code, post(client, token, second).status_code]
    answers.append(post(client, token, second).status_code)
    test.refresh_from_db()
    assert answers == [201, 201, 200]
    assert list(InboxMessage.objects.order_by("pk").values_list("status", "is_amendment")) == [
        (MessageStatus.MATCHED, False),
        (MessageStatus.MATCHED, True),
        (MessageStatus.MATCHED, True),
        (MessageStatus.DUPLICATE, True),
    ]
    assert test.result_notes.startswith("Addendum two.")
