"""Sign-in in the admin site: a user's single sign-on link and second factor, an admin's resets, and the
security events (read only)."""

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from followup import models as m
from followup.admin import AuditLogAdmin
from followup.admin import UserAdmin as TrackerUserAdmin

from . import mfa
from .events import record
from .models import Event, SecurityEvent

# django-otp's own admin pages show each app's secret key and QR code: nobody else should see them. An
# admin resets a user's app from the user list instead (below).
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

admin.site.unregister(m.User)


@admin.register(m.User)
class UserAdmin(TrackerUserAdmin):
    list_display = [*TrackerUserAdmin.list_display, "authenticator_app"]
    fieldsets = [
        *TrackerUserAdmin.fieldsets,
        ("Sign-in", {"fields": ["sso_id", "must_change_password"]}),
    ]
    add_fieldsets = [*TrackerUserAdmin.add_fieldsets, ("Sign-in", {"fields": ["sso_id"]})]
    search_fields = [*TrackerUserAdmin.search_fields, "sso_id"]
    actions = ["reset_authenticator_app"]

    def get_queryset(self, request):
        has_app = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_app=Exists(has_app))

    @admin.display(boolean=True, description="Authenticator app")
    def authenticator_app(self, obj):
        return obj.has_app

    @admin.action(
        description="Reset the authenticator app (they set up a new one when they next log in)", permissions=["change"]
    )
    def reset_authenticator_app(self, request, queryset):
        people = list(queryset)
        # Only a superuser resets a superuser's second factor (a reset also lifts their lockout).
        refused = [person for person in people if person.is_superuser and not request.user.is_superuser]
        people = [person for person in people if person not in refused]
        for person in people:
            mfa.reset(person, by=request.user, request=request)
        if people:
            names = ", ".join(str(person) for person in people)
            self.message_user(
                request,
                f"Reset the authenticator app of {names}. Their recovery codes no longer work and any login lockout "
                f"is lifted. They set up a new app with their password when they next log in.",
                messages.SUCCESS,
            )
        if refused:
            names = ", ".join(str(person) for person in refused)
            self.message_user(
                request, f"Not reset: {names}. Only a superuser may reset a superuser's app.", messages.ERROR
            )

    def get_readonly_fields(self, request, obj=None):
        """Linking a superuser to single sign-on lets that identity in without the second factor: superusers only."""
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            readonly.append("sso_id")
        return readonly

    def save_model(self, request, obj, form, change):
        """A new account's first password is one an admin chose: the person chooses their own at first login."""
        if not change and obj.has_usable_password():
            obj.must_change_password = True
        super().save_model(request, obj, form, change)

    def user_change_password(self, request, id, form_url=""):
        """An admin's reset: the person must choose a new password when they next log in (not when an admin
        changes their own). The lockout is lifted by followup.auth.LiftLockoutOnPasswordChange."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            person = m.User.objects.get(pk=id)
            if person.pk != request.user.pk and person.has_usable_password():
                person.must_change_password = True
                person.save(update_fields=["must_change_password"])
            record(Event.PASSWORD_RESET, user=person, by=request.user, request=request)
        return response


@admin.register(SecurityEvent)
class SecurityEventAdmin(AuditLogAdmin):
    """Read only: logins, wrong codes, apps set up and reset, passwords changed and reset."""

    actions = None
    list_display = ["at", "user", "event", "by", "address", "detail"]
    list_filter = ["event"]
    list_select_related = ["user", "by"]
    search_fields = ["user__username", "detail", "address"]
    date_hierarchy = "at"
