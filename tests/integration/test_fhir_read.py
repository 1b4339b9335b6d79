"""The FHIR R4 read API (views_fhir.py, fhir_out.py): metadata, Patient, Condition, DiagnosticReport.

Every resource and every Bundle entry a test receives is validated with fhir.resources' R4B models
(``valid``). Scope (hazard H24): another team's patient is answered exactly as one that does not
exist. Each search's queries are counted with 1 and 5 rows against one number.
"""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from followup import choices as c
from followup.services import record_mark_entered_in_error
from integration.models import ApiAction, ApiOutcome, ApiRequest
from tests.factories import (
    FollowUpItemFactory,
    GPPracticeFactory,
    PatientFactory,
    PrimaryDiagnosisFactory,
    RecurrenceFactory,
    RecurrenceSiteFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
)

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"
NHS = "https://fhir.nhs.uk/Id/nhs-number"
SCT = "http://snomed.info/sct"
ICHOM = "http://hl7.org/fhir/uv/ichom-breast-cancer/CodeSystem/RecurrenceCodeSystem"
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-secondary-cancer-condition"


def valid(data: dict) -> dict:
    """The resource once R4B accepts it; a Bundle's every entry is also validated on its own."""
    get_fhir_model_class(data["resourceType"]).model_validate(data)
    for entry in data.get("entry", []):
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return data


def get(client, token, url, **headers):
    response = client.get(url, headers={"Authorization": f"Bearer {token}", **headers})
    assert response["Content-Type"] == FHIR_JSON
    return response


def codes(concept: dict) -> list[tuple[str, str]]:
    return [(coding["system"], coding["code"]) for coding in concept.get("coding", [])]


@pytest.fixture
def token(reader_and_token):
    return reader_and_token[1]


@pytest.fixture
def record(nurse):
    """A patient of the reader's team with a GP, a left primary, a local, a regional and two distant
    recurrences (one refuted), one recurrence entered in error, a CT staging result and a mammogram result."""
    today = timezone.localdate()
    gp = GPPracticeFactory(ods_code="A81001", name="Fictional Lane Surgery")
    patient = PatientFactory(
        team=nurse.team, named_nurse=nurse, family_name="Whitfield", given_name="Ann", gp_practice=gp
    )
    primary = PrimaryDiagnosisFactory(patient=patient, laterality=c.Laterality.LEFT, diagnosed_on=date(2022, 3, 1))
    local = RecurrenceFactory(
        patient=patient, primary=primary, metastatic_type=c.MetastaticType.LOCAL, diagnosed_on=today - timedelta(60)
    )
    RecurrenceSiteFactory(recurrence=local, site=c.Site.CHEST_WALL)
    regional = RecurrenceFactory(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        status=c.RecurrenceStatus.SUSPECTED,
        diagnosed_on=today - timedelta(50),
    )
    RecurrenceSiteFactory(recurrence=regional, site=c.Site.AXILLARY_NODES)
    distant = RecurrenceFactory(
        patient=patient, metastatic_type=c.MetastaticType.DISTANT, diagnosed_on=today - timedelta(40)
    )
    RecurrenceSiteFactory(recurrence=distant, site=c.Site.BONE)
    RecurrenceSiteFactory(recurrence=distant, site=c.Site.LIVER)
    refuted = RecurrenceFactory(
        patient=patient,
        metastatic_type=c.MetastaticType.DISTANT,
        status=c.RecurrenceStatus.REFUTED,
        diagnosed_on=today - timedelta(30),
    )
    RecurrenceSiteFactory(recurrence=refuted, site=c.Site.LUNG)
    wrong = RecurrenceFactory(
        patient=patient, metastatic_type=c.MetastaticType.DISTANT, diagnosed_on=today - timedelta(20)
    )
    record_mark_entered_in_error(record=wrong, reason="Another patient's scan.", by=nurse)
    episode = RestagingEpisodeFactory(recurrence=local)
    ct = StagingTestFactory(
        episode=episode,
        modality=c.StagingModality.CT_CAP,
        requested_on=episode.opened_on,
        performed_on=episode.opened_on + timedelta(3),
        reported_on=episode.opened_on + timedelta(4),
        result=c.StagingResult.CLEAR,
        result_notes="No evidence of distant disease.",
    )
    StagingTestFactory(episode=episode, modality=c.StagingModality.BONE_SCAN)  # no result yet: not a report
    mammogram = FollowUpItemFactory(
        patient=patient,
        kind=c.FollowUpKind.MAMMOGRAM,
        due_on=today - timedelta(10),
        status=c.FollowUpStatus.DONE,
        done_on=today - timedelta(9),
        result=c.ImagingOutcome.NORMAL,
        report="Both breasts: no change.",
    )
    return {
        "patient": patient,
        "primary": primary,
        "local": local,
        "regional": regional,
        "distant": distant,
        "refuted": refuted,
        "ct": ct,
        "mammogram": mammogram,
    }


