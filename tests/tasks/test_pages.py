"""The task pages, the two task worklists, the dashboard counts, the patient page's Tasks section,
the timeline and the history."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from followup import choices as c
from followup.services import record_mark_entered_in_error
from tasks import services
from tasks.models import Task, TaskStatus
from tests.factories import FollowUpItemFactory, PatientFactory, RecurrenceFactory, UserFactory
from tests.pages import by_id, text

from .factories import TaskFactory

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def body(response) -> str:
    return response.content.decode()


def worklist(client, slug, **params):
    return client.get(reverse("followup:worklist", args=[slug]), params)


def listed(response):
    return [row.record for row in response.context["table"].paginated_rows]


def date_post(name, day):
    return {f"{name}_0": day.day, f"{name}_1": day.month, f"{name}_2": day.year}


@pytest.fixture
def clinician(team):
    return UserFactory(username="sam", team=team, role=c.Role.CLINICIAN)


@pytest.fixture
def task(patient, priya):
    return TaskFactory(patient=patient, assigned_to=priya, description="Phone about the ultrasound result")


# Adding a task -----------------------------------------------------------------------------------------


def test_every_worklist_row_offers_add_a_task_keeping_the_list(nurse_client, patient):
    FollowUpItemFactory(patient=patient, due_on=days(-60))
    response = worklist(nurse_client, "overdue")
    add = reverse("tasks:task_add", args=[patient.pk])
    assert f'href="{add}?next={quote("/worklists/overdue/", safe="/")}"' in body(response)


def test_the_mdt_list_rows_offer_add_a_task_too(nurse_client, patient):
    RecurrenceFactory(patient=patient)
    response = worklist(nurse_client, "mdt-not-discussed")
    assert reverse("tasks:task_add", args=[patient.pk]) in body(response)


def test_a_row_with_a_form_offers_add_a_task_too(nurse_client, patient):
    FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-1), result="01")
    response = worklist(nurse_client, "results")
    assert reverse("tasks:task_add", args=[patient.pk]) in body(response)


def test_add_a_task_for_a_colleague_returns_to_the_list(nurse_client, nurse, priya, patient):
    url = reverse("tasks:task_add", args=[patient.pk])
    page = nurse_client.get(url, {"next": "/worklists/overdue/"})
    assert "Priya Shah" in body(page) and "The team as a whole (North Breast Unit)" in body(page)
    response = nurse_client.post(
        url,
        {
            "description": "Chase the GP letter",
            **date_post("due_on", days(2)),
            "assigned_to": priya.pk,
            "next": "/worklists/overdue/",
        },
    )
    assert response.status_code == 302 and response.url == "/worklists/overdue/"
    task = Task.objects.get()
    assert (task.description, task.assigned_to, task.due_on, task.created_by) == (
        "Chase the GP letter",
        priya,
        days(2),
        nurse,
    )


def test_add_a_task_for_the_team(nurse_client, patient):
    nurse_client.post(
        reverse("tasks:task_add", args=[patient.pk]),
        {"description": "Book an interpreter", **date_post("due_on", days(1)), "assigned_to": "team"},
    )
    assert Task.objects.get().assigned_to is None


def test_add_a_task_shows_each_error_next_to_its_field(nurse_client, patient):
    response = nurse_client.post(reverse("tasks:task_add", args=[patient.pk]), {})
    html = body(response)
    assert response.status_code == 200 and Task.all_objects.count() == 0
    assert "Enter what needs doing" in text(by_id(html, "id_description-error"))
    assert "Enter the date it is due" in html
    assert "Select who the task is for" in text(by_id(html, "id_assigned_to-error"))
    assert "There is a problem" in html


def test_add_a_task_refuses_a_nurse_of_another_team_beside_the_field(nurse_client, patient, other_nurse):
    response = nurse_client.post(
        reverse("tasks:task_add", args=[patient.pk]),
        {"description": "x", **date_post("due_on", days(1)), "assigned_to": other_nurse.pk},
    )
    assert text(by_id(body(response), "id_assigned_to-error")) == "Error: Select who the task is for"
    assert Task.all_objects.count() == 0


# Done, cancel, reassign ----------------------------------------------------------------------------------


def test_done_page_offers_the_task_as_the_contact_summary(client, priya, task):
    client.force_login(priya)
    response = client.get(reverse("tasks:task_done", args=[task.pk]))
    assert "Phone about the ultrasound result</textarea>" in body(response)


def test_done_recording_a_phone_contact(client, priya, task):
    client.force_login(priya)
    response = client.post(
        reverse("tasks:task_done", args=[task.pk]),
        {
            "version": 1,
            "record_contact": "yes",
            "contact_kind": "phone_out",
            "with_whom": "patient",
            "answered": "yes",
            "summary": "Result explained",
            "outcome": "Happy",
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    contact = Contact.objects.get()
    assert (task.status, task.contact, contact.kind, contact.answered, contact.by) == (
        TaskStatus.DONE,
        contact,
        "phone_out",
        True,
        priya,
    )


def test_done_without_a_contact_records_none(client, priya, task):
    client.force_login(priya)
    client.post(reverse("tasks:task_done", args=[task.pk]), {"version": 1, "record_contact": "no"})
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and Contact.all_objects.count() == 0


def test_done_shows_the_services_refusal_next_to_the_field(client, priya, task):
    client.force_login(priya)
    response = client.post(
        reverse("tasks:task_done", args=[task.pk]),
        {"version": 1, "record_contact": "yes", "contact_kind": "phone_out", "summary": "Called"},
    )
    assert "Select whether the call was answered" in text(by_id(body(response), "id_answered-error"))
    response = client.post(reverse("tasks:task_done", args=[task.pk]), {"version": 1})
    assert "Select yes if you want to record a contact" in text(by_id(body(response), "id_record_contact-error"))
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_cancel_needs_a_reason_beside_the_field(nurse_client, task):
    url = reverse("tasks:task_cancel", args=[task.pk])
    response = nurse_client.post(url, {"version": 1, "reason": ""})
    assert "Enter the reason for cancelling" in text(by_id(body(response), "id_reason-error"))
    nurse_client.post(url, {"version": 1, "reason": "Seen in clinic instead"})
    task.refresh_from_db()
    assert (task.status, task.cancel_reason) == (TaskStatus.CANCELLED, "Seen in clinic instead")


def test_reassign_to_the_team_and_the_same_assignee_refused(nurse_client, task, priya):
    url = reverse("tasks:task_reassign", args=[task.pk])
    response = nurse_client.post(url, {"version": 1, "assigned_to": priya.pk})
    assert "already assigned to Priya Shah" in text(by_id(body(response), "id_assigned_to-error"))
    nurse_client.post(url, {"version": 1, "assigned_to": "team"})
    task.refresh_from_db()
    assert task.assigned_to is None


def _task_urls(task):
    return [
        reverse("tasks:task_add", args=[task.patient.pk]),
        reverse("tasks:task_done", args=[task.pk]),
        reverse("tasks:task_cancel", args=[task.pk]),
        reverse("tasks:task_reassign", args=[task.pk]),
        reverse("followup:entered_in_error", args=["task", task.pk]),
    ]


def test_every_task_url_of_another_team_is_404_without_patient_data(client, other_nurse, nurse):
    theirs = TaskFactory(patient=PatientFactory(team=nurse.team, named_nurse=nurse, family_name="Faraway"))
    client.force_login(other_nurse)
    for url in _task_urls(theirs):
        for response in (client.get(url), client.post(url, {"version": 1, "reason": "x", "record_contact": "no"})):
            assert response.status_code == 404, url
            assert "Faraway" not in body(response) and "FARAWAY" not in body(response)
    theirs.refresh_from_db()
    assert (theirs.version, theirs.status, Task.all_objects.count()) == (1, TaskStatus.OPEN, 1)


def test_a_clinician_may_not_act_on_tasks_403(client, clinician, task):
    client.force_login(clinician)
    for url in _task_urls(task):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"version": 1, "reason": "x", "record_contact": "no"}).status_code == 403, url
    task.refresh_from_db()
    assert (task.version, Task.all_objects.count()) == (1, 1)


def test_a_clinician_sees_the_task_lists_without_actions(client, clinician, task):
    client.force_login(clinician)
    response = worklist(client, "team-tasks")
    assert listed(response) == [task]
    assert reverse("tasks:task_done", args=[task.pk]) not in body(response)


def test_a_task_can_be_marked_entered_in_error(nurse_client, task):
    response = nurse_client.post(
        reverse("followup:entered_in_error", args=["task", task.pk]), {"version": 1, "reason": "Wrong patient"}
    )
    assert response.status_code == 302
    assert Task.all_objects.get().entered_in_error and Task.objects.count() == 0


# The worklists -------------------------------------------------------------------------------------------


def test_my_tasks_holds_the_open_tasks_assigned_to_me_soonest_first(client, nurse, priya, patient, other_nurse):
    later = TaskFactory(patient=patient, assigned_to=priya, due_on=days(5))
    overdue = TaskFactory(patient=patient, assigned_to=priya, due_on=days(-3))
    TaskFactory(patient=patient, assigned_to=nurse)  # someone else's
    TaskFactory(patient=patient, assigned_to=None)  # the team's
    TaskFactory(patient=patient, assigned_to=priya, status=TaskStatus.DONE, done_at=timezone.now(), done_by=priya)
    TaskFactory(patient=patient, assigned_to=priya, status=TaskStatus.CANCELLED, cancel_reason="Not needed")
    wrong = TaskFactory(patient=patient, assigned_to=priya)
    record_mark_entered_in_error(record=wrong, reason="Wrong patient", by=priya)
    client.force_login(priya)
    response = worklist(client, "my-tasks")
    assert listed(response) == [overdue, later]
    assert "Overdue by 3 days" in body(response) and "Due in 5 days" in body(response)


def test_team_tasks_holds_every_open_task_of_the_team_with_the_assignee(client, nurse, priya, patient, other_nurse):
    mine = TaskFactory(patient=patient, assigned_to=nurse, due_on=days(1))
    team = TaskFactory(patient=patient, assigned_to=None, due_on=days(2))
    hers = TaskFactory(patient=patient, assigned_to=priya, due_on=days(3))
    TaskFactory(patient=PatientFactory(team=other_nurse.team, named_nurse=other_nurse), assigned_to=other_nurse)
    client.force_login(nurse)
    response = worklist(client, "team-tasks")
    assert listed(response) == [mine, team, hers]
    assert "The team" in body(response) and "Priya Shah" in body(response)
    assert listed(worklist(client, "team-tasks", nurse=nurse.pk)) == [mine]


def test_a_task_of_a_patient_entered_in_error_leaves_the_lists(client, nurse, patient, priya):
    TaskFactory(patient=patient, assigned_to=nurse)
    record_mark_entered_in_error(record=patient, reason="Duplicate", by=priya)
    client.force_login(nurse)
    assert listed(worklist(client, "my-tasks")) == [] and listed(worklist(client, "team-tasks")) == []


def test_another_teams_task_never_shows(client, nurse, other_nurse):
    TaskFactory(patient=PatientFactory(team=other_nurse.team, named_nurse=other_nurse), assigned_to=other_nurse)
    client.force_login(nurse)
    assert listed(worklist(client, "my-tasks")) == [] and listed(worklist(client, "team-tasks")) == []


def test_dashboard_counts_my_tasks_and_the_teams(client, nurse, priya, patient):
    TaskFactory(patient=patient, assigned_to=nurse)
    TaskFactory(patient=patient, assigned_to=None)
    TaskFactory(patient=patient, assigned_to=priya)
    client.force_login(nurse)
    response = client.get(reverse("followup:dashboard"))
    counts = {worklist.slug: count for worklist, count in response.context["counts"]}
    assert counts["my-tasks"] == {"team": 1, "mine": 1}
    assert counts["team-tasks"] == {"team": 3, "mine": 1}
    assert text(by_id(body(response), "count-team-tasks-team")) == "3"


@pytest.mark.parametrize("slug", ["my-tasks", "team-tasks"])
@pytest.mark.parametrize("rows", [1, 3])
def test_task_worklist_query_count_is_constant(slug, rows, client, nurse, priya, django_assert_num_queries):
    for _ in range(rows):
        TaskFactory(patient=PatientFactory(team=nurse.team, named_nurse=priya), assigned_to=nurse, due_on=days(-1))
    client.force_login(nurse)
    # session, user, nurse choices for the filter, COUNT for the total, the page of rows (with the
    # patient, the patient's named nurse and the assignee)
    with django_assert_num_queries(5):
        response = worklist(client, slug)
    assert response.context["table"].paginator.count == rows


# The patient page, timeline and history --------------------------------------------------------------------


def test_patient_page_tasks_section(client, nurse, priya, patient):
    overdue = TaskFactory(patient=patient, assigned_to=priya, due_on=days(-3), description="Chase the GP letter")
    TaskFactory(patient=patient, assigned_to=None, due_on=days(2), description="Book an interpreter")
    done = TaskFactory(patient=patient, assigned_to=priya, description="Phone the patient")
    services.task_complete(
        task=done, by=priya, expected_version=1, record_contact=True, contact_kind="phone_in", summary="She called"
    )
    client.force_login(nurse)
    html = body(client.get(reverse("followup:patient_detail", args=[patient.pk])))
    open_tasks = text(by_id(html, "open-tasks"))
    assert "Overdue by 3 days Chase the GP letter" in open_tasks and "For Priya Shah" in open_tasks
    assert "Due in 2 days Book an interpreter" in open_tasks and "For the team as a whole" in open_tasks
    closed = text(by_id(html, "closed-tasks"))
    assert "Done Phone the patient" in closed and "contact: call received" in closed
    assert reverse("tasks:task_add", args=[patient.pk]) in html
    assert reverse("tasks:task_done", args=[overdue.pk]) in html


def test_timeline_tells_tasks_set_done_and_cancelled(client, nurse, priya, patient):
    done = TaskFactory(patient=patient, assigned_to=priya, description="Phone the patient")
    services.task_complete(
        task=done,
        by=priya,
        expected_version=1,
        record_contact=True,
        contact_kind="phone_out",
        answered=True,
        summary="Result given",
    )
    cancelled = TaskFactory(patient=patient, assigned_to=None, description="Book transport")
    services.task_cancel(task=cancelled, reason="Family will drive", by=nurse, expected_version=1)
    wrong = TaskFactory(patient=patient, description="Wrong one")
    record_mark_entered_in_error(record=wrong, reason="Wrong patient", by=nurse)
    client.force_login(nurse)
    response = client.get(reverse("followup:patient_detail", args=[patient.pk]))
    events = {(e.title, e.detail, bool(e.error)) for e in response.context["timeline"].history if e.category == "task"}
    assert ("Task done: Phone the patient", "Done by Priya Shah. Contact recorded: phoned, answered.", False) in events
    assert ("Task cancelled: Book transport", "Family will drive", False) in events
    assert any(title == "Task set: Wrong one" and error for title, _, error in events)
    assert sum(title.startswith("Task set") for title, _, _ in events) == 3


def test_history_page_shows_the_tasks_changes(client, nurse, priya, patient):
    task = services.task_create(
        patient=patient, description="Phone the patient", due_on=days(1), by=nurse, assigned_to=priya
    )
    services.task_reassign(task=task, assigned_to=None, by=nurse, expected_version=1)
    client.force_login(nurse)
    response = client.get(reverse("followup:patient_history", args=[patient.pk]))
    changes = [(ch.record, ch.kind, ch.changes) for ch in response.context["changes"] if ch.record.startswith("Task")]
    assert changes[0] == ("Task: Phone the patient", "Changed", [("Assigned to", "Priya Shah", "–")])
    assert changes[1][1] == "Created"


def test_a_task_of_a_nurse_who_left_stays_on_team_tasks(client, nurse, priya, patient):
    task = TaskFactory(patient=patient, assigned_to=priya)
    priya.is_active = False
    priya.save(update_fields=["is_active"])
    client.force_login(nurse)
    response = worklist(client, "team-tasks")
    assert listed(response) == [task]
    assert "Priya Shah" in body(response)


def test_a_task_follows_its_patient_to_another_team(client, nurse, other_nurse, patient):
    """The patient moves team: the open task shows on the new team's list, never on no list at all."""
    task = TaskFactory(patient=patient, assigned_to=None)
    patient.team, patient.named_nurse = other_nurse.team, other_nurse
    patient.save(update_fields=["team", "named_nurse"])
    client.force_login(other_nurse)
    assert listed(worklist(client, "team-tasks")) == [task]
    client.force_login(nurse)
    assert listed(worklist(client, "team-tasks")) == []


