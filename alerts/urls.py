"""URLs of the alerts app: the Alerts pages, for admins."""

from django.urls import path

from . import views

app_name = "alerts"

urlpatterns: list = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert_detail"),
]
