"""The sample ORU^R01 messages (``*.hl7`` here), and filling them in for a real (demo) patient.

Used by ``manage.py send_sample_results``, the tests and ``bench/hl7.py``.
"""

from datetime import date, timedelta
from pathlib import Path

from django.utils import timezone

HERE = Path(__file__).resolve().parent
UNKNOWN = "05-unknown-nhs-number.hl7"


def names() -> list[str]:
    return sorted(path.name for path in HERE.glob("*.hl7"))


def text(name: str) -> str:
    """A sample as stored, with ``\\r`` between segments."""
    return "\r".join(line for line in (HERE / name).read_text().splitlines() if line.strip()) + "\r"


def _set(fields: list[str], n: int, value: str) -> None:
    while len(fields) <= n:
        fields.append("")
    fields[n] = value


def fill(
    message: str,
    *,
    control_id: str,
    run: str = "",
    nhs_number: str = "",
    family_name: str = "",
    given_name: str = "",
    date_of_birth: date | None = None,
    performed_on: date | None = None,
    reported_on: date | None = None,
) -> str:
    """The message with a new MSH-10 and MSH-7, the patient's NHS number (the PID-3 repetition of
    type NH), name and date of birth, the exam dates (OBR-7, OBR-22, OBX-14), and ``run`` put into
    the order numbers (OBR-2/3, ORC-2/3) so a corrected report still names its first report."""
    today = timezone.localdate()
    performed_on = performed_on or today - timedelta(days=1)
    reported_on = reported_on or today
    now = timezone.localtime().strftime("%H%M%S")
    out = []
    for line in message.replace("\r\n", "\r").replace("\n", "\r").split("\r"):
        if not line:
            continue
        fields = line.split("|")
        name = fields[0]
        if name == "MSH":
            _set(fields, 6, f"{today:%Y%m%d}{now}")  # MSH-7 (MSH-1 is the separator itself)
            _set(fields, 9, control_id)  # MSH-10
        elif name == "PID":
            if nhs_number:
                reps = fields[3].split("~") if len(fields) > 3 else []
                reps = [r for r in reps if not r.endswith("^NH")] + [f"{nhs_number}^^^NHS^NH"]
                _set(fields, 3, "~".join(reps))
            if family_name:
                _set(fields, 5, f"{family_name.upper()}^{given_name}")
            if date_of_birth:
                _set(fields, 7, f"{date_of_birth:%Y%m%d}")
        elif name in ("OBR", "ORC"):
            for n in (2, 3):
                if len(fields) > n and fields[n] and run:
                    fields[n] = f"{fields[n]}-{run}"
            if name == "OBR":
                _set(fields, 7, f"{performed_on:%Y%m%d}1015")
                _set(fields, 22, f"{reported_on:%Y%m%d}1425")
        elif name == "OBX" and len(fields) > 14 and fields[14]:
            fields[14] = f"{reported_on:%Y%m%d}1425"
        out.append("|".join(fields))
    return "\r".join(out) + "\r"
