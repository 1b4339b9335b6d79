"""URLs of the selfreport app."""

from django.urls import path  # noqa: F401

app_name = "selfreport"

urlpatterns: list = []
