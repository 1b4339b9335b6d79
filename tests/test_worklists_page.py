"""Issue 13, the worklists' pages: layout, scope tabs, collapsed filters with their summary in words,
inline row actions that keep the row, and downloads that stay exactly as they were."""

import csv
import html
import io
import re
from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.display import show_datetime
from followup.forms import TriageForm
from followup.patient_tasks import TASKS
from followup.worklists import WORKLISTS
from integration.models import InboxMessage

from .factories import (
    FollowUpItemFactory,
    PatientFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
    SymptomReportFactory,
    UserFactory,
)
from .integration.factories import unmatched_message
from .tasks.factories import TaskFactory

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


# Downloads: exactly as before the pages changed ----------------------------------------------------


@pytest.fixture
def one_of_each(nurse):
    """One row on every worklist, for a patient whose name and NHS number the downloads show."""
    nurse.first_name, nurse.last_name = "Alex", "Morgan"
    nurse.save()
    ann = PatientFactory(
        team=nurse.team, named_nurse=nurse, given_name="Ann", family_name="Green", nhs_number="9998765439",
        follow_up_model=c.FollowUpModel.PIFU, pifu_starts_on=days(-1800), pifu_ends_on=days(-10),
    )  # fmt: skip
    FollowUpItemFactory(patient=ann, due_on=days(-60))
    FollowUpItemFactory(patient=ann, due_on=days(3), status=c.FollowUpStatus.BOOKED, booked_for=days(4))
    FollowUpItemFactory(patient=ann, status=c.FollowUpStatus.DONE, done_on=days(-20), result="02")
    FollowUpItemFactory(patient=ann, status=c.FollowUpStatus.DONE, done_on=days(-2), result_awaited=True)
    episode = RestagingEpisodeFactory(recurrence__patient=ann, opened_on=days(-40), target_on=days(-12))
    episode.recurrence.sites.create(
        metastatic_type="02", site=c.Site.AXILLARY_NODES, created_by=nurse, updated_by=nurse
    )
    StagingTestFactory(episode=episode)
    distant = StagingTestFactory(episode=episode, performed_on=days(-3), reported_on=days(-2), result="distant")
    distant.sites.create(site=c.Site.LIVER)
    SymptomReportFactory(patient=ann, reported_on=days(-1), red_flag=c.RedFlag.CORD_COMPRESSION)
    TaskFactory(patient=ann, assigned_to=nurse, due_on=days(-2), description="Phone Ann about her result")
    bob = PatientFactory(team=nurse.team, named_nurse=nurse, given_name="Bob", family_name="Hill", nhs_number="")
    unmatched_message(
        nurse.team,
        received_at=timezone.make_aware(datetime.combine(days(-1), time(9, 30))),
        date_of_birth=date(1960, 5, 17),
        performed_on=days(-3),
        reported_on=days(-2),
    )
    return ann, bob


def _download(client, slug) -> list[list[str]]:
    response = client.get(url("worklist", slug), {"export": "csv"})
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


RED_FLAG = (
    "Red flag:  Possible spinal cord compression "
    "(back pain with weak legs, numbness, or loss of bladder or bowel control)"
)


