from django.contrib import admin

from followup.admin import PATIENT_SEARCH, ClinicalRecordAdmin

from .models import MDTDiscussion


@admin.register(MDTDiscussion)
class MDTDiscussionAdmin(ClinicalRecordAdmin):
    list_display = ["patient", "meeting_on", "outcome", "created_by"]
    list_filter = ["outcome", "entered_in_error"]
    list_select_related = ["patient", "created_by"]
    search_fields = PATIENT_SEARCH
    raw_id_fields = ["patient", "recurrence"]
    date_hierarchy = "meeting_on"
