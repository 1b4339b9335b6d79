"""The patient's self-report page (no login, write-only) and the nurse's personal-code pages.

The public page never shows anything from the database: not the patient's name, date of birth,
record or team. What it shows after a report comes from a signed, short-lived token in the URL that
carries only which guidance to give (and the acute oncology number to give with it).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from followup import choices as c
from followup.auth import client_ip, duration_in_words
from followup.navigation import patient_trail
from followup.permissions import can_act
from followup.views.base import get_patient_for
from letters.services import letterhead_of

from . import codes
from .forms import SelfReportForm, symptoms_field
from .models import PersonalCode
from .services import personal_code_issue, personal_code_verify, self_report_record

WRONG = "The personal code or date of birth is not right. Check them against your letter and try again"
TOKEN_SALT = "selfreport.result"  # noqa: S105 (a signing salt, not a secret)
TOKEN_MAX_AGE = 60 * 60  # an hour: long enough to read, call and come back
CONFIRMED = "confirmed"
# What the result page says for each red flag: call 999, or call the acute oncology line now.
CALL_999 = {c.RedFlag.SEIZURE, c.RedFlag.BREATHLESSNESS}


def _page(request, form, *, locked=None, status=200):
    context = {
        "form": form,
        "areas": [(name, form[symptoms_field(name)]) for name in form.fields["area"].widget.reveals],
        "locked": locked,
        "response_days": settings.SELF_REPORT_RESPONSE_DAYS,
    }
    return render(request, "selfreport/report.html", context, status=status)


def _locked_words(until) -> dict:
    now = timezone.now()
    wait = max(until - now, timedelta(minutes=1))
    # Whole minutes, rounded up: "Try again in 30 minutes", never "in 0 minutes".
    wait = timedelta(minutes=-(-wait.total_seconds() // 60))
    ends = timezone.localtime(until)
    at = f"{ends:%H:%M}" if ends.date() == timezone.localdate() else f"{ends:%H:%M} on {ends:%-d %B %Y}"
    return {"wait": duration_in_words(wait), "at": at}


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def report(request):
    if request.method != "POST":
        return _page(request, SelfReportForm())
    form = SelfReportForm(request.POST)
    valid = form.is_valid()
    if "code" in form.cleaned_data and "born" in form.cleaned_data:
        verdict = personal_code_verify(
            entered=form.cleaned_data["code"], born=form.cleaned_data["born"], address=client_ip(request)
        )
        if verdict.locked_until is not None:
            return _page(request, form, locked=_locked_words(verdict.locked_until), status=429)
        if verdict.patient is None:
            form.add_error("code", WRONG)
        elif valid:
            self_report_record(
                patient=verdict.patient,
                area=form.symptom_area(),
                description=form.report_text(),
                red_flags=form.red_flags(),
                lasted=form.cleaned_data["lasted"],
                worsening=form.cleaned_data["worsening"],
            )
            flag = form.red_flags()[0] if form.red_flags() else ""
            letterhead = letterhead_of(verdict.patient) if flag else None
            token = signing.dumps(
                {"k": flag or CONFIRMED, "p": letterhead.acute_oncology_phone if letterhead else ""}, salt=TOKEN_SALT
            )
            return redirect("selfreport:sent", token=token)
    return _page(request, form)


@login_not_required
@never_cache
@require_GET
def sent(request, token):
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise Http404("This page has expired.") from None
    kind, phone = payload.get("k"), payload.get("p", "")
    if kind != CONFIRMED and kind not in c.RedFlag.values:
        raise Http404("This page has expired.")
    context = {
        "kind": kind,
        "urgent": kind != CONFIRMED,
        "call_999": kind in CALL_999,
        "phone": phone,
        "response_days": settings.SELF_REPORT_RESPONSE_DAYS,
    }
    return render(request, "selfreport/sent.html", context)


# The nurse's side ----------------------------------------------------------------------------------------


class IssueCodeView(View):
    """Issue a new personal code: a confirmation page, then the code shown once (never stored)."""

    def dispatch(self, request, *args, **kwargs):
        self.patient = get_patient_for(request.user, kwargs["pk"])
        # Scope first (404 for another team), then role (403 for the read-only).
        if not can_act(request.user):
            raise PermissionDenied("Your role cannot issue personal codes.")
        return super().dispatch(request, *args, **kwargs)

    def context(self, **extra) -> dict:
        live = PersonalCode.objects.live().filter(patient=self.patient).first()
        return {
            "patient": self.patient,
            "live": live,
            "site_url": settings.SITE_URL,
            "trail": patient_trail(self.patient),
            "cancel_url": reverse("followup:patient_detail", args=[self.patient.pk]),
            **extra,
        }

    def get(self, request, pk):
        return render(request, "selfreport/issue.html", self.context())

    def post(self, request, pk):
        try:
            _code, plaintext = personal_code_issue(patient=self.patient, by=request.user)
        except ValidationError as exc:
            return render(request, "selfreport/issue.html", self.context(errors=exc.messages), status=200)
        # Shown once: staff pages are never cached (followup's middleware sends no-store).
        return render(
            request,
            "selfreport/issued.html",
            {
                "patient": self.patient,
                "code": codes.shown(plaintext),
                "site_url": settings.SITE_URL,
                "trail": patient_trail(self.patient),
            },
        )