def test_worklist_downloads_keep_every_column_the_screen_merges(nurse_client, one_of_each):
    """The screen merges columns (NHS number under the name, days overdue beside the date...); the
    downloads keep one value a column, exactly as before issue 13."""
    ann, nurse = "GREEN, Ann", "Alex Morgan"
    iso = {n: days(n).isoformat() for n in (-60, -40, -20, -12, -10, -2, -1, 3, 4)}
    sender = InboxMessage.objects.get().client.name
    assert {slug: _download(nurse_client, slug) for slug in WORKLISTS} == {
        "overdue": [
            ["Patient", "NHS number", "Named nurse", "Follow-up", "Due", "Days overdue", "Escalation", "Status"],
            [ann, "9998765439", nurse, "Mammogram", iso[-60], "60", "Escalated", "Due"],
        ],
        "due-soon": [
            ["Patient", "NHS number", "Named nurse", "Follow-up", "Due", "Status", "Booked for"],
            [ann, "9998765439", nurse, "Mammogram", iso[3], "Booked", iso[4]],
        ],
        "results": [
            ["Patient", "NHS number", "Named nurse", "Test", "Done", "Result", "Days waiting", "Escalation"],
            [ann, "9998765439", nurse, "Mammogram", iso[-20], "Normal", "20", "Escalated: waiting over 14 days"],
        ],
        "results-awaited": [
            ["Patient", "NHS number", "Named nurse", "Test", "Done", "Days waiting"],
            [ann, "9998765439", nurse, "Mammogram", iso[-2], "2"],
        ],
        "staging-results": [
            ["Patient", "NHS number", "Named nurse", "Test", "Reported", "Result", "Days waiting", "Escalation"],
            [ann, "9998765439", nurse, "CT chest, abdomen and pelvis", iso[-2], "Distant disease Liver", "2", ""],
        ],
        "restaging": [
            [
                *("Patient", "NHS number", "Status", "Tests reported", "Recurrence", "Recurrence date"),
                *("Days open", "Target", "Named nurse"),
            ],
            [
                *(ann, "9998765439", "Results to acknowledge; Results awaited", "1 of 2"),
                *("Regional: Axillary lymph nodes", iso[-40], "40", iso[-12], nurse),
            ],
        ],
        "distant-not-recorded": [
            [
                "Patient",
                "NHS number",
                "Named nurse",
                "Test",
                "Reported",
                "Distant disease found in",
                "Days since report",
            ],
            [ann, "9998765439", nurse, "CT chest, abdomen and pelvis", iso[-2], "Liver", "2"],
        ],
        "symptoms": [
            ["Patient", "NHS number", "Named nurse", "Red flag", "Reported", "Area", "Description"],
            [ann, "9998765439", nurse, RED_FLAG, iso[-1], "Bone", "Aching in the lower back."],
        ],
        "pifu-ending": [
            ["Patient", "NHS number", "Named nurse", "PIFU ends", "Days left (negative: ended)"],
            [ann, "9998765439", nurse, iso[-10], "-10"],
        ],
        "no-follow-up": [
            ["Patient", "NHS number", "Named nurse", "Status", "Follow-up model", "Last follow-up item"],
            ["HILL, Bob", "", nurse, "Under surveillance", "Clinic-led", "None yet"],
        ],
        "data-quality": [
            ["Patient", "NHS number", "Named nurse", "Problems"],
            [ann, "9998765439", nurse, "No primary diagnosis recorded"],
            ["HILL, Bob", "", nurse, "Missing NHS numberNo primary diagnosis recorded"],
        ],
        "mdt-not-discussed": [
            [
                *("Patient", "NHS number", "Named nurse", "Recurrence", "Status", "Diagnosed on"),
                "Days since the recurrence",
            ],
            [ann, "9998765439", nurse, "Regional: Axillary lymph nodes", "Confirmed", iso[-10], "10"],
        ],
        **dict.fromkeys(
            ("my-tasks", "team-tasks"),
            [
                ["Patient", "NHS number", "Named nurse", "Task", "Assigned to", "Due", "Overdue"],
                [ann, "9998765439", nurse, "Phone Ann about her result", nurse, iso[-2], "Overdue by 2 days"],
            ],
        ),
        # What the message says, as it says it: no patient of ours was found for it.
        "unmatched-results": [
            [
                *("Received", "From", "Exam", "NHS number in the message", "Name in the message"),
                *("Date of birth in the message", "Reported", "Why unmatched"),
            ],
            [
                *(f"{iso[-1]} 09:30", sender, "Mammogram, both breasts LOCAL MAMMOB", "9990001234", "UNKNOWN, Alice"),
                *("1960-05-17", iso[-2], "No patient of the teams this system serves has NHS number 9990001234."),
            ],
        ],
    }


# Helpers reading the page as a person does ----------------------------------------------------------

