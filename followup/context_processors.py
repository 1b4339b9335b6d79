from django.conf import settings
from django.urls import reverse

from .middleware import allowance_left, max_age_left
from .navigation import ADMIN, ALERTS, API_CLIENTS, DASHBOARD, PATIENTS, REPORTS, WORKLISTS, section_of

__all__ = ["navigation", "section_of", "session_warning"]


def navigation(request):
    """The header's navigation, with the section the page belongs to marked (navigation.section_of)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [
        (DASHBOARD, reverse("followup:dashboard")),
        (WORKLISTS, reverse("followup:worklists")),
        (PATIENTS, reverse("followup:patient_list")),
        (REPORTS, reverse("followup:reports")),
    ]
    if user.is_admin_role:
        items.append((API_CLIENTS, reverse("integration:client_list")))
        items.append((ALERTS, reverse("alerts:alert_list")))
        items.append((ADMIN, reverse("admin:index")))
    match = request.resolver_match
    current = section_of(match.namespace, match.url_name) if match else None
    return {"nav_items": [(label, href, label == current) for label, href in items]}


def session_warning(request):
    """What the idle-logoff warning (static/js/timeout.mjs) needs, as this page leaves the server:
    the seconds the session has left (idle allowance, or less near its maximum length), the idle
    allowance a later request restores, the seconds to the maximum length, and when to warn."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "session_timeout": {
            "seconds_left": int(allowance_left(request)),
            "idle_seconds": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
            "max_seconds": int(max_age_left(request)),
            "warn_seconds": int(settings.SESSION_IDLE_WARNING.total_seconds()),
        }
    }
