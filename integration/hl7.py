"""HL7v2 (ER7) in and out: one ORU^R01 message -> a ``Report`` of plain values; the ACK we answer.

The message's structure (MSH first, one PID, one OBR after it, OBX after the OBR, every line a
segment) is checked here on its lines: hl7apy accepts garbage and misplaced segments silently
(PITFALLS.md), and its group paths differ between versions (2.3 puts the OBR in
ORU_R01_ORDER_OBSERVATION inside ORU_R01_RESPONSE; 2.4+ in ORU_R01_PATIENT_RESULT), so no group
path is used. hl7apy parses the PID and OBR segments as the message's version (MSH-12) defines
them: parsing the whole message cost four times as much (docs/performance.md). MSH and the OBX
lines are read from the text itself (hl7apy re-escapes unknown escape sequences such as
``\\.br\\`` in text values); HL7 escapes are undone here.

The rules, as the sending system's team reads them in docs/integration.md:
- one message, one report: exactly one PID and one OBR; a line that is not a segment is refused;
  Z-segments and other segments we do not use are ignored;
- the patient is the PID-3 repetition whose identifier type (CX-5) is ``NH``: a valid NHS number;
- only final (``F``) or corrected (``C``) reports are taken; ``P`` and ``X`` are refused.
"""

import re
import uuid
from datetime import date, datetime

from django.utils import timezone
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.exceptions import HL7apyException
from hl7apy.parser import parse_segment

from followup.nhs import nhs_number_error, normalise_nhs_number

from .services import Report, Unreadable

DEFAULT_VERSION = "2.4"
SEGMENT_NAME = re.compile(r"^[A-Z][A-Z0-9]{2}$")
TEXT_TYPES = {"TX", "FT", "ST", "CF", ""}
LIMITS = {"control_id": 300, "report_id": 300, "exam_code": 40, "exam_system": 40}
STATUS_WORDS = {"P": "preliminary", "X": "cancelled", "I": "pending", "S": "scheduled", "R": "not verified"}


def normalise(text: str) -> str:
    """Segments separated by ``\\r`` only, without MLLP framing characters or blank lines."""
    text = text.strip("\x0b\x1c\r\n \t\ufeff")
    return "\r".join(line for line in re.split(r"\r\n|\n|\r", text) if line.strip())


class Encoding:
    """The separators MSH-1 and MSH-2 declare (the usual ``|^~\\&`` when they cannot be read)."""

    def __init__(self, msh_line: str):
        field = msh_line[3:4] or "|"
        chars = msh_line[4:8] if len(msh_line) >= 8 else "^~\\&"
        self.field = field
        self.component, self.repetition, self.escape, self.subcomponent = (chars + "^~\\&"[len(chars) :])[:4]
        self._escape_re = re.compile(rf"{re.escape(self.escape)}([^{re.escape(self.escape)}]*){re.escape(self.escape)}")

    def fields(self, line: str) -> list[str]:
        """The segment's fields by HL7 number: ``fields(line)[n]`` is field n (MSH counted as HL7 counts)."""
        parts = line.split(self.field)
        if parts[0] == "MSH":
            return ["MSH", self.field, *parts[1:]]
        return parts

    def unescape(self, value: str) -> str:
        def replace(match: re.Match) -> str:
            code = match.group(1)
            simple = {
                "F": self.field,
                "S": self.component,
                "T": self.subcomponent,
                "R": self.repetition,
                "E": self.escape,
                ".br": "\n",
                ".sp": "\n",
                "H": "",
                "N": "",
            }
            if code in simple:
                return simple[code]
            if code.startswith(".sp"):
                # A few blank lines at most: the number is the sender's, the memory ours.
                return "\n" * min(10, max(1, int(code[3:].strip() or 1))) if code[3:].strip().isdigit() else "\n"
            if code.startswith("X") and re.fullmatch(r"X([0-9A-Fa-f]{2})+", code):
                raw = bytes.fromhex(code[1:])
                try:
                    return raw.decode("utf-8")
                except UnicodeDecodeError:
                    return raw.decode("latin-1")
            return ""  # formatting (.in, .ti, .ce, .fi, .nf), character sets (C, M), locals (Z): dropped

        return self._escape_re.sub(replace, value)

    def hl7apy(self) -> dict:
        return {
            "FIELD": self.field,
            "COMPONENT": self.component,
            "REPETITION": self.repetition,
            "ESCAPE": self.escape,
            "SUBCOMPONENT": self.subcomponent,
            "GROUP": "\r",
            "SEGMENT": "\r",
        }

    def components(self, value: str) -> list[str]:
        return value.split(self.component)


