"""The MLLP listener over a real socket on 127.0.0.1 (a free port), with its own threads and database
connections: framing, one ACK per message, malformed frames, dropped connections, refusals."""

import io
import socket
import time

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection

from followup import choices as c
from followup.models import StagingTest
from integration import hl7
from integration.clients import client_revoke, client_update
from integration.codes import SEED_CODES
from integration.mllp import Listener, frame
from integration.models import ApiAction, ApiOutcome, ApiRequest, ExamCode, InboxMessage, MessageStatus

from .test_hl7 import oru

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def code_map():
    """A transactional test starts from a flushed database: the code map its migration loaded is
    gone (and a test before may have flushed it): put its rows back."""
    for system, code, display, modality, kind in SEED_CODES:
        ExamCode.objects.get_or_create(
            system=system, code=code, defaults={"display": display, "staging_modality": modality, "followup_kind": kind}
        )


@pytest.fixture
def listener(sender):
    server = Listener("127.0.0.1", 0, sender, idle_timeout=5, max_bytes=200_000)
    thread = server.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def connect(server) -> socket.socket:
    sock = socket.create_connection(server.server_address[:2], timeout=30)
    sock.settimeout(30)
    return sock


def read_ack(sock: socket.socket) -> list[str]:
    """One framed ACK: its MSA fields as [MSA, code, control id, text]."""
    data = bytearray()
    while not data.endswith(b"\x1c\r"):
        chunk = sock.recv(1)  # a byte at a time: the next ACK stays in the socket
        assert chunk, "the listener closed the connection"
        data += chunk
    assert data.startswith(b"\x0b") and data.count(b"\x0b") == 1, data
    text = data[1:-2].decode()
    lines = text.split("\r")
    assert "|ACK^R01^ACK|" in lines[0]
    fields = (next(line for line in lines if line.startswith("MSA")).split("|") + ["", ""])[:4]
    return [*fields[:3], hl7.Encoding(lines[0]).unescape(fields[3])]


def test_two_messages_on_one_connection_get_two_acks_and_are_stored(listener, sender, patient_with_ct):
    patient, test = patient_with_ct
    with connect(listener) as sock:
        sock.sendall(frame(oru(patient, control_id="M1")) + frame(oru(patient, control_id="M2", exam="MAMMOB")))
        first, second = read_ack(sock), read_ack(sock)
    assert first[:3] == ["MSA", "AA", "M1"] and first[3] == "Stored and matched."
    assert second[:3] == ["MSA", "AA", "M2"] and second[3].startswith("Stored, not matched:")
    test.refresh_from_db()
    assert test.result == c.StagingResult.REPORTED
    assert dict(InboxMessage.objects.values_list("control_id", "status")) == {
        "M1": MessageStatus.MATCHED,
        "M2": MessageStatus.UNMATCHED,
    }
    audits = ApiRequest.objects.order_by("pk")
    assert [(a.action, a.outcome, a.client, a.method) for a in audits] == [
        (ApiAction.MLLP_RESULT, ApiOutcome.ACCEPTED, sender, "MLLP")
    ] * 2
    assert audits[0].message.control_id == "M1" and audits[0].remote_addr == "127.0.0.1"


def placed(control_id: str) -> bool:
    """Whether the listener has stored and placed the message (on SQLite, a table the listener's
    thread is writing is locked for a moment: ask again)."""
    try:
        return InboxMessage.objects.filter(control_id=control_id).exclude(status=MessageStatus.RECEIVED).exists()
    except OperationalError:
        return False


def test_a_message_split_over_many_packets_is_one_message(listener, patient_with_ct):
    patient, _ = patient_with_ct
    data = frame(oru(patient, control_id="SPLIT"))
    with connect(listener) as sock:
        for i in range(0, len(data), 7):
            sock.sendall(data[i : i + 7])
            time.sleep(0.001)
        assert read_ack(sock)[:3] == ["MSA", "AA", "SPLIT"]


def test_a_malformed_frame_is_ae_and_the_connection_still_works(listener, patient_with_ct):
    patient, test = patient_with_ct
    with connect(listener) as sock:
        sock.sendall(b"noise outside any frame\r" + frame("this is not an HL7 message"))
        bad = read_ack(sock)
        assert bad[1] == "AE" and bad[3].startswith("The message does not start with an MSH segment")
        sock.sendall(frame(oru(patient, control_id="AFTER")))
        assert read_ack(sock)[:3] == ["MSA", "AA", "AFTER"]
    after = InboxMessage.objects.get(control_id="AFTER")
    assert after.status == MessageStatus.MATCHED, after.reason
    assert InboxMessage.objects.filter(status=MessageStatus.REJECTED).count() == 1


def test_a_frame_cut_short_by_the_next_start_block_is_ae_and_the_next_message_is_read(listener, patient_with_ct):
    patient, _ = patient_with_ct
    cut = b"\x0b" + oru(patient, control_id="CUT").encode()[:60]
    with connect(listener) as sock:
        sock.sendall(cut + frame(oru(patient, control_id="WHOLE")))
        broken, whole = read_ack(sock), read_ack(sock)
    assert broken[1] == "AE" and "without its end block" in broken[3]
    assert whole[:3] == ["MSA", "AA", "WHOLE"]
    assert list(InboxMessage.objects.values_list("control_id", flat=True)) == ["WHOLE"]


