"""Error pages and the health check. None of them needs the database to render."""

import sys

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

DATABASE_DOWN = (OperationalError, InterfaceError)


def server_error(request):
    """handler500: a database that went away is a 503 (try again shortly), anything else a 500.

    Rendered without the request, so no context processor touches the database.
    """
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_DOWN):
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(render_to_string("500.html"), status=500)


@login_not_required
@never_cache
@require_GET
def health(request):
    """For the load balancer: is the app up, and can it reach its database?"""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"app": "ok", "database": "unavailable"}, status=503)
    return JsonResponse({"app": "ok", "database": "ok"})
