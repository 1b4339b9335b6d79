"""``POST /api/hl7/v2/``: one HL7v2 ORU^R01 message (ER7 text) in, one HL7 ACK out.

- AA: the message is stored (matched, unmatched for a person to place, or a duplicate of one
  received before: MSA-3 says which);
- AE: it is stored but cannot be understood (rejected): MSA-3 and ERR say why;
- AR: it was refused before it was read (no or wrong token, a client that may not send, too many
  requests, too large): nothing is stored; the HTTP status says which (401, 403, 429, 413).

Every answer that carries an ACK has the content type ``application/hl7-v2; charset=utf-8``.
The body is read as UTF-8 (as latin-1 when it is not valid UTF-8). Any method but POST: 405 with
an AR ACK (and an Allow header).
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from . import hl7
from .api import api_endpoint, content_length
from .models import ApiAction, ApiClient, ApiOutcome, MessageFormat, MessageStatus
from .services import receive

CONTENT_TYPE = "application/hl7-v2; charset=utf-8"
# PostgreSQL text cannot hold a NUL byte, and HL7 text never has one: such a body is not stored.
NUL_REFUSED = "The message contains NUL (0x00) bytes, which HL7 text never holds: it was not stored. Send it without."


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def ack_response(code: str, text: str, incoming: str, *, status: int = 200) -> HttpResponse:
    ack = hl7.ack(code, hl7.control_id_of(incoming), text, incoming=incoming)
    return HttpResponse(ack.encode("utf-8"), status=status, content_type=CONTENT_TYPE)


def refuse(request: HttpRequest, status: int, text: str) -> HttpResponse:
    """The gate's refusal as an AR ACK (nothing was stored). The body of a message too large is
    not read: its control id is taken only from a body within the limit."""
    incoming = ""
    if status != 413 and content_length(request) <= settings.INTEGRATION_MAX_MESSAGE_BYTES:
        try:
            incoming = decode(request.body)
        except RequestDataTooBig:  # a body without Content-Length, over Django's own limit
            incoming = ""
    return ack_response("AR", text, incoming, status=status)


def answer(message) -> tuple[str, str, str]:
    """(MSA-1, MSA-3, audit outcome) for a message ``receive`` has stored."""
    if message.status == MessageStatus.REJECTED:
        return "AE", message.reason, ApiOutcome.ERROR
    if message.status == MessageStatus.DUPLICATE:
        first = message.duplicate_of_id
        return (
            "AA",
            f"Duplicate: this control id was received already (message {first}); recorded once.",
            (ApiOutcome.ACCEPTED),
        )
    if message.status == MessageStatus.MATCHED:
        text = "Stored and matched" + (" as an amended report." if message.is_amendment else ".")
        return "AA", text, ApiOutcome.ACCEPTED
    return "AA", f"Stored, not matched: {message.reason} It waits on the unmatched results list.", ApiOutcome.ACCEPTED


@api_endpoint(action=ApiAction.HL7_RESULT, needs="send", refuse=refuse)
def receive_hl7(request: HttpRequest, client: ApiClient) -> HttpResponse:
    if request.method != "POST":
        request.api_audit = {"outcome": ApiOutcome.REFUSED, "detail": f"Method {request.method} is not allowed."}
        response = ack_response("AR", "Only POST is allowed: send one HL7v2 message in the body.", "", status=405)
        response["Allow"] = "POST"
        return response
    body = decode(request.body)
    if "\x00" in body:
        request.api_audit = {"outcome": ApiOutcome.ERROR, "detail": NUL_REFUSED}
        return ack_response("AE", NUL_REFUSED, body.replace("\x00", ""))
    message = receive(client=client, format=MessageFormat.HL7V2, body=body, read=hl7.read)
    code, text, outcome = answer(message)
    request.api_audit = {
        "outcome": outcome,
        "detail": f"{message.get_status_display()}: {message.reason}".strip(": ")[:2000],
        "message": message,
        "patient_ids": [message.patient_id] if message.patient_id else [],
    }
    return ack_response(code, text, body)
