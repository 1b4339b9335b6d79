"""Issue 12, item 2, in a real Chromium: nothing completes a clinical action by default.

Run with: DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup .venv/bin/pytest -m browser tests/e2e
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from followup import choices as c
from followup.models import FollowUpItem

from ..factories import FollowUpItemFactory, PatientFactory, PrimaryDiagnosisFactory
from .helpers import date_input, expect_date, fill_date, log_in, message, path_is, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _saved(item: FollowUpItem) -> tuple:
    item.refresh_from_db()
    return (item.status, item.booked_for, item.done_on, item.result, item.result_awaited, item.version)


def test_untouched_book_and_record_done_save_nothing_and_a_result_not_yet_available_waits_on_its_list(page, alex):
    today = timezone.localdate()
    mary = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    PrimaryDiagnosisFactory(patient=mary)
    mammogram = FollowUpItemFactory(patient=mary, kind=c.FollowUpKind.MAMMOGRAM, due_on=today - timedelta(days=40))
    untouched = (c.FollowUpStatus.DUE, None, None, "", False, 1)

    log_in(page, "alex")
    expect(page.locator("#count-results-awaited-mine")).to_have_text("0")
    page.get_by_role("link", name="Overdue follow-up", exact=True).click()
    overdue = "/worklists/overdue/"
    expect(page).to_have_url(path_is(overdue))

    # Book, sent untouched: the date is asked for beside its field, and nothing is booked.
    row(page, "BROWN, Mary").get_by_role("link", name="Book for BROWN, Mary").click()
    expect(page.get_by_role("heading", name="Book the mammogram", exact=True)).to_be_visible()
    expect_date(page, "Appointment date", None)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_booked_for-error")).to_have_text("Error: Enter the appointment date")
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter the appointment date")
    assert _saved(mammogram) == untouched

    # Record done, sent untouched: the date and the result are asked for, and nothing is done.
    page.get_by_role("link", name="Go back without saving").click()
    expect(page).to_have_url(path_is(overdue))
    row(page, "BROWN, Mary").get_by_role("link", name="Record done for BROWN, Mary").click()
    expect(page.get_by_role("heading", name="Record the mammogram as done")).to_be_visible()
    expect_date(page, "Date done", None)
    results = page.get_by_role("group", name="Result")
    for choice in [*(label for _, label in c.CLASSIFIED_IMAGING_OUTCOMES), "Result not yet available"]:
        expect(results.get_by_role("radio", name=choice, exact=True)).not_to_be_checked()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_done_on-error")).to_have_text("Error: Enter the date it was done")
    expect(page.locator("#id_result-error")).to_have_text("Error: Select the result, or 'Result not yet available'")
    assert _saved(mammogram) == untouched

    # Done two days ago, its result not yet available: off the overdue list, onto "Results awaited".
    done_on = today - timedelta(days=2)
    fill_date(page, "Date done", done_on)
    page.get_by_role("group", name="Result").get_by_role("radio", name="Result not yet available").check()
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(path_is(overdue))
    expect(message(page)).to_have_text("Information: Mammogram recorded as done; its result is awaited.")
    expect(page.locator("#worklist-total")).to_have_text("0")
    assert _saved(mammogram) == (c.FollowUpStatus.DONE, None, done_on, "", True, 2)

    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Dashboard").click()
    expect(page.locator("#count-results-awaited-mine")).to_have_text("1")
    expect(page.locator("#count-results-mine")).to_have_text("0")
    page.get_by_role("link", name="Results awaited", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Results awaited")
    expect(page.locator("#worklist-total")).to_have_text("1")
    awaited = row(page, "BROWN, Mary")
    expect(awaited).to_contain_text("Mammogram")
    expect(awaited).to_contain_text(f"{done_on:%-d %b %Y}")
    expect(awaited.locator("td").nth(3)).to_have_text("2", use_inner_text=True)  # days waiting

    # The result arrives: recorded from the row, it moves to "Results to acknowledge".
    awaited.get_by_role("link", name="Record the result for BROWN, Mary").click()
    expect(page.get_by_role("heading", name="Record the mammogram result")).to_be_visible()
    page.get_by_role("group", name="Result").get_by_role("radio", name="Normal", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(message(page)).to_have_text("Information: Mammogram result recorded; it now waits to be acknowledged.")
    expect(page.locator("#worklist-total")).to_have_text("0")
    assert _saved(mammogram) == (c.FollowUpStatus.DONE, None, done_on, c.ImagingOutcome.NORMAL, False, 3)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Dashboard").click()
    expect(page.locator("#count-results-mine")).to_have_text("1")
    expect(page.locator("#count-results-awaited-mine")).to_have_text("0")


def test_today_fills_in_a_date_only_when_pressed(page, alex):
    today = timezone.localdate()
    mary = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    review = FollowUpItemFactory(patient=mary, kind=c.FollowUpKind.CLINIC_REVIEW, due_on=today - timedelta(days=3))

    log_in(page, "alex")
    page.goto(f"/items/{review.pk}/done/")
    expect_date(page, "Date done", None)
    page.get_by_role("button", name="Today for Date done").click()
    expect_date(page, "Date done", today)  # the three boxes: day, month and year
    assert _saved(review) == (c.FollowUpStatus.DUE, None, None, "", False, 1)  # pressing it saves nothing
    # A plan (an appointment) has no such button: "today" is not its usual answer.
    page.goto(f"/items/{review.pk}/book/")
    expect(date_input(page, "Appointment date")).to_be_visible()
    expect(page.get_by_role("button", name="Today for Appointment date")).to_have_count(0)

    page.goto(f"/items/{review.pk}/done/")
    page.get_by_role("button", name="Today for Date done").click()
    page.get_by_role("button", name="Save").click()
    expect(message(page)).to_have_text("Information: Clinic review recorded as done.")
    assert _saved(review) == (c.FollowUpStatus.DONE, None, today, "", False, 2)