@pytest.fixture
def elsewhere(other_nurse):
    """A patient of another team, with a primary and a result: the reader must never see them."""
    patient = PatientFactory(team=other_nurse.team, named_nurse=other_nurse, family_name="Elsewhere")
    PrimaryDiagnosisFactory(patient=patient)
    FollowUpItemFactory(
        patient=patient,
        status=c.FollowUpStatus.DONE,
        done_on=timezone.localdate() - timedelta(3),
        due_on=timezone.localdate() - timedelta(3),
        result=c.ImagingOutcome.ABNORMAL,
    )
    return patient


# metadata


def test_metadata_is_a_capability_statement_served_without_a_token(client):
    response = client.get("/fhir/metadata")
    data = valid(response.json())
    assert (response.status_code, response["Content-Type"]) == (200, FHIR_JSON)
    assert (data["resourceType"], data["fhirVersion"], data["kind"]) == ("CapabilityStatement", "4.0.1", "instance")
    resources = {r["type"]: r for r in data["rest"][0]["resource"]}
    assert sorted(resources) == ["Condition", "DiagnosticReport", "Patient"]
    assert [i["code"] for i in resources["DiagnosticReport"]["interaction"]] == ["search-type", "create"]
    assert ApiRequest.objects.count() == 0


# Patient


def test_a_patient_is_found_by_nhs_number(client, token, record):
    patient = record["patient"]
    response = get(client, token, f"/fhir/Patient?identifier={NHS}|{patient.nhs_number}")
    data = valid(response.json())
    assert (response.status_code, data["type"], data["total"]) == (200, "searchset", 1)
    (entry,) = data["entry"]
    assert entry["fullUrl"] == f"http://testserver/fhir/Patient/{patient.pk}"
    assert entry["resource"] == {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "meta": {"lastUpdated": entry["resource"]["meta"]["lastUpdated"]},
        "identifier": [{"system": NHS, "value": patient.nhs_number}],
        "name": [{"use": "official", "family": "Whitfield", "given": ["Ann"]}],
        "gender": "female",
        "birthDate": "1960-05-17",
        "deceasedBoolean": False,
        "generalPractitioner": [
            {
                "type": "Organization",
                "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A81001"},
                "display": "Fictional Lane Surgery",
            }
        ],
    }


def test_a_patient_is_read_by_id_and_a_death_is_sent(client, token, nurse):
    patient = PatientFactory(
        team=nurse.team, named_nurse=nurse, status=c.PatientStatus.DECEASED, date_of_death=date(2025, 2, 1)
    )
    response = get(client, token, f"/fhir/Patient/{patient.pk}")
    data = valid(response.json())
    assert response.status_code == 200
    assert (data["id"], data["deceasedDateTime"], "generalPractitioner" in data) == (
        str(patient.pk),
        "2025-02-01",
        False,
    )


def test_an_nhs_number_of_another_system_or_nobody_finds_nobody(client, token, record):
    number = record["patient"].nhs_number
    for query in (f"https://example.org/mrn|{number}", "9434765919", f"{NHS}|"):
        data = valid(get(client, token, f"/fhir/Patient?identifier={query}").json())
        assert (data["total"], data.get("entry", [])) == (0, [])
    assert valid(get(client, token, f"/fhir/Patient?identifier={number}").json())["total"] == 1


