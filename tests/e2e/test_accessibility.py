"""The check that keeps the service accessible (issue 13): every page state a user can reach, at 1280 and
390 pixels wide, through axe-core (WCAG 2.2 A and AA) with zero violations; in the same run, no page wider
than a phone, the NHS.UK frontend's JavaScript started, the skip link and the error summary moving the
focus, and every control of every worklist row inside a 1024-pixel screen. Then two keyboard-only journeys.

Every URL of the app has a page state here, or a reason in NOT_PAGES: test_every_url_has_a_page_state
fails for a new URL that has neither. A failing check names the page state, the width and the element.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup .venv/bin/pytest tests/e2e/test_accessibility.py
"""

import csv
import io
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from playwright.sync_api import Page, expect

from alerts.services import alert_digest, alert_red_flag_report
from followup import choices as c
from followup import imports
from followup.models import StagingTestSite, SymptomReport
from followup.reports import LINE_LISTS, SUMMARIES
from followup.services import record_mark_entered_in_error
from followup.worklists import WORKLISTS
from integration.clients import client_register, client_revoke
from integration.models import ApiAction, ApiClient, ApiOutcome, ApiRequest, MessageFormat
from integration.services import Report, receive
from letters.choices import LetterKind
from letters.services import letter_issue

from ..factories import (
    NHS_NUMBERS,
    ContactFactory,
    FollowUpItemFactory,
    GPPracticeFactory,
    PatientFactory,
    PrimaryDiagnosisFactory,
    RecurrenceFactory,
    RecurrenceSiteFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
    SymptomReportFactory,
    UserFactory,
)
from ..letters.factories import LetterheadFactory
from ..tasks.factories import TaskFactory
from . import a11y
from .helpers import PASSWORD, log_in, row, set_up_app, tab_to

WIDTHS = {1280: 900, 390: 844}  # width: height (a laptop; a phone)
ROWS_WIDTH = 1024  # a small laptop: every worklist row's controls must fit


# The people and records every page state is built from --------------------------------------------------------


@dataclass
class World:
    """Alex's patients: one with an open task of every kind (BROWN, Mary), one with nothing at all."""

    busy: object
    quiet: object
    overdue: object  # a mammogram 60 days overdue
    result: object  # bloods with a normal result to acknowledge
    abnormal: object  # a mammogram with an abnormal result: to acknowledge, then its next step
    awaited: object  # bloods done, the result awaited
    recurrence: object  # regional, restaging incomplete
    outstanding: object  # a bone scan requested, no result
    clear: object  # staging bloods, clear, to acknowledge
    distant: object  # a CT that found liver disease: to acknowledge, no secondary recorded
    symptom: object  # a lung symptom report to triage
    task: object  # Alex's open task for Mary Brown, overdue


@pytest.fixture
def sam(north):
    return UserFactory(username="sam", first_name="Sam", last_name="Patel", team=north, role=c.Role.CLINICIAN)


@pytest.fixture
def world(alex, priya, jo, chris, sam) -> World:
    today = timezone.localdate()
    # Every line of the contact details card, and the banner's communication needs (Ruth has none).
    busy = PatientFactory(
        given_name="Mary", family_name="Brown", hospital_number="H100001", team=alex.team, named_nurse=alex,
        address_line_1="12 Imaginary Road", town="Testville", postcode="ZZ99 3VZ", phone_mobile="07700 900123",
        phone_home="01632 960456", email="mary.brown@example.com", preferred_contact=c.ContactPreference.MOBILE,
        messages_may_be_left=False, next_of_kin_name="Grace Brown", next_of_kin_relationship="Daughter",
        next_of_kin_phone="07700 900999", interpreter_needed=True, interpreter_language="Polish",
        accessible_information="Large print", gp_practice=GPPracticeFactory(),
    )  # fmt: skip
    PrimaryDiagnosisFactory(patient=busy)
    quiet = PatientFactory(given_name="Ruth", family_name="Hill", team=alex.team, named_nurse=alex)

    def item(**fields):
        return FollowUpItemFactory(patient=busy, **fields)

    done = {"status": c.FollowUpStatus.DONE}
    overdue = item(kind=c.FollowUpKind.MAMMOGRAM, due_on=today - timedelta(days=60))
    item(kind=c.FollowUpKind.CLINIC_REVIEW, due_on=today + timedelta(days=7))
    result = item(kind=c.FollowUpKind.BLOODS, due_on=today - timedelta(days=9), done_on=today - timedelta(days=5),
                  result=c.ImagingOutcome.NORMAL, **done)  # fmt: skip
    abnormal = item(kind=c.FollowUpKind.MAMMOGRAM, due_on=today - timedelta(days=400),
                    done_on=today - timedelta(days=3), result=c.ImagingOutcome.ABNORMAL, **done)  # fmt: skip
    awaited = item(kind=c.FollowUpKind.BLOODS, due_on=today - timedelta(days=10), done_on=today - timedelta(days=7),
                   result_awaited=True, **done)  # fmt: skip

    recurrence = RecurrenceFactory(patient=busy, metastatic_type=c.MetastaticType.REGIONAL)
    RecurrenceSiteFactory(recurrence=recurrence)
    episode = RestagingEpisodeFactory(recurrence=recurrence)
    reported = {"performed_on": today - timedelta(days=5), "reported_on": today - timedelta(days=4)}
    distant = StagingTestFactory(episode=episode, modality=c.StagingModality.CT_CAP, result=c.StagingResult.DISTANT,
                                 result_notes="Two lesions in the liver.", **reported)  # fmt: skip
    StagingTestSite.objects.create(test=distant, site=c.Site.LIVER)
    clear = StagingTestFactory(episode=episode, modality=c.StagingModality.BLOODS, result=c.StagingResult.CLEAR,
                               **reported)  # fmt: skip
    outstanding = StagingTestFactory(episode=episode, modality=c.StagingModality.BONE_SCAN)
    symptom = SymptomReportFactory(
        patient=busy, area=c.SymptomArea.LUNG, reported_on=today - timedelta(days=1), description="A dry cough."
    )
    # Alex's patient with neither an NHS number nor a next follow-up; one of Priya's; one of another team.
    PatientFactory(given_name="Ann", family_name="Green", nhs_number="", team=alex.team, named_nurse=alex)
    sue = PatientFactory(given_name="Sue", family_name="White", team=priya.team, named_nurse=priya)
    FollowUpItemFactory(patient=sue, kind=c.FollowUpKind.BLOODS, due_on=today - timedelta(days=20))
    task = TaskFactory(patient=busy, assigned_to=alex, due_on=today - timedelta(days=2), description="Phone Mary")
    TaskFactory(patient=busy, assigned_to=None, due_on=today + timedelta(days=3), description="Book an interpreter")
    lucy = PatientFactory(given_name="Lucy", family_name="Hall", team=jo.team, named_nurse=jo)
    FollowUpItemFactory(patient=lucy, kind=c.FollowUpKind.MAMMOGRAM, due_on=today - timedelta(days=30))

    # Mary's contact log: a call that went unanswered (so the worklist rows say their last contact).
    ContactFactory(patient=busy, by=alex, answered=False, message_left=True, contacted_at=timezone.now())
    # A result for an NHS number no patient has, from the north team's results system: "Unmatched results".
    sender, _ = client_register(name="North RIS", teams=[alex.team], can_send=True, can_read=False, by=chris)
    unknown = receive(
        client=sender,
        format=MessageFormat.HL7V2,
        body="MSH|^~\\&|RIS|HOSP|FOLLOWUP|BREAST|20261201||ORU^R01|A11Y1|P|2.5.1",
        read=lambda text: _inbox_report("A11Y1", nhs_number="9990001234", family_name="Unknown", given_name="Alice"),
    )
    # On PIFU: Jean's ended three days ago and she is still active ("PIFU ending"); Kate's has no period yet.
    pifu = PatientFactory(
        given_name="Jean", family_name="Stone", team=alex.team, named_nurse=alex,
        follow_up_model=c.FollowUpModel.PIFU, pifu_starts_on=today - timedelta(days=1830),
        pifu_ends_on=today - timedelta(days=3),
    )  # fmt: skip
    pifu_unset = PatientFactory(
        given_name="Kate", family_name="Moss", team=alex.team, named_nurse=alex, follow_up_model=c.FollowUpModel.PIFU
    )
    # Every worklist has a row of Alex's own, so each list's row controls are checked.
    empty = [slug for slug, worklist in WORKLISTS.items() if not worklist.for_user(alex, today=today).exists()]
    assert empty == []
    world = World(
        busy, quiet, overdue, result, abnormal, awaited, recurrence, outstanding, clear, distant, symptom, task
    )
    world.sender, world.unknown = sender, unknown
    world.pifu, world.pifu_unset = pifu, pifu_unset
    return world


