"""Every database constraint refuses a bad row at the database (not just in a form).

Each case makes a valid row, breaks exactly one rule, and saves with save()
(which skips full_clean), so only the database stands in the way.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from alerts.models import Alert, AlertAttempt
from followup import choices as c
from followup import models as m
from integration.models import ApiRequest
from selfreport.models import PersonalCode

from . import factories as f
from .factories import project_models
from .integration import factories as integration_factories
from .mdt.factories import MDTDiscussionFactory
from .tasks.factories import TaskFactory

TODAY = timezone.localdate()


def _error_mark(factory):
    def make(nurse):
        row = factory()
        row.entered_in_error = True  # no reason, who or when
        return row

    return make


def _set(factory, **changes):
    def make(nurse):
        row = factory()
        for name, value in changes.items():
            setattr(row, name, value)
        return row

    return make


def _duplicate_patient_nhs(nurse):
    first = f.PatientFactory()
    return f.PatientFactory.build(
        nhs_number=first.nhs_number,
        team=first.team,
        named_nurse=first.named_nurse,
        created_by=nurse,
        updated_by=nurse,
    )


def _duplicate_hospital_number(nurse):
    first = f.PatientFactory()
    return f.PatientFactory.build(
        hospital_number=first.hospital_number,
        team=first.team,
        named_nurse=first.named_nurse,
        created_by=nurse,
        updated_by=nurse,
    )


def _open_task_with_contact(nurse):
    task = TaskFactory()
    task.contact = f.ContactFactory(patient=task.patient)
    return task


def _duplicate_protocol_slot(nurse):
    step = f.ProtocolStepFactory()
    first = f.FollowUpItemFactory(protocol_step=step, sequence=1)
    return f.FollowUpItemFactory.build(
        patient=first.patient, protocol_step=step, sequence=1, created_by=nurse, updated_by=nurse
    )


def _duplicate_recurrence_site(nurse):
    first = f.RecurrenceSiteFactory()
    return f.RecurrenceSiteFactory.build(recurrence=first.recurrence, created_by=nurse, updated_by=nurse)


def _duplicate_staging_site(nurse):
    test = f.StagingTestFactory()
    m.StagingTestSite.objects.create(test=test, site=c.Site.LIVER)
    return m.StagingTestSite(test=test, site=c.Site.LIVER)


def _staging_site(**fields):
    def make(nurse):
        return m.StagingTestSite(test=f.StagingTestFactory(), **fields)

    return make


def _reported(**changes):
    base = {"performed_on": TODAY - timedelta(days=3), "reported_on": TODAY - timedelta(days=2)}
    return _set(f.StagingTestFactory, **{**base, **changes})


def _done_item(**changes):
    return _set(f.FollowUpItemFactory, status=c.FollowUpStatus.DONE, done_on=TODAY, **changes)


def _triaged(**changes):
    base = {"triage_outcome": c.TriageOutcome.CLINIC_REVIEW, "triaged_at": timezone.now()}
    return _set(f.SymptomReportFactory, **{**base, **changes})


def _triaged_by_nurse(**changes):
    def make(nurse):
        row = _triaged(**changes)(nurse)
        row.triaged_by = nurse
        return row

    return make


def _acknowledged(factory, by_field, at_field, **changes):
    def make(nurse):
        row = _set(factory, **changes)(nurse)
        setattr(row, by_field, nurse)
        setattr(row, at_field, timezone.now())
        return row

    return make


def _second_open_due(nurse):
    """A second row of a patient's open items due on the same day (followup/flags.py keeps one)."""
    kept = m.OpenItemDue.objects.get(patient=f.FollowUpItemFactory(patient__team=nurse.team).patient)
    return m.OpenItemDue(
        patient=kept.patient,
        team_id=kept.team_id,
        named_nurse_id=kept.named_nurse_id,
        open_due_on=kept.open_due_on,
        items=1,
    )


def _new_letter(**changes):
    """A second letter of the same patient, not saved, with ``changes`` (an issued letter's digest and
    size never change: its trigger refuses that before any CHECK, migration letters 0001)."""

    def make(nurse):
        row = f.LetterFactory.build(patient=f.PatientFactory(), contact=None)
        row.contact = f.ContactFactory(patient=row.patient, kind="letter", answered=None)
        for name, value in changes.items():
            setattr(row, name, value)
        return row

    return make


