"""How every screen and message writes a date, a time or a count: one way, written here once.

A date is "1 Dec 2026" (no leading zero, the month in three letters, always the
year); a moment is "1 Dec 2026 at 10:42", in UK local time. Pages use these through
the ``show_date`` and ``show_datetime`` template filters (templatetags/nhsuk.py),
Python code calls them directly. Files for machines (CSV, XLSX) write ISO dates
instead (exports.py; README, "Reports and exports"). The one short form: a month in
summaries and charts is "2026-11" and a quarter "2026 Q4", on screens and in files.
A count goes with its noun: plural(1, "row") is "1 row" (templates: ``pluralize``).
"""

from datetime import date, datetime

from django.utils import dateformat, timezone

from .choices import FollowUpKind, MetastaticType

DATE_FORMAT = "j M Y"  # Django's date format letters: 1 Dec 2026


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def show_date(value: date | None) -> str:
    """ "1 Dec 2026"; a moment is shown as its local day; "" for no date."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = _local(value)
    return dateformat.format(value, DATE_FORMAT)


def show_time(value: datetime) -> str:
    """ "10:42", local time."""
    return _local(value).strftime("%H:%M")


def show_datetime(value: datetime | None) -> str:
    """ "1 Dec 2026 at 10:42", local time; "" for none."""
    if value is None or value == "":
        return ""
    return f"{show_date(value)} at {show_time(value)}"


def show_when(value: datetime, *, today: date | None = None) -> str:
    """When something happened, for a sentence: "at 10:42" today, else "on 1 Dec 2026 at 10:42"."""
    today = today or timezone.localdate()
    if _local(value).date() == today:
        return f"at {show_time(value)}"
    return f"on {show_datetime(value)}"


def plural(count: int, noun: str, nouns: str = "") -> str:
    """ "1 row", "2 rows", "1,200 rows": a count with its noun (``nouns`` for an irregular plural)."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def _in_sentence(label: str) -> str:
    """A label inside a sentence: "Bone scan" is "bone scan"; "CT chest" and "MRI brain" keep their capitals."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def noun_for(record) -> str:
    """What a record is called inside a sentence: "Record the <mammogram> as done",
    "Acknowledge the <CT chest, abdomen and pelvis> result" (a page's h1, a button's words)."""
    kind = type(record).__name__
    if kind == "MDTDiscussion":
        return "MDT discussion"
    if kind == "Letter":
        return "letter"
    if kind == "FollowUpItem":
        return "follow-up item" if record.kind == FollowUpKind.OTHER else _in_sentence(record.get_kind_display())
    if kind == "StagingTest":
        return _in_sentence(record.get_modality_display())
    if kind == "Recurrence":
        if record.metastatic_type == MetastaticType.DISTANT:
            return "secondary breast cancer"
        return f"{_in_sentence(record.get_metastatic_type_display())} recurrence"
    if kind == "RestagingEpisode":
        return "restaging"
    named = {"Patient": "patient", "PrimaryDiagnosis": "primary diagnosis", "SymptomReport": "symptom report"}
    return named.get(kind) or str(record._meta.verbose_name)  # the other apps' records: "task", "contact"
