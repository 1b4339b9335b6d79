"""Clinical actions on follow-up items: add, book, done, result, did not attend, cancel, acknowledge."""

from datetime import timedelta

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from .. import choices as c
from .. import forms as f
from .. import services
from ..display import noun_for, show_date
from ..models import FollowUpItem
from ..navigation import patient_trail
from .actions_recurrences import ClassifyMixin
from .base import ActionView, acknowledged_rows, add_item_url, day_or_not_recorded, get_visible_or_404

# Follow-up items ----------------------------------------------------------------


class ItemAddView(ActionView):
    form_class = f.AddItemForm
    title = "Add a follow-up item"

    def get_initial(self):
        return {key: self.request.GET[key] for key in ("kind", "due_on", "notes") if key in self.request.GET}

    def perform(self, form):
        item = services.followup_item_add(patient=self.patient, by=self.request.user, **form.cleaned_data)
        return self.done(f"{item.get_kind_display()} added, due {show_date(item.due_on)}.")


class ItemActionView(ActionView):
    model = FollowUpItem

    def done_with_result(self, item: FollowUpItem, message: str):
        """After a result is recorded or read: an abnormal one goes on to its next step
        (a clinic review or a suspected recurrence), so it is never left at "recorded"."""
        if item.result == c.ImagingOutcome.ABNORMAL:
            return self.done(f"{message} Choose the next step.", reverse("followup:item_next_step", args=[item.pk]))
        return self.done(message)


class ItemBookView(ItemActionView):
    form_class = f.BookItemForm
    title = "Book the {noun}"

    def perform(self, form):
        services.followup_item_book(
            item=self.record,
            booked_for=form.cleaned_data["booked_for"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        return self.done(f"{self.record.get_kind_display()} booked for {show_date(form.cleaned_data['booked_for'])}.")


class ItemDoneView(ItemActionView):
    form_class = f.RecordDoneForm
    title = "Record the {noun} as done"

    def get_form_kwargs(self):
        return {"item": self.record}

    def perform(self, form):
        item = services.followup_item_record_done(
            item=self.record,
            done_on=form.cleaned_data["done_on"],
            result=form.cleaned_data["result_value"],
            result_awaited=form.cleaned_data["result_awaited"],
            notes=form.cleaned_data["notes"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        if item.result == c.ImagingOutcome.ABNORMAL:
            return self.done_with_result(item, "Abnormal result recorded.")
        if item.result_awaited:
            return self.done(f"{item.get_kind_display()} recorded as done; its result is awaited.")
        return self.done(f"{item.get_kind_display()} recorded as done.")


class ItemResultView(ItemActionView):
    """The result of an item recorded done with its result not yet available."""

    form_class = f.RecordResultForm
    title = "Record the {noun} result"

    def get_form_kwargs(self):
        return {"item": self.record}

    def perform(self, form):
        item = services.followup_item_record_result(
            item=self.record,
            result=form.cleaned_data["result"],
            notes=form.cleaned_data["notes"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        if item.result == c.ImagingOutcome.ABNORMAL:
            return self.done_with_result(item, "Abnormal result recorded.")
        return self.done(f"{item.get_kind_display()} result recorded; it now waits to be acknowledged.")


class ItemDidNotAttendView(ItemActionView):
    form_class = f.ConfirmForm
    title = "Record that the patient did not attend the {noun}"
    submit_label = "Record did not attend"

    def perform(self, form):
        item = services.followup_item_did_not_attend(
            item=self.record, by=self.request.user, expected_version=form.cleaned_data["version"]
        )
        rebook = add_item_url(self.patient, kind=item.kind, due_on=timezone.localdate() + timedelta(days=14))
        return self.done("Did not attend recorded. Book the next appointment now so nothing is missed.", rebook)


class ItemCancelView(ItemActionView):
    form_class = f.CancelForm
    title = "Cancel the {noun}"
    submit_label = "Cancel this item"
    conflict_fields = {"reason": "cancel_reason"}

    def perform(self, form):
        item = services.followup_item_cancel(
            item=self.record,
            reason=form.cleaned_data["reason"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        if self.patient.is_active and not services.has_next_follow_up(self.patient):
            replacement = add_item_url(self.patient, kind=item.kind, due_on=item.due_on)
            return self.done("Cancelled. This patient now has no next follow-up: add a replacement.", replacement)
        return self.done(f"{item.get_kind_display()} cancelled.")


class ItemAcknowledgeView(ItemActionView):
    form_class = f.ConfirmForm  # carries the version of the result the user read
    row_action = "acknowledge"
    title = "Acknowledge the {noun} result"
    submit_label = "Acknowledge"

    def record_summary(self):
        item = self.record
        return [
            ("Follow-up", item.get_kind_display()),
            ("Due", day_or_not_recorded(item.due_on)),
            ("Done", day_or_not_recorded(item.done_on)),
            ("Result", item.get_result_display() or "Not recorded"),
            ("Notes", item.notes or "None recorded"),
            *acknowledged_rows(item.result_acknowledged_by, item.result_acknowledged_at),
        ]

    def perform(self, form):
        item = services.result_acknowledge(
            item=self.record, by=self.request.user, expected_version=form.cleaned_data["version"]
        )
        return self.done_with_result(
            item, f"{item.get_kind_display()} result acknowledged ({item.get_result_display()})."
        )


class ItemClassifyView(ClassifyMixin, ItemActionView):
    form_class = f.ClassifyItemForm

    def report_text(self) -> str:
        return self.record.report

    def record_summary(self):
        item = self.record
        return [
            ("Follow-up", item.get_kind_display()),
            ("Due", day_or_not_recorded(item.due_on)),
            ("Done", day_or_not_recorded(item.done_on)),
            ("Result now", item.get_result_display()),
        ]

    def perform(self, form):
        item = services.followup_item_classify(
            item=self.record,
            result=form.cleaned_data["result"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        return self.done_with_result(
            item, f"{item.get_kind_display()} result classified and acknowledged ({item.get_result_display()})."
        )


def item_next_step(request, pk):
    """After an abnormal result: a clinic review, or a suspected recurrence."""
    results = (
        FollowUpItem.objects.visible_to(request.user).live().filter(status=c.FollowUpStatus.DONE).exclude(result="")
    )
    item = get_visible_or_404(results, pk)
    patient = item.patient
    context = {
        "item": item,
        "patient": patient,
        "today": timezone.localdate(),
        "review_url": add_item_url(
            patient,
            kind=c.FollowUpKind.CLINIC_REVIEW,
            due_on=timezone.localdate() + timedelta(days=14),
            notes=f"Review of abnormal {item.get_kind_display().lower()} of {show_date(item.done_on)}",
        ),
        "recurrence_url": reverse("followup:recurrence_add", args=[patient.pk]),
        "title": f"Abnormal {noun_for(item)} result: choose the next step",
        "trail": patient_trail(patient),
    }
    return render(request, "followup/next_step.html", context)
