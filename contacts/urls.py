from django.urls import path

from . import views

app_name = "contacts"

urlpatterns = [
    path("patients/<int:pk>/contacts/", views.patient_contacts, name="patient_contacts"),
    path("patients/<int:pk>/contacts/new/", views.ContactAddView.as_view(), name="contact_add"),
]
