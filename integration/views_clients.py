"""The API clients' pages, for admins: register a system (its token shown once), change its teams and
permissions, rotate its token, revoke it, and read its request log.

A token is shown in the response to the POST that made it, and nowhere else: not redirected to
(that would need it in the session, which is a database row), not in a message, not in any history.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from followup.navigation import API_CLIENTS, Crumb
from followup.permissions import can_administer
from followup.views.base import apply_errors

from . import clients
from .forms_clients import ClientPermissionsForm, ClientRegisterForm, ClientRevokeForm
from .models import ApiClient, InboxMessage, MessageStatus

REQUESTS_PER_PAGE = 25


def _require_admin(user) -> None:
    if not can_administer(user):
        raise PermissionDenied("Only admins manage API clients.")


def _client(pk: int) -> ApiClient:
    return get_object_or_404(ApiClient.objects.select_related("created_by", "revoked_by"), pk=pk)


def _trail(client: ApiClient | None = None) -> list[Crumb]:
    trail = [Crumb(API_CLIENTS, reverse("integration:client_list"))]
    if client is not None:
        trail.append(Crumb(client.name, reverse("integration:client_detail", args=[client.pk])))
    return trail


def _service_errors(form, exc: ValidationError) -> None:
    # The services name the permission "can_send"; the form asks it as one question, "may".
    if hasattr(exc, "error_dict") and "can_send" in exc.error_dict:
        exc.error_dict["may"] = exc.error_dict.pop("can_send")
    apply_errors(form, exc)


def _token_page(request, client: ApiClient, token: str, *, title: str):
    response = render(
        request,
        "integration/clients/token.html",
        {"client": client, "token": token, "title": title, "trail": _trail(client)},
    )
    # Never kept by a browser or proxy (the middleware says so for every signed-in page; this page
    # must not depend on it), and never indexed.
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def client_list(request):
    _require_admin(request.user)
    since = timezone.now() - timedelta(hours=24)
    context = {"clients": ApiClient.objects.for_admin_list(since=since), "title": API_CLIENTS}
    return render(request, "integration/clients/list.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def client_register(request):
    _require_admin(request.user)
    form = ClientRegisterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            client, token = clients.client_register(
                name=form.cleaned_data["name"],
                teams=list(form.cleaned_data["teams"]),
                can_send=form.can_send,
                can_read=form.can_read,
                by=request.user,
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            return _token_page(request, client, token, title=f"{client.name} is registered")
    context = {
        "form": form,
        "title": "Register a system",
        "submit_label": "Register and show its token",
        "cancel_url": reverse("integration:client_list"),
        "trail": _trail(),
    }
    return render(request, "followup/action.html", context)


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


@require_GET
def client_detail(request, pk: int):
    _require_admin(request.user)
    client = _client(pk)
    number = _page_number(request)
    start = (number - 1) * REQUESTS_PER_PAGE
    # One row more than a page says whether there is a next page, without counting the whole log.
    rows = list(client.requests.order_by("-at", "-pk")[start : start + REQUESTS_PER_PAGE + 1])
    counts = dict(InboxMessage.objects.filter(client=client).order_by().values_list("status").annotate(n=Count("pk")))
    context = {
        "client": client,
        "teams": list(client.teams.order_by("name")),
        "requests": rows[:REQUESTS_PER_PAGE],
        "page": number,
        "previous_page": number - 1 if number > 1 else None,
        "next_page": number + 1 if len(rows) > REQUESTS_PER_PAGE else None,
        "inbox": [(label, counts.get(status, 0)) for status, label in MessageStatus.choices],
        "inbox_total": sum(counts.values()),
        "title": client.name,
        "trail": _trail(),
    }
    return render(request, "integration/clients/detail.html", context)


def _refuse_revoked(request, client: ApiClient):
    messages.info(request, f"{client.name} is revoked: register a new client instead.")
    return redirect("integration:client_detail", client.pk)


@require_http_methods(["GET", "POST"])
def client_edit(request, pk: int):
    _require_admin(request.user)
    client = _client(pk)
    if not client.is_active:
        return _refuse_revoked(request, client)
    if request.method == "POST":
        form = ClientPermissionsForm(request.POST)
    else:
        form = ClientPermissionsForm(initial=ClientPermissionsForm.initial_for(client))
    if request.method == "POST" and form.is_valid():
        try:
            clients.client_update(
                client=client,
                teams=list(form.cleaned_data["teams"]),
                can_send=form.can_send,
                can_read=form.can_read,
                by=request.user,
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, f"{client.name}: teams and permissions saved. They apply to its next request.")
            return redirect("integration:client_detail", client.pk)
    context = {
        "form": form,
        "title": f"Change what {client.name} may do",
        "submit_label": "Save",
        "cancel_url": reverse("integration:client_detail", args=[client.pk]),
        "trail": _trail(client),
    }
    return render(request, "followup/action.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def client_rotate(request, pk: int):
    _require_admin(request.user)
    client = _client(pk)
    if not client.is_active:
        return _refuse_revoked(request, client)
    if request.method == "POST":
        token = clients.client_rotate(client=client, by=request.user)
        client.refresh_from_db()
        return _token_page(request, client, token, title=f"A new token for {client.name}")
    context = {
        "form": None,
        "title": f"Rotate the token of {client.name}",
        "warning": (
            f"The token {client.name} uses now stops working as soon as you rotate: its requests are "
            "refused until its integration engine is given the new token, which is shown once."
        ),
        "submit_label": "Rotate the token",
        "status_change": True,
        "cancel_url": reverse("integration:client_detail", args=[client.pk]),
        "trail": _trail(client),
    }
    return render(request, "followup/action.html", context)


@require_http_methods(["GET", "POST"])
def client_revoke(request, pk: int):
    _require_admin(request.user)
    client = _client(pk)
    if not client.is_active:
        return _refuse_revoked(request, client)
    form = ClientRevokeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            clients.client_revoke(client=client, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{client.name} is revoked: its token is refused from now on.")
            return redirect("integration:client_detail", client.pk)
    context = {
        "form": form,
        "title": f"Revoke {client.name}",
        "warning": (
            f"Its token stops working at once and for good: {client.name} can no longer send results or "
            "read records. What it sent stays. To use it again, register it anew."
        ),
        "submit_label": "Revoke",
        "status_change": True,
        "cancel_url": reverse("integration:client_detail", args=[client.pk]),
        "trail": _trail(client),
    }
    return render(request, "followup/action.html", context)
