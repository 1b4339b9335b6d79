"""Issue 12, item 2: nothing completes a clinical action by default.

No date of a clinical action is filled in with today: the user enters it. A mammogram,
bloods or other test is recorded done with its result, or with an explicit "Result not
yet available", which keeps it on "Results awaited" until the result is recorded.
"""

import html
import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import flags, services
from followup.models import FollowUpItem
from followup.services import SiteEntry
from followup.worklists import WORKLISTS

from .factories import FollowUpItemFactory, FollowUpProtocolFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
HTMX = {"HTTP_HX_REQUEST": "true"}


def days(n):
    return TODAY + timedelta(days=n)


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def error_beside(response, field) -> str:
    match = re.search(
        rf'<span class="nhsuk-error-message" id="id_{field}-error">(.*?)</span>\s*(?=<|$)', body(response)
    )
    if not match:
        return ""
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)).replace("Error: ", "", 1)).strip()


def date_inputs(response) -> dict[str, str]:
    """Every date input of the page (day, month and year boxes): its name and the date it opens with,
    as YYYY-MM-DD ("" for none)."""
    page = body(response)
    inputs = {}
    for name in re.findall(r'<div class="nhsuk-date-input" id="id_(\w+)"', page):
        day, month, year = (
            re.search(rf'<input[^>]*name="{name}_{index}"[^>]*value="([^"]*)"', page).group(1) for index in range(3)
        )
        inputs[name] = f"{int(year):04d}-{int(month):02d}-{int(day):02d}" if day or month or year else ""
    return inputs


def listed(client, slug, **params):
    response = client.get(reverse("followup:worklist", args=[slug]), params)
    return [row.record for row in response.context["table"].paginated_rows]


@pytest.fixture
def clinician(team):
    return UserFactory(username="sam", team=team, role=c.Role.CLINICIAN)


@pytest.fixture
def mammogram(patient):
    return FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(-40))


@pytest.fixture
def awaited(patient, nurse):
    """A mammogram done with its result not yet available."""
    item = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(-20))
    return services.followup_item_record_done(
        item=item, done_on=days(-3), result_awaited=True, by=nurse, expected_version=item.version
    )


# No date is today by default ------------------------------------------------------------


def test_action_forms_open_with_every_date_empty(nurse_client, nurse, patient, mammogram):
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
        "item_book": mammogram.pk,
        "item_done": mammogram.pk,
        "item_add": patient.pk,
        "patient_discharge": patient.pk,
        "patient_death": patient.pk,
        "protocol_assign": patient.pk,
        "recurrence_add": patient.pk,
        "staging_request": recurrence.restaging.pk,
        "staging_result": test.pk,
        "symptom_add": patient.pk,
        "primary_add": patient.pk,
    }
    # A recurrence's date is asked once its type is chosen (the form's second step).
    query = {"recurrence_add": {"metastatic_type": c.MetastaticType.REGIONAL}}
    opened = {name: date_inputs(nurse_client.get(url(name, pk), query.get(name))) for name, pk in pages.items()}
    assert opened == {
        "item_book": {"booked_for": ""},
        "item_done": {"done_on": ""},
        "item_add": {"due_on": ""},
        "patient_discharge": {"discharged_on": ""},
        "patient_death": {"date_of_death": ""},
        "protocol_assign": {"protocol_start_on": ""},
        "recurrence_add": {"diagnosed_on": ""},
        "staging_request": {"requested_on": ""},
        "staging_result": {"performed_on": "", "reported_on": ""},
        "symptom_add": {"reported_on": "", "onset_on": ""},
        "primary_add": {"diagnosed_on": "", "endocrine_started_on": ""},
    }


def test_dates_that_are_data_still_open_filled_in(nurse_client, nurse, patient):
    """A schedule's own start and a rebooking's suggested due date are data, not today."""
    services.protocol_assign(patient=patient, protocol=FollowUpProtocolFactory(), start_on=days(-100), by=nurse)
    assert date_inputs(nurse_client.get(url("protocol_assign", patient.pk))) == {
        "protocol_start_on": days(-100).isoformat()
    }
    rebook = f"{url('item_add', patient.pk)}?kind=mammogram&due_on={days(14).isoformat()}"
    assert date_inputs(nurse_client.get(rebook)) == {"due_on": days(14).isoformat()}


