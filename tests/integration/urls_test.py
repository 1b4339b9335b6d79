"""A tiny endpoint of each kind behind the real gate (integration.api.api_endpoint), beside the real URLs:
test_api_security.py drives the gate through them (and through every real endpoint listed there)."""

from django.http import JsonResponse
from django.urls import include, path

from integration.api import api_endpoint
from integration.models import ApiAction


def refuse(request, status: int, text: str) -> JsonResponse:
    return JsonResponse({"error": text}, status=status)


@api_endpoint(action=ApiAction.HL7_RESULT, needs="send", refuse=refuse)
def send(request, client):
    size = len(request.body)  # read it all, as a real endpoint does: Django's own limit must not refuse it
    request.api_audit = {"detail": f"{size} bytes"}
    return JsonResponse({"client": client.name, "bytes": size})


@api_endpoint(action=ApiAction.FHIR_READ, needs="read", refuse=refuse)
def read(request, client):
    request.api_audit = {"patient_ids": []}
    return JsonResponse({"client": client.name})


urlpatterns = [
    path("test-api/send/", send, name="test_api_send"),
    path("test-api/read/", read, name="test_api_read"),
    path("", include("clinic.urls")),
]
