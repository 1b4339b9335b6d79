"""Results lists with a sense of urgency, the acknowledge pages showing the result being acknowledged,
and "last follow-up item" on the no-next-follow-up list (issue 12, item 4)."""

import html
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.services import SiteEntry

from .factories import FollowUpItemFactory, PatientFactory, StagingTestFactory

TODAY = timezone.localdate()
ROOT = Path(__file__).resolve().parent.parent


def days(n):
    return TODAY + timedelta(days=n)


def day(value) -> str:
    return f"{value:%-d %b %Y}"


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


def text(fragment) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", str(fragment))).split())


def cells(response, *columns) -> list[tuple]:
    """The page's rows, as the words of the given columns."""
    return [tuple(text(row.get_cell(column)) for column in columns) for row in response.context["table"].paginated_rows]


# Results lists: days waiting, flagged first, escalated in words -------------------------------


def done(patient, *, ago, result):
    return FollowUpItemFactory(
        patient=patient, kind=c.FollowUpKind.MAMMOGRAM, status=c.FollowUpStatus.DONE, done_on=days(-ago), result=result
    )


def test_results_list_puts_abnormal_first_then_the_longest_waiting_and_marks_escalation(nurse_client, patient):
    """Abnormal first, then the longest waiting: escalated results lead each half, and a fresh abnormal
    result stays above an escalated normal one (what a result shows matters more than its wait)."""
    normal, abnormal = c.ImagingOutcome.NORMAL, c.ImagingOutcome.ABNORMAL
    done(patient, ago=3, result=normal)
    done(patient, ago=20, result=normal)
    done(patient, ago=1, result=abnormal)
    done(patient, ago=30, result=abnormal)
    done(patient, ago=14, result=normal)  # 14 days: escalated only after 14

    response = nurse_client.get(url("worklist", "results"))

    assert cells(response, "result", "waiting") == [
        ("Abnormal", "30 days Escalated: waiting over 14 days"),
        ("Abnormal", "1 day"),
        ("Normal", "20 days Escalated: waiting over 14 days"),
        ("Normal", "14 days"),
        ("Normal", "3 days"),
    ]
    rows = response.context["table"].paginated_rows
    classes = [" ".join(k for k in row.attrs["class"].split() if k not in ("even", "odd")) for row in rows]
    assert classes == ["app-row--escalated", "app-row--flagged", "app-row--escalated", "", ""]


def test_staging_results_list_puts_distant_first_then_the_longest_waiting(nurse_client, patient, settings):
    settings.RESULT_ESCALATE_DAYS = 7

    def reported(ago, result):
        test = StagingTestFactory(
            episode__recurrence__patient=patient,
            episode__recurrence__diagnosed_on=days(-40),
            performed_on=days(-ago),
            reported_on=days(-ago),
            result=result,
        )
        if result == c.StagingResult.DISTANT:
            test.sites.create(site=c.Site.LIVER)
        return test

    reported(1, c.StagingResult.CLEAR)
    reported(5, c.StagingResult.EQUIVOCAL)
    reported(20, c.StagingResult.CLEAR)
    reported(2, c.StagingResult.DISTANT)

    response = nurse_client.get(url("worklist", "staging-results"))

    assert cells(response, "result", "waiting") == [
        ("Distant disease Liver", "2 days"),
        ("No evidence of distant disease", "20 days Escalated: waiting over 7 days"),
        ("Equivocal", "5 days"),
        ("No evidence of distant disease", "1 day"),
    ]


def test_results_list_download_has_days_waiting_and_escalation(nurse_client, patient):
    done(patient, ago=20, result=c.ImagingOutcome.NORMAL)
    response = nurse_client.get(url("worklist", "results"), {"export": "csv"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].endswith(",Done,Result,Days waiting,Escalation")
    assert lines[1].endswith(f",{days(-20).isoformat()},Normal,20,Escalated: waiting over 14 days")


def test_result_escalate_days_comes_from_the_environment():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    code = "import clinic.settings as s; print(s.RESULT_ESCALATE_DAYS)"

    def run(**extra):
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env | {"DEBUG": "1"} | extra, capture_output=True, text=True
        )
        return result.stdout.strip()

    assert (run(), run(RESULT_ESCALATE_DAYS="7")) == ("14", "7")
    assert "RESULT_ESCALATE_DAYS=14" in (ROOT / ".env.example").read_text().splitlines()
    assert "| `RESULT_ESCALATE_DAYS` | `14` |" in (ROOT / "README.md").read_text()


