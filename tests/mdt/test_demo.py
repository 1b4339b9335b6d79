"""The demo data shows the MDT: most recurrences discussed with a plan, the recent ones still to discuss."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from followup import choices as c
from followup.models import Recurrence, User
from mdt.demo import RECENT_DAYS
from mdt.models import MDTDiscussion, not_discussed_at_mdt


@pytest.fixture
def seeded(db):
    call_command("seed_demo", patients=200, verbosity=0)


def test_most_recurrences_are_discussed_and_the_recent_ones_are_on_the_list(seeded):
    today = timezone.localdate()
    older = Recurrence.objects.exclude(status=c.RecurrenceStatus.REFUTED).filter(
        diagnosed_on__lte=today - timedelta(days=RECENT_DAYS)
    )
    discussed = older.filter(mdt_discussions__isnull=False).distinct().count()
    assert older.count() > 5 and discussed >= 0.75 * older.count()  # a few gaps for the failsafe list
    nurse = User.objects.get(username="nurse")
    waiting = list(not_discussed_at_mdt().visible_to(nurse))
    assert waiting, "the demo nurse has a recurrence to take to the MDT"
    assert all(d.plan and d.attendees for d in MDTDiscussion.objects.all())
    for discussion in MDTDiscussion.objects.select_related("recurrence"):
        assert discussion.recurrence.diagnosed_on <= discussion.meeting_on <= today
        assert discussion.patient_id == discussion.recurrence.patient_id
    recent = [r for r in waiting if (today - r.diagnosed_on).days < RECENT_DAYS]
    assert recent
