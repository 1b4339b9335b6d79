"""Worklists on a laptop, a small screen and a phone, their inline actions, and paper (issue 13).

At 1024×768 every control of every row of every worklist lies inside the viewport; on a 1366×768
laptop the first row starts above the fold; at 390 pixels no page scrolls sideways and every target
is 24×24 pixels at least; a failed inline triage keeps its row with the error beside the select and
the focus on it, a successful one moves the focus to the row and updates the count; a printed list
shows its title, what it shows, when, and the rows, without the controls.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from followup import choices as c
from followup.forms import TriageForm
from followup.models import SymptomReport
from followup.worklists import WORKLISTS

from ..factories import (
    FollowUpItemFactory,
    PatientFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
    SymptomReportFactory,
)
from ..integration.factories import unmatched_message
from ..tasks.factories import TaskFactory
from .helpers import log_in, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORTS = ["/reports/", "/reports/lists/follow-up-items/", "/reports/summaries/caseload/"]


def _days(n):
    return timezone.localdate() + timedelta(days=n)


@pytest.fixture
def every_list(alex, priya):
    """Rows on every worklist, for Alex and for Priya, with the longest names and the widest cells
    the lists show (red flag, distant disease, restaging needs), so the widest row is measured."""
    for nurse, name in ((alex, "WORTHINGTON-SMYTHE"), (priya, "FITZGERALD-O'DONNELL")):
        patient = PatientFactory(
            given_name="Alexandra-Josephine", family_name=name, team=nurse.team, named_nurse=nurse, nhs_number=""
        )
        FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.ENDOCRINE_REVIEW, due_on=_days(-90))
        FollowUpItemFactory(patient=patient, due_on=_days(-3), status=c.FollowUpStatus.BOOKED, booked_for=_days(2))
        FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=_days(-30), result="01")
        FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=_days(-2), result_awaited=True)
        episode = RestagingEpisodeFactory(recurrence__patient=patient, opened_on=_days(-40), target_on=_days(-12))
        for site in (c.Site.AXILLARY_NODES, c.Site.SUPRACLAVICULAR_NODES, c.Site.INTERNAL_MAMMARY_NODES):
            episode.recurrence.sites.create(metastatic_type="02", site=site, created_by=nurse, updated_by=nurse)
        StagingTestFactory(episode=episode)
        distant = StagingTestFactory(episode=episode, performed_on=_days(-3), reported_on=_days(-2), result="distant")
        for site in (c.Site.LIVER, c.Site.LUNG, c.Site.BONE):
            distant.sites.create(site=site)
        SymptomReportFactory(patient=patient, red_flag=c.RedFlag.CORD_COMPRESSION, area=c.SymptomArea.BONE)
        TaskFactory(
            patient=patient,
            assigned_to=nurse,
            due_on=_days(-12),
            description="Phone to rebook the endocrine review and ask about the side effects of letrozole",
        )
        PatientFactory(given_name="Lost", family_name=f"{name}-NOFOLLOWUP", team=nurse.team, named_nurse=nurse)
        PatientFactory(
            given_name="Alexandra-Josephine", family_name=f"{name}-PIFU", team=nurse.team, named_nurse=nurse,
            follow_up_model=c.FollowUpModel.PIFU, pifu_starts_on=_days(-1830), pifu_ends_on=_days(-3),
        )  # fmt: skip
        # A result nobody could place, with the longest words its row shows.
        unmatched_message(
            nurse.team,
            family_name=name,
            given_name="Alexandra-Josephine",
            exam_name="CT chest, abdomen and pelvis with contrast, staging",
            reason="More than one open test or item could be this one: CT chest, abdomen and pelvis requested "
            "1 Dec 2026; CT chest, abdomen and pelvis requested 3 Dec 2026.",
        )


def _controls_outside(page) -> list[str]:
    """Each link, button and select of a table row lying (partly) outside the viewport, in words."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          return [...document.querySelectorAll('tbody tr a, tbody tr button, tbody tr select')]
            .filter(el => { const r = el.getBoundingClientRect(); return r.left < 0 || r.right > width; })
            .map(el => (el.textContent || el.name).trim().replace(/\\s+/g, ' '));
        }"""
    )


def test_every_row_control_of_every_worklist_fits_a_1024_screen(page, alex, every_list):
    page.set_viewport_size({"width": 1024, "height": 768})
    log_in(page, "alex")
    for slug in WORKLISTS:
        page.goto(f"/worklists/{slug}/?nurse=all")  # the whole team: the named nurse column too
        expect(page.locator("tbody tr").first).to_be_visible()
        assert page.locator("tbody tr a, tbody tr button, tbody tr select").count() > 0, slug
        assert _controls_outside(page) == [], slug


def test_first_row_starts_above_the_fold_of_a_laptop(page, alex, every_list):
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, "alex")
    for slug in WORKLISTS:
        for scope in ("", "?nurse=all"):
            page.goto(f"/worklists/{slug}/{scope}")
            top = page.locator("tbody tr").first.evaluate("el => el.getBoundingClientRect().top")
            assert top < 768 - 40, f"{slug}{scope}: the first row starts at {top}px"  # and shows a line of it


def _page_too_wide(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth > document.documentElement.clientWidth")


SMALL_TARGETS = """() => {
  const targets = 'main a, main button, main select, main input:not([type=hidden]), main summary, .nhsuk-breadcrumb a';
  const shown = el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden';
  const words = el => (el.textContent || el.name).trim().replace(/\\s+/g, ' ');
  return [...document.querySelectorAll(targets)].filter(shown).flatMap(el => {
    const r = el.getBoundingClientRect();
    const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
    return r.width > 1 && (r.width < 24 || r.height < 24) ? [`${words(el)} ${size}`] : [];
  });
}"""


def _small_targets(page) -> list[str]:
    """Links, buttons, selects, inputs and details summaries in the main content, or the breadcrumb,
    smaller than 24×24 pixels (visually hidden ones aside)."""
    return page.evaluate(SMALL_TARGETS)


@pytest.mark.parametrize("user", ["alex", "chris"])
def test_no_worklist_or_report_scrolls_sideways_on_a_phone_and_targets_are_big_enough(
    page, user, alex, chris, every_list
):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, user)
    pages = ["/", "/worklists/", *(f"/worklists/{slug}/" for slug in WORKLISTS), *REPORTS]
    pages += [f"/worklists/{slug}/?nurse=all" for slug in ("overdue", "restaging", "symptoms")]
    wide, small = {}, {}
    for path in pages:
        page.goto(path)
        if _page_too_wide(page):
            wide[path] = page.evaluate("() => document.documentElement.scrollWidth")
        if found := _small_targets(page):
            small[path] = found
    assert (wide, small) == ({}, {})


def _outcome_required() -> str:
    return str(TriageForm.base_fields["outcome"].error_messages["required"])


def test_inline_triage_failure_keeps_the_row_and_success_moves_the_focus_and_the_count(page, alex):
    ann = PatientFactory(given_name="Ann", family_name="Green", team=alex.team, named_nurse=alex)
    bea = PatientFactory(given_name="Bea", family_name="Hall", team=alex.team, named_nurse=alex)
    ann_report = SymptomReportFactory(patient=ann, reported_on=_days(-3), area=c.SymptomArea.LUNG)
    SymptomReportFactory(patient=bea, reported_on=_days(-1))
    page.set_viewport_size({"width": 1024, "height": 768})
    log_in(page, "alex")
    page.goto("/worklists/symptoms/")
    expect(page.locator("#worklist-total")).to_have_text("2")
    page.evaluate("() => { window.sameDocument = true; }")  # gone if the page reloads

    # Saved with no outcome chosen: the row stays, the error sits beside the select, the focus on it.
    green = row(page, "GREEN, Ann")
    green.get_by_role("button", name="Save triage for GREEN, Ann").click()
    outcome = green.get_by_label("Triage GREEN, Ann")
    expect(green.locator(".nhsuk-error-message")).to_have_text(f"Error: {_outcome_required()}")
    expect(outcome).to_be_focused()
    expect(outcome).to_have_attribute("aria-describedby", f"triage-{ann_report.pk}-error")
    expect(green).to_contain_text("Lung")  # the rest of the row is still there
    expect(green.get_by_role("link", name="GREEN, Ann", exact=True)).to_be_visible()
    expect(page.locator("#worklist-total")).to_have_text("2")
    assert SymptomReport.objects.get(pk=ann_report.pk).triaged_at is None

    # Chosen and saved: the row says so and takes the focus; the count follows.
    outcome.select_option(label="Reassure")
    green.get_by_role("button", name="Save triage for GREEN, Ann").click()
    done = page.locator("tbody tr.app-row--done")
    expect(done).to_have_text("Done Triaged: Reassure. GREEN, Ann")
    expect(done.locator("td")).to_be_focused()
    expect(page.locator("#worklist-count")).to_have_text("1 report on this list")
    expect(row(page, "HALL, Bea").get_by_label("Triage HALL, Bea")).to_be_visible()
    assert page.evaluate("() => window.sameDocument") is True
    ann_report.refresh_from_db()
    assert (ann_report.triage_outcome, ann_report.triaged_by) == (c.TriageOutcome.REASSURE, alex)


def test_a_printed_worklist_has_its_title_filters_and_time_and_no_controls(page, alex, every_list):
    log_in(page, "alex")
    page.goto("/worklists/overdue/?nurse=all")
    page.emulate_media(media="print")
    for hidden in (
        ".nhsuk-header",
        ".nhsuk-breadcrumb",
        ".app-scope-tabs",
        "#filters",
        ".app-downloads",
        "tbody .app-actions-cell",
        "thead .app-actions-cell",
    ):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overdue follow-up")
    expect(page.locator("#filter-summary")).to_have_text("Showing: the whole team, all kinds")
    expect(page.locator("#listed-at")).to_be_visible()
    expect(page.locator("#listed-at")).to_have_text(
        re.compile(r"^List as at \d{1,2} [A-Z][a-z]{2} \d{4} at \d\d:\d\d$")
    )
    expect(page.locator("tbody tr")).to_have_count(2)
    assert page.locator("tbody a").first.evaluate("el => getComputedStyle(el, '::after').content") == "none"
    page.emulate_media(media="screen")
    expect(page.locator("#listed-at")).to_be_hidden()
