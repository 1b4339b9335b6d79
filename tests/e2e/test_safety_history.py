"""Browser journey (issue 12, item 4): a record marked entered in error stays in the patient's
history, struck through, with who marked it, when and why, and leaves the failsafe lists.

Run with: DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup .venv/bin/pytest -m browser tests/e2e
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from followup import choices as c
from followup import services
from followup.models import Recurrence
from followup.services import SiteEntry

from ..factories import FollowUpItemFactory, PatientFactory, PrimaryDiagnosisFactory
from .helpers import log_in, message, path_is, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _day(value) -> str:
    """A date as the pages show it: 1 Dec 2026."""
    return f"{value.day} {value:%b %Y}"


def test_nurse_marks_a_recurrence_entered_in_error_and_it_stays_struck_through_in_the_history(page, alex):
    today = timezone.localdate()
    mary = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    PrimaryDiagnosisFactory(patient=mary)
    FollowUpItemFactory(patient=mary, due_on=today + timedelta(days=90))
    diagnosed = today - timedelta(days=9)
    recurrence = services.recurrence_record(
        patient=mary,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=diagnosed,
        restaging_tests=[c.StagingModality.CT_CAP],
        by=alex,
    )

    log_in(page, "alex")
    page.goto("/worklists/restaging/")
    expect(page.locator("#worklist-total")).to_have_text("1")
    expect(row(page, "BROWN, Mary")).to_be_visible()

    row(page, "BROWN, Mary").get_by_role("link", name="BROWN, Mary", exact=True).click()
    expect(page).to_have_url(path_is(f"/patients/{mary.pk}/"))
    history = page.locator("#history")
    expect(history.locator("s")).to_have_count(0)
    # The link's hidden words name the record: "Entered in error: Regional recurrence, 27 Nov 2026".
    link_name = re.compile(rf"^Entered in error\s*: Regional recurrence, {_day(diagnosed)}$")
    history.get_by_role("link", name=link_name).click()

    expect(page.get_by_role("heading", name="Mark the regional recurrence as entered in error")).to_be_visible()
    page.get_by_label("Why was this entered in error?").fill("Recorded on the wrong patient")
    page.get_by_role("button", name="Mark as entered in error").click()

    expect(page).to_have_url(path_is(f"/patients/{mary.pk}/"))
    expect(message(page)).to_contain_text("Marked as entered in error. It stays in the history with your reason.")
    recurrence = Recurrence.all_objects.get(pk=recurrence.pk)
    assert (recurrence.entered_in_error, recurrence.error_reason, recurrence.error_marked_by) == (
        True,
        "Recorded on the wrong patient",
        alex,
    )
    marked_at = timezone.localtime(recurrence.error_marked_at)

    # Still in the history: struck through, said to be in error, with who, when and why.
    entry = history.locator("li.app-timeline__event--error").filter(has_text="Regional recurrence")
    expect(entry.locator("h3 s")).to_have_text("Entered in error: Regional recurrence")
    expect(entry.locator("h3 s .nhsuk-u-visually-hidden")).to_have_text("Entered in error:")
    expect(entry.locator(".app-timeline__error")).to_have_text(
        f"Marked entered in error by Alex Morgan on {_day(marked_at)} at {marked_at:%H:%M}. "
        "Reason: Recorded on the wrong patient"
    )
    expect(entry.get_by_role("link")).to_have_count(0)  # nothing more to do with it
    # Its CT request went with it.
    expect(history.locator("li.app-timeline__event--error").filter(has_text="CT chest")).to_contain_text(
        "Marked entered in error with its recurrence by Alex Morgan"
    )
    expect(page.locator("#open-actions")).not_to_contain_text("Restaging incomplete")

    # And it has left the restaging list.
    page.goto("/worklists/restaging/")
    expect(page.locator("#worklist-total")).to_have_text("0")
    expect(page.locator("tbody")).to_have_text("Nobody is on this list.")
