"""One chronological story of a patient, from the rows for_patient_page() loaded."""

from dataclasses import dataclass, field
from datetime import date

from . import choices as c
from .models import Patient


@dataclass
class Event:
    on: date
    title: str
    detail: str = ""
    tags: list[tuple[str, str]] = field(default_factory=list)  # (text, colour)
    category: str = ""
    upcoming: bool = False  # an open follow-up item: due or booked


def _who(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def _item_event(item) -> Event:
    kind = item.get_kind_display()
    if item.status == c.FollowUpStatus.DONE:
        detail = f"Result: {item.get_result_display()}." if item.result else ""
        if item.result and item.result_acknowledged_at:
            detail += (
                f" Acknowledged by {_who(item.result_acknowledged_by)} on {item.result_acknowledged_at:%-d %b %Y}."
            )
        elif item.result:
            detail += " Not yet acknowledged."
        tags = [("Abnormal", "red")] if item.result == c.ImagingOutcome.ABNORMAL else []
        return Event(item.done_on, f"{kind} done", detail.strip(), tags, "follow-up")
    if item.status == c.FollowUpStatus.BOOKED:
        return Event(
            item.booked_for,
            f"{kind} booked",
            f"Due {item.due_on:%-d %b %Y}.",
            [("Booked", "blue")],
            "follow-up",
            upcoming=True,
        )
    if item.status == c.FollowUpStatus.CANCELLED:
        return Event(item.due_on, f"{kind} cancelled", item.cancel_reason, [("Cancelled", "grey")], "follow-up")
    if item.status == c.FollowUpStatus.DID_NOT_ATTEND:
        return Event(item.due_on, f"{kind}: did not attend", "", [("Did not attend", "orange")], "follow-up")
    return Event(item.due_on, f"{kind} due", item.notes, [("Due", "white")], "follow-up", upcoming=True)


def _sites(sites) -> str:
    return ", ".join(str(site) for site in sites) or "no site recorded"


def _test_event(test) -> Event:
    name = test.get_modality_display()
    if test.cancelled_on:
        return Event(test.cancelled_on, f"{name} cancelled", test.cancel_reason, [("Cancelled", "grey")], "restaging")
    if test.result:
        detail = test.get_result_display()
        if test.result == c.StagingResult.DISTANT:
            detail += f": {_sites(test.sites.all())}"
        tags = {
            c.StagingResult.DISTANT: [("Distant disease", "red")],
            c.StagingResult.EQUIVOCAL: [("Equivocal", "yellow")],
        }.get(test.result, [])
        if not test.acknowledged_at:
            tags.append(("Not yet acknowledged", "orange"))
        return Event(test.reported_on, f"{name} reported", detail, tags, "restaging")
    if test.performed_on:
        return Event(test.performed_on, f"{name} performed", "Awaiting report.", [], "restaging")
    return Event(test.requested_on, f"{name} requested", "", [("Requested", "white")], "restaging")


@dataclass
class Timeline:
    upcoming: list[Event]  # open follow-up items, soonest first
    history: list[Event]  # everything else, newest first


def patient_timeline(patient: Patient) -> Timeline:
    """The patient's story: what is coming (open items), then what has happened."""
    events = []
    for primary in patient.primaries.all():
        side = primary.get_laterality_display() or "laterality not recorded"
        events.append(
            Event(
                primary.diagnosed_on,
                f"Primary breast cancer diagnosed ({side})",
                primary.get_histology_display(),
                [],
                "primary",
            )
        )
    events.extend(_item_event(item) for item in patient.followup_items.all())
    for recurrence in patient.recurrences.all():
        tags = [(recurrence.get_status_display(), "red" if recurrence.status == "confirmed" else "grey")]
        events.append(
            Event(
                recurrence.diagnosed_on,
                f"{recurrence.get_metastatic_type_display()} recurrence",
                _sites(recurrence.sites.all()),
                tags,
                "recurrence",
            )
        )
        episode = getattr(recurrence, "restaging", None)
        if episode and not episode.entered_in_error:
            events.extend(_test_event(test) for test in episode.tests.all())
            if episode.closed_on:
                events.append(
                    Event(
                        episode.closed_on, f"Restaging complete: {episode.get_outcome_display()}", "", [], "restaging"
                    )
                )
    for report in patient.symptom_reports.all():
        tags = [("Red flag", "red")] if report.red_flag else []
        if report.triaged_at:
            detail = f"Triaged by {_who(report.triaged_by)}: {report.get_triage_outcome_display()}."
        else:
            detail = "Awaiting triage."
            tags.append(("Not triaged", "orange"))
        events.append(
            Event(
                report.reported_on,
                f"{report.get_area_display()} symptoms reported",
                f"{report.description} {detail}",
                tags,
                "symptoms",
            )
        )
    upcoming = sorted((e for e in events if e.upcoming), key=lambda event: event.on)
    history = sorted((e for e in events if not e.upcoming), key=lambda event: event.on, reverse=True)
    return Timeline(upcoming, history)