def test_another_teams_patient_is_not_found_exactly_as_a_missing_one(client, token, record, elsewhere):
    """H24: 404 with the same words for another team's patient and for no patient at all."""
    missing = elsewhere.pk + 1000
    theirs = get(client, token, f"/fhir/Patient/{elsewhere.pk}")
    nobody = get(client, token, f"/fhir/Patient/{missing}")
    assert (theirs.status_code, nobody.status_code) == (404, 404)
    assert valid(theirs.json())["issue"][0]["diagnostics"] == f"Patient/{elsewhere.pk} is not known here."
    # Byte for byte the same answer, but for the id asked for.
    assert theirs.content.replace(str(elsewhere.pk).encode(), b"ID") == nobody.content.replace(
        str(missing).encode(), b"ID"
    )
    assert list(ApiRequest.objects.order_by("pk").values_list("outcome", "status_code", "patient_ids")) == [
        (ApiOutcome.NOT_FOUND, 404, []),
        (ApiOutcome.NOT_FOUND, 404, []),
    ]


def test_another_teams_patient_is_an_empty_search_everywhere(client, token, record, elsewhere):
    """H24: searches by NHS number, by id, for conditions and for reports find nothing of another team."""
    for url in (
        f"/fhir/Patient?identifier={NHS}|{elsewhere.nhs_number}",
        f"/fhir/Patient?_id={elsewhere.pk}",
        f"/fhir/Condition?patient={elsewhere.pk}",
        f"/fhir/DiagnosticReport?patient={elsewhere.pk}",
        f"/fhir/DiagnosticReport?patient=Patient/{elsewhere.pk}",
    ):
        response = get(client, token, url)
        data = valid(response.json())
        assert (response.status_code, data["total"], data.get("entry", [])) == (200, 0, []), url
    assert list(ApiRequest.objects.values_list("patient_ids", flat=True)) == [[]] * 5