def component(encoding: Encoding, value: str, n: int) -> str:
    """Component n (1-based) of a field value, its first subcomponent, unescaped."""
    parts = encoding.components(value)
    if n > len(parts):
        return ""
    return encoding.unescape(parts[n - 1].split(encoding.subcomponent)[0]).strip()


def control_id_of(text: str) -> str:
    """MSH-10 by splitting the text: for an answer before (or without) parsing. Empty if there is none."""
    msh = _msh_line(text)
    if not msh:
        return ""
    encoding = Encoding(msh)
    fields = encoding.fields(msh)
    return encoding.unescape(fields[10]).strip()[:300] if len(fields) > 10 else ""


def _msh_line(text: str) -> str:
    for line in re.split(r"\r\n|\n|\r", text.lstrip("\x0b\ufeff \t\r\n")[:100_000]):
        if line.startswith("MSH") and len(line) > 3:
            return line
        if line.strip():
            return ""
    return ""


def _date(value: str, what: str) -> date | None:
    """The date of an HL7 TS/DTM value (YYYYMMDD[HHMM[SS]][+ZZZZ]); refused when it is not one."""
    value = value.strip()
    if not value:
        return None
    digits = re.match(r"^\d{8}", value)
    if not digits:
        raise Unreadable(f"{what} is not a date (YYYYMMDD): {value[:40]!r}.")
    try:
        return datetime.strptime(digits.group(0), "%Y%m%d").date()
    except ValueError as error:
        raise Unreadable(f"{what} is not a date (YYYYMMDD): {value[:40]!r}.") from error


def _segment_lines(text: str) -> list[str]:
    lines = text.split("\r")
    for number, line in enumerate(lines, start=1):
        name = line[:3]
        if not SEGMENT_NAME.match(name) or (len(line) > 3 and line[3] != lines[0][3:4]):
            shown = line[:30].encode("unicode_escape").decode("ascii")
            raise Unreadable(f"Line {number} is not an HL7 segment ({shown!r}): the message is refused whole.")
    return lines


