"""The shape every clinical action shares: scoped fetch, role check, form, service, redirect."""

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.views import View

from .. import tables
from ..audit import RecordNotVisible
from ..display import noun_for, show_date, show_datetime
from ..history import NOTHING, changes_since, shown_now
from ..models import Patient, User, patient_of
from ..navigation import came_from, patient_trail
from ..permissions import can_act, can_administer
from ..services import ConflictError
from ..worklists import page_total


def get_visible_or_404(rows: QuerySet, pk):
    """The row of ``rows`` (a user's scoped queryset) with this pk; otherwise a 404 that never
    hints the row exists, and that the access log records (RecordNotVisible)."""
    try:
        return rows.get(pk=pk)
    except rows.model.DoesNotExist:
        raise RecordNotVisible(rows.model, pk) from None


def get_patient_for(user, pk) -> Patient:
    """The patient, if this user may see them; otherwise 404 (never a hint that they exist)."""
    return get_visible_or_404(Patient.objects.visible_to(user), pk)


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's refusal, shown beside the field it is about (or above the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _flat_choices(choices):
    for key, value in choices:
        if isinstance(value, list | tuple):
            yield from value
        else:
            yield key, value


def entry_shown(form: forms.Form, name: str) -> str:
    """What the user entered in a field of a valid form, as a person reads it (labels, "1 Dec 2026")."""
    field = form.fields[name]
    cleaned = getattr(form, "cleaned_data", {})
    value = cleaned[name] if name in cleaned else form.data.get(name)
    if value is None or value == "" or value == []:
        return NOTHING
    if isinstance(value, User):
        return value.get_full_name() or value.username
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return show_date(value)
    if isinstance(field, forms.ModelMultipleChoiceField):
        return ", ".join(sorted(str(row) for row in value)) or NOTHING
    if isinstance(field, forms.ModelChoiceField):
        return str(value)
    labels = dict(_flat_choices(getattr(field, "choices", ())))
    if isinstance(value, list | tuple):
        return ", ".join(sorted(str(labels.get(v, v)) for v in value))
    return str(labels.get(value, value))


@dataclass
class Conflict:
    """What the conflict page shows: what the others did, and the fields that differ."""

    steps: list[str]  # each save since the user opened the record, in words
    rows: list[tuple[str, str, str, str]]  # (field, when you opened it, saved now, your entry)
    opened_known: bool = True  # False: the record's values when the user opened it were never recorded