def test_a_patient_entered_in_error_is_not_found(client, token, nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    record_mark_entered_in_error(record=patient, reason="Registered twice.", by=nurse)
    assert get(client, token, f"/fhir/Patient/{patient.pk}").status_code == 404
    assert valid(get(client, token, f"/fhir/Patient?_id={patient.pk}").json())["total"] == 0


def test_without_a_filter_a_patient_search_lists_the_teams_patients(client, token, record, elsewhere):
    data = valid(get(client, token, "/fhir/Patient").json())
    assert [entry["resource"]["id"] for entry in data["entry"]] == [str(record["patient"].pk)]


# Condition


def test_conditions_are_the_primary_and_each_recurrence_with_snomed_codes_and_body_sites(client, token, record):
    response = get(client, token, f"/fhir/Condition?patient={record['patient'].pk}")
    data = valid(response.json())
    by_id = {entry["resource"]["id"]: entry["resource"] for entry in data["entry"]}
    assert list(by_id) == [
        f"primary-{record['primary'].pk}",
        f"recurrence-{record['local'].pk}",
        f"recurrence-{record['regional'].pk}",
        f"recurrence-{record['distant'].pk}",
        f"recurrence-{record['refuted'].pk}",
    ]
    assert data["total"] == 5  # the recurrence entered in error is not sent
    primary = by_id[f"primary-{record['primary'].pk}"]
    assert codes(primary["code"]) == [(SCT, "254837009"), (SCT, "372137005")]
    assert codes(primary["bodySite"][0]) == [(SCT, "80248007")]
    assert primary["onsetDateTime"] == "2022-03-01"
    assert primary["subject"] == {"reference": f"Patient/{record['patient'].pk}"}

    local = by_id[f"recurrence-{record['local'].pk}"]
    assert codes(local["code"]) == [(SCT, "254837009"), (ICHOM, "local-recurrence")]
    assert [codes(site) for site in local["bodySite"]] == [[(SCT, "78904004")]]
    assert codes(local["verificationStatus"])[0][1] == "confirmed"
    assert codes(local["clinicalStatus"])[0][1] == "active"

    regional = by_id[f"recurrence-{record['regional'].pk}"]
    assert codes(regional["code"]) == [(SCT, "254837009"), (ICHOM, "regional-recurrence")]
    assert [codes(site) for site in regional["bodySite"]] == [[(SCT, "68171009")]]
    assert codes(regional["verificationStatus"])[0][1] == "provisional"
    assert "profile" not in regional["meta"]

    distant = by_id[f"recurrence-{record['distant'].pk}"]
    assert distant["meta"]["profile"] == [MCODE]
    assert codes(distant["code"]) == [(SCT, "128462008"), (ICHOM, "distant-recurrence")]  # two sites
    assert [codes(site) for site in distant["bodySite"]] == [[(SCT, "272673000")], [(SCT, "10200004")]]
    assert distant["onsetDateTime"] == record["distant"].diagnosed_on.isoformat()

    refuted = by_id[f"recurrence-{record['refuted'].pk}"]
    assert codes(refuted["code"]) == [(SCT, "94391008"), (ICHOM, "distant-recurrence")]  # lung, its own code
    assert codes(refuted["verificationStatus"])[0][1] == "refuted"
    assert "clinicalStatus" not in refuted


def test_a_condition_search_needs_the_patient(client, token, record):
    response = get(client, token, "/fhir/Condition")
    assert response.status_code == 400
    assert valid(response.json())["issue"][0]["diagnostics"].startswith("Give the patient")


# DiagnosticReport


def test_reports_are_the_staging_results_and_the_follow_up_results(client, token, record):
    response = get(client, token, f"/fhir/DiagnosticReport?patient={record['patient'].pk}")
    data = valid(response.json())
    ct, mammogram = (entry["resource"] for entry in data["entry"])
    assert data["total"] == 2  # the bone scan has no result yet
    assert ct["id"] == f"staging-{record['ct'].pk}"
    assert (ct["status"], ct["effectiveDateTime"], ct["subject"]) == (
        "final",
        record["ct"].performed_on.isoformat(),
        {"reference": f"Patient/{record['patient'].pk}"},
    )
    assert ct["code"] == {
        "text": "CT chest, abdomen and pelvis",
        "coding": [
            {
                "system": "urn:followup:local-exam-code",
                "code": "CTCAP",
                "display": "CT chest, abdomen and pelvis with contrast",
            }
        ],
    }
    assert ct["conclusion"] == "No evidence of distant disease.\n\nNo evidence of distant disease."
    assert codes(ct["conclusionCode"][0]) == [(SCT, "281900007")]
    assert ct["issued"].startswith(record["ct"].reported_on.isoformat())
    assert mammogram["id"] == f"followup-{record['mammogram'].pk}"
    assert mammogram["code"] == {"text": "Mammogram"}  # three codes map to mammograms: none is sent
    assert mammogram["conclusion"] == "Normal.\n\nBoth breasts: no change."
    assert codes(mammogram["conclusionCode"][0]) == [(SCT, "17621005")]


def test_an_unclassified_or_amended_result_says_so(client, token, record, nurse):
    ct = record["ct"]
    ct.result, ct.report_amended = c.StagingResult.REPORTED, True
    ct.save()
    data = valid(get(client, token, f"/fhir/DiagnosticReport?patient={record['patient'].pk}").json())
    report = data["entry"][0]["resource"]
    assert (report["status"], report["conclusion"].split("\n")[0], "conclusionCode" in report) == (
        "amended",
        "Reported, not yet classified.",
        False,
    )


def test_distant_disease_found_by_staging_is_coded_with_its_sites(client, token, record):
    ct = record["ct"]
    ct.result = c.StagingResult.DISTANT
    ct.save()
    ct.sites.create(site=c.Site.BRAIN)
    ct.sites.create(site=c.Site.OVARY)
    data = valid(get(client, token, f"/fhir/DiagnosticReport?patient={record['patient'].pk}").json())
    concepts = data["entry"][0]["resource"]["conclusionCode"]
    assert [codes(concept) for concept in concepts] == [[(SCT, "128462008")], [(SCT, "94225005")], []]
    assert concepts[2]["text"] == "Distant disease: Ovary"


# Paging, parameters


def test_pages_link_to_the_next_and_previous_page(client, token, patient):
    for n in range(5):
        FollowUpItemFactory(
            patient=patient,
            due_on=date(2025, 1, 1) + timedelta(n),
            status=c.FollowUpStatus.DONE,
            done_on=date(2025, 1, 1) + timedelta(n),
            result=c.ImagingOutcome.NORMAL,
        )
    base = "http://testserver/fhir/DiagnosticReport"
    first = valid(get(client, token, f"/fhir/DiagnosticReport?patient={patient.pk}&_count=2").json())
    assert (first["total"], len(first["entry"])) == (5, 2)
    assert {link["relation"]: link["url"] for link in first["link"]} == {
        "self": f"{base}?patient={patient.pk}&_count=2&_offset=0",
        "next": f"{base}?patient={patient.pk}&_count=2&_offset=2",
    }
    last = valid(get(client, token, f"/fhir/DiagnosticReport?patient={patient.pk}&_count=2&_offset=4").json())
    assert [entry["resource"]["effectiveDateTime"] for entry in last["entry"]] == ["2025-01-05"]
    assert {link["relation"]: link["url"] for link in last["link"]} == {
        "self": f"{base}?patient={patient.pk}&_count=2&_offset=4",
        "previous": f"{base}?patient={patient.pk}&_count=2&_offset=2",
    }
    beyond = valid(get(client, token, f"/fhir/DiagnosticReport?patient={patient.pk}&_offset=40").json())
    assert (beyond["total"], beyond.get("entry", [])) == (5, [])


def test_count_is_at_most_100_and_defaults_to_20(client, token, record):
    url = f"/fhir/Patient?_count=500&identifier={NHS}|{record['patient'].nhs_number}"
    self_link = valid(get(client, token, url).json())["link"][0]["url"]
    assert "_count=100" in self_link
    assert "_count=20" in valid(get(client, token, "/fhir/Patient").json())["link"][0]["url"]


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("/fhir/Condition?patient=1&clinical-status=active", "The search parameter 'clinical-status' is not supported"),
        ("/fhir/Patient?name=Whitfield", "The search parameter 'name' is not supported here"),
        ("/fhir/Patient?_count=ten", "_count must be a whole number, not 'ten'."),
        ("/fhir/Patient?_count=0", "_count must be 1 or more."),
        ("/fhir/Patient?_count=%C2%B2", "_count must be a whole number, not '\u00b2'."),
        ("/fhir/Patient?_offset=-1", "_offset must be a whole number, not '-1'."),
        ("/fhir/Patient?_format=xml", "Only JSON is served"),
        ("/fhir/Condition?patient=1&patient=2", "Give the search parameter 'patient' once."),
    ],
)
def test_a_search_it_does_not_understand_is_refused_400(client, token, query, why):
    response = get(client, token, query)
    assert response.status_code == 400
    assert valid(response.json())["issue"][0]["diagnostics"].startswith(why)
    assert ApiRequest.objects.get().outcome == ApiOutcome.ERROR


