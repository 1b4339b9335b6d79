"""Reports: exact rows and totals for a hand-built data set, on screen and from the command."""

import csv
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.models import ExportLog
from followup.reports import percentile
from followup.services import SiteEntry

from .factories import FollowUpItemFactory, PatientFactory, RestagingEpisodeFactory, UserFactory

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def summary(client, slug, **params):
    return client.get(reverse("followup:report_summary", args=[slug]), params).context["summary"]


def screen_rows(response) -> list[list]:
    table = response.context["table"]
    return [list(row) for row in table.as_values()][1:]


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([], 0.9, None),
        ([5], 0.9, 5),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9),
        ([10, 2, 30], 0.9, 30),
        ([4, 1], 0.5, 1),
    ],
)
def test_percentile_is_nearest_rank(values, share, expected):
    assert percentile(values, share) == expected


def test_recurrence_register_has_one_row_per_site_with_cosd_codes(admin_client, nurse, patient):
    services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.DISTANT,
        sites=[SiteEntry(c.Site.LIVER), SiteEntry(c.Site.OVARY)],
        diagnosed_on=days(-5),
        status=c.RecurrenceStatus.CONFIRMED,
        by=nurse,
    )
    services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.LOCAL,
        sites=[SiteEntry(c.Site.CHEST_WALL)],
        diagnosed_on=days(-100),
        by=nurse,
    )
    response = admin_client.get(reverse("followup:report_line_list", args=["recurrence-register"]))
    rows = [(r[7], r[8], r[9], r[10], r[11], r[13]) for r in screen_rows(response)]
    assert rows == [
        (days(-100).strftime("%-d %b %Y"), "01", "Local", "97", "Chest wall", "Suspected"),
        (days(-5).strftime("%-d %b %Y"), "03", "Distant (secondary breast cancer)", "03", "Liver", "Confirmed"),
        (days(-5).strftime("%-d %b %Y"), "03", "Distant (secondary breast cancer)", "98", "Ovary", "Confirmed"),
    ]
    assert response.context["table"].paginator.count == 3


def test_restaging_episodes_days_to_completion_and_target(admin_client, patient):
    RestagingEpisodeFactory(
        recurrence__patient=patient,
        recurrence__diagnosed_on=days(-60),
        outcome=c.RestagingOutcome.NO_DISTANT,
        closed_on=days(-40),
    )  # 20 days, met
    RestagingEpisodeFactory(
        recurrence__patient=patient,
        recurrence__diagnosed_on=days(-50),
        outcome=c.RestagingOutcome.DISTANT,
        closed_on=days(-10),
    )  # 40 days, missed
    RestagingEpisodeFactory(recurrence__patient=patient, recurrence__diagnosed_on=days(-3))  # open
    response = admin_client.get(reverse("followup:report_line_list", args=["restaging-episodes"]))
    assert [(r[-4], r[-2], r[-1]) for r in screen_rows(response)] == [
        ("No distant disease", 20, "Yes"),
        ("Distant disease found", 40, "No"),
        ("Open: tests outstanding", "", "Open"),
    ]


def test_restaging_turnaround_median_p90_and_within_target(admin_client, patient):
    month = date(TODAY.year, TODAY.month, 1)
    # Completed this month after 10, 20, 30 and 50 days; target 28 days each.
    for taken in (10, 20, 30, 50):
        opened = month - timedelta(days=taken)
        RestagingEpisodeFactory(
            recurrence__patient=patient,
            recurrence__diagnosed_on=opened,
            outcome=c.RestagingOutcome.NO_DISTANT,
            closed_on=month,
        )
    result = summary(admin_client, "restaging-turnaround")
    row = next(r for r in result.rows if r[0] == month.strftime("%Y-%m"))
    assert row == [month.strftime("%Y-%m"), 4, 25, 50, 50.0]
    assert sum(r[1] for r in result.rows) == 4


def test_recurrences_per_month_by_type(admin_client, nurse, patient):
    this_month = TODAY.replace(day=1)
    for kind, site in [("01", c.Site.SCAR), ("02", c.Site.AXILLARY_NODES), ("02", c.Site.SUPRACLAVICULAR_NODES)]:
        services.recurrence_record(
            patient=patient, metastatic_type=kind, sites=[SiteEntry(site)], diagnosed_on=this_month, by=nurse
        )
    refuted = services.recurrence_record(
        patient=patient, metastatic_type="03", sites=[SiteEntry(c.Site.BONE)], diagnosed_on=this_month, by=nurse
    )
    services.recurrence_set_status(recurrence=refuted, status="refuted", by=nurse, expected_version=1)
    result = summary(admin_client, "recurrences-by-month")
    assert result.rows[-1] == [this_month.strftime("%Y-%m"), 1, 2, 0, 3]
    assert result.headers == ["Month", "Local", "Regional", "Distant (secondary breast cancer)", "Total"]


