"""The one place a sign-in event is written (accounts.models.SecurityEvent)."""

from .models import SecurityEvent


def record(event: str, *, user=None, by=None, request=None, detail: str = "") -> SecurityEvent:
    from followup.auth import client_ip

    address = client_ip(request) if request is not None else None
    return SecurityEvent.objects.create(user=user, by=by, event=event, address=address or None, detail=detail[:255])