def read(text: str) -> Report:
    """One ORU^R01 message -> a Report; ``Unreadable(reason)`` when it cannot be taken."""
    text = normalise(text)
    if not text.startswith("MSH"):
        raise Unreadable("The message does not start with an MSH segment: it is not an HL7v2 message.")
    lines = _segment_lines(text)
    encoding = Encoding(lines[0])
    separators = encoding.field + encoding.component + encoding.repetition + encoding.escape + encoding.subcomponent
    if len(set(separators)) < 5 or separators.isalnum():
        raise Unreadable("MSH-1 and MSH-2 do not give five different encoding characters (e.g. |^~\\&).")
    names = [line[:3] for line in lines]
    if names.count("MSH") > 1:
        raise Unreadable("The text holds more than one message (a second MSH): send one message per request.")
    msh = encoding.fields(lines[0])
    msh_field = lambda n: msh[n] if len(msh) > n else ""  # noqa: E731
    message_type = (component(encoding, msh_field(9), 1), component(encoding, msh_field(9), 2))
    if message_type != ("ORU", "R01"):
        shown = "^".join(part for part in message_type if part) or "(empty)"
        raise Unreadable(f"MSH-9 is {shown}: only ORU^R01 result messages are taken here.")
    control_id = component(encoding, msh_field(10), 1)
    if not control_id:
        raise Unreadable("MSH-10 (message control id) is empty: every message needs its own control id.")
    version = component(encoding, msh_field(12), 1)
    if not version:
        raise Unreadable("MSH-12 (version) is empty: say which HL7 version the message follows (e.g. 2.4).")
    if names.count("PID") == 0:
        raise Unreadable("The message has no PID segment: the patient must be named (PID-3 NHS number).")
    if names.count("PID") > 1:
        raise Unreadable("The message names more than one patient (PID segments): send one report per message.")
    if names.count("OBR") == 0:
        raise Unreadable("The message has no OBR segment: it must carry one report (OBR-4 the exam code).")
    if names.count("OBR") > 1:
        raise Unreadable(
            f"The message holds {names.count('OBR')} OBR segments: one report per message, "
            "send each report in its own message."
        )
    if names.index("OBR") < names.index("PID"):
        raise Unreadable("The OBR segment comes before the PID segment: segment order is MSH, PID, OBR, OBX.")
    # hl7apy parses the two segments whose fields we read, as the message's version defines them
    # (parsing the whole message costs four times as much: docs/performance.md).
    try:
        pid, obr = (
            parse_segment(lines[names.index(name)], version=version, encoding_chars=encoding.hl7apy(),
                          validation_level=VALIDATION_LEVEL.TOLERANT)
            for name in ("PID", "OBR")
        )  # fmt: skip
    except HL7apyException as error:
        raise Unreadable(f"The message cannot be parsed as HL7 version {version}: {error}") from error
    except Exception as error:  # noqa: BLE001 - hl7apy raises plain errors on some bad input
        raise Unreadable(f"The message cannot be parsed as HL7 version {version}: {error}") from error
    obx_lines = [line for line in lines if line.startswith("OBX")]
    if any(names.index("OBR") > number for number, name in enumerate(names) if name == "OBX"):
        raise Unreadable("An OBX segment comes before the OBR segment: segment order is MSH, PID, OBR, OBX.")

    nhs_number = _nhs_number(encoding, pid)
    family_name = component(encoding, _first(pid.pid_5), 1)[:100]
    given_name = component(encoding, _first(pid.pid_5), 2)[:100]
    date_of_birth = _date(component(encoding, _first(pid.pid_7), 1), "PID-7 (date of birth)")

    exam = _first(obr.obr_4)
    exam_code = component(encoding, exam, 1)
    if not exam_code:
        raise Unreadable("OBR-4 (universal service identifier) has no code: the exam or test code is needed.")
    exam_name, exam_system = component(encoding, exam, 2)[:200], component(encoding, exam, 3)
    report_id = component(encoding, _first(obr.obr_3), 1) or component(encoding, _first(obr.obr_2), 1)
    performed_on = _date(component(encoding, _first(obr.obr_7), 1), "OBR-7 (observation date)")

    obx = [encoding.fields(line) for line in obx_lines]
    obx_field = lambda fields, n: fields[n] if len(fields) > n else ""  # noqa: E731
    reported_on = _date(component(encoding, _first(obr.obr_22), 1), "OBR-22 (results reported date)")
    if reported_on is None:
        for fields in obx:
            reported_on = reported_on or _date(component(encoding, obx_field(fields, 14), 1), "OBX-14")
    if reported_on is None:
        reported_on = _date(component(encoding, msh_field(7), 1), "MSH-7 (message date)")

    obx_statuses = {component(encoding, obx_field(fields, 11), 1).upper() for fields in obx}
    status = component(encoding, _first(obr.obr_25), 1).upper()
    if status in STATUS_WORDS:
        raise Unreadable(
            f"Only final or corrected reports are accepted: OBR-25 is {status} ({STATUS_WORDS[status]}). "
            "Send the report again when it is final."
        )
    if status not in ("", "F", "C"):
        raise Unreadable(f"OBR-25 (result status) is {status!r}: only F (final) or C (corrected) are accepted.")
    if not status and not (obx_statuses and obx_statuses <= {"F", "C"}):
        raise Unreadable("OBR-25 (result status) is empty: send F (final) or C (corrected).")

    report = Report(
        control_id=control_id,
        report_id=report_id,
        nhs_number=nhs_number,
        family_name=family_name,
        given_name=given_name,
        date_of_birth=date_of_birth,
        exam_code=exam_code,
        exam_system=exam_system,
        exam_name=exam_name,
        performed_on=performed_on,
        reported_on=reported_on,
        report_text=_report_text(encoding, obx),
        amendment=status == "C" or "C" in obx_statuses,
    )
    for field, limit in LIMITS.items():
        if len(getattr(report, field)) > limit:
            raise Unreadable(f"The {field.replace('_', ' ')} is longer than {limit} characters.")
    return report


def _first(repetitions) -> str:
    """The first repetition of a field, as ER7 text ("" when the field is absent)."""
    try:
        return repetitions[0].to_er7() if repetitions else ""
    except (IndexError, HL7apyException):
        return ""


def _nhs_number(encoding: Encoding, pid) -> str:
    for repetition in pid.pid_3:
        value = repetition.to_er7()
        if component(encoding, value, 5).upper() == "NH":
            number = normalise_nhs_number(component(encoding, value, 1))
            error = nhs_number_error(number)
            if error:
                raise Unreadable(f"PID-3 NHS number {number[:20]!r} is not valid: {error}")
            return number
    raise Unreadable("PID-3 has no NHS number (identifier type NH).")


