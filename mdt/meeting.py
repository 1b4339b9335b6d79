"""The MDT list for a meeting: whom to discuss, with the facts the meeting needs, on screen and as a PDF.

Who is listed (for the user's team scope): every recurrence not yet discussed at MDT (the failsafe list's
rule, mdt.models.not_discussed_at_mdt), and every recurrence with a discussion recorded for that meeting
date, so the list still shows what the meeting decided once its outcomes are recorded.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Prefetch, Q

from followup import choices as fc
from followup.display import show_date
from followup.models import PrimaryDiagnosis, Recurrence, StagingTest
from followup.tables import restaging_status

from .models import MDTDiscussion, live_discussion_of

LATEST_RESULTS = 3  # the most recent staging results shown for each recurrence


def _receptors(record) -> str:
    def one(name, value):
        return f"{name} {value or 'not recorded'}"

    return ", ".join(
        [
            one("ER", record.get_er_status_display().lower() if record.er_status else ""),
            one("PR", record.get_pr_status_display().lower() if record.pr_status else ""),
            one("HER2", record.get_her2_status_display().lower() if record.her2_status else ""),
        ]
    )


@dataclass
class MeetingRow:
    recurrence: Recurrence
    age: int
    primary: str
    recurrence_words: str
    restaging: str
    results: list[str]
    discussions: list  # live discussions recorded for this meeting date

    @property
    def patient(self):
        return self.recurrence.patient


def meeting_rows(user, meeting_on: date) -> tuple[list[MeetingRow], list[MeetingRow]]:
    """(to discuss, discussed at this meeting), each oldest recurrence first. A fixed number of queries:
    the recurrences with patient, primary and restaging episode; their sites; the patients' primaries;
    the episodes' staging tests; the discussions of that meeting date."""
    discussed_then = Exists(MDTDiscussion.objects.filter(recurrence=OuterRef("pk"), meeting_on=meeting_on))
    to_discuss = Q(discussed=False, patient__status__in=fc.ACTIVE_PATIENT_STATUSES) & ~Q(
        status=fc.RecurrenceStatus.REFUTED
    )
    recurrences = (
        Recurrence.objects.live()
        .visible_to(user)
        .alias(discussed=live_discussion_of(), discussed_then=discussed_then)
        .filter(to_discuss | Q(discussed_then=True))
        .select_related("patient", "primary", "restaging")
        .prefetch_related(
            "sites",
            Prefetch("patient__primaries", queryset=PrimaryDiagnosis.objects.all(), to_attr="live_primaries"),
            Prefetch(
                "restaging__tests",
                queryset=StagingTest.objects.order_by("requested_on", "pk"),
            ),
            Prefetch(
                "mdt_discussions",
                queryset=MDTDiscussion.objects.filter(meeting_on=meeting_on).select_related("created_by"),
                to_attr="meeting_discussions",
            ),
        )
        .order_by("diagnosed_on", "pk")
    )
    pending, discussed = [], []
    for recurrence in recurrences:
        row = _row(recurrence, meeting_on)
        (discussed if row.discussions else pending).append(row)
    return pending, discussed


def _row(recurrence: Recurrence, meeting_on: date) -> MeetingRow:
    patient = recurrence.patient
    born = patient.date_of_birth
    age = meeting_on.year - born.year - ((meeting_on.month, meeting_on.day) < (born.month, born.day))
    primary = recurrence.primary if recurrence.primary and not recurrence.primary.entered_in_error else None
    if primary is None and patient.live_primaries:
        primary = patient.live_primaries[-1]
    if primary is None:
        primary_words = "No primary diagnosis recorded"
    else:
        side = primary.get_laterality_display() or "laterality not recorded"
        primary_words = f"{side}, diagnosed {show_date(primary.diagnosed_on)}; {_receptors(primary)}"
    sites = ", ".join(str(site) for site in recurrence.sites.all()) or "no site recorded"
    recurrence_words = (
        f"{recurrence.get_metastatic_type_display()}: {sites}; {recurrence.get_status_display().lower()}, "
        f"{show_date(recurrence.diagnosed_on)}"
    )
    episode = getattr(recurrence, "restaging", None)
    results = []
    if episode is None or episode.entered_in_error:
        restaging = "Not restaged (distant recurrence)" if episode is None else "Restaging entered in error"
    else:
        tests = list(episode.tests.all())
        if episode.outcome in fc.OPEN_RESTAGING_OUTCOMES:
            restaging = f"Incomplete: {restaging_status(episode)}"
        else:
            restaging = episode.get_outcome_display()
        reported = sorted((t for t in tests if t.result), key=lambda t: (t.reported_on, t.pk), reverse=True)
        results = [
            f"{test.get_modality_display()}, {show_date(test.reported_on)}: {test.get_result_display()}"
            for test in reported[:LATEST_RESULTS]
        ]
    return MeetingRow(
        recurrence=recurrence,
        age=age,
        primary=primary_words,
        recurrence_words=recurrence_words,
        restaging=restaging,
        results=results,
        discussions=recurrence.meeting_discussions,
    )
