"""Alerts in the Django admin, for the admin role only and read only: raised and sent by the services
and the worker, never by hand (the Alerts page, /alerts/, is the everyday view)."""

from django.contrib import admin

from followup.admin import AdminRoleOnly

from .models import Alert, AlertAttempt


class ReadOnly(AdminRoleOnly):
    def has_add_permission(self, request, obj=None):  # an inline's takes the parent
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AlertAttemptInline(ReadOnly, admin.TabularInline):
    model = AlertAttempt
    fields = ["at", "outcome", "error"]
    readonly_fields = fields
    extra = 0


@admin.register(Alert)
class AlertAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "kind", "team", "address", "status", "attempts", "sent_at"]
    list_filter = ["kind", "status", "team"]
    list_select_related = ["team"]
    search_fields = ["=address", "subject"]
    inlines = [AlertAttemptInline]
    show_full_result_count = False


@admin.register(AlertAttempt)
class AlertAttemptAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["at", "alert", "outcome", "error"]
    list_filter = ["outcome"]
    list_select_related = ["alert"]
