"""Audit and abuse (issue 12, item 5): what the logs say, what they refuse, and the limits on probing."""

import csv
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup.models import ExportLog

from .factories import FollowUpItemFactory, PatientFactory, UserFactory

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def drain(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# The export log records the filters as applied -----------------------------------------


def test_export_log_names_the_team_scope_and_ignores_a_team_a_nurse_cannot_pick(client, nurse, other_nurse):
    client.force_login(nurse)
    url = reverse("followup:report_line_list", args=["follow-up-items"])
    drain(client.get(url, {"export": "csv", "team": other_nurse.team.pk, "period_after": days(-30).isoformat()}))
    assert ExportLog.objects.get().filters == {
        "scope": "team North Breast Unit (north)",
        "nurse": "anyone",
        "period": f"from {days(-30).isoformat()}",
    }


def test_export_log_of_an_admin_names_the_team_picked(client, admin_user, other_nurse):
    client.force_login(admin_user)
    url = reverse("followup:report_line_list", args=["follow-up-items"])
    period = {"period_after": days(-30).isoformat(), "period_before": days(-1).isoformat()}
    drain(client.get(url, {"export": "xlsx", "team": other_nurse.team.pk, **period}))
    assert ExportLog.objects.get().filters == {
        "scope": "all teams",
        "team": "South Breast Unit (south)",
        "nurse": "anyone",
        "period": f"{days(-30).isoformat()} to {days(-1).isoformat()}",
    }


def test_worklist_download_log_says_it_was_the_nurses_own_caseload(client, nurse):
    FollowUpItemFactory(patient=PatientFactory(team=nurse.team, named_nurse=nurse), due_on=days(-60))
    client.force_login(nurse)
    url = reverse("followup:worklist", args=["overdue"])
    drain(client.get(url, {"export": "csv", "kind": c.FollowUpKind.MAMMOGRAM, "team": "999"}))
    log = ExportLog.objects.get()
    assert log.filters == {
        "scope": "team North Breast Unit (north)",
        "nurse": f"{nurse.get_full_name()} (user {nurse.pk})",
        "kind": "mammogram",
    }
    assert log.rows == 1


def test_summary_download_log_gives_the_default_period_when_none_was_asked_for(client, nurse):
    client.force_login(nurse)
    url = reverse("followup:report_summary", args=["recurrences-by-month"])
    drain(client.get(url, {"export": "csv", "team": "2"}))
    start = (TODAY.replace(day=1) - timedelta(days=330)).replace(day=1)
    assert ExportLog.objects.get().filters == {
        "scope": "team North Breast Unit (north)",
        "period": f"{start.isoformat()} to {TODAY.isoformat()} (default)",
    }


def test_summary_download_log_gives_the_period_asked_for(client, admin_user, team):
    client.force_login(admin_user)
    url = reverse("followup:report_summary", args=["recurrences-by-month"])
    asked = {"start": days(-90).isoformat(), "end": days(-10).isoformat(), "team": team.pk}
    drain(client.get(url, {"export": "csv", **asked}))
    assert ExportLog.objects.get().filters == {
        "scope": "all teams",
        "team": "North Breast Unit (north)",
        "period": f"{days(-90).isoformat()} to {days(-10).isoformat()}",
    }


def test_export_report_command_logs_the_user_given_with_by(admin_user, patient, tmp_path):
    FollowUpItemFactory(patient=patient, due_on=days(-10))
    out = tmp_path / "items.csv"
    call_command(
        "export_report", "follow-up-items", "--by", admin_user.username, "--team", "north", "-o", str(out), verbosity=0
    )
    log = ExportLog.objects.get()
    assert (log.user, log.via, log.rows) == (admin_user, "command", 1)
    assert log.filters == {"scope": "all teams", "team": "North Breast Unit (north)"}


def test_export_report_command_summary_logs_its_default_period(admin_user, tmp_path):
    out = tmp_path / "months.csv"
    call_command("export_report", "recurrences-by-month", "--by", admin_user.username, "-o", str(out), verbosity=0)
    start = TODAY.replace(month=1, day=1)
    assert ExportLog.objects.get().filters == {
        "scope": "all teams",
        "period": f"{start.isoformat()} to {TODAY.isoformat()} (default)",
    }


def test_export_report_command_has_the_access_of_the_user_given_with_by(nurse, patient, other_nurse, tmp_path):
    FollowUpItemFactory(patient=patient, due_on=days(-10))
    FollowUpItemFactory(patient=PatientFactory(team=other_nurse.team, named_nurse=other_nurse), due_on=days(-10))
    out = tmp_path / "items.csv"
    call_command("export_report", "follow-up-items", "--by", nurse.username, "-o", str(out), verbosity=0)
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [row[0] for row in rows[1:]] == [patient.nhs_number]
    assert ExportLog.objects.get().filters == {"scope": "team North Breast Unit (north)"}
    with pytest.raises(CommandError, match="jo cannot export team north"):
        call_command("export_report", "follow-up-items", "--by", "jo", "--team", "north", "-o", str(out))


def test_export_report_command_needs_an_active_user_given_with_by(nurse, tmp_path):
    out = str(tmp_path / "x.csv")
    with pytest.raises(CommandError, match="--by"):
        call_command("export_report", "follow-up-items", "-o", out)
    with pytest.raises(CommandError, match="No active user 'nobody'"):
        call_command("export_report", "follow-up-items", "--by", "nobody", "-o", out)
    UserFactory(username="gone", team=nurse.team, is_active=False)
    with pytest.raises(CommandError, match="No active user 'gone'"):
        call_command("export_report", "follow-up-items", "--by", "gone", "-o", out)
    assert ExportLog.objects.count() == 0