def test_unknown_parameters_are_ignored_when_the_client_prefers_lenient_handling(client, token, record):
    url = f"/fhir/Condition?patient={record['patient'].pk}&clinical-status=active"
    response = get(client, token, url, Prefer="handling=lenient")
    assert (response.status_code, valid(response.json())["total"]) == (200, 5)


# The gate


def test_a_client_that_may_only_send_cannot_read(client, sender_and_token, record):
    _, token = sender_and_token
    response = get(client, token, f"/fhir/Patient/{record['patient'].pk}")
    assert response.status_code == 403
    assert valid(response.json())["issue"][0] == {
        "severity": "error",
        "code": "forbidden",
        "diagnostics": "This client may not read records.",
    }


def test_reads_need_a_token(client, record):
    response = client.get(f"/fhir/Patient/{record['patient'].pk}")
    assert (response.status_code, valid(response.json())["issue"][0]["code"]) == (401, "login")


def test_a_read_only_api_refuses_other_methods(client, token, record):
    response = client.delete(f"/fhir/Patient/{record['patient'].pk}", headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response["Allow"]) == (405, "GET")


def test_every_read_is_audited_with_the_patients_it_returned(client, token, reader_and_token, record):
    pk = record["patient"].pk
    get(client, token, f"/fhir/Patient/{pk}")
    get(client, token, f"/fhir/Condition?patient={pk}")
    get(client, token, f"/fhir/DiagnosticReport?patient={pk}")
    get(client, token, f"/fhir/Patient?identifier={NHS}|9434765919")
    rows = ApiRequest.objects.order_by("pk").values_list("client", "action", "outcome", "status_code", "patient_ids")
    reader = reader_and_token[0].pk
    assert list(rows) == [
        (reader, ApiAction.FHIR_READ, ApiOutcome.ACCEPTED, 200, [pk]),
        (reader, ApiAction.FHIR_READ, ApiOutcome.ACCEPTED, 200, [pk]),
        (reader, ApiAction.FHIR_READ, ApiOutcome.ACCEPTED, 200, [pk]),
        (reader, ApiAction.FHIR_READ, ApiOutcome.ACCEPTED, 200, []),
    ]


