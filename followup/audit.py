"""The audit trail: a clinical change must name who made it; reads of patient data, and refused
requests for it, are written to the access log."""

from django.db import models
from django.dispatch import receiver
from django.http import Http404
from simple_history.signals import pre_create_historical_record

from .choices import AccessAction, AccessOutcome
from .models import AccessLog, ClinicalRecord, Patient


class ChangeWithoutActor(Exception):
    """A clinical record was written with nobody to answer for it."""


@receiver(pre_create_historical_record)
def refuse_change_without_actor(sender, instance, history_instance, **kwargs):
    if isinstance(instance, ClinicalRecord) and history_instance.history_user_id is None:
        raise ChangeWithoutActor(f"{type(instance).__name__} {instance.pk} changed without a user: refused.")


def log_access(
    request,
    *,
    action: str,
    outcome: str = AccessOutcome.VIEWED,
    patient: Patient | None = None,
    model: type[models.Model] | None = None,
    pk="",
    nhs_number: str = "",
) -> AccessLog:
    """One access-log row: who (the signed-in user), what they asked for, what they got. One INSERT."""
    return AccessLog.objects.create(
        user=request.user,
        patient=patient,
        action=action,
        outcome=outcome,
        object_type=model._meta.label_lower if model else "",
        object_pk=str(pk)[:40],
        nhs_number=nhs_number,
        path=request.get_full_path()[:300],
    )


class RecordNotVisible(Http404):
    """A record the user's access scope does not hold (another team's, or none at all).

    A 404 like any other to the user; followup.middleware.AccessRefusalMiddleware logs it,
    after the view's transaction (if any) has ended, so the row is kept.
    """

    def __init__(self, model: type[models.Model], pk):
        super().__init__(f"No {model._meta.verbose_name} found.")
        self.model, self.pk = model, pk


def log_refusal(request, refusal: RecordNotVisible) -> AccessLog:
    return log_access(
        request,
        action=AccessAction.REQUEST_RECORD,
        outcome=AccessOutcome.NOT_FOUND,
        model=refusal.model,
        pk=refusal.pk,
    )
