"""Django admin for every model: search, filters, and no hard deletes of clinical rows."""

from axes import admin as axes_admin
from axes import models as axes_models
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from . import choices as c
from . import models as m
from .audit import log_access
from .nhs import normalise_nhs_number
from .permissions import can_administer
from .services import record_stamp


@admin.register(m.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(m.User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "team", "is_active"]
    list_filter = ["role", "team", "is_active", "is_staff"]
    list_select_related = ["team"]
    fieldsets = [*BaseUserAdmin.fieldsets, ("Tracker", {"fields": ["role", "team"]})]
    add_fieldsets = [*BaseUserAdmin.add_fieldsets, ("Tracker", {"fields": ["role", "team"]})]


class AdminRoleOnly:
    """Shared reference data only the admin role keeps (GP practices, the exam code map): a user with
    access to the admin site for any other reason may not see or change it."""

    def has_module_permission(self, request):
        return can_administer(request.user)

    def has_view_permission(self, request, obj=None):
        return can_administer(request.user)

    def has_add_permission(self, request):
        return can_administer(request.user)

    def has_change_permission(self, request, obj=None):
        return can_administer(request.user)


@admin.register(m.GPPractice)
class GPPracticeAdmin(AdminRoleOnly, SimpleHistoryAdmin):
    """Shared by every patient registered there: a change here shows on all their letters."""

    list_display = ["ods_code", "name", "town", "postcode", "phone"]
    search_fields = ["ods_code", "name", "postcode", "town"]

    def has_delete_permission(self, request, obj=None):
        return can_administer(request.user) and (obj is None or not obj.patients.exists())


class ProtocolStepInline(admin.TabularInline):
    model = m.ProtocolStep
    extra = 1


@admin.register(m.FollowUpProtocol)
class FollowUpProtocolAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]
    list_filter = ["active"]
    search_fields = ["name"]
    inlines = [ProtocolStepInline]


@admin.register(m.ProtocolStep)
class ProtocolStepAdmin(admin.ModelAdmin):
    list_display = ["protocol", "kind", "start_months", "interval_months", "occurrences"]
    list_filter = ["kind", "protocol"]
    list_select_related = ["protocol"]
    search_fields = ["protocol__name"]


class PatientDataAdmin(admin.ModelAdmin):
    """A row of a patient's data: opening it in the admin site is a read, written to the access log
    like the patient page (one row per request for it, whatever the outcome)."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        log_access(
            request,
            action=c.AccessAction.VIEW_IN_ADMIN,
            outcome=c.AccessOutcome.VIEWED if obj is not None else c.AccessOutcome.NOT_FOUND,
            patient=m.patient_of(obj) if obj is not None else None,
            model=self.model,
            pk=object_id,
        )
        return obj


class ClinicalRecordAdmin(PatientDataAdmin):
    """Shows rows entered in error too (filterable), stamps who/when, never deletes."""

    readonly_fields = [
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "version",
        "entered_in_error",
        "error_reason",
        "error_marked_by",
        "error_marked_at",
    ]
    list_filter = ["entered_in_error"]

    def get_queryset(self, request):
        queryset = self.model.all_objects.get_queryset()
        if self.list_select_related:
            queryset = queryset.select_related(*self.list_select_related)
        return queryset

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        record_stamp(obj, request.user)
        super().save_model(request, obj, form, change)

    def get_search_results(self, request, queryset, search_term):
        # "943 476 5919" finds 9434765919: NHS numbers are stored as 10 digits.
        compact = normalise_nhs_number(search_term)
        if compact.isdigit() and len(compact) == 10:
            search_term = compact
            # A list searched by NHS number shows that patient's rows (name, date of birth...): a read.
            log_access(request, action=c.AccessAction.VIEW_IN_ADMIN, nhs_number=compact)
        return super().get_search_results(request, queryset, search_term)


PATIENT_SEARCH = ["=patient__nhs_number", "patient__family_name", "patient__given_name", "=patient__hospital_number"]


@admin.register(m.Patient)
class PatientAdmin(ClinicalRecordAdmin):
    list_display = ["__str__", "date_of_birth", "team", "named_nurse", "status", "follow_up_model"]
    list_filter = ["status", "team", "follow_up_model", "named_nurse", "entered_in_error"]
    list_select_related = ["team", "named_nurse"]
    search_fields = ["=nhs_number", "family_name", "given_name", "=hospital_number"]
    autocomplete_fields = ["named_nurse"]


@admin.register(m.PrimaryDiagnosis)
class PrimaryDiagnosisAdmin(ClinicalRecordAdmin):
    list_display = ["patient", "laterality", "diagnosed_on", "histology", "er_status", "pr_status", "her2_status"]
    list_filter = ["laterality", "histology", "er_status", "her2_status", "entered_in_error"]
    list_select_related = ["patient"]
    search_fields = PATIENT_SEARCH
    raw_id_fields = ["patient"]


@admin.register(m.FollowUpItem)
class FollowUpItemAdmin(ClinicalRecordAdmin):
    list_display = ["patient", "kind", "due_on", "status", "done_on", "result", "result_acknowledged_at"]
    list_filter = ["status", "kind", "result", "entered_in_error"]
    list_select_related = ["patient"]
    search_fields = PATIENT_SEARCH
    raw_id_fields = ["patient", "protocol_step"]
    date_hierarchy = "due_on"


class RecurrenceSiteInline(admin.TabularInline):
    model = m.RecurrenceSite
    fields = ["metastatic_type", "site", "other_site_text", "entered_in_error"]
    readonly_fields = ["metastatic_type", "site", "other_site_text", "entered_in_error"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        # Sites are added through the recurrence service, which keeps them fitting the type.
        return False


@admin.register(m.Recurrence)
class RecurrenceAdmin(ClinicalRecordAdmin):
    list_display = ["patient", "metastatic_type", "status", "diagnosed_on", "detection_method"]
    list_filter = ["metastatic_type", "status", "detection_method", "entered_in_error"]
    list_select_related = ["patient"]
    search_fields = PATIENT_SEARCH
    raw_id_fields = ["patient", "primary"]
    inlines = [RecurrenceSiteInline]


@admin.register(m.RecurrenceSite)
class RecurrenceSiteAdmin(ClinicalRecordAdmin):
    list_display = ["recurrence", "metastatic_type", "site", "other_site_text"]
    list_filter = ["metastatic_type", "site", "entered_in_error"]
    list_select_related = ["recurrence"]
    search_fields = ["=recurrence__patient__nhs_number", "recurrence__patient__family_name"]
    raw_id_fields = ["recurrence"]


@admin.register(m.RestagingEpisode)
class RestagingEpisodeAdmin(ClinicalRecordAdmin):
    list_display = ["recurrence", "opened_on", "target_on", "outcome", "closed_on"]
    list_filter = ["outcome", "entered_in_error"]
    list_select_related = ["recurrence"]
    search_fields = ["=recurrence__patient__nhs_number", "recurrence__patient__family_name"]
    raw_id_fields = ["recurrence"]


class StagingTestSiteInline(admin.TabularInline):
    model = m.StagingTestSite
    extra = 0
    can_delete = False


@admin.register(m.StagingTest)
class StagingTestAdmin(ClinicalRecordAdmin):
    list_display = ["episode", "modality", "requested_on", "performed_on", "reported_on", "result", "acknowledged_at"]
    list_filter = ["modality", "result", "entered_in_error"]
    list_select_related = ["episode"]
    search_fields = ["=episode__recurrence__patient__nhs_number", "episode__recurrence__patient__family_name"]
    raw_id_fields = ["episode", "follow_up_of", "distant_recurrence"]
    inlines = [StagingTestSiteInline]


@admin.register(m.StagingTestSite)
class StagingTestSiteAdmin(PatientDataAdmin):
    list_display = ["test", "site", "other_site_text"]
    list_filter = ["site"]
    list_select_related = ["test"]
    search_fields = ["=test__episode__recurrence__patient__nhs_number"]
    raw_id_fields = ["test"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(m.SymptomReport)
class SymptomReportAdmin(ClinicalRecordAdmin):
    list_display = ["patient", "reported_on", "area", "red_flag", "triage_outcome", "triaged_at"]
    list_filter = ["area", "red_flag", "triage_outcome", "entered_in_error"]
    list_select_related = ["patient"]
    search_fields = PATIENT_SEARCH
    raw_id_fields = ["patient"]


class AuditLogAdmin(admin.ModelAdmin):
    """Audit rows: to read, never to add, change or delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(m.ExportLog)
