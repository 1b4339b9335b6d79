"""The dashboard counts its lists in a few queries (worklists.dashboard_counts(): the kept counts of the
patient flags table, one pass over the open items): the counts must be exactly those of each list's own
rule (Worklist.counts(), the list page's QuerySet), for every user and scope, and follow a change on the
next request."""

from datetime import date, timedelta

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from followup import charts, flags, services
from followup import choices as c
from followup.models import FollowUpItem, PatientFlags
from followup.worklists import WORKLISTS, dashboard_counts, overdue_by_nurse
from mdt.services import mdt_discussion_record

from .factories import FollowUpItemFactory, PatientFactory, RecurrenceFactory, StagingTestFactory, UserFactory
from .test_views import _rows_for

pytestmark = pytest.mark.django_db


def rule_counts(user, today):
    return {slug: worklist.counts(user, today=today) for slug, worklist in WORKLISTS.items()}


def dashboard(user, today):
    return {worklist.slug: n for worklist, n in dashboard_counts(user, today=today)}


def rule_overdue_by_nurse(user, today):
    """The chart as it was worked out before dashboard_counts(): the overdue list grouped by named nurse."""
    rows = (
        FollowUpItem.objects.overdue(today=today)
        .visible_to(user)
        .values("patient__named_nurse__first_name", "patient__named_nurse__last_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "patient__named_nurse__last_name")
    )
    return [(f"{r['patient__named_nurse__first_name']} {r['patient__named_nurse__last_name']}", r["n"]) for r in rows]


@pytest.fixture
def region(nurse, priya, other_nurse):
    """Rows on every list for three nurses of two teams, some twice, one patient entered in error with
    rows on every list, and a patient whose date becomes implausible only after today."""
    for owner, times in ((nurse, 2), (priya, 1), (other_nurse, 3)):
        for _ in range(times):
            for slug in WORKLISTS:
                _rows_for(slug, owner)
    lost = PatientFactory(team=nurse.team, named_nurse=nurse)
    for slug in ("results", "symptoms", "overdue"):
        _rows_for(slug, nurse)
    FollowUpItemFactory(patient=lost, status=c.FollowUpStatus.DONE, done_on=date.today(), result="01")
    services.record_mark_entered_in_error(record=lost, reason="Wrong patient", by=nurse)
    return nurse.team


@pytest.mark.parametrize("who", ["nurse", "priya", "other_nurse", "admin_user", "inactive"])
def test_every_count_is_the_lists_own(who, region, request):
    user = UserFactory(team=region, is_active=False) if who == "inactive" else request.getfixturevalue(who)
    today = timezone.localdate()
    assert dashboard(user, today) == rule_counts(user, today)
    assert overdue_by_nurse(user, today=today) == rule_overdue_by_nurse(user, today)
    assert any(n["team"] for n in dashboard(user, today).values()) == (who != "inactive")


def test_counts_on_other_days_are_the_lists_own(nurse, region):
    """Dated rules (overdue, due soon, the implausible date window) read against another day."""
    for offset in (-30, 7, 45, 365 * 130):
        day = timezone.localdate() + timedelta(days=offset)
        assert dashboard(nurse, day) == rule_counts(nurse, day), offset


def test_kept_lists_do_not_depend_on_the_date():
    """The kept counts are worked out once per change, so their lists must read no date."""
    kept = flags.kept_lists()
    assert {w.kept for w in kept} == set(flags.KEPT_COUNTS)
    for worklist in kept:
        assert str(worklist.rows(date(2020, 1, 1)).query) == str(worklist.rows(date(2031, 6, 30)).query)
        assert not worklist.only_mine and not worklist.mine, worklist.slug  # "mine": the named nurse


def test_a_patient_entered_in_error_counts_nothing(nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse, nhs_number="")
    FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=date.today(), result="01")
    row = PatientFlags.objects.get(patient=patient)
    assert (row.results, row.missing_nhs_number, row.counted) == (1, True, True)
    services.record_mark_entered_in_error(record=patient, reason="Duplicate registration", by=nurse)
    row.refresh_from_db()
    assert (row.results, row.missing_nhs_number, row.counted, row.team_id) == (0, False, False, nurse.team_id)
    assert dashboard(nurse, date.today())["results"] == {"team": 0, "mine": 0}


