from django.urls import path

from . import views

app_name = "followup"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("worklists/", views.worklist_index, name="worklists"),
    path("worklists/<slug:slug>/", views.WorklistView.as_view(), name="worklist"),
    path("patients/", views.PatientListView.as_view(), name="patient_list"),
    path("patients/<int:pk>/", views.patient_detail, name="patient_detail"),
]
