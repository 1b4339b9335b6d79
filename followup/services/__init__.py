"""Clinical actions that write: one function per action, atomic, keyword-only.

Views and commands call these; models hold no business logic in save() or signals.
Every write stamps who and when and bumps the record's version; edits check the
version the user started from (see records.lock).
"""

from .corrections import record_mark_entered_in_error
from .followup import (
    followup_item_add,
    followup_item_book,
    followup_item_cancel,
    followup_item_did_not_attend,
    followup_item_record_done,
    followup_item_record_result,
    has_next_follow_up,
    result_acknowledge,
)
from .patients import (
    EDITABLE_PATIENT_FIELDS,
    ScheduleSlot,
    add_months,
    caseload_hand_over,
    patient_create,
    patient_discharge,
    patient_reassign_nurse,
    patient_record_death,
    patient_update,
    primary_record,
    protocol_assign,
    protocol_schedule,
)
from .records import ConflictError, lock, record_stamp, save_record
from .recurrences import (
    SiteEntry,
    cancelling_leaves_no_imaging,
    distant_recurrence_record_from_test,
    recurrence_record,
    recurrence_set_status,
    restaging_needs,
    restaging_needs_by_test,
    restaging_outcome,
    restaging_refresh,
    staging_test_acknowledge,
    staging_test_cancel,
    staging_test_link_distant,
    staging_test_record_result,
    staging_test_request,
    sync_secondary_status,
    validate_sites,
)
from .symptoms import symptom_report_record, symptom_report_triage

__all__ = [
    "EDITABLE_PATIENT_FIELDS",
    "ConflictError",
    "ScheduleSlot",
    "SiteEntry",
    "add_months",
    "cancelling_leaves_no_imaging",
    "caseload_hand_over",
    "distant_recurrence_record_from_test",
    "followup_item_add",
    "followup_item_book",
    "followup_item_cancel",
    "followup_item_did_not_attend",
    "followup_item_record_done",
    "followup_item_record_result",
    "has_next_follow_up",
    "lock",
    "patient_create",
    "patient_discharge",
    "patient_reassign_nurse",
    "patient_record_death",
    "patient_update",
    "primary_record",
    "protocol_assign",
    "protocol_schedule",
    "record_mark_entered_in_error",
    "record_stamp",
    "recurrence_record",
    "recurrence_set_status",
    "restaging_needs",
    "restaging_needs_by_test",
    "restaging_outcome",
    "restaging_refresh",
    "result_acknowledge",
    "save_record",
    "staging_test_acknowledge",
    "staging_test_cancel",
    "staging_test_link_distant",
    "staging_test_record_result",
    "staging_test_request",
    "symptom_report_record",
    "symptom_report_triage",
    "sync_secondary_status",
    "validate_sites",
]
