"""The staff pages of the inbox (session, never a token): a message as it arrived and where it went,
and placing an unmatched one by hand (placing.py). Another team's message is not found (404); the
read-only clinician may read a message but not place it (403)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from followup.models import Patient
from followup.permissions import can_act
from followup.views.base import apply_errors, get_visible_or_404

from . import placing
from .forms import AmendmentForm, FindPatientForm, MatchForm, NewItemForm, NotOursForm
from .models import UNPLACED_STATUSES, InboxMessage
from .worklist import SLUG


def _list_url() -> str:
    return reverse("followup:worklist", args=[SLUG])


def _message_for(user, pk) -> InboxMessage:
    rows = InboxMessage.objects.visible_to(user).select_related(
        "client", "patient", "staging_test", "followup_item", "placed_by", "amends", "duplicate_of"
    )
    message = get_visible_or_404(rows, pk)
    if message.patient_id and not Patient.objects.visible_to(user).filter(pk=message.patient_id).exists():
        # The sender serves her team and another: a message about the other team's patient is theirs.
        if message.status not in UNPLACED_STATUSES:
            raise Http404("No such message.")
        message.patient = None  # unplaced: she sees the message, never the other team's patient
    return message


def _patient_for(user, message: InboxMessage, nhs_number: str) -> Patient | None:
    """The patient with this NHS number among those the user may see, of a team the sender serves."""
    if not nhs_number:
        return None
    return (
        Patient.objects.visible_to(user)
        .filter(nhs_number=nhs_number, team__in=message.client.teams.all(), entered_in_error=False)
        .select_related("team", "named_nurse")
        .first()
    )


def _history(message: InboxMessage) -> list:
    """Each change of where the message went: when, by whom, to what status, why."""
    return list(message.history.select_related("history_user").order_by("history_date", "history_id"))


def _page(request, message: InboxMessage, *, bound: dict | None = None, status: int = 200):
    """The message page, with the placing forms for an unplaced message (``bound``: the form that was
    posted, with its errors, and the patient it was about)."""
    bound = bound or {}
    unplaced = message.status in UNPLACED_STATUSES
    may_place = unplaced and can_act(request.user)
    context = {
        "message": message,
        "title": f"Result received {timezone.localtime(message.received_at):%-d %b %Y}",
        "unplaced": unplaced,
        "may_place": may_place,
        "history": _history(message),
        "list_url": _list_url(),
    }
    if may_place:
        find = bound.get("find") or FindPatientForm(
            request.GET if "nhs_number" in request.GET else None,
            initial={"nhs_number": (message.patient.nhs_number if message.patient else message.nhs_number)},
        )
        if "patient" in bound:
            patient = bound["patient"]
        elif find.is_bound:
            patient = _patient_for(request.user, message, find.cleaned_data["nhs_number"]) if find.is_valid() else None
            if find.is_valid() and patient is None:
                find.add_error(
                    "nhs_number", "No patient you may see, of the teams this system serves, has this NHS number."
                )
        else:
            patient = message.patient or _patient_for(request.user, message, message.nhs_number)
        targets = placing.open_targets(patient) if patient else []
        context.update(
            find=find,
            patient=patient,
            differences=placing.differences(message, patient) if patient else [],
            match=bound.get("match") or (MatchForm(targets=targets, prefix="match") if targets else None),
            new_item=bound.get("new_item") or (NewItemForm(prefix="new") if patient else None),
            not_ours=bound.get("not_ours") or NotOursForm(prefix="not-ours"),
            amendment=bound.get("amendment") or (AmendmentForm() if message.amends_id else None),
        )
    errors = [form for form in bound.values() if hasattr(form, "errors") and form.errors]
    context["form"] = errors[0] if errors else None  # the error summary's form
    if errors and not unplaced:
        status = 409  # placed by someone else meanwhile: the page says so, nothing was saved
    return render(request, "integration/inbox_message.html", context, status=status)


@require_GET
def inbox_message(request, pk):
    return _page(request, _message_for(request.user, pk))


def _acting(request, pk) -> InboxMessage:
    message = _message_for(request.user, pk)  # scope first (404 for another team), then role (403)
    if not can_act(request.user):
        raise PermissionDenied("Your role cannot place results.")
    return message


def _posted_patient(request, message) -> Patient | None:
    return _patient_for(request.user, message, request.POST.get("patient_nhs_number", ""))


def _placed(request, text: str):
    messages.success(request, text)
    return redirect(_list_url())


def _refused(request, message, name: str, form, error: ValidationError, **more):
    apply_errors(form, error)
    message.refresh_from_db()
    return _page(request, message, bound={name: form, **more})


@require_POST
def inbox_match(request, pk):
    message = _acting(request, pk)
    patient = _posted_patient(request, message)
    if patient is None:
        return _page(request, message)
    form = MatchForm(request.POST, targets=placing.open_targets(patient), prefix="match")
    if form.is_valid():
        try:
            placing.message_match(
                message=message,
                patient=patient,
                target=form.cleaned_data["target"],
                checked=form.cleaned_data["checked"],
                by=request.user,
            )
        except ValidationError as error:
            return _refused(request, message, "match", form, error, patient=patient)
        return _placed(request, f"Result placed on {patient.display_name}'s record: it waits to be classified.")
    return _page(request, message, bound={"match": form, "patient": patient})


@require_POST
def inbox_new_item(request, pk):
    message = _acting(request, pk)
    patient = _posted_patient(request, message)
    if patient is None:
        return _page(request, message)
    form = NewItemForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            placing.message_record_new_item(
                message=message,
                patient=patient,
                kind=form.cleaned_data["kind"],
                checked=form.cleaned_data["checked"],
                by=request.user,
            )
        except ValidationError as error:
            return _refused(request, message, "new_item", form, error, patient=patient)
        return _placed(request, f"Result recorded on a new follow-up item of {patient.display_name}.")
    return _page(request, message, bound={"new_item": form, "patient": patient})


@require_POST
def inbox_not_ours(request, pk):
    message = _acting(request, pk)
    form = NotOursForm(request.POST, prefix="not-ours")
    if form.is_valid():
        try:
            placing.message_not_ours(message=message, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as error:
            return _refused(request, message, "not_ours", form, error)
        return _placed(request, "Marked not ours, with your reason.")
    return _page(request, message, bound={"not_ours": form})


@require_POST
def inbox_amendment(request, pk):
    message = _acting(request, pk)
    form = AmendmentForm(request.POST)
    try:
        placing.message_place_amendment(message=message, by=request.user)
    except ValidationError as error:
        return _refused(request, message, "amendment", form, error)
    return _placed(request, "Amended report attached: the result waits to be read again.")