# The acknowledge pages show what is being acknowledged -----------------------------------


def summary(response) -> dict[str, str]:
    """The result summary on the page: each term and its words."""
    block = re.search(r'<dl class="nhsuk-summary-list" id="record-summary">(.*?)</dl>', response.content.decode(), re.S)
    assert block, "no result summary on the page"
    pairs = re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", block.group(1), re.S)
    return {text(term): text(value) for term, value in pairs}


def test_staging_acknowledge_page_shows_the_test_dates_result_sites_and_report(nurse_client, nurse, patient):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=days(-20),
        restaging_tests=[c.StagingModality.CT_CAP],
        by=nurse,
    )
    ct = services.staging_test_record_result(
        test=recurrence.restaging.tests.get(),
        performed_on=days(-6),
        reported_on=days(-4),
        result=c.StagingResult.DISTANT,
        sites=[SiteEntry(c.Site.LIVER), SiteEntry(c.Site.BONE)],
        notes="Two lesions in the right lobe of the liver; sclerotic focus at L2.",
        by=nurse,
    )
    # Reached from the patient page's timeline.
    timeline = nurse_client.get(url("patient_detail", patient.pk)).context["timeline"]
    link = next(link for e in timeline.history for label, link in e.links if label == "Acknowledge the result")
    assert link == url("staging_acknowledge", ct.pk)

    response = nurse_client.get(link)

    assert summary(response) == {
        "Test": "CT chest, abdomen and pelvis",
        "Requested": day(days(-20)),
        "Performed": day(days(-6)),
        "Reported": day(days(-4)),
        "Result": "Distant disease found",
        "Distant disease found in": "Bone, Liver",
        "Report": "Two lesions in the right lobe of the liver; sclerotic focus at L2.",
    }


def test_staging_acknowledge_page_of_a_clear_result_without_a_report(nurse_client, nurse, patient):
    test = StagingTestFactory(
        episode__recurrence__patient=patient,
        episode__recurrence__diagnosed_on=days(-9),
        modality=c.StagingModality.BONE_SCAN,
        performed_on=days(-2),
        reported_on=days(-1),
        result=c.StagingResult.CLEAR,
    )
    assert summary(nurse_client.get(url("staging_acknowledge", test.pk))) == {
        "Test": "Bone scan",
        "Requested": day(days(-9)),
        "Performed": day(days(-2)),
        "Reported": day(days(-1)),
        "Result": "No evidence of distant disease",
        "Report": "None recorded",
    }


def test_item_acknowledge_page_shows_the_kind_dates_result_and_notes(nurse_client, patient):
    item = FollowUpItemFactory(
        patient=patient,
        kind=c.FollowUpKind.MAMMOGRAM,
        due_on=days(-30),
        status=c.FollowUpStatus.DONE,
        done_on=days(-25),
        result=c.ImagingOutcome.ABNORMAL,
        notes="New cluster of microcalcification, left upper outer quadrant.",
    )
    assert summary(nurse_client.get(url("item_acknowledge", item.pk))) == {
        "Follow-up": "Mammogram",
        "Due": day(days(-30)),
        "Done": day(days(-25)),
        "Result": "Abnormal",
        "Notes": "New cluster of microcalcification, left upper outer quadrant.",
    }


