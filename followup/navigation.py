"""Where a page sits: the header section it belongs to, and the way back from it.

Every page below the top level has a way back (NHS.UK breadcrumb: the trail on wide screens, a
back link to its last step on narrow ones). The way back goes where the user came from when that
is a page of this site one goes back to (a list, the patient's own page), given as ``next`` or,
for the patient page, by the browser's Referer; anything else (another site, an action page, a
page that does not exist) falls back to the page's parent.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .reports import LINE_LISTS, SUMMARIES
from .worklists import WORKLISTS as WORKLIST_DEFS

# The header's sections. Every page of the app belongs to Patients unless named here.
DASHBOARD, WORKLISTS, PATIENTS, REPORTS, ADMIN = "Dashboard", "Worklists", "Patients", "Reports", "Admin"
API_CLIENTS = "API clients"  # admins: the systems that send results or read records (integration app)
ALERTS = "Alerts"  # admins: every alert email, whether it went (alerts app)
_SECTION_OF = {
    "dashboard": DASHBOARD,
    "dashboard_charts": DASHBOARD,
    "worklists": WORKLISTS,
    "worklist": WORKLISTS,
    "worklist_acknowledge": WORKLISTS,
    "reports": REPORTS,
    "report_line_list": REPORTS,
    "report_summary": REPORTS,
}


def section_of(namespace: str, url_name: str) -> str | None:
    """The header section of a page, by its URL's namespace and name (None: no section, e.g. log in)."""
    if namespace == "admin":
        return ADMIN
    if namespace == "integration" and url_name.startswith("client_"):
        return API_CLIENTS
    if namespace == "alerts":
        return ALERTS
    if namespace != "followup":
        return None
    # Patients: the patient pages, every action on a patient's records, registering, handing
    # over and importing a caseload (all reached from the Patients page).
    return _SECTION_OF.get(url_name, PATIENTS)


@dataclass(frozen=True)
class Crumb:
    label: str
    url: str


def _local(url: str, request) -> str | None:
    """The path (and query) of a URL of this site, or None for any other URL."""
    if not url or not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return None
    parts = urlsplit(url)
    if not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def patient_trail(patient) -> list[Crumb]:
    """The trail to a patient's own page: Patients, then the patient (None: Patients alone, the
    parent of registering a patient, handing over or importing a caseload)."""
    trail = [Crumb(PATIENTS, reverse("followup:patient_list"))]
    if patient is not None:
        trail.append(Crumb(patient.display_name, reverse("followup:patient_detail", args=[patient.pk])))
    return trail


def _trail_to(path: str, patient) -> list[Crumb] | None:
    """The trail ending at this local page, if it is one to go back to; None otherwise."""
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    if match.namespace != "followup":
        return None
    name, kwargs = match.url_name, match.kwargs
    reports = Crumb(REPORTS, reverse("followup:reports"))
    if name == "dashboard":
        return [Crumb(DASHBOARD, path)]
    if name == "worklists":
        return [Crumb(WORKLISTS, path)]
    if name == "worklist" and kwargs["slug"] in WORKLIST_DEFS:
        return [Crumb(WORKLISTS, reverse("followup:worklists")), Crumb(WORKLIST_DEFS[kwargs["slug"]].title, path)]
    if name == "patient_list":
        return [Crumb(PATIENTS, path)]
    if name == "reports":
        return [Crumb(REPORTS, path)]
    if name == "report_line_list" and kwargs["slug"] in LINE_LISTS:
        return [reports, Crumb(LINE_LISTS[kwargs["slug"]].title, path)]
    if name == "report_summary" and kwargs["slug"] in SUMMARIES:
        return [reports, Crumb(SUMMARIES[kwargs["slug"]].title, path)]
    if patient is not None and name == "patient_detail" and kwargs["pk"] == patient.pk:
        trail = patient_trail(patient)
        return [trail[0], Crumb(patient.display_name, path)]
    return None


def came_from(request, *, patient=None, referer: bool = False) -> list[Crumb] | None:
    """The trail back to where the user came from: the ``next`` parameter, else (``referer``) the
    page the browser says linked here; None when neither is a page of this site to go back to."""
    candidates = [request.POST.get("next"), request.GET.get("next")]
    if referer:
        candidates.append(request.headers.get("Referer"))
    for candidate in candidates:
        path = _local(candidate, request)
        trail = path and _trail_to(path, patient)
        if trail:
            return trail
    return None
