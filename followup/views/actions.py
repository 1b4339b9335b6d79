"""The clinical actions: each validates a form, calls one service, and redirects."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .. import choices as c
from .. import forms as f
from .. import services
from ..display import plural, show_date, show_datetime
from ..models import FollowUpItem, Patient, PrimaryDiagnosis, Recurrence, RestagingEpisode, StagingTest, SymptomReport
from ..permissions import can_act, can_administer
from ..tables import restaging_status
from .base import ActionView, apply_errors, get_visible_or_404


def _patient_url(patient: Patient) -> str:
    return reverse("followup:patient_detail", args=[patient.pk])


def _add_item_url(patient: Patient, **initial) -> str:
    return f"{reverse('followup:item_add', args=[patient.pk])}?{urlencode(initial)}"


# Patients ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def patient_create(request):
    if not can_act(request.user):
        raise PermissionDenied("Your role cannot register patients.")
    form = f.PatientForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {
            name: value for name, value in form.cleaned_data.items() if name not in ("confirm_not_duplicate", "version")
        }
        fields.setdefault("team", request.user.team)
        try:
            patient = services.patient_create(by=request.user, **fields)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, f"{patient.full_name} is registered. Next: the primary diagnosis and a follow-up schedule."
            )
            return redirect(_patient_url(patient))
    return render(
        request,
        "followup/action.html",
        {"form": form, "title": "Register a patient", "cancel_url": reverse("followup:patient_list")},
    )


class PatientEditView(ActionView):
    form_class = f.PatientForm
    title = "Change patient details"

    def get_form(self, data=None):
        fresh = Patient.objects.get(pk=self.patient.pk)
        return f.PatientForm(data, instance=fresh, initial={"version": fresh.version}, user=self.request.user)

    def perform(self, form):
        fields = {
            name: form.cleaned_data[name] for name in services.EDITABLE_PATIENT_FIELDS if name in form.cleaned_data
        }
        services.patient_update(
            patient=self.patient, by=self.request.user, expected_version=form.cleaned_data["version"], **fields
        )
        return self.done("Patient details saved.")


class PrimaryAddView(ActionView):
    form_class = f.PrimaryDiagnosisForm
    title = "Record the primary diagnosis"

    def get_form(self, data=None):
        return f.PrimaryDiagnosisForm(data, instance=PrimaryDiagnosis(patient=self.patient))

    def perform(self, form):
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.primary_record(patient=self.patient, by=self.request.user, **fields)
        return self.done("Primary diagnosis recorded.")


class ProtocolAssignView(ActionView):
    form_class = f.AssignProtocolForm
    title = "Start a follow-up schedule"
    submit_label = "Generate the schedule"

    def get_initial(self):
        # The schedule's own start, if it has one (data); never today by default.
        return {"protocol_start_on": self.patient.protocol_start_on}

    def perform(self, form):
        items = services.protocol_assign(
            patient=self.patient,
            protocol=form.cleaned_data["protocol"],
            start_on=form.cleaned_data["protocol_start_on"],
            by=self.request.user,
        )
        return self.done(f"{plural(len(items), 'follow-up item')} scheduled from {form.cleaned_data['protocol']}.")


class ReassignNurseView(ActionView):
    form_class = f.ReassignNurseForm
    title = "Change the named nurse"
    admin_only = True

    def get_form_kwargs(self):
        return {"patient": self.patient}

    def perform(self, form):
        services.patient_reassign_nurse(
            patient=self.patient,
            nurse=form.cleaned_data["named_nurse"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        return self.done(f"Named nurse is now {form.cleaned_data['named_nurse']}.")


@require_http_methods(["GET", "POST"])
def caseload_hand_over(request):
    if not can_administer(request.user):
        raise PermissionDenied("Only admins hand over caseloads.")
    form = f.HandOverForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.caseload_hand_over(
                from_nurse=form.cleaned_data["from_nurse"], to_nurse=form.cleaned_data["to_nurse"], by=request.user
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{plural(moved, 'patient')} handed over to {form.cleaned_data['to_nurse']}.")
            return redirect("followup:patient_list")
    context = {
        "form": form,
        "title": "Hand over a caseload",
        "submit_label": "Hand over",
        "cancel_url": reverse("followup:patient_list"),
    }
    return render(request, "followup/action.html", context)


class DischargeView(ActionView):
    form_class = f.DischargeForm
    title = "Discharge from follow-up"
    submit_label = "Discharge"
    conflict_fields = {"reason": "discharge_reason"}

    def perform(self, form):
        services.patient_discharge(
            patient=self.patient,
            discharged_on=form.cleaned_data["discharged_on"],
            reason=form.cleaned_data["reason"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        return self.done("Discharged. Open follow-up items were cancelled; remember to tell the GP.")


class RecordDeathView(ActionView):
    form_class = f.RecordDeathForm
    title = "Record a death"

    def perform(self, form):
        services.patient_record_death(
            patient=self.patient,
            date_of_death=form.cleaned_data["date_of_death"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        return self.done("Death recorded. Open follow-up items were cancelled.")


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


class ItemBookView(ItemActionView):
    form_class = f.BookItemForm
    title = "Book"

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
    title = "Record as done"

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
            return self.done(
                "Abnormal result recorded. Choose the next step.", reverse("followup:item_next_step", args=[item.pk])
            )
        if item.result_awaited:
            return self.done(f"{item.get_kind_display()} recorded as done; its result is awaited.")
        return self.done(f"{item.get_kind_display()} recorded as done.")


class ItemResultView(ItemActionView):
    """The result of an item recorded done with its result not yet available."""

    form_class = f.RecordResultForm
    title = "Record the result"

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
            return self.done(
                "Abnormal result recorded. Choose the next step.", reverse("followup:item_next_step", args=[item.pk])
            )
        return self.done(f"{item.get_kind_display()} result recorded; it now waits to be acknowledged.")


class ItemDidNotAttendView(ItemActionView):
    form_class = f.ConfirmForm
    title = "Record did not attend"
    submit_label = "Record did not attend"

    def perform(self, form):
        item = services.followup_item_did_not_attend(
            item=self.record, by=self.request.user, expected_version=form.cleaned_data["version"]
        )
        rebook = _add_item_url(self.patient, kind=item.kind, due_on=timezone.localdate() + timedelta(days=14))
        return self.done("Did not attend recorded. Book the next appointment now so nothing is missed.", rebook)


class ItemCancelView(ItemActionView):
    form_class = f.CancelForm
    title = "Cancel"
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
            replacement = _add_item_url(self.patient, kind=item.kind, due_on=item.due_on)
            return self.done("Cancelled. This patient now has no next follow-up: add a replacement.", replacement)
        return self.done(f"{item.get_kind_display()} cancelled.")


def _day(value) -> str:
    return show_date(value) if value else "Not recorded"


def _acknowledged(by, at) -> list[tuple[str, str]]:
    """A result already acknowledged says so: acknowledging again changes nothing."""
    if at is None:
        return []
    return [("Acknowledged", f"By {by.get_full_name() or by.username} on {show_datetime(at)}")]


class ItemAcknowledgeView(ItemActionView):
    form_class = f.ConfirmForm  # carries the version of the result the user read
    title = "Acknowledge the result"
    submit_label = "Acknowledge"

    def record_summary(self):
        item = self.record
        return [
            ("Follow-up", item.get_kind_display()),
            ("Due", _day(item.due_on)),
            ("Done", _day(item.done_on)),
            ("Result", item.get_result_display() or "Not recorded"),
            ("Notes", item.notes or "None recorded"),
            *_acknowledged(item.result_acknowledged_by, item.result_acknowledged_at),
        ]

    def perform(self, form):
        item = services.result_acknowledge(
            item=self.record, by=self.request.user, expected_version=form.cleaned_data["version"]
        )
        message = f"{item.get_kind_display()} result acknowledged ({item.get_result_display()})."
        if item.result == c.ImagingOutcome.ABNORMAL:
            return self.done(message + " Choose the next step.", reverse("followup:item_next_step", args=[item.pk]))
        return self.done(message)


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
        "review_url": _add_item_url(
            patient,
            kind=c.FollowUpKind.CLINIC_REVIEW,
            due_on=timezone.localdate() + timedelta(days=14),
            notes=f"Review of abnormal {item.get_kind_display().lower()} of {show_date(item.done_on)}",
        ),
        "recurrence_url": reverse("followup:recurrence_add", args=[patient.pk]),
    }
    return render(request, "followup/next_step.html", context)


# Recurrences and restaging ------------------------------------------------------


class RecurrenceAddView(ActionView):
    form_class = f.RecurrenceForm
    title = "Record a recurrence"

    def get_initial(self):
        return {"primary": self.patient.primaries.last()}

    def get_form_kwargs(self):
        return {"patient": self.patient}

    def perform(self, form):
        data = form.cleaned_data
        recurrence = services.recurrence_record(
            patient=self.patient,
            metastatic_type=data["metastatic_type"],
            sites=data["site_entries"],
            diagnosed_on=data["diagnosed_on"],
            status=data["status"],
            primary=data["primary"],
            detection_method=data["detection_method"],
            basis_of_diagnosis=data["basis_of_diagnosis"],
            er_status=data["er_status"],
            pr_status=data["pr_status"],
            her2_status=data["her2_status"],
            lymphoedema=data["lymphoedema"],
            notes=data["notes"],
            restaging_tests=data["restaging_tests"],
            by=self.request.user,
        )
        if recurrence.metastatic_type in c.RESTAGED_TYPES:
            kind, count = recurrence.get_metastatic_type_display(), len(data["restaging_tests"])
            return self.done(f"{kind} recurrence recorded; restaging opened with {plural(count, 'test')} requested.")
        return self.done("Distant recurrence (secondary breast cancer) recorded.")


class RecurrenceStatusView(ActionView):
    model = Recurrence
    form_class = f.RecurrenceStatusForm
    title = "Confirm or refute the recurrence"

    def get_form_kwargs(self):
        return {"recurrence": self.record}

    def perform(self, form):
        data = form.cleaned_data
        was_refuted = self.record.status == c.RecurrenceStatus.REFUTED
        cancelled = len(form.outstanding) if data["cancel_outstanding_tests"] else 0
        recurrence = services.recurrence_set_status(
            recurrence=self.record,
            status=data["status"],
            cancel_outstanding_tests=data["cancel_outstanding_tests"],
            cancel_reason=data["cancel_reason"],
            by=self.request.user,
            expected_version=data["version"],
        )
        message = f"Recurrence {recurrence.get_status_display().lower()}."
        episode = RestagingEpisode.objects.with_tests().filter(recurrence=recurrence).first()
        if episode and episode.outcome == c.RestagingOutcome.REFUTED:
            message += " Restaging closed"
            message += f"; {cancelled} outstanding test{pluralize(cancelled)} cancelled." if cancelled else "."
        elif episode and was_refuted and episode.outcome in c.OPEN_RESTAGING_OUTCOMES:
            message += f" Restaging is open again: {restaging_status(episode)}."
        return self.done(message)


class StagingRequestView(ActionView):
    model = RestagingEpisode
    form_class = f.StagingRequestForm
    title = "Request a restaging test"

    def get_initial(self):
        return {"follow_up_of": self.request.GET.get("follow_up_of")}

    def get_form_kwargs(self):
        return {"episode": self.record}

    def perform(self, form):
        test = services.staging_test_request(episode=self.record, by=self.request.user, **form.cleaned_data)
        return self.done(f"{test.get_modality_display()} requested.")


class StagingTestView(ActionView):
    model = StagingTest


class StagingResultView(StagingTestView):
    form_class = f.StagingResultForm
    title = "Record the result"
    conflict_fields = {"notes": "result_notes"}

    def get_initial(self):
        test = self.record
        initial = {**super().get_initial(), "performed_on": test.performed_on, "reported_on": test.reported_on}
        if test.result:
            initial.update(result=test.result, sites=[s.site for s in test.sites.all()], notes=test.result_notes)
        return initial

    def perform(self, form):
        data = form.cleaned_data
        test = services.staging_test_record_result(
            test=self.record,
            performed_on=data["performed_on"],
            reported_on=data["reported_on"],
            result=data["result"],
            sites=data["site_entries"] if data["result"] == c.StagingResult.DISTANT else (),
            notes=data["notes"],
            by=self.request.user,
            expected_version=data["version"],
        )
        if test.result == c.StagingResult.DISTANT:
            return self.done(
                "Distant disease found. Record the secondary breast cancer now.",
                reverse("followup:secondary_from_test", args=[test.pk]),
            )
        return self.done(f"{test.get_modality_display()} result recorded; it now waits to be acknowledged.")


class StagingAcknowledgeView(StagingTestView):
    form_class = f.ConfirmForm  # carries the version of the result the user read
    title = "Acknowledge the result"
    submit_label = "Acknowledge"

    def record_summary(self):
        test = self.record
        rows = [
            ("Test", test.get_modality_display()),
            ("Requested", _day(test.requested_on)),
            ("Performed", _day(test.performed_on)),
            ("Reported", _day(test.reported_on)),
            ("Result", test.get_result_display() or "Not recorded"),
        ]
        sites = sorted(str(site) for site in test.sites.all())
        if sites:
            rows.append(("Distant disease found in", ", ".join(sites)))
        return [
            *rows,
            ("Report", test.result_notes or "None recorded"),
            *_acknowledged(test.acknowledged_by, test.acknowledged_at),
        ]

    def perform(self, form):
        test = services.staging_test_acknowledge(
            test=self.record, by=self.request.user, expected_version=form.cleaned_data["version"]
        )
        return self.done(f"{test.get_modality_display()} result acknowledged ({test.get_result_display()}).")


class StagingCancelView(StagingTestView):
    form_class = f.CancelForm
    title = "Cancel the test"
    submit_label = "Cancel this test"
    conflict_fields = {"reason": "cancel_reason"}

    def warning(self):
        if services.cancelling_leaves_no_imaging(self.record):
            return "This is the only CT or PET-CT for this restaging: restaging cannot complete without one."
        return ""

    def perform(self, form):
        test = services.staging_test_cancel(
            test=self.record,
            reason=form.cleaned_data["reason"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        episode = RestagingEpisode.objects.with_tests().get(pk=test.episode_id)
        if episode.outcome in c.OPEN_RESTAGING_OUTCOMES and c.RestagingNeed.IMAGING in services.restaging_needs(
            episode.tests.all()
        ):
            return self.done(
                f"{test.get_modality_display()} cancelled. "
                "Restaging cannot complete without a CT or PET-CT: request one now.",
                reverse("followup:staging_request", args=[episode.pk]),
            )
        return self.done(f"{test.get_modality_display()} cancelled.")


class SecondaryFromTestView(StagingTestView):
    form_class = f.DistantFromTestForm
    title = "Record secondary breast cancer"

    def get_initial(self):
        return {"diagnosed_on": self.record.reported_on, "sites": [s.site for s in self.record.sites.all()]}

    def get_form_kwargs(self):
        return {"patient": self.patient}

    def perform(self, form):
        data = form.cleaned_data
        if data["existing"]:
            services.staging_test_link_distant(test=self.record, recurrence=data["existing"], by=self.request.user)
            return self.done("Linked to the secondary breast cancer already recorded.")
        services.distant_recurrence_record_from_test(
            test=self.record,
            by=self.request.user,
            diagnosed_on=data["diagnosed_on"],
            sites=data["site_entries"],
            status=data["status"],
            notes=data["notes"],
        )
        return self.done("Secondary breast cancer recorded and linked to the staging result.")


# Symptoms ---------------------------------------------------------------------


class SymptomAddView(ActionView):
    form_class = f.SymptomReportForm
    title = "Record a symptom report"

    def perform(self, form):
        data = form.cleaned_data
        report = services.symptom_report_record(
            patient=self.patient,
            reported_on=data["reported_on"],
            onset_on=data["onset_on"],
            area=data["area"],
            description=data["description"],
            red_flag=data["red_flag"],
            by=self.request.user,
        )
        if report.red_flag:
            return self.done(
                f"RED FLAG: {report.get_red_flag_display()}. Triage now.",
                reverse("followup:symptom_triage", args=[report.pk]),
            )
        return self.done("Symptom report recorded; it is on the triage list.")


class SymptomTriageView(ActionView):
    model = SymptomReport
    form_class = f.TriageForm
    title = "Triage the symptom report"
    conflict_fields = {"outcome": "triage_outcome", "notes": "triage_notes"}

    def get_initial(self):
        initial = super().get_initial()
        if self.record.red_flag == c.RedFlag.CORD_COMPRESSION:
            initial["outcome"] = c.TriageOutcome.URGENT
        return initial

    def perform(self, form):
        report = services.symptom_report_triage(
            report=self.record,
            outcome=form.cleaned_data["outcome"],
            notes=form.cleaned_data["notes"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        return self.done(f"Triaged: {report.get_triage_outcome_display()}.")


# Entered in error ---------------------------------------------------------------

ERROR_MODELS = {
    "patient": Patient,
    "primary": PrimaryDiagnosis,
    "item": FollowUpItem,
    "recurrence": Recurrence,
    "test": StagingTest,
    "symptom": SymptomReport,
}


class EnteredInErrorView(ActionView):
    form_class = f.EnteredInErrorForm
    title = "Mark as entered in error"
    submit_label = "Mark as entered in error"
    conflict_fields = {"reason": "error_reason"}

    def dispatch(self, request, *args, **kwargs):
        self.model = ERROR_MODELS.get(kwargs["kind"])
        if self.model is None:
            from django.http import Http404

            raise Http404("No such record.")
        if self.model is Patient:
            self.model = None  # the pk is the patient itself
        return super().dispatch(request, *args, **kwargs)

    def perform(self, form):
        target = self.record if self.record is not None else self.patient
        services.record_mark_entered_in_error(
            record=target,
            reason=form.cleaned_data["reason"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        if target is self.patient:
            return self.done("Patient record marked as entered in error.", reverse("followup:patient_list"))
        return self.done("Marked as entered in error. It stays in the history with your reason.")
