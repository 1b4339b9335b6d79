"""Clinical actions on recurrences, restaging tests and symptom reports; marking entered in error."""

from django.template.defaultfilters import pluralize
from django.urls import reverse

from contacts.models import Contact
from letters.models import Letter
from mdt.models import MDTDiscussion
from tasks.models import Task

from .. import choices as c
from .. import forms as f
from .. import services
from ..display import plural, show_date
from ..models import FollowUpItem, Patient, PrimaryDiagnosis, Recurrence, RestagingEpisode, StagingTest, SymptomReport
from ..tables import restaging_status
from .base import ActionView, acknowledged_rows, day_or_not_recorded

# Recurrences and restaging ------------------------------------------------------


class RecurrenceAddView(ActionView):
    """Two steps, both working without JavaScript: the type (a GET form, forms.RecurrenceTypeForm),
    then the recurrence with only that type's sites and, for local or regional, its restaging tests."""

    form_class = f.RecurrenceForm
    title = "Record a recurrence"

    def get_initial(self):
        return {"primary": self.patient.primaries.last(), "metastatic_type": self.request.GET.get("metastatic_type")}

    def get_form_kwargs(self):
        return {"patient": self.patient}

    def get(self, request, *args, **kwargs):
        if "metastatic_type" not in request.GET and "step" not in request.GET:
            # First step; "Change" comes back here with the type already chosen.
            return self.render(f.RecurrenceTypeForm(initial={"metastatic_type": request.GET.get("change")}))
        chosen = f.RecurrenceTypeForm(request.GET)
        if not chosen.is_valid():
            return self.render(chosen)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        chosen = f.RecurrenceTypeForm(request.POST)
        if not chosen.is_valid():
            return self.render(chosen)  # nothing else is checked, or saved, before the type
        return super().post(request, *args, **kwargs)

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
    title = "Confirm or refute the {noun}"

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
    title = "Record the {noun} result"
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
    row_action = "acknowledge"
    title = "Acknowledge the {noun} result"
    submit_label = "Acknowledge"

    def record_summary(self):
        test = self.record
        rows = [
            ("Test", test.get_modality_display()),
            ("Requested", day_or_not_recorded(test.requested_on)),
            ("Performed", day_or_not_recorded(test.performed_on)),
            ("Reported", day_or_not_recorded(test.reported_on)),
            ("Result", test.get_result_display() or "Not recorded"),
        ]
        sites = sorted(str(site) for site in test.sites.all())
        if sites:
            rows.append(("Distant disease found in", ", ".join(sites)))
        return [
            *rows,
            ("Report", test.result_notes or "None recorded"),
            *acknowledged_rows(test.acknowledged_by, test.acknowledged_at),
        ]

    def perform(self, form):
        test = services.staging_test_acknowledge(
            test=self.record, by=self.request.user, expected_version=form.cleaned_data["version"]
        )
        return self.done(f"{test.get_modality_display()} result acknowledged ({test.get_result_display()}).")


def suggested_result(record) -> str:
    """The classification the sending system suggested (FHIR conclusionCode), from the message that
    brought the report: it pre-fills, never decides."""
    return (
        record.inbox_messages.filter(status="matched", is_amendment=False)
        .exclude(suggested_result="")
        .order_by("-pk")
        .values_list("suggested_result", flat=True)
        .first()
        or ""
    )


class ClassifyMixin:
    """Classify and acknowledge a report that arrived by itself, or an amended one: the report as it
    came (line breaks kept), the classification pre-filled from the sender's suggestion or, for an
    amended report, from the classification it had."""

    title = "Classify and acknowledge the {noun} result"
    submit_label = "Classify and acknowledge"

    def get_form_kwargs(self):
        record = self.record
        return {"suggested": self.suggested, "amended": record.report_amended and record.result not in UNCLASSIFIED}

    @property
    def suggested(self) -> str:
        if not hasattr(self, "_suggested"):
            self._suggested = suggested_result(self.record)
        return self._suggested

    def get_initial(self):
        initial = super().get_initial()
        record = self.record
        if record.result and record.result not in UNCLASSIFIED:
            initial["result"] = record.result
        elif self.suggested in dict(self.form_class.base_fields["result"].choices):
            initial["result"] = self.suggested
        return initial

    def report(self) -> dict:
        return {"text": self.report_text(), "amended": self.record.report_amended}

    def warning(self) -> str:
        if not services.waits_for_classification(self.record):
            return "This result has no report waiting to be classified: it was classified already."
        return ""


UNCLASSIFIED = c.UNCLASSIFIED_RESULTS


class StagingClassifyView(ClassifyMixin, StagingTestView):
    form_class = f.ClassifyStagingForm

    def get_initial(self):
        initial = super().get_initial()
        if self.record.result == c.StagingResult.DISTANT:
            initial["sites"] = [s.site for s in self.record.sites.all()]
        return initial

    def report_text(self) -> str:
        return self.record.result_notes

    def record_summary(self):
        test = self.record
        return [
            ("Test", test.get_modality_display()),
            ("Requested", day_or_not_recorded(test.requested_on)),
            ("Performed", day_or_not_recorded(test.performed_on)),
            ("Reported", day_or_not_recorded(test.reported_on)),
            ("Result now", test.get_result_display()),
        ]

    def perform(self, form):
        data = form.cleaned_data
        test = services.staging_test_classify(
            test=self.record,
            result=data["result"],
            sites=data["site_entries"] if data["result"] == c.StagingResult.DISTANT else (),
            by=self.request.user,
            expected_version=data["version"],
        )
        if test.result == c.StagingResult.DISTANT and test.distant_recurrence_id is None:
            return self.done(
                "Distant disease found. Record the secondary breast cancer now.",
                reverse("followup:secondary_from_test", args=[test.pk]),
            )
        return self.done(
            f"{test.get_modality_display()} result classified and acknowledged ({test.get_result_display()})."
        )


class StagingCancelView(StagingTestView):
    form_class = f.CancelForm
    title = "Cancel the {noun}"
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
    title = "Record the secondary breast cancer found by the {noun}"

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
    row_action = "triage"
    title = "Triage the symptom report"
    conflict_fields = {"outcome": "triage_outcome", "notes": "triage_notes"}

    def get_initial(self):
        initial = super().get_initial()
        if self.record.red_flag == c.RedFlag.CORD_COMPRESSION:
            initial["outcome"] = c.TriageOutcome.URGENT
        return initial

    def record_summary(self):
        report = self.record
        rows = [
            ("Reported", f"{show_date(report.reported_on)}, {report.get_source_display().lower()}"),
            ("Area", report.get_area_display()),
            ("Red flag", report.get_red_flag_display() or "None"),
        ]
        if report.lasted:
            rows.append(("How long", report.get_lasted_display()))
        if report.worsening:
            rows.append(("Getting worse", report.get_worsening_display()))
        return [*rows, ("Description", report.description)]

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
    "mdt": MDTDiscussion,
    "task": Task,
    "contact": Contact,
    "letter": Letter,
}


class EnteredInErrorView(ActionView):
    form_class = f.EnteredInErrorForm
    title = "Mark the {noun} as entered in error"
    submit_label = "Mark as entered in error"
    conflict_fields = {"reason": "error_reason"}
    status_change = True

    def warning(self):
        if self.record is None:
            return (
                "This patient and all their records leave every worklist and the patient search. "
                "They stay in the history, with your reason."
            )
        return "The record leaves every worklist. It stays in the history, struck through, with your reason."

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