def test_untouched_book_form_books_nothing_and_asks_for_the_date(nurse_client, mammogram):
    response = nurse_client.post(url("item_book", mammogram.pk), {"version": mammogram.version})
    assert response.status_code == 200
    assert error_beside(response, "booked_for") == "Enter the appointment date"
    mammogram.refresh_from_db()
    assert (mammogram.status, mammogram.booked_for, mammogram.version) == (c.FollowUpStatus.DUE, None, 1)


def test_untouched_record_done_form_records_nothing_and_asks_for_date_and_result(nurse_client, mammogram):
    response = nurse_client.post(url("item_done", mammogram.pk), {"version": mammogram.version})
    assert response.status_code == 200
    assert error_beside(response, "done_on") == "Enter the date it was done"
    assert error_beside(response, "result") == "Select the result, or 'Result not yet available'"
    mammogram.refresh_from_db()
    assert (mammogram.status, mammogram.done_on, mammogram.result, mammogram.version) == (
        c.FollowUpStatus.DUE,
        None,
        "",
        1,
    )


def test_record_done_with_a_date_but_no_result_records_nothing(nurse_client, mammogram):
    response = nurse_client.post(
        url("item_done", mammogram.pk), {"done_on": days(-1).isoformat(), "version": mammogram.version}
    )
    assert error_beside(response, "result") == "Select the result, or 'Result not yet available'"
    assert error_beside(response, "done_on") == ""
    mammogram.refresh_from_db()
    assert (mammogram.status, mammogram.version) == (c.FollowUpStatus.DUE, 1)


def test_record_done_offers_result_not_yet_available_only_for_kinds_with_results(nurse_client, patient, mammogram):
    review = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.CLINIC_REVIEW, due_on=days(-5))
    mammogram_form = body(nurse_client.get(url("item_done", mammogram.pk)))
    review_form = body(nurse_client.get(url("item_done", review.pk)))
    assert re.findall(r'name="result" type="radio" value="(\w+)"', mammogram_form) == [
        "01",
        "02",
        "03",
        "04",
        "05",
        "09",
        "awaited",
    ]
    assert '<div class="nhsuk-radios__divider">or</div>' in mammogram_form
    assert 'name="result"' not in review_form


def test_result_not_yet_available_puts_the_item_on_results_awaited(nurse_client, nurse, mammogram):
    response = nurse_client.post(
        url("item_done", mammogram.pk),
        {"done_on": days(-2).isoformat(), "result": "awaited", "version": mammogram.version},
        follow=True,
    )
    assert "Mammogram recorded as done; its result is awaited." in body(response)
    mammogram.refresh_from_db()
    assert (mammogram.status, mammogram.done_on, mammogram.result, mammogram.result_awaited) == (
        c.FollowUpStatus.DONE,
        days(-2),
        "",
        True,
    )
    assert listed(nurse_client, "results-awaited") == [mammogram]
    assert listed(nurse_client, "results") == []
    assert listed(nurse_client, "overdue") == []
    counts = {w.slug: n for w, n in nurse_client.get(url("dashboard")).context["counts"]}
    assert counts["results-awaited"] == {"team": 1, "mine": 1}
    page = body(nurse_client.get(url("patient_detail", mammogram.patient.pk)))
    assert f"Mammogram, done {days(-2):%-d %b %Y}: result not yet available" in page
    assert f'href="{url("item_result", mammogram.pk)}"' in page


def test_results_awaited_list_offers_to_record_the_result_oldest_first(nurse_client, nurse, patient, awaited):
    older = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.BLOODS, due_on=days(-30))
    services.followup_item_record_done(
        item=older, done_on=days(-10), result_awaited=True, by=nurse, expected_version=older.version
    )
    response = nurse_client.get(reverse("followup:worklist", args=["results-awaited"]))
    assert [row.record for row in response.context["table"].paginated_rows] == [older, awaited]
    assert f'href="{url("item_result", awaited.pk)}?next=' in body(response)
    assert "Record the result<span" in body(response)


# Recording the result later --------------------------------------------------------------


