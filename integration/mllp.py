"""An MLLP listener: HL7v2 messages over TCP, each framed 0x0B ... 0x1C 0x0D, one ACK per message.

``python manage.py hl7_listener --host --port --client NAME`` runs ``serve``; tests start
``Listener`` on a free port in a thread. A listener speaks for one registered API client (the
integration engine that connects to it: MLLP carries no token, so the port is the client's, and
the network must let only that engine reach it). Each message:

- goes through the same ``services.receive`` as the HTTP endpoint (stored raw before the ACK);
- is answered AA / AE exactly as ``POST /api/hl7/v2/`` answers, or AR when the client is revoked,
  may not send, is over its rate limit, or the frame is larger than INTEGRATION_MAX_MESSAGE_BYTES;
- is audited as an ApiRequest (action MLLP_RESULT).

What the listener survives: bytes outside a frame (ignored: an ACK for them would be taken for the
answer to the next message), a frame without a valid message (AE, the connection stays open), a
frame cut short by a new start block (AE for the broken one), a connection dropped mid-frame
(nothing stored: the engine has no ACK and sends again), several engines' connections at once (a
thread each), and connections idle longer than the timeout (closed).
"""

import logging
import socketserver
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from . import hl7
from .api import over_rate_limit
from .models import ApiAction, ApiClient, ApiOutcome, ApiRequest, MessageFormat
from .services import receive
from .views_hl7 import NUL_REFUSED, answer, decode

logger = logging.getLogger(__name__)

START, END, CR = b"\x0b", b"\x1c", b"\x0d"


def frame(text: str) -> bytes:
    return START + text.encode("utf-8") + END + CR


class Handler(socketserver.BaseRequestHandler):
    server: "Listener"

    def setup(self) -> None:
        self.request.settimeout(self.server.idle_timeout)
        self.peer = self.client_address[0] if self.client_address else None

    def handle(self) -> None:
        buffer = bytearray()
        in_frame = False
        oversized = False
        while True:
            try:
                chunk = self.request.recv(65536)
            except TimeoutError:
                logger.info("MLLP connection from %s idle: closed", self.peer)
                return
            except OSError:
                return
            if not chunk:
                if in_frame and buffer:
                    logger.warning("MLLP connection from %s dropped mid-frame: %d bytes unacknowledged", self.peer,
                                   len(buffer))  # fmt: skip
                return
            for byte in chunk:
                if not in_frame:
                    if byte == 0x0B:
                        in_frame, oversized = True, False
                        buffer.clear()
                    # anything else outside a frame (a stray CR, noise) is ignored
                    continue
                if byte == 0x0B:  # a new frame before this one ended: answer the broken one
                    self.reply(self.broken(bytes(buffer)))
                    buffer.clear()
                    oversized = False
                    continue
                if byte == 0x1C:
                    in_frame = False
                    if oversized:
                        self.reply(self.too_large())
                    else:
                        self.reply(self.message(decode(bytes(buffer))))
                    buffer.clear()
                    continue
                if oversized:
                    continue
                buffer.append(byte)
                if len(buffer) > self.server.max_bytes:
                    oversized = True
                    self.head = decode(bytes(buffer[:4096]))
                    buffer.clear()

    def finish(self) -> None:
        connection.close()

    def reply(self, ack: str) -> None:
        try:
            self.request.sendall(frame(ack))
        except OSError:
            logger.warning("MLLP connection from %s closed before its ACK was sent", self.peer)

    def audit(self, client, outcome: str, status_code: int, detail: str, message=None) -> None:
        ApiRequest.objects.create(
            client=client,
            action=ApiAction.MLLP_RESULT,
            method="MLLP",
            path=f"mllp://{self.server.server_address[0]}:{self.server.server_address[1]}",
            outcome=outcome,
            status_code=status_code,
            detail=detail[:2000],
            remote_addr=self.peer,
            message=message,
            patient_ids=[message.patient_id] if message is not None and message.patient_id else [],
        )

    def client(self) -> tuple[ApiClient | None, str, int]:
        """The listener's client, read again for every message (a revoke takes effect at once)."""
        client = ApiClient.objects.filter(pk=self.server.client_id).first()
        if client is None or not client.is_active:
            return client, "This client is revoked or unknown: messages are refused.", 401
        if not client.can_send:
            return client, "This client may not send results.", 403
        if over_rate_limit(client):
            return client, "Too many requests: try again in a minute.", 429
        return client, "", 200

    def message(self, text: str) -> str:
        close_old_connections()
        try:
            client, refusal, status = self.client()
            if refusal:
                outcome = ApiOutcome.RATE_LIMITED if status == 429 else ApiOutcome.REFUSED
                self.audit(client, outcome, status, refusal)
                return hl7.ack("AR", hl7.control_id_of(text), refusal, incoming=text)
            if "\x00" in text:
                self.audit(client, ApiOutcome.ERROR, 400, NUL_REFUSED)
                return hl7.ack("AE", hl7.control_id_of(text), NUL_REFUSED, incoming=text.replace("\x00", ""))
            message = receive(client=client, format=MessageFormat.HL7V2, body=text, read=hl7.read)
            code, reply, outcome = answer(message)
            self.audit(client, outcome, 200, f"{message.get_status_display()}: {message.reason}".strip(": "), message)
            return hl7.ack(code, hl7.control_id_of(text), reply, incoming=text)
        except Exception:  # noqa: BLE001 - the connection and the listener go on; the engine resends
            logger.exception("MLLP message from %s could not be handled", self.peer)
            connection.close()
            return hl7.ack(
                "AE", hl7.control_id_of(text), "The message could not be stored: send it again.", incoming=text
            )

    def broken(self, data: bytes) -> str:
        """A frame cut short by the next start block: not a whole message, so not stored; answered AE."""
        text = decode(data)
        close_old_connections()
        reason = "The frame ended without its end block (0x1C 0x0D) before a new one started: send it again."
        try:
            client = ApiClient.objects.filter(pk=self.server.client_id).first()
            self.audit(client, ApiOutcome.ERROR, 400, reason)
        except Exception:  # noqa: BLE001
            logger.exception("Auditing a broken MLLP frame failed")
        return hl7.ack("AE", hl7.control_id_of(text), reason, incoming=text)

    def too_large(self) -> str:
        limit = self.server.max_bytes
        text = f"The message is larger than {limit} bytes."
        close_old_connections()
        try:
            client = ApiClient.objects.filter(pk=self.server.client_id).first()
            self.audit(client, ApiOutcome.TOO_LARGE, 413, text)
        except Exception:  # noqa: BLE001
            logger.exception("Auditing an oversized MLLP frame failed")
        return hl7.ack("AR", hl7.control_id_of(getattr(self, "head", "")), text, incoming=getattr(self, "head", ""))


class Listener(socketserver.ThreadingTCPServer):
    """One thread per connection; ``port=0`` picks a free port (``server_address`` tells which)."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, host: str, port: int, client: ApiClient, *, idle_timeout: float = 300, max_bytes=None):
        self.client_id = client.pk
        self.idle_timeout = idle_timeout
        self.max_bytes = max_bytes or settings.INTEGRATION_MAX_MESSAGE_BYTES
        super().__init__((host, port), Handler)

    def start(self) -> threading.Thread:
        """Serve in a background thread (tests); ``shutdown()`` then ``server_close()`` to stop."""
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        return thread
