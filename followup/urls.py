from django.urls import include, path

from . import views

app_name = "followup"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard/charts/", views.dashboard_charts, name="dashboard_charts"),
    path("worklists/", views.worklist_index, name="worklists"),
    path("worklists/<slug:slug>/", views.WorklistView.as_view(), name="worklist"),
    path("worklists/<slug:slug>/acknowledge/", views.AcknowledgeSelectedView.as_view(), name="worklist_acknowledge"),
    # Patients
    path("patients/", views.PatientListView.as_view(), name="patient_list"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/hand-over/", views.HandOverSelectedView.as_view(), name="patients_hand_over"),
    path("patients/<int:pk>/", views.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/history/", views.patient_history_view, name="patient_history"),
    path("patients/<int:pk>/edit/", views.PatientEditView.as_view(), name="patient_edit"),
    path(
        "patients/<int:pk>/contact-details/", views.PatientContactDetailsView.as_view(), name="patient_contact_details"
    ),
    path("patients/<int:pk>/primary/new/", views.PrimaryAddView.as_view(), name="primary_add"),
    path("patients/<int:pk>/schedule/", views.ProtocolAssignView.as_view(), name="protocol_assign"),
    path("patients/<int:pk>/pifu/", views.PifuPeriodView.as_view(), name="patient_pifu_period"),
    path("patients/<int:pk>/named-nurse/", views.ReassignNurseView.as_view(), name="patient_reassign"),
    path("patients/<int:pk>/discharge/", views.DischargeView.as_view(), name="patient_discharge"),
    path("patients/<int:pk>/death/", views.RecordDeathView.as_view(), name="patient_death"),
    path("patients/<int:pk>/items/new/", views.ItemAddView.as_view(), name="item_add"),
    path("patients/<int:pk>/recurrences/new/", views.RecurrenceAddView.as_view(), name="recurrence_add"),
    path("patients/<int:pk>/symptoms/new/", views.SymptomAddView.as_view(), name="symptom_add"),
    path("caseloads/hand-over/", views.caseload_hand_over, name="caseload_hand_over"),
    # Follow-up items
    path("items/<int:pk>/book/", views.ItemBookView.as_view(), name="item_book"),
    path("items/<int:pk>/done/", views.ItemDoneView.as_view(), name="item_done"),
    path("items/<int:pk>/result/", views.ItemResultView.as_view(), name="item_result"),
    path("items/<int:pk>/did-not-attend/", views.ItemDidNotAttendView.as_view(), name="item_dna"),
    path("items/<int:pk>/cancel/", views.ItemCancelView.as_view(), name="item_cancel"),
    path("items/<int:pk>/acknowledge/", views.ItemAcknowledgeView.as_view(), name="item_acknowledge"),
    path("items/<int:pk>/classify/", views.ItemClassifyView.as_view(), name="item_classify"),
    path("items/<int:pk>/next-step/", views.item_next_step, name="item_next_step"),
    # Recurrences and restaging
    path("recurrences/<int:pk>/status/", views.RecurrenceStatusView.as_view(), name="recurrence_status"),
    path("restaging/<int:pk>/tests/new/", views.StagingRequestView.as_view(), name="staging_request"),
    path("tests/<int:pk>/result/", views.StagingResultView.as_view(), name="staging_result"),
    path("tests/<int:pk>/acknowledge/", views.StagingAcknowledgeView.as_view(), name="staging_acknowledge"),
    path("tests/<int:pk>/classify/", views.StagingClassifyView.as_view(), name="staging_classify"),
    path("tests/<int:pk>/cancel/", views.StagingCancelView.as_view(), name="staging_cancel"),
    path("tests/<int:pk>/secondary/", views.SecondaryFromTestView.as_view(), name="secondary_from_test"),
    # Symptoms
    path("symptoms/<int:pk>/triage/", views.SymptomTriageView.as_view(), name="symptom_triage"),
    # Reports
    path("reports/", views.report_index, name="reports"),
    path("reports/lists/<slug:slug>/", views.LineListView.as_view(), name="report_line_list"),
    path("reports/summaries/<slug:slug>/", views.summary, name="report_summary"),
    # Caseload import (followup/urls_import.py)
    path("import/", include("followup.urls_import")),
    # Corrections
    path("records/<slug:kind>/<int:pk>/entered-in-error/", views.EnteredInErrorView.as_view(), name="entered_in_error"),
]
