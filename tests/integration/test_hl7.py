"""POST /api/hl7/v2/: real ORU^R01 messages in, HL7 ACKs out, and what the database then holds.

Each case asserts the ACK (MSA-1, MSA-2 echoing MSH-10, MSA-3) and the rows: the inbox message,
the staging test or follow-up item, the audit.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services as clinical
from followup.models import FollowUpItem, StagingTest
from integration import hl7, samples
from integration.models import ApiAction, ApiOutcome, ApiRequest, InboxMessage, MessageStatus

pytestmark = pytest.mark.django_db

URL = "/api/hl7/v2/"


def oru(
    patient=None,
    *,
    control_id="MSG0001",
    version="2.4",
    nhs_number=None,
    family_name=None,
    date_of_birth=None,
    exam="CTCAP^CT chest, abdomen and pelvis^LOCAL",
    status="F",
    obx_status="F",
    accession="ACC0001",
    text="No evidence of metastatic disease in the chest, abdomen or pelvis.",
    performed_days_ago=2,
    extra_segments=(),
    pid=None,
) -> str:
    """An ORU^R01 in ER7 for the patient (her NHS number, name, date of birth unless changed)."""
    today = timezone.localdate()
    performed = today - timedelta(days=performed_days_ago)
    nhs = patient.nhs_number if nhs_number is None else nhs_number
    family = patient.family_name if family_name is None else family_name
    dob = patient.date_of_birth if date_of_birth is None else date_of_birth
    pid = pid or f"PID|1||H123456^^^RXX01^MR~{nhs}^^^NHS^NH||{family}^Jane||{dob:%Y%m%d}|F"
    lines = [
        f"MSH|^~\\&|NORTHRIS|RXX01|FOLLOWUP|BREASTCARE|{today:%Y%m%d}120000||ORU^R01|{control_id}|P|{version}",
        pid,
        *extra_segments,
        f"OBR|1|ORD1|{accession}|{exam}|||{performed:%Y%m%d}1015|||||||||||||||{today:%Y%m%d}0900|||{status}",
        f"OBX|1|TX|CTCAP^Report^LOCAL|1|{text}||||||{obx_status}",
    ]
    return "\r".join(lines) + "\r"


def post(client, token, body: str | bytes, **headers):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return client.post(
        URL, data=data, content_type="application/hl7-v2", HTTP_AUTHORIZATION=f"Bearer {token}", **headers
    )


def msa(response) -> list[str]:
    """MSA fields of the ACK: [MSA, MSA-1, MSA-2, MSA-3]."""
    assert response["Content-Type"] == "application/hl7-v2; charset=utf-8"
    lines = response.content.decode().split("\r")
    assert lines[0].startswith("MSH|^~\\&|") and "|ACK^R01^ACK|" in lines[0]
    fields = (next(line for line in lines if line.startswith("MSA")).split("|") + ["", ""])[:4]
    return [*fields[:3], hl7.Encoding(lines[0]).unescape(fields[3])]


def err(response) -> str:
    return next((line for line in response.content.decode().split("\r") if line.startswith("ERR")), "")


def test_the_url_is_named():
    assert reverse("integration:hl7_v2") == URL


def test_a_normal_report_is_acknowledged_aa_and_the_ct_is_reported_not_yet_classified(
    client, sender_and_token, patient_with_ct
):
    sender, token = sender_and_token
    patient, test = patient_with_ct
    response = post(client, token, oru(patient))
    assert response.status_code == 200
    assert msa(response)[:3] == ["MSA", "AA", "MSG0001"]
    test.refresh_from_db()
    message = InboxMessage.objects.get()
    assert (message.status, message.staging_test, message.patient) == (MessageStatus.MATCHED, test, patient)
    assert test.result == c.StagingResult.REPORTED and test.acknowledged_at is None
    assert test.result_notes == "No evidence of metastatic disease in the chest, abdomen or pelvis."
    assert test.performed_on == timezone.localdate() - timedelta(days=2)
    assert test.reported_on == timezone.localdate()
    assert StagingTest.objects.awaiting_acknowledgement().filter(pk=test.pk).exists()
    audit = ApiRequest.objects.get()
    assert (audit.client, audit.action, audit.outcome, audit.status_code, audit.message) == (
        sender,
        ApiAction.HL7_RESULT,
        ApiOutcome.ACCEPTED,
        200,
        message,
    )
    assert audit.patient_ids == [patient.pk]


def test_the_ack_swaps_sender_and_receiver_and_keeps_the_version(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    response = post(client, token, oru(patient, version="2.5"))
    msh = response.content.decode().split("\r")[0].split("|")
    assert msh[2:6] == ["FOLLOWUP", "BREASTCARE", "NORTHRIS", "RXX01"]
    assert msh[8] == "ACK^R01^ACK" and msh[9] and msh[9] != "MSG0001" and msh[11] == "2.5"


@pytest.mark.parametrize("version", ["2.3", "2.3.1", "2.4", "2.5", "2.5.1"])
def test_versions_2_3_to_2_5_1_are_read_alike(client, sender_and_token, patient_with_ct, version):
    _, token = sender_and_token
    patient, test = patient_with_ct
    response = post(client, token, oru(patient, version=version, control_id=f"V{version}"))
    assert msa(response)[:3] == ["MSA", "AA", f"V{version}"]
    test.refresh_from_db()
    assert test.result == c.StagingResult.REPORTED
    assert InboxMessage.objects.get().status == MessageStatus.MATCHED


def test_a_mammogram_report_marks_the_item_done_with_the_report(client, sender_and_token, patient_with_mammogram):
    _, token = sender_and_token
    patient, item = patient_with_mammogram
    body = samples.fill(
        samples.text("03-mammogram.hl7"),
        control_id="MAM1",
        nhs_number=patient.nhs_number,
        family_name=patient.family_name,
        date_of_birth=patient.date_of_birth,
    )
    response = post(client, token, body)
    assert msa(response)[:3] == ["MSA", "AA", "MAM1"]
    item.refresh_from_db()
    assert (item.status, item.result) == (c.FollowUpStatus.DONE, c.ImagingOutcome.REPORTED)
    assert item.report.startswith("Bilateral mammography, 2 views each side.\nPost-surgical changes")
    assert FollowUpItem.objects.awaiting_acknowledgement().filter(pk=item.pk).exists()


def test_a_message_without_an_nhs_number_is_ae_and_kept_as_rejected(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, test = patient_with_ct
    body = oru(patient, pid="PID|1||H123456^^^RXX01^MR||Whitfield^Jane||19600101|F")
    response = post(client, token, body)
    assert response.status_code == 200
    assert msa(response) == ["MSA", "AE", "MSG0001", "PID-3 has no NHS number (identifier type NH)."]
    assert err(response) == "ERR|^^^101&Required field missing&HL70357"  # v2.4: ERR-1
    message = InboxMessage.objects.get()
    assert (message.status, message.reason, message.body) == (
        MessageStatus.REJECTED,
        "PID-3 has no NHS number (identifier type NH).",
        body,
    )
    test.refresh_from_db()
    assert test.result == ""
    assert ApiRequest.objects.get().outcome == ApiOutcome.ERROR


def test_an_unknown_nhs_number_is_aa_and_unmatched_with_why(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, test = patient_with_ct
    response = post(client, token, oru(patient, nhs_number="9999999980"))
    code, text = msa(response)[1], msa(response)[3]
    assert code == "AA" and "No patient of the teams this system serves has NHS number 9999999980." in text
    message = InboxMessage.objects.get()
    assert message.status == MessageStatus.UNMATCHED and message.reason.startswith("No patient of the teams")
    assert InboxMessage.objects.unplaced().filter(pk=message.pk).exists()
    test.refresh_from_db()
    assert test.result == ""


def test_a_date_of_birth_mismatch_is_aa_and_unmatched(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, test = patient_with_ct
    response = post(client, token, oru(patient, date_of_birth=patient.date_of_birth - timedelta(days=1)))
    assert msa(response)[1] == "AA"
    message = InboxMessage.objects.get()
    assert message.status == MessageStatus.UNMATCHED
    assert message.reason.startswith("The date of birth in the message is not the date of birth")
    test.refresh_from_db()
    assert test.result == ""


def test_a_family_name_mismatch_is_aa_and_unmatched(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    response = post(client, token, oru(patient, family_name="Someone"))
    assert msa(response)[1] == "AA"
    assert InboxMessage.objects.get().reason.startswith("The family name in the message is not")


def test_two_candidate_tests_are_aa_and_unmatched(client, sender_and_token, patient_with_ct, nurse):
    _, token = sender_and_token
    patient, test = patient_with_ct
    clinical.staging_test_request(
        episode=test.episode, modality=c.StagingModality.CT_CAP, requested_on=test.requested_on, by=nurse
    )
    response = post(client, token, oru(patient))
    assert msa(response)[1] == "AA" and "More than one open test or item could be this one" in msa(response)[3]
    assert InboxMessage.objects.get().status == MessageStatus.UNMATCHED
    assert not StagingTest.objects.exclude(result="").exists()


def test_an_exam_code_not_in_the_code_map_is_unmatched(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    response = post(client, token, oru(patient, exam="ZZTOP^Something else^LOCAL"))
    assert msa(response)[1] == "AA"
    assert InboxMessage.objects.get().reason.startswith("The exam code ZZTOP is not in the code map")


def test_the_same_message_twice_is_aa_both_times_and_recorded_once(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, test = patient_with_ct
    first = post(client, token, oru(patient))
    second = post(client, token, oru(patient))
    assert msa(first)[:3] == ["MSA", "AA", "MSG0001"]
    assert msa(second)[:3] == ["MSA", "AA", "MSG0001"] and msa(second)[3].startswith("Duplicate:")
    original, duplicate = InboxMessage.objects.order_by("pk")
    assert (original.status, duplicate.status, duplicate.duplicate_of) == (
        MessageStatus.MATCHED,
        MessageStatus.DUPLICATE,
        original,
    )
    assert StagingTest.objects.get().version == test.version + 1  # recorded once


def test_a_corrected_report_is_aa_attached_as_an_amendment_and_back_for_acknowledgement(
    client, sender_and_token, patient_with_ct, nurse
):
    _, token = sender_and_token
    patient, test = patient_with_ct
    post(client, token, oru(patient))
    test.refresh_from_db()
    clinical.staging_test_record_result(
        test=test,
        performed_on=test.performed_on,
        reported_on=test.reported_on,
        result=c.StagingResult.CLEAR,
        notes=test.result_notes,
        by=nurse,
    )
    clinical.staging_test_acknowledge(test=StagingTest.objects.get(pk=test.pk), by=nurse)
    assert not StagingTest.objects.awaiting_acknowledgement().filter(pk=test.pk).exists()
    corrected = oru(patient, control_id="MSG0002", status="C", obx_status="C", text="ADDENDUM: 6 mm liver lesion.")
    response = post(client, token, corrected)
    assert msa(response)[:3] == ["MSA", "AA", "MSG0002"] and "amended report" in msa(response)[3]
    test.refresh_from_db()
    amendment = InboxMessage.objects.get(control_id="MSG0002")
    assert amendment.is_amendment and amendment.amends == InboxMessage.objects.get(control_id="MSG0001")
    assert (test.report_amended, test.acknowledged_at, test.result) == (True, None, c.StagingResult.CLEAR)
    assert test.result_notes == "ADDENDUM: 6 mm liver lesion."
    assert StagingTest.objects.awaiting_acknowledgement().filter(pk=test.pk).exists()


def test_an_obx_11_correction_alone_marks_the_report_an_amendment(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    post(client, token, oru(patient))
    post(client, token, oru(patient, control_id="MSG0002", status="F", obx_status="C", text="Corrected."))
    assert InboxMessage.objects.get(control_id="MSG0002").is_amendment


@pytest.mark.parametrize(
    ("status", "word"), [("P", "preliminary"), ("X", "cancelled")], ids=["preliminary", "cancelled"]
)
def test_a_preliminary_or_cancelled_report_is_refused_with_ae(client, sender_and_token, patient_with_ct, status, word):
    _, token = sender_and_token
    patient, test = patient_with_ct
    response = post(client, token, oru(patient, status=status))
    assert msa(response)[1] == "AE"
    assert msa(response)[3].startswith(f"Only final or corrected reports are accepted: OBR-25 is {status} ({word})")
    assert InboxMessage.objects.get().status == MessageStatus.REJECTED
    test.refresh_from_db()
    assert test.result == ""


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: "this is not HL7 at all", "The message does not start with an MSH segment"),
        (lambda m: m.replace("ORU^R01", "ADT^A01"), "MSH-9 is ADT^A01: only ORU^R01 result messages are taken here."),
        (lambda m: m.replace("|MSG0001|", "||"), "MSH-10 (message control id) is empty"),
        (lambda m: m.replace("|P|2.4", "|P|9.9"), "The message cannot be parsed as HL7 version 9.9"),
        (lambda m: m.split("\rPID")[0] + "\rOBR" + m.split("\rOBR")[1], "The message has no PID segment"),
        (lambda m: m.split("\rOBR")[0] + "\r", "The message has no OBR segment"),
        (lambda m: m + m.split("\r")[2] + "\r", "The message holds 2 OBR segments: one report per message"),
        (lambda m: m.replace("CTCAP^CT chest", "^CT chest"), "OBR-4 (universal service identifier) has no code"),
    ],
    ids=["not-hl7", "not-oru", "no-msh-10", "unknown-version", "no-pid", "no-obr", "two-obr", "no-obr-4"],
)
def test_a_message_that_cannot_be_understood_is_ae_with_the_reason(
    client, sender_and_token, patient_with_ct, change, reason
):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    response = post(client, token, change(oru(patient)))
    assert response.status_code == 200
    fields = msa(response)
    assert fields[1] == "AE" and fields[3].startswith(reason), fields
    message = InboxMessage.objects.get()
    assert message.status == MessageStatus.REJECTED and message.reason.startswith(reason)


def test_an_nhs_number_failing_the_modulus_11_check_is_ae(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    wrong = patient.nhs_number[:9] + str((int(patient.nhs_number[9]) + 1) % 10)
    response = post(client, token, oru(patient, nhs_number=wrong))
    assert msa(response)[1] == "AE" and msa(response)[3].startswith(f"PID-3 NHS number '{wrong}' is not valid")


def test_an_nhs_number_with_spaces_is_read_without_them(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    n = patient.nhs_number
    post(client, token, oru(patient, nhs_number=f"{n[:3]} {n[3:6]} {n[6:]}"))
    assert InboxMessage.objects.get().status == MessageStatus.MATCHED


def test_a_line_that_is_not_a_segment_is_ae_and_never_a_500(client, sender_and_token, patient_with_ct):
    """The rule: a line that is not an HL7 segment refuses the whole message (AE, stored as
    rejected); a Z-segment or a segment we do not use is ignored (AA)."""
    _, token = sender_and_token
    patient, test = patient_with_ct
    response = post(client, token, oru(patient, extra_segments=["GARBAGE \x01 here"]))
    assert response.status_code == 200
    assert msa(response)[1] == "AE" and msa(response)[3].startswith("Line 3 is not an HL7 segment")
    assert InboxMessage.objects.get().status == MessageStatus.REJECTED
    test.refresh_from_db()
    assert test.result == ""


def test_a_nul_byte_is_ae_and_audited_never_a_500(client, sender_and_token, patient_with_ct):
    """PostgreSQL text cannot hold NUL: such a body is refused unread (nothing stored), and audited."""
    _, token = sender_and_token
    patient, _ = patient_with_ct
    response = post(client, token, oru(patient, extra_segments=["ZXX|\x00"]))
    assert response.status_code == 200
    assert msa(response)[:3] == ["MSA", "AE", "MSG0001"] and "NUL" in msa(response)[3]
    assert not InboxMessage.objects.exists()
    assert ApiRequest.objects.get().outcome == ApiOutcome.ERROR


def test_a_z_segment_and_unused_segments_are_ignored(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, test = patient_with_ct
    body = oru(patient, control_id="Z1", extra_segments=["PV1|1|O", "ZXT|1|local extension|x^y"])
    response = post(client, token, body)
    assert msa(response)[:3] == ["MSA", "AA", "Z1"]
    test.refresh_from_db()
    assert test.result == c.StagingResult.REPORTED


@pytest.mark.parametrize(
    "body",
    [
        "MSH|^~\\&",
        "MSH|^~\\&|a|b|c|d|20260101||ORU^R01|X1|P|2.4\rPID|1||\x01\x02^^^^NH\r",
        "MSH|^~\\&|a|b|c|d|20260101||ORU^R01|X1|P|2.4\rPID\rOBR\rOBX\r",
        "MSH|^~\\&|a|b|c|d|20260101||ORU^R01|X1|P|2.4\rPID|1||9999999018^^^NHS^NH||A||notadate\rOBR|1||x|CTCAP\r",
        "MSH|^~\\&|a|b|c|d|20260101||ORU^R01|X1|P|2.4\rPID|1||9999999018^^^NHS^NH\rOBR|1||x|CTCAP|||2026-99-99\r",
        "\x0bMSH|^~\\&|a|b|c|d|20260101||ORU^R01|X1|P|2.4\x1c\r",
        "",
    ],
    ids=["msh-only", "control-chars", "empty-segments", "bad-dob", "bad-date", "framed", "empty"],
)
def test_malformed_messages_are_answered_ae_never_500(client, sender_and_token, body):
    _, token = sender_and_token
    response = post(client, token, body)
    assert response.status_code == 200
    assert msa(response)[1] == "AE" and msa(response)[3]
    assert InboxMessage.objects.get().status == MessageStatus.REJECTED


def test_line_ends_lf_and_crlf_are_read_as_segment_separators(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    post(client, token, oru(patient, control_id="LF").replace("\r", "\n"))
    post(client, token, oru(patient, control_id="CRLF", exam="MRBRAIN^MRI^LOCAL").replace("\r", "\r\n"))
    assert InboxMessage.objects.get(control_id="LF").status == MessageStatus.MATCHED
    assert InboxMessage.objects.get(control_id="CRLF").status == MessageStatus.UNMATCHED  # read, no MRI to match


def test_report_text_joins_obx_lines_repetitions_and_line_breaks_and_unescapes(
    client, sender_and_token, patient_with_ct
):
    _, token = sender_and_token
    patient, test = patient_with_ct
    body = oru(patient, text="Line one~Line two\\.br\\Line three: A \\T\\ B \\F\\ C \\S\\ D \\E\\ E \\X4F4B\\")
    body += "OBX|2|FT|CTCAP^Report^LOCAL|2|Conclusion: clear.||||||F\r"
    body += "OBX|3|NM|6768-6^Alkaline phosphatase^LN||96|U/L|||||F\r"
    post(client, token, body)
    test.refresh_from_db()
    assert test.result_notes == (
        "Line one\nLine two\nLine three: A & B | C ^ D \\ E OK\nConclusion: clear.\nAlkaline phosphatase: 96 U/L"
    )


def test_a_latin_1_body_is_read(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, test = patient_with_ct
    post(client, token, oru(patient, text="Lésion stable, 5 µm").encode("latin-1"))
    test.refresh_from_db()
    assert test.result_notes == "Lésion stable, 5 µm"


def test_a_one_megabyte_report_is_accepted_and_stored_whole(client, sender_and_token, patient_with_ct):
    _, token = sender_and_token
    patient, test = patient_with_ct
    line = "The appearances are unchanged from the previous examination in every respect. "
    text = "~".join([line] * 13_000)  # about 1 MB of report
    body = oru(patient, text=text)
    assert 1_000_000 < len(body.encode()) < 1_100_000
    response = post(client, token, body)
    assert msa(response)[:3] == ["MSA", "AA", "MSG0001"]
    message = InboxMessage.objects.get()
    assert message.body == body and message.status == MessageStatus.MATCHED
    test.refresh_from_db()
    assert test.result_notes == "\n".join([line] * 13_000)


def test_a_message_over_the_size_limit_is_413_with_an_ar_ack_and_nothing_stored(
    client, sender_and_token, patient_with_ct, settings
):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    settings.INTEGRATION_MAX_MESSAGE_BYTES = 10_000
    response = post(client, token, oru(patient, text="x" * 10_001))
    assert response.status_code == 413
    fields = msa(response)
    assert fields[1] == "AR" and fields[3] == "The message is larger than 10000 bytes."
    assert not InboxMessage.objects.exists()
    assert ApiRequest.objects.get().outcome == ApiOutcome.TOO_LARGE


def test_no_token_is_401_with_an_ar_ack_echoing_the_control_id(client, sender_and_token, patient_with_ct):
    patient, _ = patient_with_ct
    response = client.post(URL, data=oru(patient).encode(), content_type="application/hl7-v2")
    assert response.status_code == 401
    assert msa(response) == ["MSA", "AR", "MSG0001", "A valid bearer token is needed."]
    assert "207^Application internal error^HL70357" in err(response) or "207&" in err(response)
    assert not InboxMessage.objects.exists()


def test_a_client_that_may_only_read_is_403_ar(client, reader_and_token, patient_with_ct):
    _, token = reader_and_token
    patient, _ = patient_with_ct
    response = post(client, token, oru(patient))
    assert response.status_code == 403 and msa(response)[1:] == ["AR", "MSG0001", "This client may not send results."]
    assert not InboxMessage.objects.exists()


def test_only_post_is_allowed(client, sender_and_token):
    _, token = sender_and_token
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert msa(response)[1] == "AR"
    assert not InboxMessage.objects.exists()


def test_every_sample_reads(patient):
    for name in samples.names():
        report = hl7.read(samples.text(name))
        assert report.control_id and report.nhs_number and report.exam_code and report.report_text
    assert hl7.read(samples.text("04-ct-corrected.hl7")).amendment


def test_control_id_of_reads_msh_10_without_parsing():
    assert hl7.control_id_of("MSH|^~\\&|a|b|c|d|x||ORU^R01|ABC-1|P|2.4\rgarbage") == "ABC-1"
    assert hl7.control_id_of("MSH#^~\\&#a#b#c#d#x##ORU^R01#X#P#2.4") == "X"
    assert hl7.control_id_of("not hl7") == ""
    assert hl7.control_id_of("") == ""
