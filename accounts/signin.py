"""A local sign-in between its two steps, and the one place a sign-in completes.

After the right password, a user who needs a second factor is not logged in: the session holds only who
they said they were, for MFA_PENDING_MINUTES, until the right code (accounts/views.py). Every way in
(password alone, password and code, single sign-on) ends in ``complete()``, which logs the user in and
records how.
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.shortcuts import redirect

from .events import record
from .mfa import new_app_key as make_app_key
from .models import Event

PENDING = "accounts.pending"
# The key of an app being set up, by user: a login started again (the pending step timed out while the
# person installed an app) shows the same QR code, so the entry already added to the app still works.
NEW_APP_KEYS = "accounts.new_app_keys"
SIGNED_IN_WITH = "accounts.signed_in_with"
# How a session was signed in (SIGNED_IN_WITH): the account page says so.
PASSWORD, PASSWORD_AND_APP, PASSWORD_AND_RECOVERY_CODE, SSO = (
    "password",
    "password and authenticator app",
    "password and recovery code",
    "single sign-on",
)


def start_pending(request, user, next_url: str) -> None:
    """The password was right; the code is still to come. The session gets a new key (its data moves with it,
    so a key of an app being set up is kept), and holds only who they said they were."""
    request.session.cycle_key()
    request.session[PENDING] = {"user": user.pk, "backend": user.backend, "next": next_url, "at": time.time()}


def pending(request) -> dict | None:
    data = request.session.get(PENDING)
    if not data or time.time() - data["at"] > settings.MFA_PENDING_MINUTES * 60:
        return None
    return data


def pending_user(request):
    """The user whose password was right moments ago, if they are still allowed in; else None."""
    data = pending(request)
    if data is None:
        return None
    return get_user_model()._default_manager.filter(pk=data["user"], is_active=True).first()


def new_app_key(request, user) -> str:
    """The key of the app this user is setting up in this browser: the same one until it is set up."""
    keys = request.session.get(NEW_APP_KEYS, {})
    key = keys.get(str(user.pk))
    if not key:
        key = keys[str(user.pk)] = make_app_key()
        request.session[NEW_APP_KEYS] = keys
    return key


def forget_new_app_key(request) -> None:
    request.session.pop(NEW_APP_KEYS, None)


def forget_pending(request) -> None:
    request.session.pop(PENDING, None)


def complete(request, user, *, backend: str, method: str, next_url: str):
    """Log the user in, say how (the session and the security events), and go where they were going."""
    forget_pending(request)
    login(request, user, backend=backend)
    request.session[SIGNED_IN_WITH] = method
    record(Event.SIGNED_IN_SSO if method == SSO else Event.SIGNED_IN, user=user, request=request, detail=method)
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)