# Query counts: the gate's four (the client by its token, the rate count, the audit row, last used)
# and each search's own, whatever the number of rows.


@pytest.mark.parametrize("rows", [1, 5])
def test_patient_search_query_count_is_constant(client, token, nurse, rows, django_assert_num_queries):
    PatientFactory.create_batch(rows, team=nurse.team, named_nurse=nurse, gp_practice=GPPracticeFactory())
    # client by token, rate count, patients count, page of patients with their GP, audit insert, last used
    with django_assert_num_queries(6):
        data = valid(get(client, token, "/fhir/Patient").json())
    assert data["total"] == rows


@pytest.mark.parametrize("rows", [1, 5])
def test_condition_search_query_count_is_constant(client, token, patient, rows, django_assert_num_queries):
    PrimaryDiagnosisFactory(patient=patient)
    for _ in range(rows):
        recurrence = RecurrenceFactory(patient=patient, metastatic_type=c.MetastaticType.DISTANT)
        RecurrenceSiteFactory(recurrence=recurrence, site=c.Site.BONE)
    # client by token, rate count, primaries, recurrences, their sites, audit insert, last used
    with django_assert_num_queries(7):
        data = valid(get(client, token, f"/fhir/Condition?patient={patient.pk}").json())
    assert data["total"] == rows + 1


@pytest.mark.parametrize("rows", [1, 5])
def test_diagnostic_report_search_query_count_is_constant(client, token, patient, rows, django_assert_num_queries):
    episode = RestagingEpisodeFactory(recurrence=RecurrenceFactory(patient=patient))
    for _ in range(rows):
        StagingTestFactory(
            episode=episode,
            performed_on=episode.opened_on,
            reported_on=episode.opened_on,
            result=c.StagingResult.DISTANT,
        ).sites.create(site=c.Site.LIVER)
        FollowUpItemFactory(
            patient=patient,
            status=c.FollowUpStatus.DONE,
            due_on=date(2025, 1, 1),
            done_on=date(2025, 1, 1),
            result=c.ImagingOutcome.ABNORMAL,
        )
    # client by token, rate count, staging tests, their sites, follow-up items, code map, audit insert, last used
    with django_assert_num_queries(8):
        data = valid(get(client, token, f"/fhir/DiagnosticReport?patient={patient.pk}").json())
    assert data["total"] == 2 * rows


def test_patient_read_query_count(client, token, record, django_assert_num_queries):
    # client by token, rate count, the patient with their GP, audit insert, last used
    with django_assert_num_queries(5):
        assert get(client, token, f"/fhir/Patient/{record['patient'].pk}").status_code == 200


def test_the_report_path_allows_get_and_post(client, token):
    response = client.put("/fhir/DiagnosticReport", headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response["Allow"]) == (405, "GET, POST")