CASES = {
    "followup_openitemdue_unique_day": _second_open_due,
    "followup_user_role_valid": _set(f.UserFactory, role="boss"),
    "followup_user_team_unless_admin": _set(f.UserFactory, team=None),
    "followup_user_interface_never_signs_in": _set(f.UserFactory, role=c.Role.INTERFACE, team=None, is_active=True),
    # Patient
    "followup_patient_error_mark_complete": _error_mark(f.PatientFactory),
    "followup_patient_nhs_number_unique": _duplicate_patient_nhs,
    "followup_patient_hospital_number_unique": _duplicate_hospital_number,
    "followup_patient_nhs_number_ten_digits": _set(f.PatientFactory, nhs_number="12345"),
    "followup_patient_sex_valid": _set(f.PatientFactory, sex="X"),
    "followup_patient_status_valid": _set(f.PatientFactory, status="lost"),
    "followup_patient_follow_up_model_valid": _set(f.PatientFactory, follow_up_model="ad_hoc"),
    "followup_patient_deceased_has_date_of_death": _set(f.PatientFactory, status=c.PatientStatus.DECEASED),
    "followup_patient_death_after_birth": _set(
        f.PatientFactory, status=c.PatientStatus.DECEASED, date_of_death=f.PatientFactory.date_of_birth - timedelta(1)
    ),
    "followup_patient_discharge_has_date_and_reason": _set(
        f.PatientFactory, status=c.PatientStatus.DISCHARGED, discharged_on=TODAY
    ),
    "followup_patient_protocol_has_start": _set(f.PatientFactory, protocol_start_on=TODAY),
    "followup_patient_preferred_contact_valid": _set(f.PatientFactory, preferred_contact="pigeon"),
    "followup_patient_interpreter_language": _set(f.PatientFactory, interpreter_needed=True),
    "followup_patient_pifu_period": _set(f.PatientFactory, pifu_starts_on=TODAY, pifu_ends_on=TODAY),
    "followup_gppractice_ods_code_format": _set(f.GPPracticeFactory, ods_code="a81001"),
    # Contacts (contacts app)
    "followup_contact_error_mark_complete": _error_mark(f.ContactFactory),
    "followup_contact_kind_valid": _set(f.ContactFactory, kind="pigeon", answered=None),
    "followup_contact_with_whom_valid": _set(f.ContactFactory, with_whom="neighbour"),
    "contacts_contact_answered_for_calls_made": _set(f.ContactFactory, answered=None),
    "contacts_contact_message_only_when_unanswered": _set(f.ContactFactory, message_left=True),
    # MDT discussions (mdt app)
    "followup_mdtdiscussion_error_mark_complete": _error_mark(MDTDiscussionFactory),
    "followup_mdtdiscussion_outcome_valid": _set(MDTDiscussionFactory, outcome="chemo"),
    "mdt_mdtdiscussion_plan_recorded": _set(MDTDiscussionFactory, plan=""),
    "mdt_mdtdiscussion_attendees_recorded": _set(MDTDiscussionFactory, attendees=""),
    # Tasks (tasks app)
    "followup_task_error_mark_complete": _error_mark(TaskFactory),
    "followup_task_status_valid": _set(TaskFactory, status="pending"),
    "tasks_task_description_given": _set(TaskFactory, description=""),
    "tasks_task_done_when_and_by_whom": _set(TaskFactory, status="done"),
    "tasks_task_cancel_reason": _set(TaskFactory, status="cancelled"),
    "tasks_task_contact_only_when_done": _open_task_with_contact,
    # Letters (letters app)
    "followup_letter_error_mark_complete": _error_mark(f.LetterFactory),
    "followup_letter_kind_valid": _new_letter(kind="telegram"),
    "followup_letter_recipient_valid": _new_letter(recipient="neighbour"),
    "letters_letter_recipient_fits_kind": _new_letter(kind="discharge_gp", recipient="patient"),
    "letters_letter_result_only_for_result_letters": _new_letter(kind="result_patient"),
    "letters_letter_pdf_digest": _new_letter(size=0),
    # Primary diagnosis
    "followup_primarydiagnosis_error_mark_complete": _error_mark(f.PrimaryDiagnosisFactory),
    **{
        f"followup_primarydiagnosis_{field}_valid": _set(f.PrimaryDiagnosisFactory, **{field: "Z"})
        for field in (
            "laterality",
            "histology",
            "grade",
            "er_status",
            "pr_status",
            "her2_status",
            "surgery",
            "axillary_surgery",
            "radiotherapy",
            "systemic_therapy",
            "endocrine_therapy",
        )
    },
    "followup_primarydiagnosis_endocrine_after_diagnosis": _set(
        f.PrimaryDiagnosisFactory, endocrine_started_on=f.PrimaryDiagnosisFactory.diagnosed_on - timedelta(1)
    ),
    # Protocol steps
    "followup_protocolstep_kind_valid": _set(f.ProtocolStepFactory, kind="scan"),
    "followup_protocolstep_occurs_at_least_once": _set(f.ProtocolStepFactory, occurrences=0, interval_months=None),
    "followup_protocolstep_repeat_has_interval": _set(f.ProtocolStepFactory, occurrences=3, interval_months=None),
    # Follow-up items
    "followup_followupitem_error_mark_complete": _error_mark(f.FollowUpItemFactory),
    "followup_followupitem_kind_valid": _set(f.FollowUpItemFactory, kind="scan"),
    "followup_followupitem_status_valid": _set(f.FollowUpItemFactory, status="lost"),
    "followup_followupitem_result_valid": _done_item(result="77", result_recorded_on=TODAY),
    "followup_followupitem_protocol_slot_unique": _duplicate_protocol_slot,
    "followup_followupitem_protocol_step_has_sequence": lambda nurse: f.FollowUpItemFactory.build(
        protocol_step=f.ProtocolStepFactory(), patient=f.PatientFactory(), created_by=nurse, updated_by=nurse
    ),
    "followup_followupitem_done_has_date": _set(
        f.FollowUpItemFactory, kind=c.FollowUpKind.CLINIC_REVIEW, status=c.FollowUpStatus.DONE
    ),
    "followup_followupitem_booked_has_date": _set(f.FollowUpItemFactory, status=c.FollowUpStatus.BOOKED),
    "followup_followupitem_cancel_has_reason": _set(f.FollowUpItemFactory, status=c.FollowUpStatus.CANCELLED),
    "followup_followupitem_result_when_done": _set(
        f.FollowUpItemFactory, result=c.ImagingOutcome.NORMAL, result_recorded_on=TODAY
    ),
    # A result with no day it was recorded: its wait on the results list would start nowhere.
    "followup_followupitem_result_has_recorded_date": _done_item(result=c.ImagingOutcome.NORMAL),
    # Issue 12: a done mammogram with no result, and not marked "Result not yet available".
    "followup_followupitem_done_has_result_or_awaits_it": _done_item(),
    "followup_followupitem_awaited_only_without_result": _set(f.FollowUpItemFactory, result_awaited=True),
    "followup_followupitem_acknowledged_has_result": _acknowledged(
        f.FollowUpItemFactory,
        "result_acknowledged_by",
        "result_acknowledged_at",
        status=c.FollowUpStatus.DONE,
        done_on=TODAY,
        result_awaited=True,  # no result yet: nothing to acknowledge
    ),
    # Issue 15: a report that arrived by itself is classified before it is acknowledged.
    "followup_followupitem_acknowledged_is_classified": _acknowledged(
        f.FollowUpItemFactory,
        "result_acknowledged_by",
        "result_acknowledged_at",
        status=c.FollowUpStatus.DONE,
        done_on=TODAY,
        result=c.ImagingOutcome.REPORTED,
        result_recorded_on=TODAY,
    ),
    # Recurrences and their sites
    "followup_recurrence_error_mark_complete": _error_mark(f.RecurrenceFactory),
    "followup_recurrence_metastatic_type_valid": _set(f.RecurrenceFactory, metastatic_type="04"),
    "followup_recurrence_status_valid": _set(f.RecurrenceFactory, status="probable"),
    "followup_recurrence_detection_method_valid": _set(f.RecurrenceFactory, detection_method="psychic"),
    "followup_recurrence_basis_of_diagnosis_valid": _set(f.RecurrenceFactory, basis_of_diagnosis="3"),
    "followup_recurrence_er_status_valid": _set(f.RecurrenceFactory, er_status="zz"),
    "followup_recurrence_pr_status_valid": _set(f.RecurrenceFactory, pr_status="zz"),
    "followup_recurrence_her2_status_valid": _set(f.RecurrenceFactory, her2_status="zz"),
    "followup_recurrencesite_error_mark_complete": _error_mark(f.RecurrenceSiteFactory),
    "followup_recurrencesite_site_fits_type": _set(f.RecurrenceSiteFactory, site=c.Site.LIVER),
    "followup_recurrencesite_other_described": _set(
        f.RecurrenceSiteFactory, metastatic_type=c.MetastaticType.DISTANT, site=c.Site.OTHER
    ),
    "followup_recurrencesite_unique": _duplicate_recurrence_site,
    # Restaging
    "followup_restagingepisode_error_mark_complete": _error_mark(f.RestagingEpisodeFactory),
    "followup_restagingepisode_outcome_valid": _set(f.RestagingEpisodeFactory, outcome="maybe", closed_on=TODAY),
    "followup_restagingepisode_target_after_open": _set(
        f.RestagingEpisodeFactory, target_on=TODAY - timedelta(days=400)
    ),
    "followup_restagingepisode_closed_has_date": _set(f.RestagingEpisodeFactory, outcome=c.RestagingOutcome.NO_DISTANT),
    "followup_stagingtest_error_mark_complete": _error_mark(f.StagingTestFactory),
    "followup_stagingtest_modality_valid": _set(f.StagingTestFactory, modality="xray_of_soul"),
    "followup_stagingtest_result_valid": _reported(result="maybe"),
    "followup_stagingtest_performed_after_requested": _set(
        f.StagingTestFactory, performed_on=TODAY - timedelta(days=400)
    ),
    "followup_stagingtest_reported_after_performed": _reported(
        reported_on=TODAY - timedelta(days=5), result=c.StagingResult.CLEAR
    ),
    "followup_stagingtest_result_has_report_date": _set(f.StagingTestFactory, result=c.StagingResult.CLEAR),
    "followup_stagingtest_acknowledged_has_result": _acknowledged(
        f.StagingTestFactory, "acknowledged_by", "acknowledged_at"
    ),
    "followup_stagingtest_acknowledged_is_classified": _acknowledged(
        f.StagingTestFactory,
        "acknowledged_by",
        "acknowledged_at",
        performed_on=TODAY - timedelta(days=3),
        reported_on=TODAY - timedelta(days=2),
        result=c.StagingResult.REPORTED,
    ),
    "followup_stagingtest_cancel_has_reason": _set(f.StagingTestFactory, cancelled_on=TODAY),
    "followup_stagingtest_distant_link_needs_distant_result": lambda nurse: _reported(
        result=c.StagingResult.CLEAR,
        distant_recurrence=f.RecurrenceFactory(metastatic_type=c.MetastaticType.DISTANT),
    )(nurse),
    "followup_stagingtestsite_distant_only": _staging_site(site=c.Site.AXILLARY_NODES),
    "followup_stagingtestsite_other_described": _staging_site(site=c.Site.OTHER),
    "followup_stagingtestsite_unique": _duplicate_staging_site,
    # Symptom reports
    "followup_symptomreport_error_mark_complete": _error_mark(f.SymptomReportFactory),
    "followup_symptomreport_area_valid": _set(f.SymptomReportFactory, area="elbow"),
    "followup_symptomreport_red_flag_valid": _set(f.SymptomReportFactory, red_flag="panic"),
    "followup_symptomreport_source_valid": _set(f.SymptomReportFactory, source="pigeon"),
    "followup_symptomreport_lasted_valid": _set(f.SymptomReportFactory, lasted="forever"),
    "followup_symptomreport_worsening_valid": _set(f.SymptomReportFactory, worsening="maybe"),
    "followup_symptomreport_triage_outcome_valid": _triaged_by_nurse(triage_outcome="ignore"),
    "followup_symptomreport_onset_before_report": _set(f.SymptomReportFactory, onset_on=TODAY + timedelta(days=1)),
    "followup_symptomreport_triage_complete": _triaged(),
    "followup_symptomreport_cord_compression_urgent": _triaged_by_nurse(red_flag=c.RedFlag.CORD_COMPRESSION),
    # Export log
    "followup_exportlog_format_valid": lambda nurse: m.ExportLog(user=nurse, report="x", format="pdf"),
    "followup_exportlog_via_valid": lambda nurse: m.ExportLog(user=nurse, report="x", format="csv", via="fax"),
    "followup_exportlog_web_export_has_user": lambda nurse: m.ExportLog(report="x", format="csv", via="web"),
    # Access log
    "followup_accesslog_action_valid": lambda nurse: m.AccessLog(
        user=nurse, patient=f.PatientFactory(), action="peek", path="/"
    ),
    "followup_accesslog_outcome_valid": lambda nurse: m.AccessLog(
        user=nurse, patient=f.PatientFactory(), action="view_patient", outcome="shrug", path="/"
    ),
    "followup_accesslog_names_what_was_asked_for": lambda nurse: m.AccessLog(
        user=nurse, action="request_record", outcome="not_found", path="/"
    ),
}


