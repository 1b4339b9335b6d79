"""Session limits, caching rules for pages that carry patient data, and the log of refused requests."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.core.signing import BadSignature
from django.dispatch import receiver
from django.utils.cache import patch_cache_control

from .audit import RecordNotVisible, log_refusal

# The time of the session's last request, in a cookie signed for that session alone.
LAST_REQUEST_COOKIE = "last_request"


def clock() -> float:
    """Seconds since the epoch: the one clock of the session limits."""
    return time.time()


@receiver(user_logged_in)
def stamp_session_start(sender, request, user, **kwargs):
    """The clock of both session limits starts at login."""
    if request is not None and hasattr(request, "session"):
        request.session["started_at"] = request.session["last_seen"] = clock()


def _signed_for(request) -> str:
    return f"followup.last-request.{request.session.session_key}"


def last_request(request) -> float:
    """When this session's previous request was answered; 0 if the browser sent no valid stamp."""
    try:
        return float(request.get_signed_cookie(LAST_REQUEST_COOKIE, salt=_signed_for(request)))
    except (KeyError, BadSignature, ValueError):
        return 0.0


def max_age_left(request) -> float:
    """Seconds until this session reaches SESSION_MAX_AGE, whatever the user does."""
    started = request.session.get("started_at", clock())
    return max(0.0, settings.SESSION_MAX_AGE.total_seconds() - (clock() - started))


def allowance_left(request) -> float:
    """Seconds this session has left if no other request comes, counted from now (this request
    counts as activity): the idle allowance, or less when the session's maximum length ends first."""
    return min(settings.SESSION_IDLE_TIMEOUT.total_seconds(), max_age_left(request))


class SessionTimeoutMiddleware:
    """Log off after SESSION_IDLE_TIMEOUT without a request, and after SESSION_MAX_AGE in any case.

    The idle allowance is exact: every request counts, to the millisecond. The time of the last
    request travels in a cookie signed with the session's own key (it cannot be forged or carried
    to another session; an older one only shortens the allowance), set on every response, so no
    request writes the session: a session write per request is a database write and commit per
    page. Without the cookie the allowance runs from login, the stamp the session itself holds.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = clock()
            session = request.session
            started = session.setdefault("started_at", now)
            last_seen = max(session.get("last_seen", started), last_request(request))
            idle = now - last_seen > settings.SESSION_IDLE_TIMEOUT.total_seconds()
            too_old = now - started > settings.SESSION_MAX_AGE.total_seconds()
            if idle or too_old:
                logout(request)  # flushes the session on the server too
                messages.info(
                    request,
                    "You were logged out after a period of inactivity."
                    if idle
                    else "Your session reached its maximum length. Please log in again.",
                )
                response = redirect_to_login(request.get_full_path())
                response.delete_cookie(LAST_REQUEST_COOKIE)
                return response
        response = self.get_response(request)
        if request.user.is_authenticated:  # also just after logging in: the view has set the user
            response.set_signed_cookie(
                LAST_REQUEST_COOKIE,
                f"{clock():.3f}",
                salt=_signed_for(request),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite=settings.SESSION_COOKIE_SAMESITE,
            )
        elif LAST_REQUEST_COOKIE in request.COOKIES:
            response.delete_cookie(LAST_REQUEST_COOKIE)
        return response


class NoStoreMiddleware:
    """Signed-in pages hold patient data: no browser or proxy may keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, no_cache=True, must_revalidate=True, private=True)
        return response


class AccessRefusalMiddleware:
    """A request for a record outside the user's scope is a 404 and an access-log row.

    process_exception runs after the view (and any transaction it opened) has ended, so
    the row is kept; it costs one INSERT and looks nothing else up.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RecordNotVisible) and request.user.is_authenticated:
            log_refusal(request, exception)
        return None  # Django answers with its 404 page as before
