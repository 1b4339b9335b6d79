"""The Alerts pages, for admins: every alert (what, to whom, when, whether it went) and one alert with its
attempts. Read only: alerts are raised and sent by the services and the worker, never by hand.

Admins are not team-scoped (they see every team), so the pages refuse by role before looking anything
up, as the API clients' pages do.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from followup.navigation import ALERTS, Crumb
from followup.permissions import can_administer

from .filters import AlertFilter
from .models import Alert

ALERTS_PER_PAGE = 50


def _require_admin(user) -> None:
    if not can_administer(user):
        raise PermissionDenied("Only admins see the alerts.")


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


def _query_with_page(request, number: int) -> str:
    query = request.GET.copy()
    query["page"] = str(number)
    return query.urlencode()


@require_GET
def alert_list(request):
    _require_admin(request.user)
    filterset = AlertFilter(request.GET or None, queryset=Alert.objects.for_admin_list())
    alerts = filterset.qs if filterset.is_bound and filterset.is_valid() else Alert.objects.for_admin_list()
    number = _page_number(request)
    start = (number - 1) * ALERTS_PER_PAGE
    # One row more than a page says whether there is a next page, without counting every alert.
    rows = list(alerts[start : start + ALERTS_PER_PAGE + 1])
    context = {
        "title": ALERTS,
        "filter": filterset,
        "alerts": rows[:ALERTS_PER_PAGE],
        "page": number,
        "previous_query": _query_with_page(request, number - 1) if number > 1 else None,
        "next_query": _query_with_page(request, number + 1) if len(rows) > ALERTS_PER_PAGE else None,
    }
    return render(request, "alerts/list.html", context)


@require_GET
def alert_detail(request, pk: int):
    _require_admin(request.user)
    alert = get_object_or_404(Alert.objects.select_related("team", "recipient"), pk=pk)
    context = {
        "alert": alert,
        "attempts": list(alert.attempt_log.order_by("at", "pk")),
        "title": f"{alert.get_kind_display()} to {alert.address or 'no address'}",
        "trail": [Crumb(ALERTS, reverse("alerts:alert_list"))],
    }
    return render(request, "alerts/detail.html", context)
