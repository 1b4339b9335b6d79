"""Issue 12 (4), the small ones: the History page names related rows and labels fields properly;
one date format on every page; plurals; worklist and report downloads write NHS numbers and
dates the same way."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.display import plural, show_date, show_datetime, show_when
from followup.services import SiteEntry

from .factories import (
    FollowUpItemFactory,
    FollowUpProtocolFactory,
    PatientFactory,
    ProtocolStepFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
# A date with a one-digit day, where "01 Mar" and "1 Mar" differ.
FIRST_OF_MARCH = date(TODAY.year + 1, 3, 1)


def days(n):
    return TODAY + timedelta(days=n)


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


# The History page --------------------------------------------------------------------


def test_history_page_names_the_team_and_nurses_and_labels_fields_by_their_names(
    client, nurse, priya, admin_user, patient
):
    services.patient_reassign_nurse(patient=patient, nurse=priya, by=admin_user, expected_version=1)
    protocol = FollowUpProtocolFactory(name="Annual mammogram for 5 years")
    services.protocol_assign(patient=patient, protocol=protocol, start_on=FIRST_OF_MARCH, by=priya)
    client.force_login(nurse)

    response = client.get(url("patient_history", patient.pk))

    patient_changes = [change for change in response.context["changes"] if change.record.startswith("Patient")]
    assert [(change.kind, change.who, change.changes) for change in patient_changes] == [
        (
            "Changed",
            "Priya Shah",
            [("Protocol", "–", protocol.name), ("Protocol start on", "–", f"1 Mar {TODAY.year + 1}")],
        ),
        ("Changed", admin_user.get_full_name(), [("Named nurse", nurse.get_full_name(), "Priya Shah")]),
        (
            "Created",
            nurse.get_full_name(),
            [
                ("NHS number", "–", patient.nhs_number),
                ("Hospital number", "–", patient.hospital_number),
                ("Given name", "–", "Jane"),
                ("Family name", "–", patient.family_name),
                ("Date of birth", "–", "17 May 1960"),
                ("Sex", "–", "Female"),
                ("Team", "–", "North Breast Unit"),
                ("Named nurse", "–", nurse.get_full_name()),
                ("Status", "–", "Under surveillance"),
                ("Follow-up model", "–", "Clinic-led"),
            ],
        ),
    ]
    body = response.content.decode()
    assert "Nhs number" not in body and "Team: – → 1<" not in body


# One date format -----------------------------------------------------------------------

LEADING_ZERO_DAY = re.compile(r"\b0\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


def test_every_page_about_a_record_writes_its_dates_as_1_mar_2027(nurse_client, nurse, patient):
    item = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=FIRST_OF_MARCH)
    overdue = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.BLOODS, due_on=date(TODAY.year - 1, 6, 5))
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.LOCAL,
        sites=[SiteEntry(c.Site.SCAR)],
        diagnosed_on=date(TODAY.year - 1, 7, 2),
        status=c.RecurrenceStatus.CONFIRMED,
        by=nurse,
    )

    action = nurse_client.get(url("item_book", item.pk)).content.decode()
    assert re.search(r'id="action-record">([^<]*)<', action).group(1) == f"Mammogram due 1 Mar {TODAY.year + 1} (Due)"

    page = nurse_client.get(url("patient_detail", patient.pk))
    overdue_row = dict(page.context["actions"])
    assert [[row.text for row in rows] for worklist, rows in overdue_row.items() if worklist.slug == "overdue"] == [
        [f"Bloods due 5 Jun {TODAY.year - 1} (Due)"]
    ]
    history = nurse_client.get(url("patient_history", patient.pk))
    records = {change.record for change in history.context["changes"]}
    assert f"Recurrence: Local recurrence, 2 Jul {TODAY.year - 1} (Confirmed)" in records
    assert f"Follow-up item: Mammogram due 1 Mar {TODAY.year + 1} (Due)" in records
    for response in (action, page.content.decode(), history.content.decode()):
        assert LEADING_ZERO_DAY.findall(response) == []
    assert str(overdue) == f"Bloods due 5 Jun {TODAY.year - 1} (Due)"
    assert str(recurrence.restaging) == f"Restaging opened 2 Jul {TODAY.year - 1} (Open: tests outstanding)"


def test_a_moment_is_written_1_mar_2027_at_09_05_in_uk_time():
    moment = timezone.make_aware(datetime(2027, 3, 1, 9, 5))
    assert (show_date(date(2027, 3, 1)), show_datetime(moment)) == ("1 Mar 2027", "1 Mar 2027 at 09:05")
    summer = datetime(2027, 7, 1, 23, 30, tzinfo=UTC)  # British Summer Time: an hour ahead
    assert (show_date(summer), show_datetime(summer)) == ("2 Jul 2027", "2 Jul 2027 at 00:30")
    # In a sentence: the time alone today, the day and time otherwise.
    assert show_when(moment, today=date(2027, 3, 1)) == "at 09:05"
    assert show_when(moment, today=date(2027, 3, 2)) == "on 1 Mar 2027 at 09:05"


def test_the_booking_confirmation_writes_the_date_as_the_pages_do(nurse_client, patient):
    item = FollowUpItemFactory(patient=patient, due_on=FIRST_OF_MARCH)
    response = nurse_client.post(
        url("item_book", item.pk), {"booked_for": FIRST_OF_MARCH.isoformat(), "version": 1}, follow=True
    )
    assert f"Mammogram booked for 1 Mar {TODAY.year + 1}." in response.content.decode()


# Plurals ---------------------------------------------------------------------------------


def total_line(response, id_) -> str:
    match = re.search(rf'<strong id="{id_}">(\d+)</strong> ([^<]+)</p>', response.content.decode())
    return f"{match.group(1)} {match.group(2)}"


def test_counts_on_lists_agree_with_their_nouns(nurse_client, nurse, admin_client, patient):
    FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-2), result="02")
    results = url("worklist", "results")
    assert total_line(nurse_client.get(results), "worklist-total") == "1 result on this list"
    assert total_line(nurse_client.get(url("patient_list")), "patient-total") == "1 patient"
    line_list = reverse("followup:report_line_list", args=["follow-up-items"])
    assert total_line(admin_client.get(line_list), "report-total") == "1 row"

    other = PatientFactory(team=nurse.team, named_nurse=nurse)
    FollowUpItemFactory(patient=other, status=c.FollowUpStatus.DONE, done_on=days(-2), result="01")
    assert total_line(nurse_client.get(results), "worklist-total") == "2 results on this list"
    assert total_line(nurse_client.get(url("patient_list")), "patient-total") == "2 patients"
    assert total_line(admin_client.get(line_list), "report-total") == "2 rows"


def test_messages_with_a_count_agree_with_their_nouns(client, nurse, priya, admin_user, patient):
    client.force_login(admin_user)
    response = client.post(url("caseload_hand_over"), {"from_nurse": nurse.pk, "to_nurse": priya.pk}, follow=True)
    assert f"1 patient handed over to {priya}." in response.content.decode()

    client.force_login(priya)
    response = client.post(
        url("recurrence_add", patient.pk),
        {
            "metastatic_type": c.MetastaticType.LOCAL,
            "sites": [c.Site.SCAR],
            "diagnosed_on": days(-3).isoformat(),
            "status": c.RecurrenceStatus.SUSPECTED,
            "restaging_tests": [c.StagingModality.CT_CAP],
        },
        follow=True,
    )
    assert "Local recurrence recorded; restaging opened with 1 test requested." in response.content.decode()
    step = ProtocolStepFactory(start_months=1, interval_months=1, occurrences=2)
    assert str(step) == "Mammogram every 1 month x 2, from 1 month"
    assert [plural(n, "row") for n in (0, 1, 2, 1200)] == ["0 rows", "1 row", "2 rows", "1,200 rows"]


# Downloads: one format for NHS numbers and dates -----------------------------------------


def read_csv(response) -> list[dict]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(content)))


def read_xlsx(response) -> list[dict]:
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, *rows = list(sheet.iter_rows())
    return [dict(zip([cell.value for cell in header], row, strict=True)) for row in rows]


def test_worklist_and_report_downloads_write_nhs_numbers_and_dates_the_same_way(nurse_client, nurse, patient):
    """Plain 10-digit NHS numbers (text cells in XLSX) and ISO dates (date cells in XLSX) in every file,
    also where the screen adds a tag to the date ("Past due, in grace window")."""
    item = FollowUpItemFactory(patient=patient, due_on=days(-3))  # due soon, past due, in the grace window
    worklist = url("worklist", "due-soon")
    report = reverse("followup:report_line_list", args=["follow-up-items"])

    for rows in (
        read_csv(nurse_client.get(worklist, {"export": "csv"})),
        read_csv(nurse_client.get(report, {"export": "csv"})),
    ):
        assert [(row["NHS number"], row["Due"]) for row in rows] == [(patient.nhs_number, item.due_on.isoformat())]

    for rows in (
        read_xlsx(nurse_client.get(worklist, {"export": "xlsx"})),
        read_xlsx(nurse_client.get(report, {"export": "xlsx"})),
    ):
        (row,) = rows
        assert (row["NHS number"].value, row["NHS number"].data_type, row["NHS number"].number_format) == (
            patient.nhs_number,
            "s",
            "@",
        )
        assert (row["Due"].value.date(), row["Due"].number_format) == (item.due_on, "yyyy-mm-dd")


def test_restaging_download_writes_the_target_date_not_its_screen_tag(nurse_client, nurse, patient):
    episode = RestagingEpisodeFactory(recurrence__patient=patient, recurrence__diagnosed_on=days(-40))
    StagingTestFactory(episode=episode)
    rows = read_csv(nurse_client.get(url("worklist", "restaging"), {"export": "csv"}))
    assert [(row["NHS number"], row["Recurrence date"], row["Target"]) for row in rows] == [
        (patient.nhs_number, days(-40).isoformat(), days(-12).isoformat())
    ]
