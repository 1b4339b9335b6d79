"""The NHS.UK date input (day, month and year as three boxes) for every date a user enters: what it
reads, the service manual's messages with only the wrong part marked, the dates it opens with, and
the worklist and report filters' date ranges."""

import re
from datetime import date, timedelta

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup.fields import DateField
from followup.models import FollowUpItem, Patient

from .factories import FollowUpItemFactory, FollowUpProtocolFactory

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


class DoneForm(forms.Form):
    done_on = DateField("Date done", missing="Enter the date it was done")


def parts(when: date) -> dict[str, str]:
    return {"done_on_0": str(when.day), "done_on_1": str(when.month), "done_on_2": str(when.year)}


def errors_of(data) -> list[tuple[str, tuple]]:
    """Each error of the form's date field: its message and the parts it marks (0 day, 1 month, 2 year)."""
    form = DoneForm(data)
    assert not form.is_valid()
    return [(error.message, tuple(error.params["parts"])) for error in form.errors.as_data()["done_on"]]


# What it reads ------------------------------------------------------------------------------------


def test_date_input_reads_day_month_and_year():
    form = DoneForm({"done_on_0": "1", "done_on_1": "12", "done_on_2": "2026"})
    assert form.is_valid()
    assert form.cleaned_data == {"done_on": date(2026, 12, 1)}


def test_date_input_reads_leading_zeros_spaces_and_month_names():
    for month in ("03", " 3 ", "Mar", "march", "MARCH"):
        form = DoneForm({"done_on_0": " 05", "done_on_1": month, "done_on_2": "2026 "})
        assert form.is_valid(), month
        assert form.cleaned_data["done_on"] == date(2026, 3, 5)


def test_date_input_also_reads_one_iso_date_under_the_plain_name():
    """Scripts, links and older tests post one value (done_on=2026-12-01): it is read as the same date."""
    form = DoneForm({"done_on": "2026-12-01"})
    assert form.is_valid()
    assert form.cleaned_data == {"done_on": date(2026, 12, 1)}
    # The three boxes win when both are there.
    both = DoneForm({"done_on": "2026-12-01", **parts(date(2025, 1, 2))})
    assert both.is_valid() and both.cleaned_data == {"done_on": date(2025, 1, 2)}


def test_date_input_says_a_plain_value_it_cannot_read_is_not_a_real_date():
    assert errors_of({"done_on": "tomorrow"}) == [("Date done must be a real date", (0, 1, 2))]
    assert errors_of({"done_on": "31/02/2026"}) == [("Date done must be a real date", (0,))]


def test_date_input_has_changed_only_when_the_date_typed_differs():
    initial = {"done_on": date(2026, 12, 1)}
    assert not DoneForm({"done_on_0": "1", "done_on_1": "12", "done_on_2": "2026"}, initial=initial).has_changed()
    assert DoneForm({"done_on_0": "2", "done_on_1": "12", "done_on_2": "2026"}, initial=initial).has_changed()
    assert not DoneForm({"done_on_0": "", "done_on_1": "", "done_on_2": ""}).has_changed()


def test_optional_date_input_left_empty_is_none():
    class Form(forms.Form):
        onset_on = DateField("Date symptoms started", required=False)

    form = Form({"onset_on_0": "", "onset_on_1": " ", "onset_on_2": ""})
    assert form.is_valid()
    assert form.cleaned_data == {"onset_on": None}