def test_recording_the_awaited_result_moves_it_to_results_to_acknowledge(nurse_client, nurse, awaited):
    page = nurse_client.get(url("item_result", awaited.pk))
    assert date_inputs(page) == {}
    assert re.findall(r'name="result" type="radio" value="(\w+)"', body(page)) == [
        "01",
        "02",
        "03",
        "04",
        "05",
        "09",
    ]
    untouched = nurse_client.post(url("item_result", awaited.pk), {"version": awaited.version})
    assert error_beside(untouched, "result") == "Select the result"
    assert FollowUpItem.objects.get(pk=awaited.pk).result_awaited is True

    response = nurse_client.post(
        url("item_result", awaited.pk), {"result": c.ImagingOutcome.NORMAL, "version": awaited.version}
    )
    assert response.status_code == 302
    awaited.refresh_from_db()
    assert (awaited.result, awaited.result_awaited, awaited.version, awaited.updated_by) == (
        c.ImagingOutcome.NORMAL,
        False,
        3,
        nurse,
    )
    assert listed(nurse_client, "results-awaited") == []
    assert listed(nurse_client, "results") == [awaited]


def test_an_abnormal_awaited_result_goes_to_the_next_step(nurse_client, awaited):
    response = nurse_client.post(
        url("item_result", awaited.pk), {"result": c.ImagingOutcome.ABNORMAL, "version": awaited.version}
    )
    assert response["Location"] == url("item_next_step", awaited.pk)


def test_record_result_of_another_teams_item_is_404(client, other_nurse, awaited):
    client.force_login(other_nurse)
    assert client.get(url("item_result", awaited.pk)).status_code == 404
    assert client.post(url("item_result", awaited.pk), {"result": "02", "version": awaited.version}).status_code == 404
    awaited.refresh_from_db()
    assert (awaited.result, awaited.result_awaited, awaited.version) == ("", True, 2)


def test_record_result_is_refused_to_a_read_only_clinician(client, clinician, awaited):
    client.force_login(clinician)
    assert client.get(url("item_result", awaited.pk)).status_code == 403
    assert client.post(url("item_result", awaited.pk), {"result": "02", "version": awaited.version}).status_code == 403
    awaited.refresh_from_db()
    assert (awaited.result, awaited.result_awaited, awaited.version) == ("", True, 2)


def test_record_result_by_htmx_of_an_item_with_a_result_already_answers_with_an_error_row(nurse_client, nurse, patient):
    item = FollowUpItemFactory(
        patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-2), result=c.ImagingOutcome.NORMAL
    )
    response = nurse_client.post(url("item_result", item.pk), {"result": "01", "version": item.version}, **HTMX)
    assert "Not saved</strong> This mammogram already has its result." in body(response)
    item.refresh_from_db()
    assert (item.result, item.version) == (c.ImagingOutcome.NORMAL, 1)


# The service and the database hold the rule ------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({}, {"result": ["Record the result of the mammogram, or that it is not yet available."]}),
        (
            {"result": c.ImagingOutcome.NORMAL, "result_awaited": True},
            {"result": ["Record the result, or that it is not yet available: not both."]},
        ),
    ],
)
def test_record_done_service_needs_a_result_or_result_awaited(nurse, mammogram, changes, errors):
    with pytest.raises(ValidationError) as refused:
        services.followup_item_record_done(
            item=mammogram, done_on=days(-1), by=nurse, expected_version=mammogram.version, **changes
        )
    assert refused.value.message_dict == errors
    mammogram.refresh_from_db()
    assert (mammogram.status, mammogram.version) == (c.FollowUpStatus.DUE, 1)


def test_record_done_service_refuses_result_awaited_for_a_review(nurse, patient):
    review = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.CLINIC_REVIEW, due_on=days(-5))
    with pytest.raises(ValidationError) as refused:
        services.followup_item_record_done(
            item=review, done_on=days(-1), result_awaited=True, by=nurse, expected_version=review.version
        )
    assert refused.value.message_dict == {"result": ["A clinic review has no result to record."]}


def test_record_result_service_refuses_an_item_not_awaiting_one(nurse, mammogram):
    with pytest.raises(ValidationError) as refused:
        services.followup_item_record_result(
            item=mammogram, result=c.ImagingOutcome.NORMAL, by=nurse, expected_version=mammogram.version
        )
    assert refused.value.messages == ["This mammogram is not done yet: record it as done first."]


