"""MDT pages: record a discussion (an ActionView), prepare the list for a meeting (on screen and as PDF)."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from followup.display import show_date
from followup.models import Recurrence
from followup.pdf import render_pdf
from followup.views.base import ActionView

from . import services
from .forms import MDTDiscussionForm, MeetingDateForm
from .meeting import meeting_rows


class DiscussionRecordView(ActionView):
    """Reached from the recurrence on the patient page and its timeline, and from the MDT list's row."""

    model = Recurrence
    form_class = MDTDiscussionForm
    title = "Record the MDT discussion of the {noun}"
    submit_label = "Save MDT discussion"

    def record_summary(self):
        recurrence = self.record
        sites = ", ".join(str(site) for site in recurrence.sites.all()) or "No site recorded"
        return [
            ("Recurrence", f"{recurrence.get_metastatic_type_display()}: {sites}"),
            ("Status", recurrence.get_status_display()),
            ("Date clinically agreed", show_date(recurrence.diagnosed_on)),
        ]

    def perform(self, form):
        data = form.cleaned_data
        discussion = services.mdt_discussion_record(
            recurrence=self.record,
            meeting_on=data["meeting_on"],
            outcome=data["outcome"],
            plan=data["plan"],
            attendees=data["attendees"],
            by=self.request.user,
        )
        return self.done(
            f"MDT discussion of {show_date(discussion.meeting_on)} recorded: {discussion.get_outcome_display()}."
        )


def _meeting(request):
    form = MeetingDateForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    meeting_on = (form.cleaned_data.get("meeting") if form.is_bound and valid else None) or timezone.localdate()
    return form, valid, meeting_on


@require_GET
def prepare_list(request):
    """The patients to discuss at a meeting, with their key facts; a link downloads the same as PDF."""
    form, valid, meeting_on = _meeting(request)
    pending, discussed = meeting_rows(request.user, meeting_on) if valid else ([], [])
    context = {
        "form": form,
        "valid": valid,
        "meeting_on": meeting_on,
        "pending": pending,
        "discussed": discussed,
        "query": request.GET.urlencode(),
    }
    return render(request, "mdt/prepare.html", context)


@require_GET
def prepare_list_pdf(request):
    form, valid, meeting_on = _meeting(request)
    if not valid:
        return prepare_list(request)
    pending, discussed = meeting_rows(request.user, meeting_on)
    context = {
        "meeting_on": meeting_on,
        "pending": pending,
        "discussed": discussed,
        "team": request.user.team,
        "printed_by": request.user,
        "printed_at": timezone.now(),
    }
    pdf = render_pdf("mdt/prepare_pdf.html", context)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="mdt-list-{meeting_on.isoformat()}.pdf"'
    return response