class ActionView(View):
    """One clinical action. Subclasses set ``form_class`` and ``title`` and write ``perform()``.

    ``model`` set: the URL's pk is a record of that model (fetched through the
    user's team scope, 404 otherwise); unset: the pk is a patient.
    """

    model = None
    form_class: type[forms.Form]
    title = ""  # the task, as the page's h1 says it; "{noun}" stands for the record ("the mammogram")
    submit_label = "Save"
    admin_only = False
    status_change = False  # discharges, deaths, entered in error: styled as warnings, apart from everyday actions
    template_name = "followup/action.html"
    # Form fields saved on the record under another name (form field: record field), for the conflict page.
    conflict_fields: dict[str, str] = {}
    # The form a worklist row offers for this action, by htmx (tables.ROW_ACTIONS), if any.
    row_action = ""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if self.model is None:
            self.record = None
            self.patient = get_patient_for(user, kwargs["pk"])
        else:
            rows = self.model.objects.visible_to(user)
            rows = rows.live() if hasattr(rows, "live") else rows
            self.record = get_visible_or_404(rows, kwargs["pk"])
            self.patient = patient_of(self.record)
        # Scope first (404 for another team), then role (403 for the read-only).
        if not can_act(user) or (self.admin_only and not can_administer(user)):
            raise PermissionDenied("Your role cannot make this change.")
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self) -> dict:
        target = self.record if self.record is not None else self.patient
        return {"version": target.version}

    def get_form_kwargs(self) -> dict:
        return {}

    def get_form(self, data=None) -> forms.Form:
        return self.form_class(data, initial=self.get_initial(), **self.get_form_kwargs())

    def get(self, request, *args, **kwargs):
        return self.render(self.get_form())

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        conflict = opened_version = None
        if form.is_valid():
            try:
                return self.perform(form)
            except ConflictError as exc:
                # Keep what the user typed; the next save is made against what is saved now.
                conflict, opened_version = exc.current, form.cleaned_data["version"]
                form.data = form.data.copy()
                form.data["version"] = conflict.version
                form.add_error(None, exc.messages)
            except ValidationError as exc:
                apply_errors(form, exc)
        if is_htmx(request):
            return self.row_refused(form)
        return self.render(form, conflict=conflict, opened_version=opened_version, status=409 if conflict else 200)

    def row_refused(self, form) -> HttpResponse:
        """A worklist row asked by htmx and nothing was saved: its form again, the error beside
        its control and the focus on it, in place of the form only (the patient and the rest of
        the row stay); a row with no such form (``row_action``) gets a row saying why."""
        post = self.request.POST
        if not self.row_action:
            errors = [error for errors in form.errors.values() for error in errors]
            context = {"errors": errors, "url": self.request.path}
            return render(self.request, "followup/includes/row_error.html", context)
        html = tables.row_form_refused(
            self.row_action,
            self.record,
            request=self.request,
            next_url=post.get("next", ""),
            version=post.get("version", ""),
            errors=form.errors,
            chosen=post.get("outcome", ""),
        )
        return HttpResponse(html, headers={"HX-Retarget": "this", "HX-Reswap": "outerHTML"})

    def perform(self, form) -> HttpResponse:
        raise NotImplementedError

    def warning(self) -> str:
        """What the user must know before confirming this action ("" for nothing)."""
        return ""

    def record_summary(self) -> list[tuple[str, str]]:
        """(term, words) describing the record acted on, shown above the form ([] for none)."""
        return []

    def report(self) -> dict | None:
        """A report to read before acting ({"text", "amended"}), shown in full above the form (None for none)."""
        return None

    def render(self, form, *, conflict=None, opened_version=None, status=200) -> HttpResponse:
        context = {
            "form": form,
            "view": self,
            "title": self.heading(),
            # A step that only chooses what comes next (forms.RecurrenceTypeForm) is a GET form.
            "form_method": getattr(form, "method", "post"),
            "submit_label": getattr(form, "submit_label", self.submit_label),
            "patient": self.patient,
            "record": self.record,
            "today": timezone.localdate(),
            "cancel_url": self.next_url(),
            "conflict": self.conflict_rows(conflict, form, opened_version=opened_version) if conflict else None,
            "conflict_record": conflict,
            "warning": self.warning(),
            "summary": self.record_summary(),
            "status_change": self.status_change,
            # Back to the list the user came from (``next``), else to the patient.
            "trail": came_from(self.request, patient=self.patient) or patient_trail(self.patient),
        }
        return render(self.request, self.template_name, context, status=status)

    def heading(self) -> str:
        """The page's h1: the task, naming the record acted on ("Record the mammogram as done")."""
        return self.title.format(noun=noun_for(self.record if self.record is not None else self.patient))

    def conflict_rows(self, current, form, *, opened_version: int) -> Conflict:
        """Every field someone else changed since the version the user opened (with the user's
        entry where the form has it), then the user's own changes to fields they left alone."""
        since = changes_since(current, version=opened_version)
        names = [name for name, field in form.fields.items() if name != "version" and not field.widget.is_hidden]
        on_record = {name: self.conflict_fields.get(name, name) for name in names}
        in_form = {record_name: name for name, record_name in on_record.items()}

        def label(name: str, fallback: str) -> str:
            return form.fields[name].label or fallback

        rows = []
        for change in since.fields:
            name = in_form.get(change.name)
            if name is None:
                rows.append((change.label, change.before, change.now, ""))
            else:
                rows.append((label(name, change.label), change.before, change.now, entry_shown(form, name)))
        changed = {change.name for change in since.fields}
        for name in names:
            if on_record[name] in changed:
                continue
            yours, now = entry_shown(form, name), shown_now(current, on_record[name])
            if yours != (now or NOTHING):
                now = now or NOTHING
                rows.append((label(name, capfirst(name.replace("_", " "))), now, now, yours))
        return Conflict(since.steps, rows, since.opened_known)

    def next_url(self) -> str:
        target = self.request.POST.get("next") or self.request.GET.get("next")
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={self.request.get_host()}):
            return target
        return reverse("followup:patient_detail", args=[self.patient.pk])

    def done(self, message: str, url: str | None = None) -> HttpResponse:
        if is_htmx(self.request):
            # The row says what was done and takes the focus; the list's count follows (out of band).
            context = {
                "message": message,
                "patient": self.patient,
                "next_step_url": url,
                "page_total": page_total(self.request, self.request.POST.get("next", "")),
            }
            return render(self.request, "followup/includes/row_done.html", context)
        messages.success(self.request, message)
        return redirect(url or self.next_url())


def add_item_url(patient: Patient, **initial) -> str:
    return f"{reverse('followup:item_add', args=[patient.pk])}?{urlencode(initial)}"


def day_or_not_recorded(value) -> str:
    return show_date(value) if value else "Not recorded"


def acknowledged_rows(by, at) -> list[tuple[str, str]]:
    """A result already acknowledged says so: acknowledging again changes nothing."""
    if at is None:
        return []
    return [("Acknowledged", f"By {by.get_full_name() or by.username} on {show_datetime(at)}")]
