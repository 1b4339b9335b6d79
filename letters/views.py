"""Write a letter: choose it, preview it (the same HTML as the PDF), issue it; download it again.

Choosing and previewing write nothing, so the read-only clinician may look too; issuing is an
ActionView (another team's patient 404, a read-only role 403)."""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.decorators.http import require_GET

from followup.display import show_date
from followup.models import Patient
from followup.navigation import patient_trail
from followup.permissions import can_act
from followup.views.base import ActionView, get_patient_for, get_visible_or_404

from . import content
from .choices import LetterKind
from .forms import LetterChoiceForm, LetterIssueForm, PifuEndForm
from .models import Letter
from .services import PIFU_END_REASON, letter_issue, letterhead_of, pifu_end


def _for_letter(patient: Patient) -> Patient:
    """The patient with what every letter prints: named nurse, GP practice, team."""
    return Patient.objects.select_related("named_nurse", "gp_practice", "team").get(pk=patient.pk)


class LetterMixin:
    """The patient of the URL, through the user's scope (404 for another team's), and the letter forms."""

    def setup_patient(self, request, pk):
        self.patient = _for_letter(get_patient_for(request.user, pk))
        self.letterhead = letterhead_of(self.patient)
        self.results = content.results_for_letters(self.patient)
        self.today = timezone.localdate()

    def refusal(self, kind: str) -> str:
        return content.refusal(patient=self.patient, kind=kind, letterhead=self.letterhead, today=self.today)

    def letter_form(self, form_class, data=None, initial=None):
        return form_class(data, initial=initial, results=self.results, refusal=self.refusal)

    def render_choice(self, form, status=200):
        fixes = {content.refusal_fix(self.patient, str(e)) for e in form.errors.get("kind", [])} - {None}
        context = {
            "form": form,
            "title": "Write a letter",
            "patient": self.patient,
            "fixes": sorted(fixes),
            "cancel_url": reverse("followup:patient_detail", args=[self.patient.pk]),
            "trail": patient_trail(self.patient),
            "today": self.today,
        }
        return render(self.request, "letters/write.html", context, status=status)

    def render_preview(self, form, status=200):
        data = form.cleaned_data
        text = content.letter_text(
            patient=self.patient,
            kind=data["kind"],
            letterhead=self.letterhead,
            result=form.chosen_result,
            extra_paragraph=data.get("extra_paragraph", ""),
            on=self.today,
        )
        query = urlencode({"kind": data["kind"], "result": data.get("result") or ""})
        context = {
            "form": form,
            "letter": text,
            "preview": True,
            "title": f"Preview: {LetterKind(data['kind']).label.lower()}",
            "patient": self.patient,
            "may_issue": can_act(self.request.user),
            "change_url": f"{reverse('letters:write', args=[self.patient.pk])}?{query}",
            "preview_url": reverse("letters:preview", args=[self.patient.pk]),
            "issue_url": reverse("letters:issue", args=[self.patient.pk]),
            "cancel_url": reverse("followup:patient_detail", args=[self.patient.pk]),
            "trail": patient_trail(self.patient),
            "today": self.today,
        }
        return render(self.request, "letters/preview.html", context, status=status)


class LetterWriteView(LetterMixin, View):
    """Step one: which letter (and which result). A GET form; a valid choice goes on to the preview."""

    def get(self, request, pk):
        self.setup_patient(request, pk)
        if "step" not in request.GET:
            initial = {"kind": request.GET.get("kind"), "result": request.GET.get("result")}
            return self.render_choice(self.letter_form(LetterChoiceForm, initial=initial))
        form = self.letter_form(LetterChoiceForm, request.GET)
        if not form.is_valid():
            return self.render_choice(form)
        query = urlencode({"kind": form.cleaned_data["kind"], "result": form.cleaned_data.get("result") or ""})
        return redirect(f"{reverse('letters:preview', args=[pk])}?{query}")