def _report_text(encoding: Encoding, obx: list[list[str]]) -> str:
    """Every OBX-5, in order: text lines as they are (repetitions and \\.br\\ as line breaks);
    a coded or numeric value as "label: value units"."""
    lines: list[str] = []
    for fields in obx:
        value_type = fields[2].strip().upper() if len(fields) > 2 else ""
        raw = fields[5] if len(fields) > 5 else ""
        for repetition in raw.split(encoding.repetition):
            if value_type in TEXT_TYPES:
                lines.append(encoding.unescape(repetition))
            else:
                value = component(encoding, repetition, 2 if value_type in ("CE", "CWE", "CNE") else 1)
                if not value and value_type in ("CE", "CWE", "CNE"):
                    value = component(encoding, repetition, 1)
                identifier = fields[3] if len(fields) > 3 else ""
                label = component(encoding, identifier, 2) or component(encoding, identifier, 1)
                units = component(encoding, fields[6], 1) if len(fields) > 6 else ""
                lines.append(" ".join(part for part in (f"{label}:" if label else "", value, units) if part))
    return "\n".join(lines).strip("\n")


def _escape(value: str, encoding: Encoding | None = None) -> str:
    e = encoding or Encoding("MSH|^~\\&")
    value = value.replace(e.escape, f"{e.escape}E{e.escape}")
    for char, code in ((e.field, "F"), (e.component, "S"), (e.subcomponent, "T"), (e.repetition, "R")):
        value = value.replace(char, f"{e.escape}{code}{e.escape}")
    line_break = f"{e.escape}.br{e.escape}"
    return re.sub(r"\r\n|\n|\r", lambda _: line_break, value)


# HL7 table 0357 (message error condition codes).
ERROR_CODES = {
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "200": "Unsupported message type",
    "203": "Unsupported version id",
    "207": "Application internal error",
}


def error_code(reason: str) -> str:
    """The table 0357 code that fits a reason this module (or the gate) gives."""
    if "MSH-9" in reason:
        return "200"
    if "MSH-12" in reason or "cannot be parsed" in reason:
        return "203" if "version" in reason and "not supported" in reason else "102"
    if "OBR-25" in reason:
        return "103"
    if "has no" in reason or "is empty" in reason:
        return "101"
    if "segment" in reason.lower() or "one report per message" in reason:
        return "100"
    if "is not" in reason:
        return "102"
    return "207"


def ack(code: str, control_id_of_message: str, text: str = "", *, incoming: str = "") -> str:
    """An ACK in ER7: MSA-1 ``code`` (AA, AE, AR), MSA-2 the incoming MSH-10, MSA-3 the text, and an
    ERR segment for AE and AR. Sender and receiver are the incoming MSH-5/6 and MSH-3/4 (swapped),
    the version the incoming one (2.4 when it cannot be read)."""
    msh = _msh_line(incoming) if incoming else ""
    encoding = Encoding(msh) if msh else Encoding("MSH|^~\\&")
    fields = encoding.fields(msh) if msh else []
    get = lambda n: fields[n] if len(fields) > n else ""  # noqa: E731
    version = component(encoding, get(12), 1) if msh else ""
    if not re.fullmatch(r"2\.\d(\.\d)?", version):
        version = DEFAULT_VERSION
    sending_app, sending_facility = get(5) or "FOLLOWUP", get(6)
    receiving_app, receiving_facility = get(3), get(4)
    processing = get(11) or "P"
    now = timezone.localtime().strftime("%Y%m%d%H%M%S")
    e = encoding
    seps = f"{e.component}{e.repetition}{e.escape}{e.subcomponent}"
    msh_out = e.field.join(
        [
            "MSH",
            seps,
            sending_app,
            sending_facility,
            receiving_app,
            receiving_facility,
            now,
            "",
            f"ACK{e.component}R01{e.component}ACK",
            f"ACK{uuid.uuid4().hex[:16].upper()}",
            processing,
            version,
        ]
    )
    msa = e.field.join(["MSA", code, _escape(control_id_of_message, e), _escape(text[:500], e)])
    segments = [msh_out, msa]
    if code in ("AE", "AR"):
        number = "207" if code == "AR" else error_code(text)
        coded = e.component.join([number, ERROR_CODES.get(number, ""), "HL70357"])
        if version.startswith(("2.3", "2.4")):
            # ERR-1 (CM: segment^sequence^field^code&text&table)
            sub = e.subcomponent.join([number, ERROR_CODES.get(number, ""), "HL70357"])
            err = e.field.join(["ERR", e.component * 3 + sub])
        else:
            # ERR-3 error code, ERR-4 severity, ERR-8 user message
            err = e.field.join(["ERR", "", "", coded, "E", "", "", "", _escape(text[:500], e)])
        segments.append(err)
    return "\r".join(segments) + "\r"
