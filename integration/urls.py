"""The integration's URLs: the API (token, no session) and the staff pages (session, no token)."""

from django.urls import path

from . import views_fhir

app_name = "integration"

urlpatterns: list = [
    # FHIR R4 (views_fhir.py; docs/integration.md "## FHIR"): no trailing slash, as FHIR paths go.
    path("fhir/metadata", views_fhir.metadata, name="fhir_metadata"),
    path("fhir/Patient", views_fhir.patient_search, name="fhir_patient_search"),
    path("fhir/Patient/<int:pk>", views_fhir.patient_read, name="fhir_patient"),
    path("fhir/Condition", views_fhir.condition_search, name="fhir_condition_search"),
    path("fhir/DiagnosticReport", views_fhir.diagnostic_reports, name="fhir_diagnostic_reports"),
]