HTMX = {"HTTP_HX_REQUEST": "true"}


def body(response) -> str:
    return response.content.decode()


def text(fragment) -> str:
    """The words of an HTML fragment, as a screen reader reads them (visually hidden text included)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", str(fragment))).split())


def headers(response) -> list[str]:
    """The column headers the page shows."""
    return [column.header for column in response.context["table"].columns]


def row_cells(response) -> list[list[str]]:
    """Each row's cells, in words, as shown."""
    rows = re.findall(r'<tr class="nhsuk-table__row[^"]*">(.*?)</tr>', body(response).split("<tbody", 1)[1], re.S)
    heading = r'<span class="nhsuk-table-responsive__heading" aria-hidden="true">.*?</span>'
    return [[text(re.sub(heading, "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]


def tabs(response) -> list[tuple[str, str, bool]]:
    """The scope tabs: (label, link, selected)."""
    nav = re.search(r'<nav class="app-scope-tabs[^"]*"[^>]*>(.*?)</nav>', body(response), re.S)
    if nav is None:
        return []
    found = re.findall(
        r'<li class="nhsuk-tabs__list-item([^"]*)">\s*<a class="nhsuk-tabs__tab" href="([^"]*)"([^>]*)>(.*?)</a>',
        nav.group(1),
        re.S,
    )
    result = []
    for classes, href, attrs, label in found:
        selected = "nhsuk-tabs__list-item--selected" in classes
        assert selected == ('aria-current="page"' in attrs), "the selected tab is the current page"
        result.append((text(label), html.unescape(href), selected))
    return result


def accessible_links(fragment: str) -> list[tuple[str, str]]:
    """(href, accessible name) of each link: its aria-label, or its words."""
    found = re.findall(r'<a([^>]*)href="([^"]*)"([^>]*)>(.*?)</a>', fragment, re.S)
    links = []
    for before, href, after, label in found:
        aria = re.search(r'aria-label="([^"]*)"', before + after)
        links.append((html.unescape(href), html.unescape(aria.group(1)) if aria else text(label)))
    return links


def dashboard_row(response, href: str) -> str:
    rows = re.findall(r'<tr class="nhsuk-table__row">(.*?)</tr>', body(response), re.S)
    return next(row for row in rows if f'href="{href}"' in row)


def summary_line(response) -> str:
    return text(re.search(r'<p class="app-filter-summary[^"]*"[^>]*>(.*?)</p>', body(response), re.S).group(1))


@pytest.fixture
def alex(nurse):
    nurse.first_name, nurse.last_name = "Alex", "Morgan"
    nurse.save()
    return nurse


@pytest.fixture
def ann(alex):
    return PatientFactory(
        team=alex.team, named_nurse=alex, given_name="Ann", family_name="Green", nhs_number="9998765439"
    )


# 1. Full width, fewer columns, escalated first --------------------------------------------------------


def test_worklists_and_reports_use_the_full_width_layout(client, admin_user):
    client.force_login(admin_user)
    pages = [url("worklist", slug) for slug in WORKLISTS] + [
        url("report_line_list", "follow-up-items"),
        url("report_summary", "caseload"),
    ]
    for page in pages:
        assert '<div class="nhsuk-width-container app-wide">' in body(client.get(page)), page


def test_named_nurse_column_only_when_the_list_holds_more_than_one_caseload(nurse_client, ann):
    FollowUpItemFactory(patient=ann, due_on=days(-60))
    mine = nurse_client.get(url("worklist", "overdue"))
    team = nurse_client.get(url("worklist", "overdue"), {"nurse": "all"})
    assert headers(mine) == ["Patient", "Follow-up", "Due", "Status", "Action"]
    assert headers(team) == ["Patient", "Named nurse", "Follow-up", "Due", "Status", "Action"]


SCREEN_COLUMNS = {
    "overdue": ["Patient", "Named nurse", "Follow-up", "Due", "Status", "Action"],
    "due-soon": ["Patient", "Named nurse", "Follow-up", "Due", "Status", "Action"],
    # A checkbox first on the results lists: several normal results acknowledged at once (issue 14).
    "results": ["Select", "Patient", "Named nurse", "Test", "Done", "Result", "Waiting", "Action"],
    "results-awaited": ["Patient", "Named nurse", "Test", "Done", "Days waiting", "Action"],
    "staging-results": ["Select", "Patient", "Named nurse", "Test", "Reported", "Result", "Waiting", "Action"],
    "restaging": [
        "Patient",
        "Status",
        "Tests reported",
        "Recurrence",
        "Recurrence date",
        "Target",
        "Named nurse",
        "Action",
    ],
    "distant-not-recorded": ["Patient", "Named nurse", "Test", "Reported", "Distant disease found in", "Action"],
    "symptoms": ["Patient", "Named nurse", "Red flag", "Reported", "Area", "Description", "Action"],
    "no-follow-up": ["Patient", "Named nurse", "Status", "Follow-up model", "Last follow-up item", "Action"],
    "pifu-ending": ["Patient", "Named nurse", "PIFU ends", "Action"],
    "data-quality": ["Patient", "Named nurse", "Problems", "Action"],
    "mdt-not-discussed": [
        *("Patient", "Named nurse", "Recurrence", "Status", "Diagnosed on", "Days since the recurrence"),
        "Action",
    ],
    "my-tasks": ["Patient", "Named nurse", "Task", "Assigned to", "Due", "Action"],
    "team-tasks": ["Patient", "Named nurse", "Task", "Assigned to", "Due", "Action"],
    "unmatched-results": [
        "Received",
        "Exam",
        "NHS number in the message",
        "Name in the message",
        "Why unmatched",
        "Action",
    ],
}


def test_each_list_shows_the_nhs_number_under_the_name_and_merges_its_dates(nurse_client, one_of_each):
    """NHS number under the name; days overdue, escalation, booking, days open and days since a report
    beside the date they count from: every row's controls fit a 1024-pixel screen (tests/e2e)."""
    shown = {slug: nurse_client.get(url("worklist", slug), {"nurse": "all"}) for slug in WORKLISTS}
    assert {slug: headers(response) for slug, response in shown.items()} == SCREEN_COLUMNS
    ann = "GREEN, Ann NHS number: 999 876 5439"
    cells = {slug: row_cells(response)[0][:-1] for slug, response in shown.items()}  # the action: below
    assert cells["overdue"] == [ann, "Alex Morgan", "Mammogram", f"{day(-60)} 60 days overdue Escalated", "Due"]
    assert cells["due-soon"] == [ann, "Alex Morgan", "Mammogram", day(3), f"Booked for {day(4)}"]
    assert cells["restaging"] == [
        ann,
        "Results to acknowledge Results awaited",
        "1 of 2",
        "Regional: Axillary lymph nodes",
        f"{day(-40)} 40 days open",
        f"{day(-12)} Past target",
        "Alex Morgan",
    ]
    assert cells["distant-not-recorded"] == [
        ann,
        "Alex Morgan",
        "CT chest, abdomen and pelvis",
        f"{day(-2)} 2 days ago",
        "Liver",
    ]
    assert cells["no-follow-up"][0] == "HILL, Bob NHS number: Not recorded"
    assert cells["pifu-ending"] == [ann, "Alex Morgan", f"{day(-10)} Ended 10 days ago"]
    task = [ann, "Alex Morgan", "Phone Ann about her result", "Alex Morgan", f"{day(-2)} Overdue by 2 days"]
    assert cells["my-tasks"] == cells["team-tasks"] == task


def day(n) -> str:
    return f"{days(n):%-d %b %Y}"


# 2. Filters: collapsed, with what is active in words ----------------------------------------------


def test_filters_are_collapsed_under_a_summary_of_what_the_list_shows(nurse_client, alex):
    page = body(nurse_client.get(url("worklist", "restaging")))
    assert re.search(r'<details class="nhsuk-details app-filters"[^>]*>', page).group(0) == (
        '<details class="nhsuk-details app-filters" id="filters">'
    )
    assert summary_line(nurse_client.get(url("worklist", "restaging"))) == (
        "Showing: Alex Morgan's caseload, local and regional"
    )


@pytest.mark.parametrize(
    ("slug", "query", "shown"),
    [
        ("restaging", {"nurse": "all", "type": "01"}, "Showing: the whole team, recurrence type: Local"),
        (
            "symptoms",
            {"nurse": "all", "area": "bone", "red_flag": "on", "reported_after": "2026-11-01"},
            "Showing: the whole team, reported from 1 Nov 2026, area: Bone, red flags only",
        ),
        (
            "overdue",
            {"due_after": "2026-11-01", "due_before": "2026-11-30"},
            "Showing: Alex Morgan's caseload, due between 1 Nov 2026 and 30 Nov 2026, all kinds",
        ),
        (
            "results",
            {"done_before": "2026-11-30"},
            "Showing: Alex Morgan's caseload, done until 30 Nov 2026, all kinds",
        ),
        (
            "data-quality",
            {"nurse": "all", "problem": "missing_nhs_number"},
            "Showing: the whole team, problem: Missing NHS number",
        ),
    ],
)
def test_filter_summary_says_each_active_filter_in_words(nurse_client, alex, slug, query, shown):
    assert summary_line(nurse_client.get(url("worklist", slug), query)) == shown


def test_filter_summary_names_a_colleagues_caseload(nurse_client, alex, priya):
    response = nurse_client.get(url("worklist", "overdue"), {"nurse": priya.pk})
    assert summary_line(response) == "Showing: Priya Shah's caseload, all kinds"


def test_filters_with_an_error_are_shown_open(nurse_client, alex):
    page = body(nurse_client.get(url("worklist", "overdue"), {"due_after": "2026-02-31"}))
    assert '<details class="nhsuk-details app-filters" id="filters" open>' in page
    assert "There is a problem" in page


def test_admin_filter_summary_says_all_teams_or_the_team(client, admin_user, team):
    client.force_login(admin_user)
    assert summary_line(client.get(url("worklist", "overdue"))) == "Showing: all teams, all kinds"
    assert summary_line(client.get(url("worklist", "overdue"), {"team": team.pk})) == (
        "Showing: North Breast Unit, all kinds"
    )


def test_reset_sits_beside_the_apply_button(nurse_client, alex):
    page = body(nurse_client.get(url("worklist", "overdue"), {"nurse": "all"}))
    actions = re.search(r'<div class="app-filters__actions">(.*?)</div>', page, re.S).group(1)
    assert [text(part) for part in re.findall(r"<(?:button|a)\b.*?</(?:button|a)>", actions, re.S)] == [
        "Apply filters",
        "Clear filters",
    ]
    # Back to the list of the tab it is on, with no other filter.
    assert re.search(r'<a class="nhsuk-link app-filters__reset" href="([^"]*)">', actions).group(1) == (
        url("worklist", "overdue") + "?nurse=all"
    )


def test_line_list_filters_are_collapsed_with_their_summary(client, admin_user):
    client.force_login(admin_user)
    response = client.get(url("report_line_list", "follow-up-items"))
    assert '<details class="nhsuk-details app-filters" id="filters">' in body(response)
    assert summary_line(response).startswith("Showing: all teams")


# 3. My caseload / Whole team ----------------------------------------------------------------------


def test_nurse_chooses_her_caseload_or_the_whole_team_by_tabs(nurse_client, alex):
    overdue = url("worklist", "overdue")
    assert tabs(nurse_client.get(overdue)) == [
        ("My caseload", overdue, True),
        ("Whole team", f"{overdue}?nurse=all", False),
    ]
    assert tabs(nurse_client.get(overdue, {"nurse": "all"})) == [
        ("My caseload", overdue, False),
        ("Whole team", f"{overdue}?nurse=all", True),
    ]


def test_tabs_keep_the_other_filters_and_sort_but_not_the_page(nurse_client, alex, priya):
    overdue = url("worklist", "overdue")
    response = nurse_client.get(overdue, {"kind": "mammogram", "nurse": priya.pk, "sort": "patient", "page": "1"})
    assert tabs(response) == [
        ("My caseload", f"{overdue}?kind=mammogram&sort=patient", False),
        ("Whole team", f"{overdue}?kind=mammogram&sort=patient&nurse=all", True),
    ]


def test_every_worklist_has_the_tabs(nurse_client, alex):
    for slug in TASKS:  # the failsafe lists
        assert [label for label, _, _ in tabs(nurse_client.get(url("worklist", slug)))] == [
            "My caseload",
            "Whole team",
        ], slug
    # The task lists: Team tasks opens on the whole team, then those assigned to me; My tasks is mine only.
    assert [label for label, _, _ in tabs(nurse_client.get(url("worklist", "team-tasks")))] == [
        "Whole team",
        "Assigned to me",
    ]
    assert tabs(nurse_client.get(url("worklist", "my-tasks"))) == []


def test_admin_tabs_are_all_teams_then_each_team(client, admin_user, team, other_team):
    client.force_login(admin_user)
    overdue = url("worklist", "overdue")
    assert tabs(client.get(overdue)) == [
        ("All teams", overdue, True),
        ("North Breast Unit", f"{overdue}?team={team.pk}", False),
        ("South Breast Unit", f"{overdue}?team={other_team.pk}", False),
    ]
    assert [selected for _, _, selected in tabs(client.get(overdue, {"team": other_team.pk}))] == [False, False, True]


def test_a_clinician_has_one_scope_and_no_tabs(client, nurse):
    clinician = UserFactory(team=nurse.team, role=c.Role.CLINICIAN)
    client.force_login(clinician)
    response = client.get(url("worklist", "overdue"))
    assert tabs(response) == []
    assert summary_line(response) == "Showing: the whole team, all kinds"


def described_by(page: str, fragment: str) -> str:
    """The words of the element the (first) link of ``fragment`` is described by."""
    target = re.search(r'<a[^>]*aria-describedby="([^"]*)"', fragment).group(1)
    return text(re.search(rf'<th[^>]*id="{target}"[^>]*>(.*?)</th>', page, re.S).group(1))


def test_dashboard_list_names_and_numbers_open_the_scope_they_count_and_say_so(nurse_client, alex):
    overdue = url("worklist", "overdue")
    response = nurse_client.get(url("dashboard"))
    row = dashboard_row(response, overdue)
    assert accessible_links(row) == [
        (overdue, "Overdue follow-up"),
        (overdue, "Overdue follow-up, my caseload: 0"),
        (f"{overdue}?nurse=all", "Overdue follow-up, whole team: 0"),
    ]
    # The name opens the scope of the first number, and is described by its column's header.
    assert described_by(body(response), row) == "My caseload"


def test_admin_dashboard_opens_all_teams(client, admin_user):
    client.force_login(admin_user)
    overdue = url("worklist", "overdue")
    response = client.get(url("dashboard"))
    row = dashboard_row(response, overdue)
    assert accessible_links(row) == [(overdue, "Overdue follow-up"), (overdue, "Overdue follow-up, all teams: 0")]
    assert described_by(body(response), row) == "All teams"


# 4. Inline actions: the row stays, the error sits beside its control, the count follows ------------


def required_outcome() -> str:
    """The triage form's own words for a missing outcome (the forms own their messages)."""
    return str(TriageForm.base_fields["outcome"].error_messages["required"])


@pytest.fixture
def two_reports(alex, ann):
    other = PatientFactory(team=alex.team, named_nurse=alex, given_name="Bea", family_name="Hall")
    return SymptomReportFactory(patient=ann, reported_on=days(-2)), SymptomReportFactory(patient=other)


def test_worklist_count_is_a_live_region_the_row_actions_can_update(nurse_client, two_reports):
    page = body(nurse_client.get(url("worklist", "symptoms")))
    assert re.search(r'<p class="nhsuk-body-l" id="worklist-count"[^>]*>.*?</p>', page, re.S).group(0) == (
        '<p class="nhsuk-body-l" id="worklist-count" aria-live="polite">'
        '<strong id="worklist-total">2</strong> reports on this list</p>'
    )


def test_failed_inline_triage_keeps_the_row_and_puts_the_error_beside_the_select(nurse_client, two_reports):
    report = two_reports[0]
    symptoms = url("worklist", "symptoms") + "?nurse=all"
    response = nurse_client.post(
        url("symptom_triage", report.pk), {"outcome": "", "next": symptoms, "version": report.version}, **HTMX
    )
    assert response.status_code == 200
    # Only the form is replaced: the patient, the report and the rest of the row stay.
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("this", "outerHTML")
    page = body(response)
    assert page.startswith('<form class="app-row-form"') and page.endswith("</form>")
    error_id = f"triage-{report.pk}-error"
    assert '<div class="nhsuk-form-group nhsuk-form-group--error">' in page
    assert error_beside(page) == (f"Error: {required_outcome()}", "select")
    select = re.search(r"<select[^>]*>", page).group(0)
    assert select == (
        f'<select class="nhsuk-select nhsuk-select--error nhsuk-u-font-size-16" id="triage-{report.pk}" '
        f'name="outcome" aria-describedby="{error_id}" autofocus>'
    )
    assert f'<input type="hidden" name="next" value="{html.escape(symptoms)}">' in page
    assert f'<input type="hidden" name="version" value="{report.version}">' in page
    assert "Open the full form" not in page  # the select is the fix
    report.refresh_from_db()
    assert (report.triage_outcome, report.triaged_at, report.version) == ("", None, 1)


def test_successful_inline_triage_focuses_the_row_and_updates_the_count(nurse_client, alex, two_reports):
    report = two_reports[0]
    symptoms = url("worklist", "symptoms") + "?nurse=all"
    response = nurse_client.post(
        url("symptom_triage", report.pk),
        {"outcome": c.TriageOutcome.REASSURE, "next": symptoms, "version": report.version},
        **HTMX,
    )
    page = body(response)
    assert "HX-Retarget" not in response
    done_row, oob = page.split("</tr>", 1)
    assert re.search(r"<td[^>]*>", done_row).group(0) == (
        '<td class="nhsuk-table__cell" colspan="99" role="status" tabindex="-1" autofocus>'
    )
    assert text(done_row) == "Done Triaged: Reassure. GREEN, Ann"
    assert oob.strip() == (
        '<template><p class="nhsuk-body-l" id="worklist-count" hx-swap-oob="innerHTML">'
        '<strong id="worklist-total">1</strong> report on this list</p></template>'
    )
    report.refresh_from_db()
    assert (report.triage_outcome, report.triaged_by) == (c.TriageOutcome.REASSURE, alex)


def test_inline_count_is_of_the_list_as_the_page_filtered_it(nurse_client, alex, two_reports, priya):
    SymptomReportFactory.create_batch(2, patient=PatientFactory(team=alex.team, named_nurse=priya))
    ann_report, bea_report = two_reports
    symptoms = url("worklist", "symptoms")

    def triage(report, page) -> str:
        data = {"outcome": c.TriageOutcome.REASSURE, "next": page, "version": report.version}
        return text(body(nurse_client.post(url("symptom_triage", report.pk), data, **HTMX)).split("</tr>", 1)[1])

    assert triage(ann_report, symptoms) == "1 report on this list"  # Bea's, of my caseload
    assert triage(bea_report, f"{symptoms}?nurse=all") == "2 reports on this list"  # Priya's, of the team


def test_inline_action_from_another_page_sends_no_count(nurse_client, two_reports, patient):
    report = two_reports[0]
    response = nurse_client.post(
        url("symptom_triage", report.pk),
        {"outcome": c.TriageOutcome.REASSURE, "next": url("patient_detail", report.patient.pk), "version": 1},
        **HTMX,
    )
    assert "hx-swap-oob" not in body(response)


def error_beside(page: str) -> tuple[str, str]:
    """The error message of a row form (in words) and the control it describes."""
    found = re.search(
        r'<span class="nhsuk-error-message" id="([^"]*)">(.*?)</span>\s*<(button|select)([^>]*)>', page, re.S
    )
    assert f'aria-describedby="{found.group(1)}"' in found.group(4)
    return text(found.group(2)), found.group(3)


def test_failed_inline_acknowledge_keeps_the_row_with_the_reason_and_the_full_form(nurse_client, ann):
    due = FollowUpItemFactory(patient=ann, due_on=days(-60))  # no result yet
    results = url("worklist", "results")
    response = nurse_client.post(url("item_acknowledge", due.pk), {"next": results, "version": 1}, **HTMX)
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("this", "outerHTML")
    page = body(response)
    assert page.startswith('<form class="app-row-form"')
    assert error_beside(page) == ("Error: There is no result to acknowledge yet. Open the full form", "button")
    assert f'<a class="nhsuk-link" href="{url("item_acknowledge", due.pk)}?next={results}">' in page
    assert re.search(r"<button[^>]*>", page).group(0).endswith(" autofocus>")


def test_successful_inline_acknowledge_updates_the_count(nurse_client, ann):
    result = FollowUpItemFactory(patient=ann, status=c.FollowUpStatus.DONE, done_on=days(-2), result="02")
    response = nurse_client.post(
        url("item_acknowledge", result.pk), {"next": url("worklist", "results"), "version": 1}, **HTMX
    )
    assert text(body(response).split("</tr>", 1)[1]) == "0 results on this list"


def test_failed_inline_staging_acknowledge_after_someone_else_acknowledged(nurse_client, alex, priya, ann):
    test = StagingTestFactory(
        episode__recurrence__patient=ann, performed_on=days(-3), reported_on=days(-2), result="clear"
    )
    services.staging_test_acknowledge(test=test, by=priya, expected_version=test.version)
    results = url("worklist", "staging-results")
    response = nurse_client.post(url("staging_acknowledge", test.pk), {"next": results, "version": 1}, **HTMX)
    page = body(response)
    assert page.startswith('<form class="app-row-form"')
    message, control = error_beside(page)
    assert message.startswith("Error: Priya Shah changed this record on ") and message.endswith("Open the full form")
    assert 'name="version" value="1"' in page  # as the user saw it: a second press cannot save over Priya's


# 6. Print --------------------------------------------------------------------------------------------


def test_every_page_links_the_print_stylesheet_for_print_only(nurse_client):
    page = body(nurse_client.get(url("worklist", "overdue")))
    assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in page


def test_worklist_carries_its_title_filters_and_time_for_a_printed_copy(nurse_client, alex):
    before = show_datetime(timezone.now())
    response = nurse_client.get(url("worklist", "overdue"))
    after = show_datetime(timezone.now())
    printed = re.search(r'<p class="app-print-only"[^>]*>(.*?)</p>', body(response), re.S)
    assert text(printed.group(1)) in (f"List as at {before}", f"List as at {after}")
    assert summary_line(response) == "Showing: Alex Morgan's caseload, all kinds"  # printed too (print.css)


# 7. Query counts: the tabs and the summary cost nothing ----------------------------------------------


@pytest.mark.parametrize("rows", [1, 3])
def test_admin_worklist_query_count_is_constant(rows, client, admin_user, team, other_team, django_assert_num_queries):
    for n in range(rows):
        FollowUpItemFactory(patient=PatientFactory(team=(team, other_team)[n % 2]), due_on=days(-60))
    client.force_login(admin_user)
    # session, user, nurse choices, teams (the team filter's choices and the tabs), COUNT, the page of rows
    with django_assert_num_queries(6):
        response = client.get(url("worklist", "overdue"))
    assert response.context["table"].paginator.count == rows
