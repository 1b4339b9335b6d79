from django.contrib import admin

from followup.admin import PATIENT_SEARCH, ClinicalRecordAdmin

from .models import Contact


@admin.register(Contact)
class ContactAdmin(ClinicalRecordAdmin):
    list_display = ["patient", "kind", "contacted_at", "by", "with_whom", "answered", "message_left"]
    list_filter = ["kind", "with_whom", "entered_in_error"]
    list_select_related = ["patient", "by"]
    search_fields = PATIENT_SEARCH
    raw_id_fields = ["patient", "by"]