class ExportLogAdmin(AuditLogAdmin):
    """Read only: the record of who exported what."""

    list_display = ["started_at", "user", "report", "format", "rows", "via"]
    list_filter = ["report", "format", "via"]
    list_select_related = ["user"]
    search_fields = ["report", "user__username"]
    date_hierarchy = "started_at"


@admin.register(m.AccessLog)
class AccessLogAdmin(AuditLogAdmin):
    """Read only: who opened which patient's record, or asked for one and was refused, and when."""

    # Outcome and what was asked for first: on a phone the table scrolls sideways.
    list_display = ["at", "user", "outcome", "asked_for", "action"]
    list_filter = ["outcome", "action"]
    list_select_related = ["user", "patient"]
    search_fields = ["=patient__nhs_number", "=nhs_number", "user__username", "=object_pk"]
    date_hierarchy = "at"

    @admin.display(description="Patient or record asked for")
    def asked_for(self, obj):
        return str(obj.patient) if obj.patient_id else obj.asked_for


# Login records (django-axes): to read, never to change or delete. A lockout is lifted by
# a password reset (followup.auth.LiftLockoutOnPasswordChange) or `manage.py axes_reset_username`.
class LoginRecordAdmin(AuditLogAdmin):
    actions = None  # no "delete selected", no axes "clean up expired attempts"


for _model, _axes_admin in (
    (axes_models.AccessAttempt, axes_admin.AccessAttemptAdmin),
    (axes_models.AccessLog, axes_admin.AccessLogAdmin),
    (axes_models.AccessFailureLog, axes_admin.AccessFailureLogAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, type(f"ReadOnly{_axes_admin.__name__}", (LoginRecordAdmin, _axes_admin), {}))


@admin.register(m.PatientFlags)
class PatientFlagsAdmin(AuditLogAdmin):
    """Read only: what the failsafe counts read for each patient, kept by followup/flags.py (a wrong row is
    repaired by ``manage.py check_patient_flags --fix``, never by hand)."""

    list_display = ["patient", "problem", "implausible_always", "implausible_until", "no_next_follow_up"]
    list_filter = ["problem", "no_next_follow_up"]
    list_select_related = ["patient"]
    search_fields = ["=patient__nhs_number", "=patient__hospital_number"]


@admin.register(m.OpenItemDue)
class OpenItemDueAdmin(AuditLogAdmin):
    """Read only: the open items due each day that the dashboard counts "Overdue" and "Due soon" from, kept by
    followup/flags.py (repaired by ``manage.py check_patient_flags --fix``, never by hand)."""

    list_display = ["open_due_on", "patient", "items", "team", "named_nurse"]
    list_select_related = ["patient", "team", "named_nurse"]
    ordering = ["open_due_on", "patient"]
    search_fields = ["=patient__nhs_number", "=patient__hospital_number"]
