"""Issue 13 in a real Chromium: the patient page's "What needs doing" panel, Show all, the back link
and breadcrumb at 1280 and 390 px, printing, and the idle-logoff warning.

Run with: DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup .venv/bin/pytest -m browser tests/e2e
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from followup import choices as c
from followup.models import FollowUpItem

from ..factories import FollowUpItemFactory, PatientFactory, PrimaryDiagnosisFactory
from .a11y import axe_problems
from .helpers import log_in, message, path_is, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _day(value) -> str:
    return f"{value:%-d %b %Y}"


def _days(n):
    return timezone.localdate() + timedelta(days=n)


@pytest.fixture
def mary(alex):
    """Alex's patient: an overdue mammogram, a bloods result awaited, and a year of clinic reviews ahead."""
    patient = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    PrimaryDiagnosisFactory(patient=patient)
    FollowUpItemFactory(patient=patient, due_on=_days(-60))
    FollowUpItemFactory(
        patient=patient,
        kind=c.FollowUpKind.BLOODS,
        due_on=_days(-10),
        status=c.FollowUpStatus.DONE,
        done_on=_days(-3),
        result_awaited=True,
    )
    for months in (3, 6, 9, 12):
        FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.CLINIC_REVIEW, due_on=_days(30 * months))
    return patient


def test_what_needs_doing_leads_to_the_task_and_back(page, alex, mary):
    log_in(page, "alex")
    page.goto(f"/patients/{mary.pk}/")
    panel = page.get_by_role("region", name="What needs doing")
    # Each button's hidden words tell alike buttons apart for a screen reader.
    mammogram, bloods = f"Book the mammogram, due {_day(_days(-60))}", f"done {_day(_days(-3))}"
    expect(panel.locator("a.nhsuk-button")).to_have_text([mammogram, f"Record the bloods result, {bloods}"])
    expect(page.get_by_role("heading", level=2).first).to_have_text("What needs doing")

    panel.get_by_role("link", name=re.compile(r"^Record the bloods result")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record the bloods result")
    expect(page.locator(".app-banner")).to_contain_text("BROWN, Mary")
    page.get_by_label("Normal", exact=True).check()
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(path_is(f"/patients/{mary.pk}/"))
    expect(message(page)).to_contain_text("Bloods result recorded")
    assert FollowUpItem.objects.get(patient=mary, kind=c.FollowUpKind.BLOODS).result == c.ImagingOutcome.NORMAL
    # The result now waits to be read: the panel says so, with the button to do it.
    expect(panel.locator("a.nhsuk-button")).to_have_text([mammogram, f"Acknowledge the bloods result, {bloods}"])


def test_upcoming_shows_two_and_show_all_opens_the_rest(page, alex, mary):
    log_in(page, "alex")
    page.goto(f"/patients/{mary.pk}/")
    upcoming = page.get_by_role("region", name="Upcoming")
    expect(upcoming.locator("#upcoming-next h3")).to_have_text(["Mammogram due Due", "Clinic review due Due"])
    later = upcoming.locator("#upcoming-later")
    expect(later).to_be_hidden()
    upcoming.get_by_text("Show all 5 upcoming items").click()
    expect(later).to_be_visible()
    expect(later.locator("time")).to_have_text([_day(_days(30 * m)) for m in (6, 9, 12)])


def test_back_link_on_a_phone_and_breadcrumb_on_a_laptop_return_to_the_worklist(new_context, alex, mary):
    for width in (390, 1280):
        page = new_context().new_page()
        page.set_viewport_size({"width": width, "height": 800})
        log_in(page, "alex")
        page.goto("/worklists/overdue/?nurse=all")
        row(page, "BROWN, Mary").get_by_role("link", name="BROWN, Mary", exact=True).click()
        expect(page).to_have_url(path_is(f"/patients/{mary.pk}/"))
        crumbs = page.get_by_role("navigation", name="Breadcrumb")
        back = crumbs.get_by_role("link", name="Back to Overdue follow-up")
        trail = crumbs.locator(".nhsuk-breadcrumb__list")
        if width == 390:
            expect(trail).to_be_hidden()
            back.click()
        else:
            expect(back).to_be_hidden()
            expect(trail.get_by_role("link")).to_have_text(["Worklists", "Overdue follow-up"])
            trail.get_by_role("link", name="Overdue follow-up").click()
        expect(page).to_have_url(path_is("/worklists/overdue/?nurse=all"))
        # The page is never wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_header_menu_and_skip_link_work_on_a_phone(page, chris, mary):
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, "chris")  # an admin: the password, then the authenticator app set up (tests/e2e/helpers.py)
    page.goto(f"/patients/{mary.pk}/")
    expect(page.locator("body")).to_have_class(re.compile(r"\bnhsuk-frontend-supported\b"))
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#maincontent")).to_be_focused()
    menu = page.get_by_role("navigation", name="Menu")
    expect(menu.get_by_role("link", name="Patients")).to_have_attribute("aria-current", "true")
    more = menu.get_by_role("button", name="Browse More")
    expect(more).to_be_visible()  # an admin's five sections do not fit: the rest are behind "More"
    admin = menu.get_by_role("link", name="Admin", exact=True)
    expect(admin).to_be_hidden()
    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(admin).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_patient_page_prints_without_navigation_buttons_or_forms(page, alex, mary):
    log_in(page, "alex")
    page.goto(f"/patients/{mary.pk}/")
    page.emulate_media(media="print")
    for hidden in (".nhsuk-header", ".nhsuk-footer", ".nhsuk-breadcrumb", "#record-actions", "#status-changes"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator("main a.nhsuk-button").first).to_be_hidden()
    expect(page.locator("main .app-inline-links").first).to_be_hidden()
    for shown in (".app-banner", "#what-needs-doing", "#upcoming", "#history"):
        expect(page.locator(shown)).to_be_visible()
    expect(page.locator("#upcoming-later")).to_be_visible()  # every upcoming item on paper
    now = timezone.localtime()
    expect(page.locator(".app-printed")).to_have_text(re.compile(rf"^Printed {_day(now)} at \d\d:\d\d by Alex Morgan$"))
    page.emulate_media(media="screen")
    expect(page.locator(".app-printed")).to_be_hidden()


