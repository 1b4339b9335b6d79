from datetime import timedelta

from axes.conf import settings as axes_settings
from axes.helpers import get_cool_off
from axes.utils import reset as reset_lockout
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.shortcuts import render
from django.utils import timezone


class UserWithTeamBackend(ModelBackend):
    """Loads the signed-in user with their team: every page shows the team and scopes by it."""

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("team").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


def client_ip(request) -> str:
    """The address a login lockout keys on.

    Behind LOCKOUT_PROXY_COUNT (env AXES_PROXY_COUNT) trusted proxies the client is that many entries from
    the right of X-Forwarded-For (entries further left are the client's to forge);
    with no proxy it is REMOTE_ADDR.
    """
    from django.conf import settings

    count = settings.LOCKOUT_PROXY_COUNT
    if count:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")


def duration_in_words(wait: timedelta) -> str:
    """15 minutes, 1 hour, 1 hour 30 minutes (whole minutes: cool-offs are set in minutes)."""
    hours, minutes = divmod(round(wait.total_seconds() / 60), 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def lockout_response(request, original_response=None, credentials=None):
    """The lockout page (AXES_LOCKOUT_CALLABLE): how long the wait is, and when it ends.

    Every attempt while locked out starts the cool-off again
    (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), this one included, so the lockout ends
    one cool-off after this attempt. The page is the same whether the username exists or not.
    """
    cool_off = get_cool_off(request)
    ends = timezone.localtime(request.axes_attempt_time + cool_off)
    at = f"{ends:%H:%M}" if ends.date() == timezone.localdate() else f"{ends:%H:%M} on {ends:%-d %b %Y}"
    context = {"wait": duration_in_words(cool_off), "at": at}
    return render(request, "registration/locked_out.html", context, status=axes_settings.AXES_HTTP_RESPONSE_CODE)


class LiftLockoutOnPasswordChange:
    """Not a rule for passwords: a hook. Django tells every password validator when a password
    is set (AbstractBaseUser.save() after set_password()), whatever sets it: the admin site's
    password reset, `manage.py changepassword`, the shell. A new password lifts that user's
    login lockout, from every address, so an admin's reset is all a locked-out user needs.
    """

    def validate(self, password, user=None):
        return None

    def password_changed(self, password, user=None):
        if user is not None:
            reset_lockout(username=user.get_username())

    def get_help_text(self):
        return "Setting a new password also lifts any login lockout of this account."