def test_acknowledge_page_of_a_result_already_acknowledged_says_by_whom(nurse_client, nurse, patient):
    item = done(patient, ago=3, result=c.ImagingOutcome.NORMAL)
    item = services.result_acknowledge(item=item, by=nurse)
    when = timezone.localtime(item.result_acknowledged_at)
    shown = summary(nurse_client.get(url("item_acknowledge", item.pk)))
    assert shown["Acknowledged"] == f"By {nurse.get_full_name()} on {when:%-d %b %Y at %H:%M}"


# session, user with team, the record through the team scope, its patient, the patient's
# named nurse (banner); a staging test also reaches its patient through its episode and
# recurrence, and reads the sites it found.
@pytest.mark.parametrize("rows", [1, 3])
def test_acknowledge_pages_query_count_is_constant(rows, nurse_client, patient, django_assert_num_queries):
    test = StagingTestFactory(
        episode__recurrence__patient=patient, performed_on=days(-2), reported_on=days(-1), result="distant"
    )
    item = done(patient, ago=2, result=c.ImagingOutcome.NORMAL)
    for site in [c.Site.LIVER, c.Site.BONE, c.Site.LUNG][:rows]:
        test.sites.create(site=site)
    with django_assert_num_queries(5):
        nurse_client.get(url("item_acknowledge", item.pk))
    with django_assert_num_queries(8):
        response = nurse_client.get(url("staging_acknowledge", test.pk))
    assert len(summary(response)["Distant disease found in"].split(", ")) == rows


# "Last follow-up item": the last one that happened ------------------------------------------


def test_no_next_follow_up_shows_the_last_item_that_happened(nurse_client, nurse):
    def patient(name):
        return PatientFactory(team=nurse.team, named_nurse=nurse, family_name=name)

    done_last = patient("Done")
    FollowUpItemFactory(patient=done_last, kind=c.FollowUpKind.CLINIC_REVIEW, status="dna", due_on=days(-400))
    FollowUpItemFactory(patient=done_last, status="done", done_on=days(-100), due_on=days(-110), result="02")
    # Cancelled ones did not happen, wherever their date.
    FollowUpItemFactory(patient=done_last, status="cancelled", cancel_reason="Moved away", due_on=days(200))
    wrong = FollowUpItemFactory(patient=done_last, status="done", done_on=days(-10), due_on=days(-10), result="02")
    services.record_mark_entered_in_error(record=wrong, reason="Wrong patient", by=nurse)

    missed = patient("Missed")
    FollowUpItemFactory(patient=missed, status="done", done_on=days(-300), due_on=days(-300), result="02")
    FollowUpItemFactory(
        patient=missed, kind=c.FollowUpKind.CLINIC_REVIEW, status="dna", due_on=days(-60), booked_for=days(-50)
    )
    FollowUpItemFactory(patient=missed, kind=c.FollowUpKind.BLOODS, status="dna", due_on=days(-70))

    cancelled_only = patient("Cancelled")
    FollowUpItemFactory(patient=cancelled_only, status="cancelled", cancel_reason="Declined", due_on=days(30))
    patient("Nothing")

    response = nurse_client.get(url("worklist", "no-follow-up"))

    rows = response.context["table"].paginated_rows
    shown = [(row.record.display_name, text(row.get_cell("last_follow_up"))) for row in rows]
    # Never followed up first (the most at risk), then the longest since anything happened.
    assert shown[:2] in (
        [("CANCELLED, Jane", "None yet"), ("NOTHING, Jane", "None yet")],
        [("NOTHING, Jane", "None yet"), ("CANCELLED, Jane", "None yet")],
    )
    assert shown[2:] == [
        ("DONE, Jane", f"Mammogram done {day(days(-100))}"),
        ("MISSED, Jane", f"Clinic review: did not attend {day(days(-50))}"),
    ]


def test_no_next_follow_up_download_says_what_happened(nurse_client, nurse, patient):
    FollowUpItemFactory(patient=patient, status="dna", due_on=days(-60), kind=c.FollowUpKind.TELEPHONE_REVIEW)
    response = nurse_client.get(url("worklist", "no-follow-up"), {"export": "csv"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[1].endswith(f",Telephone review: did not attend {days(-60).isoformat()}")