def test_acknowledging_a_result_shows_one_fewer_on_the_next_request(nurse_client, nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    items = FollowUpItemFactory.create_batch(
        2, patient=patient, status=c.FollowUpStatus.DONE, done_on=date.today(), result="01"
    )
    page = nurse_client.get(reverse("followup:dashboard"))
    assert 'id="count-results-mine" aria-label="Results to acknowledge, my caseload: 2">2<' in page.text
    services.result_acknowledge(item=items[0], by=nurse)
    page = nurse_client.get(reverse("followup:dashboard"))
    assert 'id="count-results-mine" aria-label="Results to acknowledge, my caseload: 1">1<' in page.text


def test_an_mdt_discussion_takes_the_recurrence_off_the_count(nurse):
    recurrence = RecurrenceFactory(patient__team=nurse.team, patient__named_nurse=nurse)
    assert dashboard(nurse, date.today())["mdt-not-discussed"] == {"team": 1, "mine": 1}
    discussion = mdt_discussion_record(
        recurrence=recurrence,
        meeting_on=date.today(),
        outcome="investigation",
        plan="Restage first.",
        attendees="Surgeon, oncologist",
        by=nurse,
    )
    assert PatientFlags.objects.get(patient=recurrence.patient).mdt_not_discussed == 0
    assert dashboard(nurse, date.today())["mdt-not-discussed"] == {"team": 0, "mine": 0}
    services.record_mark_entered_in_error(record=discussion, reason="Another patient's meeting", by=nurse)
    assert dashboard(nurse, date.today())["mdt-not-discussed"] == {"team": 1, "mine": 1}


def test_a_handover_moves_the_counts_to_the_new_nurse(nurse, priya):
    for slug in ("results", "symptoms", "data-quality"):
        _rows_for(slug, nurse)
    PatientFactory._meta.model.objects.filter(named_nurse=nurse).update(named_nurse=priya)
    today = date.today()
    assert dashboard(priya, today) == rule_counts(priya, today)
    assert dashboard(priya, today)["symptoms"] == {"team": 1, "mine": 1}
    assert dashboard(nurse, today)["symptoms"] == {"team": 1, "mine": 0}


def test_the_check_finds_a_wrong_count_and_fix_repairs_it(nurse):
    _rows_for("staging-results", nurse)
    row = PatientFlags.objects.get(staging_results=1)
    PatientFlags.objects.filter(pk=row.pk).update(staging_results=3)  # as a hand-written SQL change would
    found = flags.differences()
    assert {(d.what, d.stored, d.expected) for d in found} == {
        ("staging_results", 3, 1),
        ("rows on the list staging-results", 3, 1),
    }
    flags.repair(found)
    assert flags.differences() == []


def test_the_overdue_chart_is_drawn_from_the_overdue_list(nurse, priya):
    for owner, times in ((nurse, 1), (priya, 2)):
        for _ in range(times):
            _rows_for("overdue", owner)
    data = overdue_by_nurse(nurse, today=date.today())
    assert data == [(f"{priya.first_name} {priya.last_name}", 2), (f"{nurse.first_name} {nurse.last_name}", 1)]
    chart = charts.overdue_by_nurse(data)
    assert chart.rows == [list(row) for row in data]
    assert chart.summary == "3 overdue items in all."


def test_a_distant_recurrence_moved_and_marked_in_error_puts_its_test_back_on_the_count(nurse):
    """ "Distant disease not recorded" reads the recurrence recorded from a test, which the admin can move to
    another patient: marked in error there, the test's own patient is on the list again, and counted."""
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    other = PatientFactory(team=nurse.team, named_nurse=nurse)
    today = timezone.localdate()
    test = StagingTestFactory(
        episode__recurrence__patient=patient,
        performed_on=today - timedelta(days=2),
        reported_on=today - timedelta(days=1),
        result=c.StagingResult.DISTANT,
    )
    distant = RecurrenceFactory(patient=patient, metastatic_type=c.MetastaticType.DISTANT)
    test.distant_recurrence = distant
    test.save()
    assert dashboard(nurse, today)["distant-not-recorded"] == {"team": 0, "mine": 0}
    distant.patient = other  # as the admin can
    distant.save()
    services.record_mark_entered_in_error(record=distant, reason="Recorded for the wrong patient", by=nurse)
    assert PatientFlags.objects.get(patient=patient).distant_not_recorded == 1
    assert dashboard(nurse, today)["distant-not-recorded"] == {"team": 1, "mine": 1}