# The service manual's messages, each marking only the part that is wrong ---------------------------


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [
        ("", "", "", ("Enter the date it was done", (0, 1, 2))),
        ("1", "12", "", ("Date done must include a year", (2,))),
        ("1", "", "2026", ("Date done must include a month", (1,))),
        ("", "12", "2026", ("Date done must include a day", (0,))),
        ("", "", "2026", ("Date done must include a day and month", (0, 1))),
        ("", "12", "", ("Date done must include a day and year", (0, 2))),
        ("31", "2", "2026", ("Date done must be a real date", (0,))),
        ("32", "1", "2026", ("Date done must be a real date", (0,))),
        ("1", "13", "2026", ("Date done must be a real date", (1,))),
        ("x", "12", "2026", ("Date done must be a real date", (0,))),
        ("0", "0", "2026", ("Date done must be a real date", (0, 1))),
        ("1", "12", "26", ("Date done must include a year with 4 numbers", (2,))),
        ("1", "12", "twenty", ("Date done must be a real date", (2,))),
    ],
)
def test_date_input_errors_follow_the_service_manual(day, month, year, expected):
    assert errors_of({"done_on_0": day, "done_on_1": month, "done_on_2": year}) == [expected]


def date_boxes(response, name) -> dict[str, dict]:
    """The three boxes of one date input as the page shows them: label, value, marked as an error."""
    page = body(response)
    boxes = {}
    for index, label in enumerate(("Day", "Month", "Year")):
        box_id = f"id_{name}_{index}"
        tag = re.search(rf'<input[^>]*id="{box_id}"[^>]*>', page).group(0)
        assert re.search(
            rf'<label class="nhsuk-label nhsuk-date-input__label" for="{box_id}">\s*{label}\s*</label>', page
        )
        assert 'inputmode="numeric"' in tag and 'type="text"' in tag and f'name="{name}_{index}"' in tag
        value = re.search(r'value="([^"]*)"', tag)
        boxes[label] = {"value": value.group(1) if value else "", "error": "nhsuk-input--error" in tag}
    return boxes


def error_beside(response, field) -> str:
    match = re.search(
        rf'<span class="nhsuk-error-message" id="id_{field}-error">(.*?)</span>\s*(?=<|$)', body(response)
    )
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("Error: ", "", 1).strip() if match else ""


def summary_links(response) -> list[tuple[str, str]]:
    summary = re.search(r'<div class="nhsuk-error-summary".*?</ul>', body(response), re.S).group(0)
    return [
        (href, re.sub(r"<[^>]+>", "", text).strip())
        for href, text in re.findall(r'<a href="([^"]*)">(.*?)</a>', summary)
    ]


@pytest.fixture
def mammogram(patient):
    return FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(-40))


def test_record_done_page_shows_the_date_as_day_month_and_year_in_a_fieldset(nurse_client, mammogram):
    response = nurse_client.get(url("item_done", mammogram.pk))
    page = body(response)
    assert re.search(
        r'<fieldset class="nhsuk-fieldset" role="group"[^>]*>\s*<legend[^>]*>\s*Date done\s*</legend>', page
    )
    assert date_boxes(response, "done_on") == {
        "Day": {"value": "", "error": False},
        "Month": {"value": "", "error": False},
        "Year": {"value": "", "error": False},
    }
    assert 'type="date"' not in page
    # "Today" (static/js/today.mjs) fills the three boxes of a date something happened on.
    assert re.search(r'<div class="nhsuk-date-input" id="id_done_on" data-today>', page)


def test_a_missing_year_marks_only_the_year_and_the_summary_links_to_it(nurse_client, mammogram):
    data = {"done_on_0": "3", "done_on_1": "11", "done_on_2": "", "result": "02", "version": mammogram.version}
    response = nurse_client.post(url("item_done", mammogram.pk), data)
    assert error_beside(response, "done_on") == "Date done must include a year"
    assert date_boxes(response, "done_on") == {
        "Day": {"value": "3", "error": False},
        "Month": {"value": "11", "error": False},
        "Year": {"value": "", "error": True},
    }
    assert summary_links(response) == [("#id_done_on_2", "Date done must include a year")]
    mammogram.refresh_from_db()
    assert (mammogram.status, mammogram.done_on) == (c.FollowUpStatus.DUE, None)