def _inbox_report(control_id: str, **changes) -> Report:
    today = timezone.localdate()
    report = Report(
        control_id=control_id,
        report_id=f"ACC-{control_id}",
        exam_code="MAMMOB",
        exam_system="LOCAL",
        exam_name="Mammogram, both breasts",
        performed_on=today - timedelta(days=1),
        reported_on=today - timedelta(days=1),
        report_text="Bilateral mammograms.\nNo evidence of malignancy.",
    )
    return replace(report, **changes)


def _inbox(w: World, path: str) -> str:
    """Results that arrived by themselves (made once per world, on the first page state that asks): Mary's
    mammogram report with a date of birth that is not hers, then its amendment (both unmatched); and a
    CT and a mammogram of Rose (WARD) reported, not yet classified."""
    if not hasattr(w, "mismatch"):
        busy = w.busy
        born = busy.date_of_birth - timedelta(days=366)
        mismatch = _inbox_report("A11Y2", nhs_number=busy.nhs_number, family_name=busy.family_name, date_of_birth=born)
        w.mismatch = receive(client=w.sender, format=MessageFormat.HL7V2, body="MSH|A11Y2", read=lambda t: mismatch)
        amended = replace(mismatch, control_id="A11Y3", report_id="ACC-A11Y2", amendment=True)
        w.amendment = receive(client=w.sender, format=MessageFormat.HL7V2, body="MSH|A11Y3", read=lambda t: amended)
        today = timezone.localdate()
        rose = PatientFactory(given_name="Rose", family_name="Ward", team=busy.team, named_nurse=busy.named_nurse)
        recurrence = RecurrenceFactory(patient=rose, metastatic_type=c.MetastaticType.LOCAL)
        episode = RestagingEpisodeFactory(recurrence=recurrence)
        w.reported_test = StagingTestFactory(
            episode=episode, modality=c.StagingModality.CT_CAP, result=c.StagingResult.REPORTED,
            performed_on=today, reported_on=today, result_notes="Findings: none.\nConclusion: no metastases.",
        )  # fmt: skip
        w.reported_item = FollowUpItemFactory(
            patient=rose, kind=c.FollowUpKind.MAMMOGRAM, status=c.FollowUpStatus.DONE, due_on=today,
            done_on=today, result=c.ImagingOutcome.REPORTED, report="Both breasts: no change.",
        )  # fmt: skip
    return path.format(
        unknown=w.unknown.pk,
        mismatch=w.mismatch.pk,
        amendment=w.amendment.pk,
        test=w.reported_test.pk,
        item=w.reported_item.pk,
    )


def _press(button: str) -> Callable[[Page, World], None]:
    def act(page: Page, world: World) -> None:
        with page.expect_navigation():
            page.get_by_role("button", name=button).click()

    return act


# Page states ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """One thing a user can see: a page as it loads (act None), or after something they did (act)."""

    name: str
    url_name: str  # the URL pattern it belongs to, "namespace:name"
    persona: str | None  # who looks (a username of tests/e2e/conftest.py; None: nobody logged in)
    path: Callable[[World], str]
    act: Callable[[Page, World], None] | None = None
    # After the act, the focus: on the error summary, its links moving it to their fields (None: no check).
    focus: Callable[[Page], list[str]] | None = None
    rows: bool = False  # a worklist: its rows' controls must fit a 1024-pixel screen


def _submit(page: Page, form_selector: str = "main form:has(button[type=submit])") -> None:
    with page.expect_navigation():
        page.locator(form_selector).last.locator("button[type=submit]").last.click()


def show_charts(page: Page, world: World) -> None:
    """Scroll to the dashboard's charts: htmx brings them in and Chart.js draws the three."""
    page.locator("#dashboard-charts").scroll_into_view_if_needed()
    expect(page.locator("main canvas[data-chart]")).to_have_count(3)
    page.wait_for_function("() => [...document.querySelectorAll('main canvas')].every(c => Chart.getChart(c))")


def submit_empty(page: Page, world: World) -> None:
    """Submit the form with every typed field emptied: a required field left out."""
    page.locator("main form:has(button[type=submit])").last.evaluate(
        """form => form.querySelectorAll("input:not([type=hidden]):not([type=radio]):not([type=checkbox])"
            + ":not([type=file]):not([type=submit]), textarea").forEach(el => { el.value = ""; })"""
    )
    _submit(page)


def failed(name: str, url_name: str, persona: str, path: Callable[[World], str], act=submit_empty) -> list[State]:
    """A form's two states: empty, and after a submit that it refused."""
    return [
        State(name, url_name, persona, path),
        State(f"{name}, failed submit", url_name, persona, path, act=act, focus=a11y.error_summary_problems),
    ]


def bad_postcode(page: Page, world: World) -> None:
    """A postcode that is not one: refused beside its field."""
    page.get_by_label("Postcode").fill("LS1")
    _submit(page)