def test_a_connection_dropped_mid_frame_stores_nothing_and_the_server_goes_on(listener, patient_with_ct):
    """The engine had no ACK, so it sends again: nothing half-read is stored, nothing is lost (H23)."""
    patient, test = patient_with_ct
    data = frame(oru(patient, control_id="RESENT"))
    with connect(listener) as sock:
        sock.sendall(data[: len(data) // 2])
    time.sleep(0.2)
    assert not InboxMessage.objects.exists()
    with connect(listener) as sock:
        sock.sendall(data)
        assert read_ack(sock)[:3] == ["MSA", "AA", "RESENT"]
    test.refresh_from_db()
    assert test.result == c.StagingResult.REPORTED


def test_an_ack_lost_with_the_connection_then_the_message_resent_is_recorded_once(listener, patient_with_ct):
    """The engine sends, the connection drops before it reads the ACK; it sends again on a new
    connection: AA again (a duplicate), and the result is recorded once (H23)."""
    patient, test = patient_with_ct
    data = frame(oru(patient, control_id="ONCE"))
    with connect(listener) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + 10
        while not placed("ONCE") and time.monotonic() < deadline:
            time.sleep(0.05)
    with connect(listener) as sock:
        sock.sendall(data)
        again = read_ack(sock)
    assert again[:3] == ["MSA", "AA", "ONCE"] and again[3].startswith("Duplicate:")
    assert [m.status for m in InboxMessage.objects.order_by("pk")] == [MessageStatus.MATCHED, MessageStatus.DUPLICATE]
    assert StagingTest.objects.get().version == test.version + 1


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared-cache test database locks a table for concurrent writers (production is PostgreSQL)",
)
def test_several_connections_at_once_are_each_answered(listener, patient_with_ct):
    patient, _ = patient_with_ct
    socks = [connect(listener) for _ in range(4)]
    try:
        for n, sock in enumerate(socks):
            sock.sendall(frame(oru(patient, control_id=f"C{n}", exam="XRCHEST")))
        assert [read_ack(sock)[2] for sock in socks] == ["C0", "C1", "C2", "C3"]
    finally:
        for sock in socks:
            sock.close()
    assert InboxMessage.objects.count() == 4


def test_a_revoked_client_gets_ar_for_every_message_and_nothing_is_stored(
    listener, sender, admin_user, patient_with_ct
):
    patient, _ = patient_with_ct
    client_revoke(client=sender, reason="Engine replaced", by=admin_user)
    with connect(listener) as sock:
        sock.sendall(frame(oru(patient, control_id="R1")) + frame(oru(patient, control_id="R2")))
        first, second = read_ack(sock), read_ack(sock)
    assert first[:3] == ["MSA", "AR", "R1"] and second[:3] == ["MSA", "AR", "R2"]
    assert "revoked" in first[3]
    assert not InboxMessage.objects.exists()
    assert list(ApiRequest.objects.values_list("outcome", "status_code")) == [(ApiOutcome.REFUSED, 401)] * 2


def test_a_client_that_may_not_send_gets_ar(listener, sender, admin_user, team, patient_with_ct):
    patient, _ = patient_with_ct
    client_update(client=sender, teams=[team], can_send=False, can_read=True, by=admin_user)
    with connect(listener) as sock:
        sock.sendall(frame(oru(patient, control_id="N1")))
        refused = read_ack(sock)
    assert refused[:3] == ["MSA", "AR", "N1"] and refused[3] == "This client may not send results."


def test_a_frame_over_the_size_limit_is_ar_and_the_connection_goes_on(listener, patient_with_ct):
    patient, _ = patient_with_ct
    with connect(listener) as sock:
        sock.sendall(frame(oru(patient, control_id="BIG", text="x" * 250_000)))
        big = read_ack(sock)
        assert big[:3] == ["MSA", "AR", "BIG"] and big[3] == "The message is larger than 200000 bytes."
        sock.sendall(frame(oru(patient, control_id="SMALL")))
        assert read_ack(sock)[:3] == ["MSA", "AA", "SMALL"]
    assert list(InboxMessage.objects.values_list("control_id", flat=True)) == ["SMALL"]
    assert ApiRequest.objects.filter(outcome=ApiOutcome.TOO_LARGE, status_code=413).count() == 1


def test_an_idle_connection_is_closed(sender):
    server = Listener("127.0.0.1", 0, sender, idle_timeout=0.3)
    thread = server.start()
    try:
        with connect(server) as sock:
            assert sock.recv(10) == b""  # the listener closed it
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_command_refuses_an_unknown_client():
    with pytest.raises(Exception, match="No API client is called 'Nobody'"):
        call_command("hl7_listener", "--client", "Nobody", "--port", "0")


def test_send_sample_results_posts_the_samples_to_a_running_server(live_server, sender_and_token, patient_with_ct):
    """The newcomer's command (docs/integration.md): the CT arrives on the patient's test, its
    correction is attached as an amendment, the unknown patient's report waits unmatched."""
    _, token = sender_and_token
    patient, test = patient_with_ct
    out = io.StringIO()
    call_command(
        "send_sample_results",
        "--url",
        f"{live_server.url}/api/hl7/v2/",
        "--token",
        token,
        "--nhs-number",
        patient.nhs_number,
        stdout=out,
    )
    printed = out.getvalue()
    assert printed.count("HTTP 200") == 5 and printed.count("MSA|AA|SAMPLE") == 5
    test.refresh_from_db()
    assert (test.result, test.report_amended) == (c.StagingResult.REPORTED, True)
    assert test.result_notes.startswith("CT CHEST, ABDOMEN AND PELVIS WITH CONTRAST - CORRECTED REPORT")
    unknown = InboxMessage.objects.get(nhs_number="9999999980")
    assert unknown.status == MessageStatus.UNMATCHED and unknown.reason.startswith("No patient of the teams")