def test_follow_up_on_time_late_missed_and_pending(admin_client, patient, settings):
    settings.FOLLOWUP_GRACE_DAYS = 14
    due = date(TODAY.year, TODAY.month, 1) - timedelta(days=62)  # a month well in the past
    done = {"status": c.FollowUpStatus.DONE}
    FollowUpItemFactory(patient=patient, due_on=due, done_on=due + timedelta(days=14), kind="clinic_review", **done)
    FollowUpItemFactory(patient=patient, due_on=due, done_on=due + timedelta(days=15), kind="clinic_review", **done)
    FollowUpItemFactory(patient=patient, due_on=due, status=c.FollowUpStatus.DID_NOT_ATTEND)
    FollowUpItemFactory(patient=patient, due_on=due)  # still open, long past: missed
    FollowUpItemFactory(patient=patient, due_on=due, status=c.FollowUpStatus.CANCELLED, cancel_reason="x")
    FollowUpItemFactory(patient=patient, due_on=TODAY)  # pending, in the current month
    result = summary(admin_client, "follow-up-timeliness")
    rows = {row[0]: row[1:] for row in result.rows}
    assert rows[due.strftime("%Y-%m")] == [1, 1, 2, 0]
    assert rows[TODAY.strftime("%Y-%m")] == [0, 0, 0, 1]


def test_caseload_per_nurse(client, nurse, patient, other_nurse):
    colleague = UserFactory(team=nurse.team, role=c.Role.NURSE, first_name="Priya", last_name="Shah")
    FollowUpItemFactory(patient=patient, due_on=days(-60))
    FollowUpItemFactory(patient=patient, due_on=days(3))
    FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-1), result="01")
    PatientFactory(team=nurse.team, named_nurse=colleague)
    PatientFactory(team=other_nurse.team, named_nurse=other_nurse)
    client.force_login(nurse)
    result = summary(client, "caseload")
    assert result.rows == [
        [nurse.get_full_name(), "North Breast Unit", 1, 1, 1, 1],
        ["Priya Shah", "North Breast Unit", 1, 0, 0, 0],
    ]


def test_summary_download_holds_the_table(admin_client, patient):
    response = admin_client.get(reverse("followup:report_summary", args=["caseload"]), {"export": "csv"})
    rows = list(csv.reader(b"".join(response.streaming_content).decode("utf-8-sig").splitlines()))
    assert rows[0] == ["Named nurse", "Team", "Active patients", "Overdue", "Due soon", "Results to acknowledge"]
    assert rows[1][2:] == ["1", "0", "0", "0"]


def test_summary_rejects_a_period_that_ends_before_it_starts(admin_client):
    response = admin_client.get(
        reverse("followup:report_summary", args=["recurrences-by-month"]),
        {"start": days(0).isoformat(), "end": days(-30).isoformat()},
    )
    assert "The end of the period cannot be before its start." in response.content.decode()


def test_unknown_report_is_404(admin_client):
    assert admin_client.get(reverse("followup:report_line_list", args=["nope"])).status_code == 404
    assert admin_client.get(reverse("followup:report_summary", args=["nope"])).status_code == 404


@pytest.mark.parametrize("rows", [1, 3])
def test_line_list_page_query_count_is_constant(rows, admin_client, patient, django_assert_num_queries):
    for _ in range(rows):
        FollowUpItemFactory(patient=patient)
    # session, user, nurse choices, COUNT, teams for an admin's team filter, the page of rows
    with django_assert_num_queries(6):
        response = admin_client.get(reverse("followup:report_line_list", args=["follow-up-items"]))
    assert response.context["table"].paginator.count == rows


def test_export_report_command_writes_the_web_file(admin_client, patient, tmp_path):
    FollowUpItemFactory(patient=patient, due_on=days(-10))
    FollowUpItemFactory(patient=patient, due_on=days(-400))
    out = tmp_path / "items.csv"
    call_command(
        "export_report",
        "follow-up-items",
        "--from",
        days(-30).isoformat(),
        "--by",
        "chris",
        "-o",
        str(out),
        verbosity=0,
    )
    from_command = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    web = admin_client.get(
        reverse("followup:report_line_list", args=["follow-up-items"]),
        {"export": "csv", "period_after": days(-30).isoformat()},
    )
    from_web = list(csv.reader(b"".join(web.streaming_content).decode("utf-8-sig").splitlines()))
    assert from_command == from_web
    assert len(from_command) == 2
    log = ExportLog.objects.filter(via="command").get()
    assert (log.user.username, log.rows) == ("chris", 1)
    assert log.filters == {"scope": "all teams", "period": f"from {days(-30).isoformat()}"}


def test_export_report_command_refuses_bad_input(admin_user, tmp_path):
    by = ["--by", admin_user.username]
    with pytest.raises(CommandError, match="No report"):
        call_command("export_report", "nope", *by, "-o", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_report", "follow-up-items", *by, "--from", "24/11/2026", "-o", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="No team"):
        call_command("export_report", "follow-up-items", *by, "--team", "nowhere", "-o", str(tmp_path / "x.csv"))
