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
from .forms import CHEST_PAIN, HEADACHE, URGENT_FLAG, URGENT_ORDER, SelfReportForm, flags_of, symptoms_field, what_to_do
from .models import PersonalCode
from .services import LiveCodeChanged, personal_code_issue, personal_code_verify, self_report_record

WRONG = "The personal code or date of birth is not right. Check them against your letter and try again"
TOKEN_SALT = "selfreport.result"  # noqa: S105 # nosec B105 (a signing salt, not a secret)
TOKEN_MAX_AGE = 60 * 60  # an hour: long enough to read, call and come back
CONFIRMED = "confirmed"
NO_LIVE_CODE = "none"


# Each urgent answer said back to the patient, on the card of the action its red flag needs.
SAID_BACK = {
    c.RedFlag.CORD_COMPRESSION: "You told us you have back pain with weak legs, numbness, or problems controlling "
    "your bladder or bowels. This can be a sign of pressure on the spinal cord. It needs checking today.",
    c.RedFlag.SEIZURE: "You told us you have had a new fit (seizure).",
    HEADACHE: "You told us you have a sudden, severe headache with being sick.",
    c.RedFlag.BREATHLESSNESS: "You told us you have sudden, very bad breathlessness.",
    CHEST_PAIN: "You told us you have new chest pain.",
    c.RedFlag.HYPERCALCAEMIA: "You told us you feel very sick, very thirsty or confused. This can be a sign of a "
    "high calcium level in your blood. It needs checking today.",
}


def _guidance(urgent: list[str], phone: str) -> dict:
    """What the "what to do now" cards need: the urgent answers said back, on the card of the action
    their red flag needs (forms.what_to_do, the one rule), and the acute oncology number. Holds
    nothing about the patient."""
    actions = what_to_do(flags_of(urgent))
    return {
        action: [SAID_BACK[answer] for answer in urgent if URGENT_FLAG[answer] in flags]
        for action, flags in actions.items()
    } | {"phone": phone}


def _page(request, form, *, locked=None, status=200):
    # A refused form (wrong code, locked, a missing answer) still says what to do now about any
    # urgent symptom ticked: it is the same for everyone, so it gives nothing away.
    urgent = form.urgent_now() if form.is_bound else []
    context = {
        "form": form,
        "areas": [(name, form[symptoms_field(name)]) for name in form.fields["area"].widget.reveals],
        "locked": locked,
        "response_days": settings.SELF_REPORT_RESPONSE_DAYS,
        "guidance": _guidance(urgent, "") if urgent else None,
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
            # Every urgent answer goes in the token: the page shows 999 and acute oncology together
            # when the answers need both.
            urgent = form.urgent_now()
            letterhead = letterhead_of(verdict.patient) if urgent else None
            token = signing.dumps(
                {"k": urgent or CONFIRMED, "p": letterhead.acute_oncology_phone if letterhead else ""}, salt=TOKEN_SALT
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
    urgent = kind if isinstance(kind, list) else []
    if kind != CONFIRMED and not (urgent and all(answer in URGENT_FLAG for answer in urgent)):
        raise Http404("This page has expired.")
    context = {
        "urgent": bool(urgent),
        "guidance": _guidance(sorted(set(urgent), key=URGENT_ORDER.index), phone) if urgent else None,
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
        # The confirmation page says which code was live when the nurse saw it; if another is live now
        # (a colleague issued one, or this page was sent again by a refresh), nothing is issued.
        seen = request.POST.get("live", "")
        if seen == NO_LIVE_CODE:
            expected = None
        elif seen.isdigit():
            expected = int(seen)
        else:
            expected = -1  # no code has this id: a page without the field is refused as changed
        try:
            _code, plaintext = personal_code_issue(patient=self.patient, by=request.user, expected_live=expected)
        except LiveCodeChanged as exc:
            return render(request, "selfreport/issue.html", self.context(errors=exc.messages), status=409)
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
