"""The session's own endpoint: "Stay signed in" on the idle-logoff warning (static/js/timeout.mjs)."""

from django.http import JsonResponse
from django.views.decorators.http import require_POST

from ..middleware import allowance_left


@require_POST
def stay_signed_in(request):
    """A request, so it counts as activity: SessionTimeoutMiddleware stamps this session's
    last-request cookie on the answer, as it does for every page. It refreshes nothing
    else and names no one: it can only keep its own caller's session alive. Answers with
    the seconds the session now has (less than the idle allowance near its maximum length)."""
    return JsonResponse({"seconds_left": int(allowance_left(request))})