def test_an_empty_date_marks_all_three_boxes_and_links_to_the_day(nurse_client, mammogram):
    response = nurse_client.post(url("item_done", mammogram.pk), {"result": "02", "version": mammogram.version})
    assert error_beside(response, "done_on") == "Enter the date it was done"
    assert [box["error"] for box in date_boxes(response, "done_on").values()] == [True, True, True]
    assert summary_links(response) == [("#id_done_on_0", "Enter the date it was done")]


def test_a_date_refused_by_the_rules_marks_the_whole_date(nurse_client, mammogram):
    """The plausibility rules (followup/dates.py) speak through the service: the whole date is wrong."""
    data = {**parts(days(3)), "result": "02", "version": mammogram.version}
    response = nurse_client.post(url("item_done", mammogram.pk), data)
    assert error_beside(response, "done_on") == "The date done cannot be in the future."
    assert [box["error"] for box in date_boxes(response, "done_on").values()] == [True, True, True]
    assert summary_links(response) == [("#id_done_on_0", "The date done cannot be in the future.")]


def test_a_date_entered_in_three_boxes_is_saved(nurse_client, mammogram):
    data = {**parts(days(-2)), "result": "02", "version": mammogram.version}
    assert nurse_client.post(url("item_done", mammogram.pk), data).status_code == 302
    mammogram.refresh_from_db()
    assert (mammogram.status, mammogram.done_on, mammogram.result) == (c.FollowUpStatus.DONE, days(-2), "02")


def test_date_of_birth_messages_name_the_date_of_birth_and_offer_no_today_button(nurse_client, nurse):
    page = nurse_client.get(url("patient_create"))
    assert re.search(r'<div class="nhsuk-date-input" id="id_date_of_birth">', body(page))
    data = {"given_name": "Ann", "family_name": "Lee", "sex": "F", "named_nurse": nurse.pk, "follow_up_model": "clinic"}
    response = nurse_client.post(url("patient_create"), data | {"date_of_birth_0": "4", "date_of_birth_1": "7"})
    assert error_beside(response, "date_of_birth") == "Date of birth must include a year"
    assert Patient.objects.count() == 0
    saved = nurse_client.post(
        url("patient_create"), data | {"date_of_birth_0": "4", "date_of_birth_1": "7", "date_of_birth_2": "1961"}
    )
    assert saved.status_code == 302
    assert Patient.objects.get().date_of_birth == date(1961, 7, 4)


# Dates that are data open filled in, in the three boxes ---------------------------------------------


def test_a_rebookings_suggested_due_date_opens_in_the_three_boxes(nurse_client, patient):
    response = nurse_client.get(f"{url('item_add', patient.pk)}?kind=mammogram&due_on=2027-01-15")
    assert {label: box["value"] for label, box in date_boxes(response, "due_on").items()} == {
        "Day": "15",
        "Month": "1",
        "Year": "2027",
    }


def test_a_schedules_start_opens_in_the_three_boxes(nurse_client, nurse, patient):
    from followup import services

    services.protocol_assign(patient=patient, protocol=FollowUpProtocolFactory(), start_on=date(2025, 9, 8), by=nurse)
    response = nurse_client.get(url("protocol_assign", patient.pk))
    assert {label: box["value"] for label, box in date_boxes(response, "protocol_start_on").items()} == {
        "Day": "8",
        "Month": "9",
        "Year": "2025",
    }


# Filters: "From" and "To", each a date input ---------------------------------------------------


def test_worklist_date_range_is_two_date_inputs_that_filter_the_rows(nurse_client, patient):
    early = FollowUpItemFactory(patient=patient, due_on=days(-90))
    late = FollowUpItemFactory(patient=patient, due_on=days(-30))
    overdue = url("worklist", "overdue")
    page = body(nurse_client.get(overdue))
    for box in ("due_after_0", "due_after_1", "due_after_2", "due_before_0", "due_before_1", "due_before_2"):
        assert f'name="{box}"' in page
    assert re.search(r"<legend[^>]*>\s*From\s*</legend>", page) and re.search(r"<legend[^>]*>\s*To\s*</legend>", page)
    assert 'type="date"' not in page

    start = days(-60)
    response = nurse_client.get(
        overdue, {"due_after_0": start.day, "due_after_1": start.month, "due_after_2": start.year}
    )
    assert [row.record for row in response.context["table"].paginated_rows] == [late]
    # One ISO value still works (links from elsewhere, older bookmarks).
    response = nurse_client.get(overdue, {"due_before": start.isoformat()})
    assert [row.record for row in response.context["table"].paginated_rows] == [early]