def _second_message_with_the_same_control_id(nurse):
    first = integration_factories.inbox_message(control_id="MSG1")
    first.save()
    return integration_factories.inbox_message(client=first.client, control_id="MSG1")


INTEGRATION_CASES = {
    "integration_apiclient_sends_or_reads": lambda nurse: integration_factories.api_client(can_send=False),
    "integration_apiclient_revoked_has_reason": lambda nurse: integration_factories.api_client(
        revoked_at=timezone.now()
    ),
    "integration_apirequest_action_valid": lambda nurse: ApiRequest(
        action="peek", method="GET", path="/", outcome="accepted", status_code=200
    ),
    "integration_apirequest_outcome_valid": lambda nurse: ApiRequest(
        action="fhir-read", method="GET", path="/", outcome="shrug", status_code=200
    ),
    "integration_inboxmessage_format_valid": lambda nurse: integration_factories.inbox_message(format="fax"),
    "integration_inboxmessage_status_valid": lambda nurse: integration_factories.inbox_message(status="lost"),
    "integration_inboxmessage_suggested_result_valid": lambda nurse: integration_factories.inbox_message(
        suggested_result="maybe"
    ),
    "integration_inboxmessage_control_id_unique": _second_message_with_the_same_control_id,
    "integration_inboxmessage_matched_to_one": lambda nurse: integration_factories.inbox_message(status="matched"),
    "integration_inboxmessage_only_matched_has_target": lambda nurse: integration_factories.inbox_message(
        status="unmatched", reason="No patient", staging_test=f.StagingTestFactory()
    ),
    "integration_inboxmessage_says_why": lambda nurse: integration_factories.inbox_message(status="unmatched"),
    "integration_inboxmessage_not_ours_by_a_person": lambda nurse: integration_factories.inbox_message(
        status="not-ours", reason="Another hospital's patient"
    ),
    "integration_inboxmessage_duplicate_of_one": lambda nurse: integration_factories.inbox_message(
        status="duplicate", reason="Repeats"
    ),
    "integration_examcode_system_valid": lambda nurse: integration_factories.exam_code(system="ICD"),
    "integration_examcode_staging_modality_valid": lambda nurse: integration_factories.exam_code(
        staging_modality="xray_of_soul"
    ),
    "integration_examcode_followup_kind_valid": lambda nurse: integration_factories.exam_code(
        followup_kind="clinic_review"
    ),
    "integration_examcode_unique": lambda nurse: integration_factories.exam_code(system="LOCAL", code="CTCAP"),
    "integration_examcode_maps_to_something": lambda nurse: integration_factories.exam_code(staging_modality=""),
}
CASES.update(INTEGRATION_CASES)