class LetterPreviewView(LetterMixin, View):
    """Step two: the letter as it will be printed, with the paragraph the user may add. POST only
    shows the preview again with that paragraph: nothing is written here."""

    def get(self, request, pk):
        self.setup_patient(request, pk)
        return self._preview(request.GET)

    def post(self, request, pk):
        self.setup_patient(request, pk)
        return self._preview(request.POST)

    def _preview(self, data):
        form = self.letter_form(LetterIssueForm, data)
        if not form.is_valid():
            if form.has_error("kind") or form.has_error("result"):
                return self.render_choice(form)
            return self.render_preview_invalid(form)
        return self.render_preview(form)

    def render_preview_invalid(self, form):
        """The paragraph refused (too long): the preview without it, the error beside the box."""
        form.cleaned_data["extra_paragraph"] = ""
        return self.render_preview(form)


class LetterIssueView(LetterMixin, ActionView):
    """Issue: the PDF rendered, stored and listed; a letter contact recorded."""

    form_class = LetterIssueForm
    title = "Issue a letter"

    def get(self, request, *args, **kwargs):
        return redirect("letters:write", pk=self.patient.pk)

    def post(self, request, *args, **kwargs):
        self.setup_patient(request, self.patient.pk)
        return super().post(request, *args, **kwargs)

    def get_form(self, data=None):
        return self.letter_form(LetterIssueForm, data)

    def perform(self, form):
        data = form.cleaned_data
        letter = letter_issue(
            patient=self.patient,
            kind=data["kind"],
            result=form.chosen_result,
            extra_paragraph=data["extra_paragraph"],
            by=self.request.user,
        )
        url = reverse("followup:patient_detail", args=[self.patient.pk]) + "#letters"
        return self.done(f"{letter.get_kind_display()} issued to {letter.addressee}. It is listed under Letters.", url)

    def render(self, form, *, conflict=None, opened_version=None, status=200):
        if form.has_error("kind") or form.has_error("result") or not hasattr(form, "cleaned_data"):
            return self.render_choice(form, status=status)
        if form.errors:
            form.cleaned_data.setdefault("extra_paragraph", "")
        return self.render_preview(form, status=status)


class PifuEndView(ActionView):
    """End PIFU and discharge: one step that discharges the patient to the GP and issues the discharge letters
    to the patient and the GP (services.pifu_end). Here, not in followup: it needs the letters."""

    form_class = PifuEndForm
    title = "End PIFU and discharge"
    submit_label = "End PIFU and discharge"
    status_change = True

    def get_initial(self):
        ends_on = self.patient.pifu_ends_on
        # The period's own end, once it has come: the nurse confirms it (never a day still to come).
        return {
            "version": self.patient.version,
            "discharged_on": ends_on if ends_on and ends_on <= timezone.localdate() else None,
        }

    def record_summary(self):
        patient = _for_letter(self.patient)
        ends_on = patient.pifu_ends_on
        return [
            ("Follow-up model", patient.get_follow_up_model_display()),
            ("PIFU", f"{show_date(patient.pifu_starts_on)} to {show_date(ends_on)}" if ends_on else "No period set"),
            ("GP practice", str(patient.gp_practice) if patient.gp_practice_id else "Not recorded"),
            ("Reason for discharge", PIFU_END_REASON),
        ]

    def warning(self):
        return (
            "Ending PIFU discharges this patient to their GP: their open follow-up items are cancelled, they leave "
            "every worklist, and discharge letters are issued to them and to their GP practice (listed under "
            "Letters, each recorded as a letter contact)."
        )

    def perform(self, form):
        letters = pifu_end(
            patient=self.patient,
            discharged_on=form.cleaned_data["discharged_on"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        sent = " and ".join(letter.addressee for letter in letters)
        return self.done(
            f"PIFU ended: discharged to the GP from {show_date(form.cleaned_data['discharged_on'])}. Discharge letters "
            f"issued to {sent} (listed under Letters); open follow-up items were cancelled."
        )


@require_GET
def letter_download(request, pk):
    """The PDF exactly as issued: the stored bytes, with their SHA-256 as the ETag."""
    letter = get_visible_or_404(Letter.all_objects.visible_to(request.user).live().select_related("document"), pk)
    response = HttpResponse(bytes(letter.document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="letter-{letter.pk}-{letter.kind}.pdf"'
    response["ETag"] = f'"{letter.sha256}"'
    response["Cache-Control"] = "private, no-store"
    return response
