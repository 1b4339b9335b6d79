"""The integration's URLs: the API (token, no session) and the staff pages (session, no token)."""

from django.urls import path

from . import views_hl7

app_name = "integration"

urlpatterns: list = [
    path("api/hl7/v2/", views_hl7.receive_hl7, name="hl7_v2"),
]