def _code(nurse, **fields) -> PersonalCode:
    patient = fields.pop("patient", None) or f.PatientFactory(team=nurse.team, named_nurse=nurse)
    return PersonalCode(patient=patient, code_hash=fields.pop("code_hash", "a" * 64), issued_by=nurse, **fields)


def _second_live_code(nurse):
    first = _code(nurse)
    first.save()
    return _code(nurse, patient=first.patient, code_hash="b" * 64)


def _same_code_twice(nurse):
    _code(nurse).save()
    return _code(nurse)


SELFREPORT_CASES = {
    "selfreport_personalcode_one_live_unique": _second_live_code,
    "selfreport_personalcode_code_hash_unique": _same_code_twice,
    "selfreport_personalcode_code_hash_sha256": lambda nurse: _code(nurse, code_hash="ABCD-EFGH-JKMN".ljust(64, "x")),
    "selfreport_personalcode_void_reason_valid": lambda nurse: _code(
        nurse, voided_at=timezone.now(), voided_by=nurse, void_reason="lost"
    ),
    "selfreport_personalcode_void_complete": lambda nurse: _code(nurse, voided_at=timezone.now(), voided_by=nurse),
}
CASES.update(SELFREPORT_CASES)


def _alert(nurse, **fields):
    values = {
        "kind": "digest", "team": nurse.team, "address": "alex@followup-test.invalid", "subject": "Lists",
        "body": "Counts.", "link": "http://127.0.0.1:8000/worklists/", "dedupe_key": f"digest:{nurse.pk}:x",
    } | fields  # fmt: skip
    return Alert(**values)


