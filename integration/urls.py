"""The integration's URLs: the API (token, no session) and the staff pages (session, no token)."""

from django.urls import path

from . import views_clients, views_fhir, views_hl7, views_staff

app_name = "integration"

urlpatterns: list = [
    # API clients, for admins (views_clients.py).
    path("integration/clients/", views_clients.client_list, name="client_list"),
    path("integration/clients/new/", views_clients.client_register, name="client_register"),
    path("integration/clients/<int:pk>/", views_clients.client_detail, name="client_detail"),
    path("integration/clients/<int:pk>/edit/", views_clients.client_edit, name="client_edit"),
    path("integration/clients/<int:pk>/rotate/", views_clients.client_rotate, name="client_rotate"),
    path("integration/clients/<int:pk>/revoke/", views_clients.client_revoke, name="client_revoke"),
    path("api/hl7/v2/", views_hl7.receive_hl7, name="hl7_v2"),
    # FHIR R4 (views_fhir.py; docs/integration.md "## FHIR"): no trailing slash, as FHIR paths go.
    path("fhir/metadata", views_fhir.metadata, name="fhir_metadata"),
    path("fhir/Patient", views_fhir.patient_search, name="fhir_patient_search"),
    path("fhir/Patient/<int:pk>", views_fhir.patient_read, name="fhir_patient"),
    path("fhir/Condition", views_fhir.condition_search, name="fhir_condition_search"),
    path("fhir/DiagnosticReport", views_fhir.diagnostic_reports, name="fhir_diagnostic_reports"),
    # Staff pages: the inbox message and placing it by hand (views_staff.py).
    path("results/inbox/<int:pk>/", views_staff.inbox_message, name="inbox_message"),
    path("results/inbox/<int:pk>/match/", views_staff.inbox_match, name="inbox_match"),
    path("results/inbox/<int:pk>/new-item/", views_staff.inbox_new_item, name="inbox_new_item"),
    path("results/inbox/<int:pk>/not-ours/", views_staff.inbox_not_ours, name="inbox_not_ours"),
    path("results/inbox/<int:pk>/amendment/", views_staff.inbox_amendment, name="inbox_amendment"),
]