def interpreter_without_language(page: Page, world: World) -> None:
    """An interpreter needed, the revealed language left empty: refused inside the reveal."""
    page.locator("#id_interpreter_needed_0").check()
    page.get_by_label("Language").fill("")
    _submit(page)


def log_in_as(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    _submit(page)


def lock_out(page: Page, world: World) -> None:
    """Wrong passwords until the login is paused (AXES_FAILURE_LIMIT)."""
    for _ in range(10):
        log_in_as(page, "priya", "wrong-password")
        if page.get_by_role("heading", name="Too many failed attempts").count():
            return
    raise AssertionError("Ten wrong passwords did not lock the login")


_NEW_ADMINS = itertools.count(1)  # a new admin for each state that sets up an app (one per width)


def _log_in_as_new_admin(page: Page, *, with_app: bool) -> None:
    """Log out, then log in with the password of an admin who has (or has not yet) set up an app."""
    from accounts import mfa

    person = UserFactory(username=f"newadmin{next(_NEW_ADMINS)}", team=None, role=c.Role.ADMIN, is_staff=True)
    if with_app:
        mfa.set_up_app(person, mfa.new_app_key(), step=0)
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    log_in_as(page, person.username, PASSWORD)


def start_set_up(page: Page, world: World) -> None:
    _log_in_as_new_admin(page, with_app=False)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up an authenticator app")


def set_up_with_a_short_code(page: Page, world: World) -> None:
    start_set_up(page, world)
    page.get_by_label("Code from your authenticator app").fill("12345")
    _submit(page)


def finish_set_up(page: Page, world: World) -> None:
    start_set_up(page, world)
    set_up_app(page)


def start_code(page: Page, world: World) -> None:
    _log_in_as_new_admin(page, with_app=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter the code from your authenticator app")


def wrong_code(page: Page, world: World) -> None:
    start_code(page, world)
    page.get_by_label("Code", exact=True).fill("abcdef")
    _submit(page)


def make_new_recovery_codes(page: Page, world: World) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Make new recovery codes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Save your recovery codes")


def open_header_menu(page: Page, world: World) -> None:
    """Open the header's "More" menu where the navigation does not fit (a phone); nothing to do where it does."""
    toggle = page.locator(".nhsuk-header__menu-toggle")
    if toggle.is_visible():
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")


def fail_inline_triage(page: Page, world: World) -> None:
    """Save a worklist row's triage with no outcome chosen: refused in the row (htmx)."""
    with page.expect_response(lambda response: response.request.method == "POST"):
        row(page, "BROWN, Mary").get_by_role("button", name="Save triage for BROWN, Mary").click()
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def inline_error_focus(page: Page) -> list[str]:
    focused = page.evaluate("() => document.activeElement.tagName.toLowerCase()")
    return [] if focused == "select" else [f"after the refused row triage the focus is on <{focused}>, not its select"]


_UPLOADS = itertools.count(1500)  # NHS numbers no factory reaches in these tests


def import_file(name: str, *, valid: bool) -> Callable[[Page, World], None]:
    """Upload a one-row caseload (a new patient each time, so no upload finds its row already imported)."""

    def act(page: Page, world: World) -> None:
        number = NHS_NUMBERS[next(_UPLOADS)]
        line = {"NHS number": number, "First name": "Ada", "Last name": "Example", "Date of birth": "17/05/1960",
                "Sex": "Female", "Named nurse": "alex", "Hospital number": "H5" + number[-5:]}  # fmt: skip
        if not valid:
            line["Date of birth"] = "31/02/1960"
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=[column.header for column in imports.COLUMNS])
        writer.writeheader()
        writer.writerow(line)
        page.get_by_label("Import into").select_option(label="North Breast Unit")
        page.get_by_label("CSV or XLSX file").set_input_files(
            {"name": name, "mimeType": "text/csv", "buffer": buffer.getvalue().encode()}
        )
        _submit(page)

    return act


def import_run(page: Page, world: World) -> None:
    import_file("caseload.csv", valid=True)(page, world)
    page.locator("#import-confirm").click()
    expect(page.locator("#import-succeeded")).to_be_visible()


def ask_for_a_date_that_is_not_real(page: Page, world: World) -> None:
    """The MDT list's meeting date typed as 31 February: refused beside the date input."""
    form = page.locator("main form").first
    form.get_by_label("Day").fill("31")
    form.get_by_label("Month").fill("2")
    form.get_by_label("Year").fill("2027")
    with page.expect_navigation():
        form.get_by_role("button", name="Show the list").click()


def open_call_questions(page: Page, world: World) -> None:
    """Choose "Telephone call made", then "No": the call's questions open (conditional reveals)."""
    page.get_by_label("Telephone call made", exact=True).check()
    page.locator("input[name=answered][value=no]").check()  # the group holds the message question's "No" too
    expect(page.get_by_role("group", name="Was a message left?")).to_be_visible()


def choose_receiving_nurse(page: Page, world: World) -> None:
    """Hand over the selected patients: choose the nurse, continue to the confirmation."""
    page.get_by_label("Hand over to").select_option(label="Priya Shah")
    _submit(page)


def _worklists(persona: str, scopes: dict[str, str]) -> list[State]:
    return [
        State(
            f"{persona}: {worklist.title}{label}",
            "followup:worklist",
            persona,
            lambda w, slug=slug, query=query: f"/worklists/{slug}/{query}",
            rows=True,
        )  # fmt: skip
        for slug, worklist in WORKLISTS.items()
        for label, query in scopes.items()
    ]


def _patient(path: str) -> Callable[[World], str]:
    return lambda w: path.format(busy=w.busy.pk, quiet=w.quiet.pk)


def _letters(w: World, path: str) -> str:
    """Letters for Mary (BROWN): her address, GP practice and team letterhead, and two letters issued,
    one of them entered in error (made once per world, on the first page state that asks)."""
    if not hasattr(w, "letters"):
        LetterheadFactory(team=w.busy.team)
        practice = GPPracticeFactory(
            ods_code="Y90002", name="Fictional Lane Surgery", address_line_1="7 Fictional Lane"
        )
        type(w.busy).objects.filter(pk=w.busy.pk).update(
            address_line_1="12 Imaginary Road", town="Testville", postcode="ZZ99 3CZ", gp_practice=practice
        )
        busy = type(w.busy).objects.get(pk=w.busy.pk)
        wrong = letter_issue(patient=busy, kind=LetterKind.CARE_PLAN, by=busy.named_nurse)
        record_mark_entered_in_error(record=wrong, reason="Sent before the schedule was changed.", by=busy.named_nurse)
        w.letters = [wrong, letter_issue(patient=busy, kind=LetterKind.CARE_PLAN, by=busy.named_nurse)]
    preview = f"/patients/{w.busy.pk}/letters/preview/?kind=result_patient&result=item-{w.result.pk}"
    return path.format(busy=w.busy.pk, quiet=w.quiet.pk, preview=preview, letter=w.letters[1].pk)


def _choose_letter(page: Page, kind: str) -> None:
    page.get_by_label(kind, exact=True).check()
    _submit(page)


def _long_paragraph(page: Page, button: str) -> None:
    """A paragraph over the 2,000 characters a letter takes: refused beside the box."""
    page.get_by_label("Add a paragraph (optional)").fill("Too long. " * 201)
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


_SYSTEMS = itertools.count(1)  # each registration a new name (a name is registered once)


def _api_clients(w: World, path: str) -> str:
    """Two systems for the API clients' pages (made once per world, on the first page state that asks):
    North RIS, which sent results (its requests and messages), and a reader that was revoked."""
    if not hasattr(w, "api_clients"):
        chris = type(w.busy.named_nurse).objects.get(username="chris")
        # The world's own results system (its messages on the inbox pages), given a request log here.
        ris = (
            ApiClient.objects.filter(name="North RIS").first()
            or client_register(name="North RIS", teams=[w.busy.team], can_send=True, can_read=False, by=chris)[0]
        )
        reader, _ = client_register(
            name="Regional record", teams=[w.busy.team], can_send=False, can_read=True, by=chris
        )
        client_revoke(client=reader, reason="Replaced by the new regional record.", by=chris)
        now = timezone.now()
        for minutes, outcome, status, detail in (
            (50, ApiOutcome.ACCEPTED, 200, "Matched to the CT of BROWN, Mary"),
            (20, ApiOutcome.ERROR, 200, "AE: no NHS number in PID-3"),
            (5, ApiOutcome.RATE_LIMITED, 429, "Too many requests: try again in a minute."),
        ):
            ApiRequest.objects.create(
                client=ris, at=now - timedelta(minutes=minutes), action=ApiAction.HL7_RESULT, method="POST",
                path="/api/hl7/v2/", outcome=outcome, status_code=status, detail=detail,
            )  # fmt: skip
        w.api_clients = [ris, reader]
    return path.format(ris=w.api_clients[0].pk, reader=w.api_clients[1].pk)


def _alerts(w: World, path: str) -> str:
    """Alerts for the Alerts pages (made once per world): a red-flag report's two alerts, one sent and one
    failed after its last attempt (a long SMTP error), and Alex's digest still queued."""
    if not hasattr(w, "alerts"):
        from alerts.models import Alert, AlertAttempt, AlertStatus, AttemptOutcome

        team = w.busy.team
        team.shared_inbox = "north.breast.unit@followup-test.invalid"
        team.save()
        alex = w.busy.named_nurse
        alex.email = "alex.morgan@followup-test.invalid"
        alex.save()
        report = SymptomReport.objects.create(
            patient=w.busy, reported_on=timezone.localdate(), area=c.SymptomArea.BONE, description="Back pain.",
            red_flag=c.RedFlag.CORD_COMPRESSION, source=c.ReportSource.PATIENT, created_by=alex, updated_by=alex,
        )  # fmt: skip
        inbox, to_alex = alert_red_flag_report(report=report)
        now = timezone.now()
        error = "SMTPRecipientsRefused: {'north.breast.unit@followup-test.invalid': (550, b'5.1.1 Mailbox unknown')}"
        for _ in range(2):
            AlertAttempt.objects.create(alert=inbox, at=now, outcome=AttemptOutcome.FAILED, error=error)
        Alert.objects.filter(pk=inbox.pk).update(status=AlertStatus.FAILED, attempts=2, last_error=error)
        AlertAttempt.objects.create(alert=to_alex, at=now, outcome=AttemptOutcome.SENT)
        Alert.objects.filter(pk=to_alex.pk).update(status=AlertStatus.SENT, attempts=1, sent_at=now)
        alert_digest(nurse=alex, today=timezone.localdate())
        w.alerts = [inbox, to_alex]
    return path.format(failed=w.alerts[0].pk, sent=w.alerts[1].pk)


def register_a_system(page: Page, world: World) -> None:
    page.get_by_label("System name").fill(f"Pathology engine {next(_SYSTEMS)}")
    page.get_by_label("North Breast Unit").check()
    page.get_by_label("Send results", exact=False).check()
    _submit(page)


def untick_everything(page: Page, world: World) -> None:
    """Save a client with no team and no permission: refused beside both groups."""
    for box in page.locator("main form input[type=checkbox]").all():
        box.uncheck()
    _submit(page)


def fill_self_report(page: Page, code: str) -> None:
    """The patient's form filled in, as a patient does: code, date of birth, no urgent symptom, bone pain."""
    page.get_by_label("Your personal code").fill(code)
    born = page.get_by_role("group", name="Your date of birth")
    born.get_by_label("Day").fill("17")
    born.get_by_label("Month").fill("5")
    born.get_by_label("Year").fill("1960")
    page.get_by_label("None of these").check()
    page.get_by_label("Bones (for example, your back, hips or ribs)").check()
    page.get_by_label("Pain in your back, hips or ribs").check()
    page.get_by_label("More than 2 weeks").check()
    page.get_by_role("group", name="Are your symptoms getting worse?").get_by_label("No", exact=True).check()
    page.get_by_label("Tell us about your symptoms").fill("An ache in my lower back.")


def lock_self_report(page: Page, world: World) -> None:
    """Wrong codes until the page locks (SELF_REPORT_CODE_ATTEMPTS)."""
    for _ in range(10):
        fill_self_report(page, "WXYZ-WXYZ-WXYZ")
        _submit(page, "#self-report-form")
        if page.get_by_role("heading", name="You cannot send a report for now").count():
            return
    raise AssertionError("Ten wrong codes did not lock the self-report page")


def _sent(kind: str, phone: str = "01632 960999") -> Callable[[World], str]:
    payload = {"k": kind if kind == "confirmed" else kind.split("+"), "p": phone}
    return lambda w: f"/report-symptoms/sent/{signing.dumps(payload, salt='selfreport.result')}/"


GROUPS: dict[str, list[State]] = {
    "public": [
        State("login", "login", None, lambda w: "/accounts/login/"),
        State(
            "login, wrong password",
            "login",
            None,
            lambda w: "/accounts/login/",
            act=lambda page, w: log_in_as(page, "alex", "wrong-password"),
            focus=a11y.error_summary_problems,
        ),
        State("login, locked out", "login", None, lambda w: "/accounts/login/", act=lock_out),
        State(
            "login: set up an authenticator app", "login_set_up", None, lambda w: "/accounts/login/", act=start_set_up
        ),
        State(
            "login: set up, code too short",
            "login_set_up",
            None,
            lambda w: "/accounts/login/",
            act=set_up_with_a_short_code,
            focus=a11y.error_summary_problems,
        ),
        State(
            "login: recovery codes shown once", "login_set_up", None, lambda w: "/accounts/login/", act=finish_set_up
        ),
        State("login: enter your code", "login_code", None, lambda w: "/accounts/login/", act=start_code),
        State(
            "login: wrong code",
            "login_code",
            None,
            lambda w: "/accounts/login/",
            act=wrong_code,
            focus=a11y.error_summary_problems,
        ),
        State("your account", "account", "alex", lambda w: "/accounts/"),
        State("your account, with an authenticator app", "account", "chris", lambda w: "/accounts/"),
        State("new recovery codes", "recovery_codes_new", "chris", lambda w: "/accounts/", act=make_new_recovery_codes),
        State("change your password", "password_change", "alex", lambda w: "/accounts/password/"),
        State(
            "change your password, refused",
            "password_change",
            "alex",
            lambda w: "/accounts/password/",
            act=submit_empty,
            focus=a11y.error_summary_problems,
        ),
        State("page not found", "", "alex", lambda w: "/no-such-page/"),
        State("patient of another team: page not found", "", "jo", _patient("/patients/{busy}/")),
        State("read-only role: you cannot do this", "", "sam", _patient("/patients/{busy}/discharge/")),
    ],  # fmt: skip
    "nurse-worklists": [
        State("alex: dashboard", "followup:dashboard", "alex", lambda w: "/"),
        State("alex: dashboard, header menu opened", "followup:dashboard", "alex", lambda w: "/", act=open_header_menu),
        State(
            "alex: dashboard, charts scrolled into view", "followup:dashboard", "alex", lambda w: "/", act=show_charts
        ),
        State("alex: dashboard charts", "followup:dashboard_charts", "alex", lambda w: "/dashboard/charts/"),
        State("alex: worklists", "followup:worklists", "alex", lambda w: "/worklists/"),
        *_worklists("alex", {", my caseload": "", ", my team": "?nurse=all"}),
        State(
            "alex: Symptoms to triage, row triage refused",
            "followup:worklist",
            "alex",
            lambda w: "/worklists/symptoms/",
            act=fail_inline_triage,
            focus=inline_error_focus,
        ),
    ],  # fmt: skip
    "admin-worklists": [
        State("chris: dashboard", "followup:dashboard", "chris", lambda w: "/"),
        State("chris: dashboard charts", "followup:dashboard_charts", "chris", lambda w: "/dashboard/charts/"),
        State("chris: worklists", "followup:worklists", "chris", lambda w: "/worklists/"),
        *_worklists("chris", {", all teams": ""}),
    ],
    "patients": [
        State("patients", "followup:patient_list", "alex", lambda w: "/patients/"),
        State("patient search", "followup:patient_list", "alex", lambda w: "/patients/?q=Brown"),
        State("patient search, nobody found", "followup:patient_list", "alex", lambda w: "/patients/?q=Nobody"),
        State("patient page, every kind of task", "followup:patient_detail", "alex", _patient("/patients/{busy}/")),
        State("patient page, nothing to do", "followup:patient_detail", "alex", _patient("/patients/{quiet}/")),
        State("patient history", "followup:patient_history", "alex", _patient("/patients/{busy}/history/")),
        State(
            "next step after an abnormal result",
            "followup:item_next_step",
            "alex",
            lambda w: f"/items/{w.abnormal.pk}/next-step/",
        ),
    ],  # fmt: skip
    "patient-actions": [
        *failed("register a patient", "followup:patient_create", "alex", lambda w: "/patients/new/"),
        *failed("change details", "followup:patient_edit", "alex", _patient("/patients/{busy}/edit/")),
        *failed(
            "contact details",
            "followup:patient_contact_details",
            "alex",
            _patient("/patients/{quiet}/contact-details/"),
            act=bad_postcode,
        ),
        State(
            "contact details, interpreter without a language",
            "followup:patient_contact_details",
            "alex",
            _patient("/patients/{busy}/contact-details/"),
            act=interpreter_without_language,
            focus=a11y.error_summary_problems,
        ),
        *failed("primary diagnosis", "followup:primary_add", "alex", _patient("/patients/{quiet}/primary/new/")),
        *failed("follow-up schedule", "followup:protocol_assign", "alex", _patient("/patients/{quiet}/schedule/")),
        # A choice of nurses, one always chosen: nothing a user can get wrong.
        State("named nurse", "followup:patient_reassign", "chris", _patient("/patients/{busy}/named-nurse/")),
        *failed("discharge", "followup:patient_discharge", "alex", _patient("/patients/{busy}/discharge/")),
        *failed("record a death", "followup:patient_death", "alex", _patient("/patients/{busy}/death/")),
        *failed("add a follow-up item", "followup:item_add", "alex", _patient("/patients/{busy}/items/new/")),
        *failed(
            "record a recurrence", "followup:recurrence_add", "alex", _patient("/patients/{busy}/recurrences/new/")
        ),
        *failed("record symptoms", "followup:symptom_add", "alex", _patient("/patients/{busy}/symptoms/new/")),
        *failed("hand over a caseload", "followup:caseload_hand_over", "chris", lambda w: "/caseloads/hand-over/"),
        # Several patients at once (views/actions_bulk.py): ticked on the list, choose the nurse, confirm.
        State(
            "chris: patients, with checkboxes to hand over",
            "followup:patient_list",
            "chris",
            lambda w: "/patients/",
            rows=True,
        ),  # fmt: skip
        *failed(
            "hand over selected patients",
            "followup:patients_hand_over",
            "chris",
            _patient("/patients/hand-over/?selected={busy}&selected={quiet}&next=/patients/"),
        ),
        State(
            "hand over selected patients, confirm",
            "followup:patients_hand_over",
            "chris",
            _patient("/patients/hand-over/?selected={busy}&selected={quiet}&next=/patients/"),
            act=choose_receiving_nurse,
        ),
        *failed(
            "patient entered in error",
            "followup:entered_in_error",
            "alex",
            _patient("/records/patient/{busy}/entered-in-error/"),
        ),
    ],  # fmt: skip
    "record-actions": [
        *failed("book", "followup:item_book", "alex", lambda w: f"/items/{w.overdue.pk}/book/"),
        *failed("record done", "followup:item_done", "alex", lambda w: f"/items/{w.overdue.pk}/done/"),
        *failed("record the result", "followup:item_result", "alex", lambda w: f"/items/{w.awaited.pk}/result/"),
        # Nothing to enter: a confirmation (its only failure is a conflict with someone else's change).
        State("did not attend", "followup:item_dna", "alex", lambda w: f"/items/{w.overdue.pk}/did-not-attend/"),
        *failed("cancel an item", "followup:item_cancel", "alex", lambda w: f"/items/{w.overdue.pk}/cancel/"),
        State(
            "acknowledge a result", "followup:item_acknowledge", "alex", lambda w: f"/items/{w.result.pk}/acknowledge/"
        ),
        *failed(
            "item entered in error",
            "followup:entered_in_error",
            "alex",
            lambda w: f"/records/item/{w.overdue.pk}/entered-in-error/",
        ),
        *failed(
            "recurrence status",
            "followup:recurrence_status",
            "alex",
            lambda w: f"/recurrences/{w.recurrence.pk}/status/",
        ),
        *failed(
            "request a restaging test",
            "followup:staging_request",
            "alex",
            lambda w: f"/restaging/{w.recurrence.restaging.pk}/tests/new/",
        ),
        *failed("staging result", "followup:staging_result", "alex", lambda w: f"/tests/{w.outstanding.pk}/result/"),
        # Several results at once (views/actions_bulk.py): the confirmation page, and one refusing an abnormal result.
        State(
            "acknowledge selected results",
            "followup:worklist_acknowledge",
            "alex",
            lambda w: f"/worklists/results/acknowledge/?selected={w.result.pk}&next=/worklists/results/",
        ),
        State(
            "acknowledge selected staging results",
            "followup:worklist_acknowledge",
            "alex",
            lambda w: f"/worklists/staging-results/acknowledge/?selected={w.clear.pk}",
        ),
        State(
            "acknowledge selected results, an abnormal one refused",
            "followup:worklist_acknowledge",
            "alex",
            lambda w: f"/worklists/results/acknowledge/?selected={w.result.pk}&selected={w.abnormal.pk}",
            focus=a11y.error_summary_problems,
        ),
        State(
            "acknowledge a staging result",
            "followup:staging_acknowledge",
            "alex",
            lambda w: f"/tests/{w.clear.pk}/acknowledge/",
        ),
        *failed(
            "cancel a staging test", "followup:staging_cancel", "alex", lambda w: f"/tests/{w.outstanding.pk}/cancel/"
        ),
        *failed(
            "secondary breast cancer from a test",
            "followup:secondary_from_test",
            "alex",
            lambda w: f"/tests/{w.distant.pk}/secondary/",
        ),
        *failed("triage", "followup:symptom_triage", "alex", lambda w: f"/symptoms/{w.symptom.pk}/triage/"),
    ],  # fmt: skip
    "mdt": [
        *failed(
            "record an MDT discussion",
            "mdt:discussion_record",
            "alex",
            lambda w: f"/recurrences/{w.recurrence.pk}/mdt/new/",
        ),
        State("prepare MDT list", "mdt:prepare_list", "alex", lambda w: "/mdt/list/"),
        State(
            "prepare MDT list, a date that is not real",
            "mdt:prepare_list",
            "alex",
            lambda w: "/mdt/list/",
            act=ask_for_a_date_that_is_not_real,
            focus=a11y.error_summary_problems,
        ),
        State("prepare MDT list, read-only role", "mdt:prepare_list", "sam", lambda w: "/mdt/list/"),
        State("prepare MDT list, another team", "mdt:prepare_list", "jo", lambda w: "/mdt/list/"),
    ],  # fmt: skip
    "tasks": [
        *failed("add a task", "tasks:task_add", "alex", _patient("/patients/{busy}/tasks/new/")),
        *failed("task done", "tasks:task_done", "alex", lambda w: f"/tasks/{w.task.pk}/done/"),
        *failed("cancel a task", "tasks:task_cancel", "alex", lambda w: f"/tasks/{w.task.pk}/cancel/"),
        # Submitted as it opens (the task's own assignee): refused, "already assigned to".
        *failed("reassign a task", "tasks:task_reassign", "alex", lambda w: f"/tasks/{w.task.pk}/reassign/"),
        *failed(
            "task entered in error",
            "followup:entered_in_error",
            "alex",
            lambda w: f"/records/task/{w.task.pk}/entered-in-error/",
        ),
    ],  # fmt: skip
    "contacts": [
        *failed("log a contact", "contacts:contact_add", "alex", _patient("/patients/{busy}/contacts/new/")),
        State(
            "log a contact, the questions of an unanswered call open",
            "contacts:contact_add",
            "alex",
            _patient("/patients/{busy}/contacts/new/"),
            act=open_call_questions,
        ),
        State("patient contacts", "contacts:patient_contacts", "alex", _patient("/patients/{busy}/contacts/")),
        State(
            "patient contacts, none yet", "contacts:patient_contacts", "alex", _patient("/patients/{quiet}/contacts/")
        ),
    ],  # fmt: skip
    "reports": [
        State("reports", "followup:reports", "chris", lambda w: "/reports/"),
        *(
            State(
                f"line list: {line_list.title}",
                "followup:report_line_list",
                "chris",
                lambda w, slug=slug: f"/reports/lists/{slug}/",
            )
            for slug, line_list in LINE_LISTS.items()
        ),
        *(
            State(
                f"summary: {summary.title}",
                "followup:report_summary",
                "chris",
                lambda w, slug=slug: f"/reports/summaries/{slug}/",
            )
            for slug, summary in SUMMARIES.items()
        ),
    ],  # fmt: skip
    "import": [
        *failed("import a caseload", "followup:import_upload", "chris", lambda w: "/import/"),
        State(
            "import: check a valid file",
            "followup:import_upload",
            "chris",
            lambda w: "/import/",
            act=import_file("caseload.csv", valid=True),
        ),
        State(
            "import: check a file with errors",
            "followup:import_upload",
            "chris",
            lambda w: "/import/",
            act=import_file("caseload.csv", valid=False),
        ),
        State("import: imported", "followup:import_confirm", "chris", lambda w: "/import/", act=import_run),
    ],  # fmt: skip
    "inbox": [
        State(
            "unmatched result", "integration:inbox_message", "alex", lambda w: _inbox(w, "/results/inbox/{unknown}/")
        ),
        State(
            "unmatched result, read-only role",
            "integration:inbox_message",
            "sam",
            lambda w: _inbox(w, "/results/inbox/{unknown}/"),
        ),
        State(
            "unmatched result, the patient found, her details differ",
            "integration:inbox_message",
            "alex",
            lambda w: _inbox(w, "/results/inbox/{mismatch}/"),
        ),
        State(
            "match by hand, refused",
            "integration:inbox_match",
            "alex",
            lambda w: _inbox(w, "/results/inbox/{mismatch}/"),
            act=_press("Match to this test or item"),
            focus=a11y.error_summary_problems,
        ),
        State(
            "record against a new item, refused",
            "integration:inbox_new_item",
            "alex",
            lambda w: _inbox(w, "/results/inbox/{mismatch}/"),
            act=_press("Record against a new item"),
            focus=a11y.error_summary_problems,
        ),
        State(
            "not ours, refused",
            "integration:inbox_not_ours",
            "alex",
            lambda w: _inbox(w, "/results/inbox/{unknown}/"),
            act=_press("Mark not ours"),
            focus=a11y.error_summary_problems,
        ),
        State(
            "amendment, its original not placed",
            "integration:inbox_amendment",
            "alex",
            lambda w: _inbox(w, "/results/inbox/{amendment}/"),
            act=_press("Attach the amended report"),
            focus=a11y.error_summary_problems,
        ),
        *failed(
            "classify a staging result",
            "followup:staging_classify",
            "alex",
            lambda w: _inbox(w, "/tests/{test}/classify/"),
        ),
        *failed(
            "classify a follow-up result",
            "followup:item_classify",
            "alex",
            lambda w: _inbox(w, "/items/{item}/classify/"),
        ),
    ],  # fmt: skip
    "letters": [
        *failed("write a letter", "letters:write", "alex", lambda w: _letters(w, "/patients/{busy}/letters/new/")),
        State(
            "write a letter, no address recorded",
            "letters:write",
            "alex",
            lambda w: _letters(w, "/patients/{quiet}/letters/new/"),
            act=lambda page, w: _choose_letter(page, "Care plan"),
            focus=a11y.error_summary_problems,
        ),
        State("letter preview", "letters:preview", "alex", lambda w: _letters(w, "{preview}")),
        State(
            "letter preview, paragraph too long",
            "letters:preview",
            "alex",
            lambda w: _letters(w, "{preview}"),
            act=lambda page, w: _long_paragraph(page, "Show the preview with this paragraph"),
            focus=a11y.error_summary_problems,
        ),
        State("letter preview, read-only role", "letters:preview", "sam", lambda w: _letters(w, "{preview}")),
        State(
            "issue a letter, refused",
            "letters:issue",
            "alex",
            lambda w: _letters(w, "{preview}"),
            act=lambda page, w: _long_paragraph(page, "Issue the letter"),
            focus=a11y.error_summary_problems,
        ),
        State(
            "patient page with letters", "followup:patient_detail", "alex", lambda w: _letters(w, "/patients/{busy}/")
        ),
        *failed(
            "letter entered in error",
            "followup:entered_in_error",
            "alex",
            lambda w: _letters(w, "/records/letter/{letter}/entered-in-error/"),
        ),
    ],  # fmt: skip
    "pifu": [
        State("patient page, PIFU ended", "followup:patient_detail", "alex", lambda w: f"/patients/{w.pifu.pk}/"),
        State(
            "patient page, PIFU without a period",
            "followup:patient_detail",
            "alex",
            lambda w: f"/patients/{w.pifu_unset.pk}/",
        ),
        *failed("PIFU period", "followup:patient_pifu_period", "alex", lambda w: f"/patients/{w.pifu_unset.pk}/pifu/"),
        *failed("end PIFU and discharge", "letters:pifu_end", "alex", lambda w: f"/patients/{w.pifu.pk}/pifu/end/"),
        # The date offered (the period's end): refused, as Jean's team has no letterhead and she no GP practice.
        State(
            "end PIFU and discharge, refused",
            "letters:pifu_end",
            "alex",
            lambda w: f"/patients/{w.pifu.pk}/pifu/end/",
            act=lambda page, w: _submit(page),
            focus=a11y.error_summary_problems,
        ),
        State("end PIFU, read-only role", "letters:pifu_end", "sam", lambda w: f"/patients/{w.pifu.pk}/pifu/end/"),
    ],  # fmt: skip
    "api-clients": [
        State("API clients", "integration:client_list", "chris", lambda w: _api_clients(w, "/integration/clients/")),
        State("API clients, refused to a nurse", "integration:client_list", "alex", lambda w: "/integration/clients/"),
        *failed("register a system", "integration:client_register", "chris", lambda w: "/integration/clients/new/"),
        State(
            "register a system, its token shown once",
            "integration:client_register",
            "chris",
            lambda w: "/integration/clients/new/",
            act=register_a_system,
        ),
        State(
            "API client page",
            "integration:client_detail",
            "chris",
            lambda w: _api_clients(w, "/integration/clients/{ris}/"),
        ),
        State(
            "API client page, revoked",
            "integration:client_detail",
            "chris",
            lambda w: _api_clients(w, "/integration/clients/{reader}/"),
        ),
        *failed(
            "change what a client may do",
            "integration:client_edit",
            "chris",
            lambda w: _api_clients(w, "/integration/clients/{ris}/edit/"),
            act=untick_everything,
        ),
        State(
            "rotate a token",
            "integration:client_rotate",
            "chris",
            lambda w: _api_clients(w, "/integration/clients/{ris}/rotate/"),
        ),
        State(
            "rotate a token, the new one shown once",
            "integration:client_rotate",
            "chris",
            lambda w: _api_clients(w, "/integration/clients/{ris}/rotate/"),
            act=lambda page, w: _submit(page),
        ),
        *failed(
            "revoke a client",
            "integration:client_revoke",
            "chris",
            lambda w: _api_clients(w, "/integration/clients/{ris}/revoke/"),
        ),
    ],  # fmt: skip
    "selfreport": [
        *failed("self-report form", "selfreport:report", None, lambda w: "/report-symptoms/"),
        State(
            "self-report form, locked", "selfreport:report", None, lambda w: "/report-symptoms/", act=lock_self_report
        ),
        State("self-report sent", "selfreport:sent", None, _sent("confirmed")),
        State("self-report sent: cord compression", "selfreport:sent", None, _sent("cord_compression")),
        State("self-report sent: a fit, call 999", "selfreport:sent", None, _sent("seizure")),
        State(
            "self-report sent: cord compression and a fit",
            "selfreport:sent",
            None,
            _sent("cord_compression+seizure"),
        ),
        State("self-report sent: high calcium, no letterhead", "selfreport:sent", None, _sent("hypercalcaemia", "")),
        State("issue a personal code", "selfreport:issue", "alex", _patient("/patients/{busy}/personal-code/")),
        State(
            "personal code issued",
            "selfreport:issue",
            "alex",
            _patient("/patients/{busy}/personal-code/"),
            act=_press("Issue a new code"),
        ),
        State(
            "patient page with a live personal code", "followup:patient_detail", "alex", _patient("/patients/{busy}/")
        ),
    ],  # fmt: skip
    "alerts": [
        State("Alerts", "alerts:alert_list", "chris", lambda w: _alerts(w, "/alerts/")),
        State("Alerts, failed only", "alerts:alert_list", "chris", lambda w: _alerts(w, "/alerts/?status=failed")),
        State(
            "Alerts, none match",
            "alerts:alert_list",
            "chris",
            lambda w: _alerts(w, "/alerts/?kind=result_unacknowledged"),
        ),
        State("Alerts, refused to a nurse", "alerts:alert_list", "alex", lambda w: "/alerts/"),
        State("an alert that failed", "alerts:alert_detail", "chris", lambda w: _alerts(w, "/alerts/{failed}/")),
        State("an alert sent", "alerts:alert_detail", "chris", lambda w: _alerts(w, "/alerts/{sent}/")),
    ],  # fmt: skip
}


# URLs that are no page of the design system, each with its reason.
NOT_PAGES = {
    "health": "the load balancer's JSON health check",
    "logout": "a POST from the header's button, answered with a redirect",
    "oidc_authentication_init": "single sign-on: a redirect to the identity provider (tests/e2e/test_sign_in.py)",
    "oidc_authentication_callback": "single sign-on: the provider's redirect back, answered with a redirect",
    "followup:import_template": "a CSV file to download",
    "mdt:prepare_list_pdf": "a PDF file to download (tests/mdt/test_views.py reads it back)",
    "stay_signed_in": "a POST from the idle warning's button, answered with JSON (tests/test_session_warning.py)",
    "letters:download": "a PDF file to download (tests/letters/test_views.py, tests/e2e/test_letters.py)",
    "integration:hl7_v2": "API: no page (HL7v2 ORU^R01 in, an HL7 ACK out: tests/integration/test_hl7.py)",
    "integration:fhir_metadata": "API: no page",
    "integration:fhir_patient_search": "API: no page",
    "integration:fhir_patient": "API: no page",
    "integration:fhir_condition_search": "API: no page",
    "integration:fhir_diagnostic_reports": "API: no page",
}


def _url_names(patterns, namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # Django's own admin site: its own templates, outside the design system
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(namespace + pattern.name)
    return names


def test_every_url_has_a_page_state():
    """A new URL must get its page states here (or a reason in NOT_PAGES), so it is checked too."""
    covered = {state.url_name for states in GROUPS.values() for state in states if state.url_name}
    urls = _url_names(get_resolver().url_patterns)
    assert sorted(urls - covered - NOT_PAGES.keys()) == []
    assert sorted((covered | NOT_PAGES.keys()) - urls) == []  # no state for a URL that is gone


# The run ---------------------------------------------------------------------------------------------------------


@dataclass
class Screens:
    """One browser context per person and width, each logged in once (the 1280 login's cookies reused)."""

    new_context: Callable
    pages: dict = field(default_factory=dict)

    def page(self, persona: str | None, width: int) -> Page:
        key = (persona, width)
        if key not in self.pages:
            options = {"viewport": {"width": width, "height": WIDTHS.get(width, 768)}}
            if persona is not None and (persona, 1280) in self.pages:
                options["storage_state"] = self.pages[(persona, 1280)].context.storage_state()
            page = self.new_context(**options).new_page()
            if persona is not None and "storage_state" not in options:
                log_in(page, persona)
            self.pages[key] = page
        return self.pages[key]


def check(page: Page, state: State, world: World, width: int) -> list[str]:
    page.goto(state.path(world))
    if state.act:
        state.act(page, world)
    problems = a11y.frontend_problems(page)
    if width == 1280:
        problems += state.focus(page) if state.focus else a11y.skip_link_problems(page)
    problems += a11y.axe_problems(page)
    if width == 390:
        problems += a11y.width_problems(page)
    return problems


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_page_states_pass_axe_and_fit_the_screen(group, new_context, world):
    screens = Screens(new_context)
    problems = []
    for width in WIDTHS:
        for state in GROUPS[group]:
            page = screens.page(state.persona, width)
            problems += [f"{state.name} at {width}px: {problem}" for problem in check(page, state, world, width)]
    for state in GROUPS[group]:
        if state.rows:
            page = screens.page(state.persona, ROWS_WIDTH)
            page.goto(state.path(world))
            problems += [f"{state.name} at {ROWS_WIDTH}px: {p}" for p in a11y.row_control_problems(page)]
    assert problems == [], "\n" + "\n".join(problems)


# Keyboard only: Tab, Shift+Tab, Enter, Space and the arrow keys; no clicks ----------------------------------------


def _focused_row_text(page: Page) -> str:
    """The text of the row holding the focus, once the focus has moved into a row (htmx moves it after
    its swap settles, a moment after the new row shows: wait for it rather than read it too early)."""
    page.wait_for_function("() => document.activeElement && document.activeElement.closest('tr')")
    return page.evaluate("() => document.activeElement.closest('tr')?.innerText ?? ''")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_keyboard_only_acknowledge_a_result_from_the_results_worklist(page, alex):
    today = timezone.localdate()
    mary = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    item = FollowUpItemFactory(patient=mary, kind=c.FollowUpKind.MAMMOGRAM, status=c.FollowUpStatus.DONE,
                               due_on=today - timedelta(days=10), done_on=today - timedelta(days=3),
                               result=c.ImagingOutcome.BENIGN)  # fmt: skip
    log_in(page, "alex")

    tab_to(page, page.get_by_role("link", name="Results to acknowledge", exact=True))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/worklists/results/"))
    tab_to(page, row(page, "BROWN, Mary").get_by_role("button", name=re.compile(r"^Acknowledge ")))
    page.keyboard.press("Enter")

    expect(row(page, "BROWN, Mary")).to_contain_text("Mammogram result acknowledged (Benign).")
    item.refresh_from_db()
    assert (item.result_acknowledged_by, item.status, item.result, item.version) == (
        alex,
        c.FollowUpStatus.DONE,
        c.ImagingOutcome.BENIGN,
        2,
    )
    assert item.result_acknowledged_at is not None
    # The keyboard user is not dropped at the top of the page: the focus is on the updated row.
    assert "BROWN, Mary" in _focused_row_text(page)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_keyboard_only_triage_a_symptom_report_from_its_worklist(page, alex):
    mary = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    report = SymptomReportFactory(patient=mary, area=c.SymptomArea.LUNG, description="Breathless on stairs.")
    log_in(page, "alex")

    tab_to(page, page.get_by_role("link", name="Symptoms to triage", exact=True))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/worklists/symptoms/"))
    outcome = row(page, "BROWN, Mary").get_by_label("Triage BROWN, Mary")
    tab_to(page, outcome)
    for _ in range(len(c.TriageOutcome) + 1):  # down the closed select's options, as a keyboard user does
        if outcome.input_value() == c.TriageOutcome.CLINIC_REVIEW:
            break
        page.keyboard.press("ArrowDown")
    expect(outcome).to_have_value(c.TriageOutcome.CLINIC_REVIEW)
    page.keyboard.press("Tab")
    expect(row(page, "BROWN, Mary").get_by_role("button", name="Save triage for BROWN, Mary")).to_be_focused()
    page.keyboard.press("Enter")

    expect(row(page, "BROWN, Mary")).to_contain_text("Triaged: Clinic review.")
    report.refresh_from_db()
    assert (report.triage_outcome, report.triaged_by, report.version) == (c.TriageOutcome.CLINIC_REVIEW, alex, 2)
    assert report.triaged_at is not None
    assert SymptomReport.objects.filter(triage_outcome="").count() == 0
    assert "BROWN, Mary" in _focused_row_text(page)