def test_record_result_service_needs_a_result(nurse, awaited):
    with pytest.raises(ValidationError) as refused:
        services.followup_item_record_result(item=awaited, result="", by=nurse, expected_version=awaited.version)
    assert refused.value.message_dict == {"result": ["Record the result of the mammogram."]}


def test_admin_site_cannot_save_a_done_mammogram_without_a_result(client, admin_user, mammogram):
    """The root of the defect: only the service held the rule, so any other way in (the admin site,
    a script) could save a done mammogram with no result; now the model and the database hold it."""
    client.force_login(admin_user)
    change = reverse("admin:followup_followupitem_change", args=[mammogram.pk])
    form = client.get(change).context["adminform"].form
    data = {
        name: getattr(value, "pk", value)
        for name, value in form.initial.items()
        if name in form.fields and value is not None
    }
    data.update(status=c.FollowUpStatus.DONE, done_on=days(-1).isoformat(), result="", patient=mammogram.patient.pk)
    response = client.post(change, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "A done mammogram, bloods or other test needs its result, or 'Result not yet available'."
    ]
    mammogram.refresh_from_db()
    assert (mammogram.status, mammogram.done_on, mammogram.version) == (c.FollowUpStatus.DUE, None, 1)


def test_results_awaited_counts_for_my_caseload_and_team(nurse, awaited):
    colleague = UserFactory(team=nurse.team, role=c.Role.NURSE)
    theirs = FollowUpItemFactory(patient=PatientFactory(team=nurse.team, named_nurse=colleague), due_on=days(-9))
    services.followup_item_record_done(
        item=theirs, done_on=days(-1), result_awaited=True, by=colleague, expected_version=theirs.version
    )
    assert WORKLISTS["results-awaited"].counts(nurse, today=TODAY) == {"team": 2, "mine": 1}


# The migration: done result-kind items saved before the rule ---------------------------------

MIGRATION = ("followup", "0008_results_awaited_and_dates")
BEFORE = ("followup", "0007_postgres_name_search")


@pytest.mark.django_db(transaction=True)
def test_migration_marks_done_tests_with_no_result_as_awaited_and_records_why():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    Team, User = old.get_model("followup", "Team"), old.get_model("followup", "User")
    Patient, Item = old.get_model("followup", "Patient"), old.get_model("followup", "FollowUpItem")
    team = Team.objects.create(name="North", code="north")
    nurse = User.objects.create(username="alex", team=team, role="nurse")
    patient = Patient.objects.create(
        given_name="Ann",
        family_name="Green",
        date_of_birth=date(1950, 1, 1),
        sex="F",
        team=team,
        named_nurse=nurse,
        created_by=nurse,
        updated_by=nurse,
    )
    common = {"patient": patient, "due_on": days(-30), "created_by": nurse, "updated_by": nurse}
    done = {"status": "done", "done_on": days(-20)}
    no_result = Item.objects.create(kind="mammogram", **done, **common)
    with_result = Item.objects.create(kind="bloods", result="02", **done, **common)
    review = Item.objects.create(kind="clinic_review", **done, **common)
    due = Item.objects.create(kind="mammogram", **common)

    executor = MigrationExecutor(connection)
    executor.migrate(leaves)
    flags.fill_missing()  # as manage.py migrate does once its last migration has run (post_migrate)

    rows = {
        item.pk: (item.result, item.result_awaited, item.version)
        for item in FollowUpItem.all_objects.filter(pk__in=[no_result.pk, with_result.pk, review.pk, due.pk])
    }
    assert rows == {
        no_result.pk: ("", True, 2),
        with_result.pk: ("02", False, 1),
        review.pk: ("", False, 1),
        due.pk: ("", False, 1),
    }
    assert list(FollowUpItem.objects.results_awaited().values_list("pk", flat=True)) == [no_result.pk]
    history = FollowUpItem.history.filter(id=no_result.pk).values_list(
        "history_type", "history_change_reason", "result_awaited"
    )
    assert list(history) == [
        ("~", "Done with no result recorded: marked 'Result not yet available' (migration 0008)", True)
    ]