def _second_alert_with_the_same_key(nurse):
    _alert(nurse).save()
    return _alert(nurse)


def _attempt(nurse, **fields):
    alert = _alert(nurse)
    alert.save()
    return AlertAttempt(alert=alert, **({"outcome": "sent"} | fields))


ALERTS_CASES = {
    "alerts_alert_kind_valid": lambda nurse: _alert(nurse, kind="pager"),
    "alerts_alert_status_valid": lambda nurse: _alert(nurse, status="lost"),
    "alerts_alert_dedupe_key_unique": _second_alert_with_the_same_key,
    "alerts_alert_has_address_and_key": lambda nurse: _alert(nurse, address=""),
    "alerts_alert_sent_has_time": lambda nurse: _alert(nurse, status="sent"),
    "alerts_alert_failed_says_why": lambda nurse: _alert(nurse, status="failed", attempts=3),
    "alerts_alertattempt_outcome_valid": lambda nurse: _attempt(nurse, outcome="bounced"),
    "alerts_alertattempt_failure_has_error": lambda nurse: _attempt(nurse, outcome="failed"),
}
CASES.update(ALERTS_CASES)


def _second_sso_id(nurse):
    f.UserFactory(username="first.linked", team=nurse.team, sso_id="cis2-uuid-1")
    return f.UserFactory.build(username="second.linked", team=nurse.team, sso_id="CIS2-UUID-1")


