"""One chronological story of a patient, from the rows for_patient_page() loaded.

Records entered in error stay in the story, struck through, with who marked them,
when and why (DOMAIN.md: a wrong entry stays in the history); they are never
upcoming and offer no action.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.urls import reverse

from . import choices as c
from .display import show_date
from .models import Patient


@dataclass(frozen=True)
class ErrorMark:
    """Who marked a record entered in error, when and why."""

    by: str
    at: datetime
    reason: str
    # Marked with its parent (a test of a recurrence entered in error): "recurrence".
    with_parent: str = ""


@dataclass
class Event:
    on: date
    title: str
    detail: str = ""
    tags: list[tuple[str, str]] = field(default_factory=list)  # (text, colour)
    category: str = ""
    upcoming: bool = False  # an open follow-up item: due or booked
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url) of the actions that fit
    error: ErrorMark | None = None  # set: the record was entered in error (shown struck through)
    report: str = ""  # the report text as it arrived (results interfaces), shown folded


def _url(name: str, pk: int) -> str:
    return reverse(f"followup:{name}", args=[pk])


def _error_link(kind: str, pk: int) -> tuple[str, str]:
    return ("Entered in error", reverse("followup:entered_in_error", args=[kind, pk]))


def _waits(record) -> bool:
    """Reported by itself, or amended: acknowledged through its classification (services.waits_for_classification)."""
    return record.result in c.UNCLASSIFIED_RESULTS or (record.report_amended and bool(record.result))


def _report_tags(record) -> list[tuple[str, str]]:
    tags = [("Reported, not yet classified", "blue")] if record.result in c.UNCLASSIFIED_RESULTS else []
    return tags + ([("Amended report", "orange")] if record.report_amended else [])


def _item_links(item) -> list[tuple[str, str]]:
    links = []
    if item.status in c.OPEN_FOLLOWUP_STATUSES:
        links += [
            ("Record done", _url("item_done", item.pk)),
            ("Book", _url("item_book", item.pk)),
            ("Did not attend", _url("item_dna", item.pk)),
            ("Cancel", _url("item_cancel", item.pk)),
        ]
    if item.result_awaited:
        links.append(("Record the result", _url("item_result", item.pk)))
    if item.result and not item.result_acknowledged_at:
        if _waits(item):
            links.append(("Classify and acknowledge", _url("item_classify", item.pk)))
        else:
            links.append(("Acknowledge the result", _url("item_acknowledge", item.pk)))
    if item.result == c.ImagingOutcome.ABNORMAL:
        links.append(("Next step", _url("item_next_step", item.pk)))
    return [*links, _error_link("item", item.pk)]


def _recurrence_links(recurrence) -> list[tuple[str, str]]:
    links = []
    if recurrence.status != c.RecurrenceStatus.REFUTED:
        links.append(("Confirm or refute", _url("recurrence_status", recurrence.pk)))
    else:
        # Refuted in error: confirming it opens its restaging again.
        links.append(("Confirm the recurrence", _url("recurrence_status", recurrence.pk)))
    episode = getattr(recurrence, "restaging", None)
    if episode and episode.outcome in c.OPEN_RESTAGING_OUTCOMES:
        links.append(("Request a restaging test", _url("staging_request", episode.pk)))
    links.append(("Record MDT discussion", reverse("mdt:discussion_record", args=[recurrence.pk])))
    return [*links, _error_link("recurrence", recurrence.pk)]


def _test_links(test, *, refuted: bool) -> list[tuple[str, str]]:
    links = []
    if not test.cancelled_on:
        if not test.result:
            links += [
                ("Record the result", _url("staging_result", test.pk)),
                ("Cancel", _url("staging_cancel", test.pk)),
            ]
        else:
            if not test.acknowledged_at:
                if _waits(test):
                    links.append(("Classify and acknowledge", _url("staging_classify", test.pk)))
                else:
                    links.append(("Acknowledge the result", _url("staging_acknowledge", test.pk)))
            if test.result == c.StagingResult.DISTANT and (
                test.distant_recurrence_id is None or test.distant_recurrence.entered_in_error
            ):
                links.append(("Record secondary breast cancer", _url("secondary_from_test", test.pk)))
            if test.result == c.StagingResult.EQUIVOCAL and not refuted:
                url = f"{_url('staging_request', test.episode_id)}?follow_up_of={test.pk}"
                links.append(("Request a further test", url))
            links.append(("Correct the result", _url("staging_result", test.pk)))
    return [*links, _error_link("test", test.pk)]


def _who(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def _error_mark(record, with_parent: str = "") -> ErrorMark | None:
    if not record.entered_in_error:
        return None
    return ErrorMark(_who(record.error_marked_by), record.error_marked_at, record.error_reason, with_parent)


def _with_error(event: Event, mark: ErrorMark | None) -> Event:
    """An event of a record entered in error: in the history, without tags or actions."""
    if mark is not None:
        event.error, event.upcoming, event.tags, event.links = mark, False, [], []
    return event


def _item_event(item) -> Event:
    kind = item.get_kind_display()
    if item.status == c.FollowUpStatus.DONE:
        detail = f"Result: {item.get_result_display()}." if item.result else ""
        if item.result and item.result_acknowledged_at:
            detail += (
                f" Acknowledged by {_who(item.result_acknowledged_by)} on {show_date(item.result_acknowledged_at)}."
            )
        elif item.result:
            detail += " Not yet acknowledged."
        tags = [("Abnormal", "red")] if item.result == c.ImagingOutcome.ABNORMAL else []
        tags += _report_tags(item)
        if item.result_awaited:
            detail, tags = "Result not yet available.", [("Result awaited", "orange")]
        return Event(item.done_on, f"{kind} done", detail.strip(), tags, "follow-up", report=item.report)
    if item.status == c.FollowUpStatus.BOOKED:
        return Event(
            item.booked_for,
            f"{kind} booked",
            f"Due {show_date(item.due_on)}.",
            [("Booked", "blue")],
            "follow-up",
            upcoming=True,
        )
    if item.status == c.FollowUpStatus.CANCELLED:
        return Event(item.due_on, f"{kind} cancelled", item.cancel_reason, [("Cancelled", "grey")], "follow-up")
    if item.status == c.FollowUpStatus.DID_NOT_ATTEND:
        # The day of the appointment missed, as "Last follow-up item" gives it (querysets.HAPPENED_ON).
        on = item.booked_for or item.due_on
        return Event(on, f"{kind}: did not attend", "", [("Did not attend", "orange")], "follow-up")
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
        tags += _report_tags(test)
        if not test.acknowledged_at:
            tags.append(("Not yet acknowledged", "orange"))
        return Event(test.reported_on, f"{name} reported", detail, tags, "restaging", report=test.result_notes)
    if test.performed_on:
        return Event(test.performed_on, f"{name} performed", "Awaiting report.", [], "restaging")
    return Event(test.requested_on, f"{name} requested", "", [("Requested", "white")], "restaging")


def _task_events(patient: Patient) -> list[Event]:
    from tasks.timeline import task_events  # tasks builds on this module's Event: imported when used

    return task_events(patient)


@dataclass
class Timeline:
    upcoming: list[Event]  # open follow-up items, soonest first
    history: list[Event]  # everything else, newest first


def patient_timeline(patient: Patient) -> Timeline:
    """The patient's story: what is coming (open items), then what has happened.

    ``patient`` comes from for_patient_page(): its ``all_...`` lists hold the rows
    entered in error too.
    """
    events = []
    for primary in patient.all_primaries:
        side = primary.get_laterality_display() or "laterality not recorded"
        event = Event(
            primary.diagnosed_on,
            f"Primary breast cancer diagnosed ({side})",
            primary.get_histology_display(),
            [],
            "primary",
            links=[_error_link("primary", primary.pk)],
        )
        events.append(_with_error(event, _error_mark(primary)))
    for item in patient.all_followup_items:
        event = _item_event(item)
        event.links = _item_links(item)
        events.append(_with_error(event, _error_mark(item)))
    for recurrence in patient.all_recurrences:
        tags = [(recurrence.get_status_display(), "red" if recurrence.status == "confirmed" else "grey")]
        recurrence_error = _error_mark(recurrence)
        event = Event(
            recurrence.diagnosed_on,
            f"{recurrence.get_metastatic_type_display()} recurrence",
            _sites(recurrence.sites.all()),
            tags,
            "recurrence",
            links=_recurrence_links(recurrence),
        )
        events.append(_with_error(event, recurrence_error))
        episode = getattr(recurrence, "restaging", None)
        if episode is None:
            continue
        # A test under a recurrence (or episode) entered in error went with it.
        parent_error = _error_mark(recurrence, "recurrence") or _error_mark(episode, "restaging episode")
        refuted = recurrence.status == c.RecurrenceStatus.REFUTED
        for test in episode.all_tests:
            event = _test_event(test)
            event.links = _test_links(test, refuted=refuted)
            events.append(_with_error(event, _error_mark(test) or parent_error))
        if episode.closed_on and parent_error is None:
            if episode.outcome == c.RestagingOutcome.REFUTED:
                title = "Restaging closed: recurrence refuted"
            else:
                title = f"Restaging complete: {episode.get_outcome_display()}"
            events.append(Event(episode.closed_on, title, "", [], "restaging"))
    for report in patient.all_symptom_reports:
        tags = [("Red flag", "red")] if report.red_flag else []
        if report.source == c.ReportSource.PATIENT:
            tags.append(("Reported by the patient", "blue"))
        if report.triaged_at:
            detail = f"Triaged by {_who(report.triaged_by)}: {report.get_triage_outcome_display()}."
        else:
            detail = "Awaiting triage."
            tags.append(("Not triaged", "orange"))
        event = Event(
            report.reported_on,
            f"{report.get_area_display()} symptoms reported",
            " ".join(filter(None, [report.description, _how_long(report), detail])),
            tags,
            "symptoms",
            links=([] if report.triaged_at else [("Triage", _url("symptom_triage", report.pk))])
            + [_error_link("symptom", report.pk)],
        )
        events.append(_with_error(event, _error_mark(report)))
    from mdt.timeline import mdt_events  # mdt's events are built from followup's Event

    events += mdt_events(patient)
    events += _task_events(patient)
    from contacts.timeline import contact_events  # the contacts app builds its events on Event, above

    events += contact_events(patient)
    from letters.timeline import letter_events  # letters' events are built from followup's Event

    events += letter_events(patient)
    upcoming = sorted((e for e in events if e.upcoming), key=lambda event: event.on)
    history = sorted((e for e in events if not e.upcoming), key=lambda event: event.on, reverse=True)
    return Timeline(upcoming, history)


def _how_long(report) -> str:
    """How long the symptoms have lasted and whether they are getting worse, as the report says."""
    parts = []
    if report.lasted:
        parts.append(f"Lasted: {report.get_lasted_display().lower()}.")
    if report.worsening:
        parts.append(f"{report.get_worsening_display()}.")
    return " ".join(parts)
