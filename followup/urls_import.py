"""URLs of the caseload import (included from followup/urls.py, same namespace)."""

urlpatterns: list = []
