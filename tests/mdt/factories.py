"""Factories of the MDT app: valid rows by default."""

from datetime import timedelta

import factory

from mdt.choices import MDTOutcome
from mdt.models import MDTDiscussion

from ..factories import RecurrenceFactory


class MDTDiscussionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MDTDiscussion

    recurrence = factory.SubFactory(RecurrenceFactory)
    patient = factory.SelfAttribute("recurrence.patient")
    meeting_on = factory.LazyAttribute(lambda o: o.recurrence.diagnosed_on + timedelta(days=3))
    outcome = MDTOutcome.SURGERY
    plan = "Wide local excision of the chest wall nodule; rediscuss with histology."
    attendees = "Mr A Surgeon, Dr B Oncologist, Dr C Radiologist, CNS D Nurse"
    created_by = factory.SelfAttribute("recurrence.created_by")
    updated_by = factory.SelfAttribute("recurrence.created_by")
