from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from followup.models import User
from followup.worklists import WORKLISTS
from tasks.models import Task, TaskStatus

TODAY = timezone.localdate()


@pytest.fixture
def seeded(db):
    call_command("seed_demo", patients=60, stdout=StringIO())


def test_seed_demo_gives_every_nurse_open_tasks_some_overdue(seeded):
    for nurse in User.objects.filter(role="nurse"):
        mine = list(WORKLISTS["my-tasks"].for_user(nurse, today=TODAY))
        assert mine, nurse.username
        assert any(task.due_on < TODAY for task in mine), nurse.username


def test_seed_demo_has_team_tasks_and_tasks_done_with_a_contact(seeded):
    nurse = User.objects.get(username="nurse")
    assert WORKLISTS["team-tasks"].for_user(nurse, today=TODAY).filter(assigned_to=None).exists()
    done = Task.objects.filter(status=TaskStatus.DONE, patient__team=nurse.team).select_related("contact")
    assert done.exists() and all(task.contact.patient_id == task.patient_id for task in done)
    for task in Task.objects.all():
        task.full_clean()  # bulk rows skip it: the demo's rows keep the model's rules
