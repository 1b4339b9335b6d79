"""Issue 14's task journey in a real Chromium: a nurse sets a task for a colleague from a worklist row;
the colleague finds it on her list and marks it done, recording the phone call it took."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Contact
from followup import choices as c
from tasks.models import Task, TaskStatus

from ..factories import FollowUpItemFactory, PatientFactory
from .helpers import fill_date, log_in, message, path_is, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_a_task_for_a_colleague_and_see_it_on_her_list(new_context, alex, priya):
    today = timezone.localdate()
    mary = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    FollowUpItemFactory(patient=mary, kind=c.FollowUpKind.MAMMOGRAM, due_on=today - timedelta(days=40))

    # Alex, on her overdue list, sets Priya a task from Mary's row.
    page = new_context().new_page()
    log_in(page, "alex")
    page.get_by_role("link", name="Overdue follow-up", exact=True).click()
    row(page, "BROWN, Mary").get_by_role("link", name="Add a task for BROWN, Mary").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a task")
    page.get_by_label("What needs doing").fill("Phone Mary to rebook her mammogram")
    fill_date(page, "Due date", today + timedelta(days=1))
    page.get_by_label("Priya Shah").check()
    page.get_by_role("button", name="Add the task").click()
    expect(page).to_have_url(path_is("/worklists/overdue/"))  # back on her list
    expect(message(page)).to_contain_text("Task added for Priya Shah")

    # Priya sees it on her dashboard and her list, due tomorrow, and does it: a call, answered.
    page = new_context().new_page()
    log_in(page, "priya")
    expect(page.locator("#count-my-tasks-mine")).to_have_text("1")
    page.get_by_role("link", name="My tasks", exact=True).click()
    task_row = row(page, "BROWN, Mary")
    expect(task_row).to_contain_text("Phone Mary to rebook her mammogram")
    expect(task_row).to_contain_text("Due tomorrow")
    task_row.get_by_role("link", name="Done for BROWN, Mary").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mark the task as done")
    expect(page.get_by_label("Summary")).to_have_value("Phone Mary to rebook her mammogram")
    page.get_by_role("group", name="Record a contact in the contact log?").get_by_label("Yes").check()
    page.get_by_label("Telephone call made").check()
    page.get_by_role("group", name="Was the call answered?").get_by_label("Yes").check()
    page.get_by_label("Outcome").fill("Mammogram rebooked for next week.")
    page.get_by_role("button", name="Mark as done").click()

    expect(page).to_have_url(path_is("/worklists/my-tasks/"))
    expect(message(page)).to_contain_text("Task done; contact recorded: phoned, answered.")
    expect(row(page, "BROWN, Mary")).to_have_count(0)

    task = Task.objects.get()
    contact = Contact.objects.get()
    assert (task.status, task.assigned_to, task.created_by, task.done_by, task.contact) == (
        TaskStatus.DONE, priya, alex, priya, contact
    )  # fmt: skip
    assert (contact.patient, contact.kind, contact.answered, contact.by) == (mary, "phone_out", True, priya)
    assert (contact.summary, contact.outcome) == (
        "Phone Mary to rebook her mammogram",
        "Mammogram rebooked for next week.",
    )
