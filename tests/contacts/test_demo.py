"""The demo's contact log (contacts/demo.py, from followup/demo.py's seed)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from contacts.models import Contact, ContactKind
from followup.models import FollowUpItem, User


@pytest.fixture
def seeded(db):
    call_command("seed_demo", patients=40, stdout=StringIO())


def test_demo_seeds_realistic_contact_histories(seeded):
    contacts = list(Contact.objects.select_related("patient"))
    kinds = {(c.kind, c.answered, c.message_left) for c in contacts}
    assert {
        (ContactKind.PHONE_OUT, True, False),
        (ContactKind.PHONE_OUT, False, True),
        (ContactKind.PHONE_IN, None, False),
        (ContactKind.CLINIC, None, False),
    } <= kinds
    now = timezone.now()
    assert all(c.contacted_at < now and c.contacted_at.date() >= c.patient.date_of_birth for c in contacts)
    assert [c for c in contacts if c.message_left and c.patient.messages_may_be_left is False] == []
    # The contacts demo's own calls are the named nurse's; a task done by a colleague (tasks/demo.py) is hers.
    assert all(c.by == c.created_by for c in contacts)
    assert sum(c.by == c.patient.named_nurse for c in contacts) > len(contacts) * 0.8


def test_demo_overdue_list_shows_a_last_contact(seeded):
    nurse = User.objects.get(username="nurse")
    today = timezone.localdate()
    rows = FollowUpItem.objects.overdue(today=today).visible_to(nurse).for_worklist()
    assert any(row.last_contact_kind == ContactKind.PHONE_OUT for row in rows)


def test_demo_rerun_adds_no_contacts(seeded):
    before = Contact.all_objects.count()
    call_command("seed_demo", patients=40, stdout=StringIO())
    assert Contact.all_objects.count() == before > 0