def test_dashboard_numbers_of_team_tasks_open_the_scope_they_count(client, nurse, patient):
    TaskFactory(patient=patient, assigned_to=nurse)
    client.force_login(nurse)
    html = body(client.get(reverse("followup:dashboard")))
    team_tasks = reverse("followup:worklist", args=["team-tasks"])
    assert f'href="{team_tasks}?nurse={nurse.pk}" id="count-team-tasks-mine"' in html
    assert f'href="{team_tasks}" id="count-team-tasks-team"' in html
    my_tasks = reverse("followup:worklist", args=["my-tasks"])
    assert f'href="{my_tasks}" id="count-my-tasks-mine"' in html


def test_done_after_someone_else_reassigned_it_shows_the_conflict(client, nurse, priya, patient):
    task = services.task_create(patient=patient, description="Phone Mary", due_on=days(1), by=nurse, assigned_to=priya)
    services.task_reassign(task=task, assigned_to=None, by=nurse, expected_version=1)
    client.force_login(priya)
    response = client.post(reverse("tasks:task_done", args=[task.pk]), {"version": 1, "record_contact": "no"})
    assert response.status_code == 409
    assert ("Assigned to", "Priya Shah", "–", "") in response.context["conflict"].rows
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and Contact.all_objects.count() == 0