# The idle-logoff warning ------------------------------------------------------------------


@pytest.fixture
def short_session(settings):
    """An idle allowance of 8 s with the warning at 5 s before the end: it opens 3 s after a request."""
    settings.SESSION_IDLE_TIMEOUT = timedelta(seconds=8)
    settings.SESSION_IDLE_WARNING = timedelta(seconds=5)


def test_idle_warning_stay_signed_in_keeps_the_session(page, alex, mary, settings):
    settings.SESSION_IDLE_TIMEOUT = timedelta(seconds=30)
    settings.SESSION_IDLE_WARNING = timedelta(seconds=27)  # warned 3 s after each request
    log_in(page, "alex")
    page.goto(f"/patients/{mary.pk}/")
    dialog = page.get_by_role("dialog", name="You will be signed out soon")
    expect(dialog).to_be_hidden()
    expect(dialog).to_be_visible(timeout=6000)
    expect(dialog).to_contain_text(re.compile(r"you will be signed out in \d+ seconds? if you do nothing"))
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    # The open dialog is a page state too: axe-core (WCAG 2.2 A and AA) finds nothing in it.
    assert axe_problems(page) == []
    with page.expect_response("**/accounts/stay-signed-in/") as answer:
        stay.click()
    assert answer.value.status == 200
    expect(dialog).to_be_hidden()
    # Escape keeps the session too.
    expect(dialog).to_be_visible(timeout=6000)
    with page.expect_response("**/accounts/stay-signed-in/"):
        page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("BROWN, Mary")


def test_idle_warning_when_time_runs_out_goes_to_log_in_saying_why(page, alex, mary, short_session):
    log_in(page, "alex")
    page.goto(f"/patients/{mary.pk}/")
    dialog = page.get_by_role("dialog", name="You will be signed out soon")
    expect(dialog).to_be_visible(timeout=6000)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="), timeout=12000)
    expect(message(page)).to_have_text("Information: You were logged out after a period of inactivity.")


def test_idle_warning_sign_out_signs_out(page, alex, mary, short_session):
    log_in(page, "alex")
    page.goto(f"/patients/{mary.pk}/")
    dialog = page.get_by_role("dialog", name="You will be signed out soon")
    expect(dialog).to_be_visible(timeout=6000)
    dialog.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(path_is("/accounts/login/"))
    page.goto(f"/patients/{mary.pk}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