def test_worklist_date_range_explains_a_wrong_date_beside_it(nurse_client, patient):
    FollowUpItemFactory(patient=patient, due_on=days(-60))
    response = nurse_client.get(
        url("worklist", "overdue"), {"due_after_0": "31", "due_after_1": "2", "due_after_2": "2026"}
    )
    assert response.status_code == 200
    assert error_beside(response, "due") == "From date must be a real date"
    assert summary_links(response) == [("#id_due_after_0", "From date must be a real date")]
    to_before_from = nurse_client.get(
        url("worklist", "overdue"), {"due_after": days(-10).isoformat(), "due_before": days(-20).isoformat()}
    )
    assert error_beside(to_before_from, "due") == "To date must be the same as or after the from date"


def test_report_period_is_two_date_inputs(admin_user, client):
    client.force_login(admin_user)
    page = client.get(url("report_summary", "recurrences-by-month"))
    assert date_boxes(page, "start")["Day"] == {"value": "", "error": False}
    assert date_boxes(page, "end")["Year"] == {"value": "", "error": False}
    response = client.get(
        url("report_summary", "recurrences-by-month"),
        {"start_0": "1", "start_1": "1", "start_2": "2026", "end_0": "31", "end_1": "3", "end_2": "2026"},
    )
    assert response.context["period"] == (date(2026, 1, 1), date(2026, 3, 31))
    wrong = client.get(url("report_summary", "recurrences-by-month"), {"start_0": "1", "start_1": "1"})
    assert error_beside(wrong, "start") == "From date must include a year"


def test_date_inputs_are_everywhere_a_date_is_entered(nurse_client, nurse, patient, mammogram):
    """No browser date picker is left on any action page (issue 13)."""
    from followup import services
    from followup.services import SiteEntry

    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=days(-20),
        restaging_tests=[c.StagingModality.CT_CAP],
        by=nurse,
    )
    test = recurrence.restaging.tests.get()
    pages = {
        url("item_book", mammogram.pk): ["booked_for"],
        url("item_done", mammogram.pk): ["done_on"],
        url("item_add", patient.pk): ["due_on"],
        url("patient_discharge", patient.pk): ["discharged_on"],
        url("patient_death", patient.pk): ["date_of_death"],
        url("protocol_assign", patient.pk): ["protocol_start_on"],
        url("recurrence_add", patient.pk) + "?metastatic_type=01": ["diagnosed_on"],
        url("staging_request", recurrence.restaging.pk): ["requested_on"],
        url("staging_result", test.pk): ["performed_on", "reported_on"],
        url("symptom_add", patient.pk): ["reported_on", "onset_on"],
        url("primary_add", patient.pk): ["diagnosed_on", "endocrine_started_on"],
        url("patient_edit", patient.pk): ["date_of_birth"],
        url("patient_create"): ["date_of_birth"],
    }
    for page_url, names in pages.items():
        page = body(nurse_client.get(page_url))
        assert 'type="date"' not in page, page_url
        assert re.findall(r'<div class="nhsuk-date-input" id="id_(\w+)"', page) == names, page_url


def test_no_item_is_saved_from_a_half_entered_booking(nurse_client, mammogram):
    response = nurse_client.post(
        url("item_book", mammogram.pk), {"booked_for_0": "12", "booked_for_2": "2027", "version": mammogram.version}
    )
    assert error_beside(response, "booked_for") == "Appointment date must include a month"
    assert FollowUpItem.objects.get(pk=mammogram.pk).booked_for is None