def _security_event(nurse):
    from accounts.models import SecurityEvent

    return SecurityEvent(user=nurse, event="guessed")


CASES.update(
    {
        # One person at the identity provider is one account here, whatever the letter case.
        "followup_user_sso_id_unique": _second_sso_id,
        "accounts_securityevent_event_valid": _security_event,
    }
)


def all_constraint_names() -> set[str]:
    names = set()
    for model in project_models():
        if model.__name__.startswith("Historical"):
            continue  # copies without constraints, by design: history keeps what was
        for constraint in model._meta.constraints:
            names.add(constraint.name)
    return names


def test_every_constraint_has_a_case():
    assert sorted(all_constraint_names() - CASES.keys()) == []
    assert sorted(CASES.keys() - all_constraint_names()) == []


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CASES))
def test_database_refuses_the_bad_row(name, nurse):
    row = CASES[name](nurse)
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        row.save()
    message = str(excinfo.value)
    # SQLite names only the columns of a failed UNIQUE; PostgreSQL names every constraint.
    if connection.vendor == "postgresql" or "unique" not in name:
        assert name in message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "field_message"),
    [
        (
            "followup_symptomreport_cord_compression_urgent",
            "Possible spinal cord compression must be triaged as urgent.",
        ),
        ("followup_patient_deceased_has_date_of_death", "A date of death goes with the status 'Deceased'"),
        ("followup_recurrencesite_site_fits_type", "This site does not fit the recurrence type."),
        (
            "followup_followupitem_done_has_result_or_awaits_it",
            "A done mammogram, bloods or other test needs its result, or 'Result not yet available'.",
        ),
    ],
)
def test_full_clean_reports_the_constraint_message(name, field_message, nurse):
    row = CASES[name](nurse)
    with pytest.raises(ValidationError) as excinfo:
        row.full_clean()
    assert any(field_message in message for message in excinfo.value.messages)
