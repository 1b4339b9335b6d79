"""Clinical actions on a patient: register, edit, primary, schedule, named nurse, discharge, death."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from .. import choices as c
from .. import forms as f
from .. import services
from ..display import plural, show_date
from ..models import Patient, PrimaryDiagnosis
from ..navigation import patient_trail
from ..permissions import can_act, can_administer
from .base import ActionView, apply_errors


def _patient_url(patient: Patient) -> str:
    return reverse("followup:patient_detail", args=[patient.pk])


# Patients ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def patient_create(request):
    if not can_act(request.user):
        raise PermissionDenied("Your role cannot register patients.")
    # A POST with nothing in it is still a POST: it gets the form's messages, not an empty form.
    form = f.PatientForm(request.POST if request.method == "POST" else None, user=request.user)
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
            # Who to phone and which GP to write to are asked next, while the nurse has the referral open.
            messages.success(
                request,
                f"{patient.full_name} is registered. Now add their contact details and GP practice "
                "(then the primary diagnosis and a follow-up schedule).",
            )
            contact_url = reverse("followup:patient_contact_details", args=[patient.pk])
            return redirect(f"{contact_url}?{urlencode({'next': _patient_url(patient)})}")
    return render(
        request,
        "followup/action.html",
        {
            "form": form,
            "title": "Register a patient",
            "cancel_url": reverse("followup:patient_list"),
            "trail": patient_trail(None),
        },
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


class PatientContactDetailsView(ActionView):
    form_class = f.PatientContactForm
    title = "Change contact details"

    def get_initial(self):
        self.fresh = Patient.objects.select_related("gp_practice").get(pk=self.patient.pk)
        return f.PatientContactForm.initial_for(self.fresh)

    def get_form(self, data=None):
        form = super().get_form(data)
        if self.fresh.gp_practice_id:  # the code alone says little: the practice it stands for now
            form.fields["gp_ods_code"].help_text += f" Recorded now: {self.fresh.gp_practice}."
        return form

    conflict_fields = {"gp_ods_code": "gp_practice"}

    def conflict_rows(self, current, form, *, opened_version):
        """As every action's, but an entry that means what is saved now is no difference: the practice's
        own code ("Y90042" for "Imaginary Road Surgery (Y90042)"), "Not asked" for a question not asked."""
        conflict = super().conflict_rows(current, form, opened_version=opened_version)
        code = current.gp_practice.ods_code if current.gp_practice_id else ""
        same = {
            form.fields["gp_ods_code"].label: (form.cleaned_data.get("gp_ods_code") or "").strip().upper() == code,
            form.fields["messages_may_be_left"].label: form.cleaned_data.get("messages_may_be_left")
            == current.messages_may_be_left,
        }
        conflict.rows = [row for row in conflict.rows if not (row[1] == row[2] and same.get(row[0]))]
        return conflict

    def perform(self, form):
        fields = {name: form.cleaned_data[name] for name in services.CONTACT_DETAIL_FIELDS}
        patient = services.patient_update_contact_details(
            patient=self.patient,
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
            gp_ods_code=form.cleaned_data["gp_ods_code"],
            **fields,
        )
        practice = f" GP practice: {patient.gp_practice}." if patient.gp_practice_id else ""
        return self.done(f"Contact details saved.{practice}")


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
        message = f"{plural(len(items), 'follow-up item')} scheduled from {form.cleaned_data['protocol']}."
        patient = Patient.objects.get(pk=self.patient.pk)
        if patient.follow_up_model == c.FollowUpModel.PIFU and patient.pifu_ends_on:
            message += f" PIFU until {show_date(patient.pifu_ends_on)}."
        return self.done(message)


class PifuPeriodView(ActionView):
    form_class = f.PifuPeriodForm
    title = "PIFU period"

    def get_initial(self):
        patient = self.patient
        return {
            "version": patient.version,
            "pifu_starts_on": patient.pifu_starts_on,
            "pifu_ends_on": patient.pifu_ends_on,
        }

    def warning(self):
        patient = self.patient
        if not patient.is_active:
            return f"This patient is {patient.get_status_display().lower()}: a PIFU period cannot be set."
        if patient.follow_up_model != c.FollowUpModel.PIFU:
            return (
                f"This patient's follow-up is {patient.get_follow_up_model_display().lower()}, not "
                "patient-initiated: change the follow-up model first (Change details)."
            )
        return ""

    def perform(self, form):
        data = form.cleaned_data
        patient = services.patient_set_pifu_period(
            patient=self.patient,
            starts_on=data["pifu_starts_on"],
            ends_on=data["pifu_ends_on"],
            by=self.request.user,
            expected_version=data["version"],
        )
        return self.done(
            f"PIFU period saved: {show_date(patient.pifu_starts_on)} to {show_date(patient.pifu_ends_on)}."
        )


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
    form = f.HandOverForm(request.POST if request.method == "POST" else None)
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
        "trail": patient_trail(None),
    }
    return render(request, "followup/action.html", context)


class DischargeView(ActionView):
    form_class = f.DischargeForm
    title = "Discharge from follow-up"
    submit_label = "Discharge"
    conflict_fields = {"reason": "discharge_reason"}
    status_change = True

    def warning(self):
        return (
            "Discharging ends this patient's follow-up: their open follow-up items are cancelled and they "
            "leave every worklist. Tell the GP."
        )

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
    submit_label = "Record the death"
    status_change = True

    def warning(self):
        return "Recording a death cancels this patient's open follow-up items and takes them off every worklist."

    def perform(self, form):
        services.patient_record_death(
            patient=self.patient,
            date_of_death=form.cleaned_data["date_of_death"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        return self.done("Death recorded. Open follow-up items were cancelled.")
