"""Logging a contact, and a patient's whole contact log."""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from followup.audit import log_access
from followup.choices import AccessAction
from followup.models import Patient
from followup.navigation import patient_trail
from followup.views.base import ActionView, get_patient_for

from .forms import ContactForm
from .models import Contact
from .services import contact_record


def _form_errors(exc: ValidationError) -> ValidationError:
    """The model's word on the date and time (Contact.clean()), beside the box it is about: a time
    later today beside the time, anything else beside the date."""
    if not hasattr(exc, "error_dict") or "contacted_at" not in exc.error_dict:
        return exc
    errors = dict(exc.error_dict)
    for error in errors.pop("contacted_at"):
        field = "contacted_time" if error.code == "time" else "contacted_on"
        errors.setdefault(field, []).append(error)
    return ValidationError(errors)


class ContactAddView(ActionView):
    form_class = ContactForm
    title = "Log a contact"
    template_name = "contacts/contact_form.html"

    def get_initial(self):
        now = timezone.localtime()
        return {
            "contacted_on": now.date(),
            "contacted_time": now.strftime("%H:%M"),
            "with_whom": "patient",
            "by": self.request.user.pk,
        }

    def get_form_kwargs(self):
        return {"patient": self.patient, "user": self.request.user}

    def perform(self, form):
        data = form.cleaned_data
        try:
            contact = contact_record(
                patient=self.patient,
                kind=data["kind"],
                contacted_at=data["contacted_at"],
                by=data["by"],
                summary=data["summary"],
                outcome=data["outcome"],
                with_whom=data["with_whom"],
                answered=data["answered_value"],
                message_left=data["message_left_value"],
                recorded_by=self.request.user,
            )
        except ValidationError as exc:
            raise _form_errors(exc) from None
        return self.done(f"Contact logged: {contact.in_words}.")


@require_GET
def patient_contacts(request, pk):
    """Every contact of the patient, newest first; those entered in error struck through."""
    patient = get_patient_for(request.user, pk)
    log_access(request, action=AccessAction.VIEW_PATIENT, patient=patient, model=Patient, pk=patient.pk)
    contacts = list(
        Contact.all_objects.filter(patient=patient)
        .select_related("by", "error_marked_by")
        .order_by("-contacted_at", "-pk")
    )
    context = {
        "patient": patient,
        "contacts": contacts,
        "today": timezone.localdate(),
        "trail": patient_trail(patient),
    }
    return render(request, "contacts/patient_contacts.html", context)
