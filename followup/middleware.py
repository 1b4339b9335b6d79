"""Session limits, caching rules for pages that carry patient data, and the log of refused requests."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.utils.cache import patch_cache_control

from .audit import RecordNotVisible, log_refusal

# Refresh the "last seen" stamp at most this often: one session write a minute, not one a request.
_TOUCH_EVERY = 60


@receiver(user_logged_in)
def stamp_session_start(sender, request, user, **kwargs):
    """The clock of both session limits starts at login."""
    if request is not None and hasattr(request, "session"):
        request.session["started_at"] = request.session["last_seen"] = time.time()


class SessionTimeoutMiddleware:
    """Log off after SESSION_IDLE_TIMEOUT without a request, and after SESSION_MAX_AGE in any case."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.setdefault("started_at", now)
            last_seen = session.get("last_seen", now)
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
                return redirect_to_login(request.get_full_path())
            if now - last_seen >= _TOUCH_EVERY or "last_seen" not in session:
                session["last_seen"] = now
        return self.get_response(request)


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
