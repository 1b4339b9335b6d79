"""The patient page's MDT section: each live recurrence with its MDT discussions, or "Not yet discussed"."""

from dataclasses import dataclass, field

from followup import choices as fc

from .models import MDTDiscussion


@dataclass
class RecurrenceDiscussions:
    recurrence: object
    discussions: list = field(default_factory=list)  # live ones, oldest meeting first

    @property
    def not_discussed(self) -> bool:
        """On the "Recurrence not yet discussed at MDT" list, if the patient is active."""
        return not self.discussions and self.recurrence.status != fc.RecurrenceStatus.REFUTED


def patient_section(page) -> list[RecurrenceDiscussions]:
    """For the patient page (``page`` from PatientQuerySet.for_patient_page()): one query, none when the
    patient has no recurrence. Sets ``page.all_mdt_discussions`` (those entered in error too) for the
    timeline (mdt/timeline.py)."""
    recurrences = page.all_recurrences
    if not recurrences:
        page.all_mdt_discussions = []
        return []
    discussions = list(MDTDiscussion.all_objects.filter(patient=page).select_related("created_by", "error_marked_by"))
    page.all_mdt_discussions = discussions
    by_recurrence: dict[int, list] = {}
    for discussion in discussions:
        if not discussion.entered_in_error:
            by_recurrence.setdefault(discussion.recurrence_id, []).append(discussion)
    return [
        RecurrenceDiscussions(recurrence, by_recurrence.get(recurrence.pk, []))
        for recurrence in recurrences
        if not recurrence.entered_in_error
    ]
