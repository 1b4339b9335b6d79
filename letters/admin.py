"""Letterheads are kept by admins in the admin site (with history); issued letters are read-only there."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Letter, Letterhead


@admin.register(Letterhead)
class LetterheadAdmin(SimpleHistoryAdmin):
    """A change shows on every letter the team issues from then on; letters already issued keep theirs."""

    list_display = ["unit_name", "team", "phone", "acute_oncology_phone"]
    list_select_related = ["team"]
    search_fields = ["unit_name", "team__name"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Letter)
class LetterAdmin(SimpleHistoryAdmin):
    """Issued letters, to look up: never added, changed or deleted here (letters/services.py issues them)."""

    list_display = ["patient", "kind", "addressee", "issued_at", "issued_by", "entered_in_error"]
    list_filter = ["kind", "entered_in_error"]
    list_select_related = ["patient", "issued_by"]
    search_fields = ["patient__nhs_number", "patient__family_name", "addressee"]

    def get_queryset(self, request):
        return Letter.all_objects.all()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
