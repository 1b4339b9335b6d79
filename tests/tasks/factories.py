from datetime import timedelta

import factory
from django.utils import timezone

from tests.factories import PatientFactory


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tasks.Task"

    patient = factory.SubFactory(PatientFactory)
    description = "Phone to discuss the mammogram result"
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=3))
    assigned_to = factory.SelfAttribute("patient.named_nurse")
    team = factory.SelfAttribute("patient.team")
    created_by = factory.SelfAttribute("patient.named_nurse")
    updated_by = factory.SelfAttribute("patient.named_nurse")
