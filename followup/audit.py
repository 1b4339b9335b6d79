"""The audit trail's guard: a clinical change must name who made it."""

from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from .models import ClinicalRecord


class ChangeWithoutActor(Exception):
    """A clinical record was written with nobody to answer for it."""


@receiver(pre_create_historical_record)
def refuse_change_without_actor(sender, instance, history_instance, **kwargs):
    if isinstance(instance, ClinicalRecord) and history_instance.history_user_id is None:
        raise ChangeWithoutActor(f"{type(instance).__name__} {instance.pk} changed without a user: refused.")
