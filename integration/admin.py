"""Django admin of the integration: the code map (ExamCode), for the admin role only, with its history."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from followup.permissions import can_administer

from .models import ExamCode


@admin.register(ExamCode)
class ExamCodeAdmin(SimpleHistoryAdmin):
    """Which exam or test code answers which staging test or follow-up item. A wrong row here matches
    results to the wrong kind of test, so only admins keep it, every change is in its history, and a
    code is retired (unticked "active") rather than deleted."""

    list_display = ["system", "code", "display", "staging_modality", "followup_kind", "active"]
    list_filter = ["system", "active", "staging_modality", "followup_kind"]
    search_fields = ["code", "display"]
    ordering = ["system", "code"]

    def has_module_permission(self, request):
        return can_administer(request.user)

    def has_view_permission(self, request, obj=None):
        return can_administer(request.user)

    def has_add_permission(self, request):
        return can_administer(request.user)

    def has_change_permission(self, request, obj=None):
        return can_administer(request.user)

    def has_delete_permission(self, request, obj=None):
        # Past messages were matched through the row: retire a code (active off), never delete it.
        return False
