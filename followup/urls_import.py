"""URLs of the caseload import (included from followup/urls.py, same namespace)."""

from django.urls import path

from .views.imports import import_confirm, import_template, import_upload

urlpatterns = [
    path("", import_upload, name="import_upload"),
    path("confirm/", import_confirm, name="import_confirm"),
    path("template.csv", import_template, name="import_template"),
]
