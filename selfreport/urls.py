"""URLs of the selfreport app: the patient's page (public) and the nurse's personal-code page."""

from django.urls import path

from . import views

app_name = "selfreport"

urlpatterns = [
    path("report-symptoms/", views.report, name="report"),
    path("report-symptoms/sent/<str:token>/", views.sent, name="sent"),
    path("patients/<int:pk>/personal-code/", views.IssueCodeView.as_view(), name="issue"),
]
