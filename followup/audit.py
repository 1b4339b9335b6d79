"""The audit trail: a clinical change must name who made it; reads of patient data, and refused
requests for it, are written to the access log."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.dispatch import receiver
from django.http import Http404
from django.template.defaultfilters import pluralize
from django.utils import timezone
from simple_history.signals import pre_create_historical_record

from .choices import AccessAction, AccessOutcome
from .models import AccessLog, ClinicalRecord, Patient


class ChangeWithoutActor(Exception):
    """A clinical record was written with nobody to answer for it."""


@receiver(pre_create_historical_record)
def refuse_change_without_actor(sender, instance, history_instance, **kwargs):
    if isinstance(instance, ClinicalRecord) and history_instance.history_user_id is None:
        raise ChangeWithoutActor(f"{type(instance).__name__} {instance.pk} changed without a user: refused.")


def record_access(
    *,
    user,
    path: str,
    action: str,
    outcome: str = AccessOutcome.VIEWED,
    patient: Patient | None = None,
    model: type[models.Model] | None = None,
    pk="",
    nhs_number: str = "",
) -> AccessLog:
    """One access-log row: who, what they asked for, what they got. One INSERT."""
    return AccessLog.objects.create(
        user=user,
        patient=patient,
        action=action,
        outcome=outcome,
        object_type=model._meta.label_lower if model else "",
        object_pk=str(pk)[:40],
        nhs_number=nhs_number,
        path=path[:300],
    )


def log_access(request, **event) -> AccessLog:
    """record_access() for the signed-in user at this request's address."""
    return record_access(user=request.user, path=request.get_full_path(), **event)


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


# NHS numbers registered by another team -------------------------------------------------

HOUR = timedelta(hours=1)


def nhs_number_check_paused_until(user, *, now: datetime) -> datetime | None:
    """When this user's check of NHS numbers against other teams resumes, if it is paused.

    Telling someone that a number is registered by another team tells them that person is
    a patient here, so a user who has been told REGISTERED_ELSEWHERE_LIMIT_PER_HOUR times in
    the last hour is told nothing more until the oldest of those is an hour old. The access
    log is the counter (one indexed query; followup_access_refusals).
    """
    limit = settings.REGISTERED_ELSEWHERE_LIMIT_PER_HOUR
    recent = AccessLog.objects.filter(user=user, outcome=AccessOutcome.REGISTERED_ELSEWHERE, at__gt=now - HOUR)
    times = list(recent.order_by("-at").values_list("at", flat=True)[:limit])
    return times[-1] + HOUR if len(times) >= limit else None


def check_nhs_number_elsewhere(*, user, path: str, nhs_number: str, registered: Patient | None) -> None:
    """Refuse, and log, an NHS number registered by a team the user cannot see (``registered``),
    or any number at all while the user's check is paused; a number free to use passes."""
    event = {"user": user, "path": path, "action": AccessAction.CHECK_NHS_NUMBER, "nhs_number": nhs_number}
    now = timezone.now()
    paused_until = nhs_number_check_paused_until(user, now=now)
    if paused_until is not None:
        record_access(**event, outcome=AccessOutcome.CHECK_PAUSED)
        limit = settings.REGISTERED_ELSEWHERE_LIMIT_PER_HOUR
        raise ValidationError(
            f"You have entered {limit} NHS number{pluralize(limit)} registered by another team in the last hour, "
            f"so this check is paused until {timezone.localtime(paused_until):%H:%M}. "
            "Contact an admin to register this patient."
        )
    if registered is not None:
        record_access(**event, outcome=AccessOutcome.REGISTERED_ELSEWHERE, patient=registered)
        raise ValidationError("A patient with this NHS number is already registered by another team. Contact an admin.")
