"""Django admin of the integration, for the admin role only: the code map (ExamCode) with its history, and
the request log (ApiRequest), read only."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from followup.admin import AdminRoleOnly
from followup.permissions import can_administer

from .models import ApiRequest, ExamCode


@admin.register(ExamCode)
class ExamCodeAdmin(AdminRoleOnly, SimpleHistoryAdmin):
    """Which exam or test code answers which staging test or follow-up item. A wrong row here matches
    results to the wrong kind of test, so only admins keep it, every change is in its history, and a
    code is retired (unticked "active") rather than deleted."""

    list_display = ["system", "code", "display", "staging_modality", "followup_kind", "active"]
    list_filter = ["system", "active", "staging_modality", "followup_kind"]
    search_fields = ["code", "display"]
    ordering = ["system", "code"]

    def has_delete_permission(self, request, obj=None):
        # Past messages were matched through the row: retire a code (active off), never delete it.
        return False


@admin.register(ApiRequest)
class ApiRequestAdmin(admin.ModelAdmin):
    """The request log of every client, and of tokens that belong to none: to read, never to change."""

    list_display = ["at", "client", "action", "outcome", "status_code", "method", "path", "remote_addr"]
    list_filter = ["outcome", "action", "client"]
    list_select_related = ["client"]
    search_fields = ["path", "detail", "=remote_addr"]
    show_full_result_count = False  # the log grows by every request: count it once, not twice

    def has_module_permission(self, request):
        return can_administer(request.user)

    def has_view_permission(self, request, obj=None):
        return can_administer(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
