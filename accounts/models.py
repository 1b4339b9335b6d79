"""What happened to a staff account's sign-in: who, what, when, from where. Read in the admin site,
never changed or deleted (an audit record, like the access log)."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Event(models.TextChoices):
    SIGNED_IN = "signed_in", "Logged in"
    SIGNED_IN_SSO = "signed_in_sso", "Logged in by single sign-on"
    SSO_REFUSED = "sso_refused", "Single sign-on refused"
    WRONG_CODE = "wrong_code", "Wrong code entered"
    APP_SET_UP = "app_set_up", "Authenticator app set up"
    RECOVERY_CODE_USED = "recovery_code_used", "Recovery code used"
    RECOVERY_CODES_NEW = "recovery_codes_new", "New recovery codes made"
    APP_RESET = "app_reset", "Authenticator app reset by an admin"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    PASSWORD_RESET = "password_reset", "Password reset by an admin"


class SecurityEvent(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="security_events"
    )
    # Who did it, when not the user themselves (an admin's reset).
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    event = models.CharField(max_length=30, choices=Event.choices)
    address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(event__in=Event.values), name="accounts_securityevent_event_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()}: {self.user or self.detail}"
