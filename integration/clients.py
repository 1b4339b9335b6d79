"""Registering, rotating and revoking API clients: the only writer of ApiClient."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from followup import choices as c
from followup.models import Team, User

from . import tokens
from .models import ApiClient


def _interface_user(name: str) -> User:
    base = f"interface-{slugify(name)[:40] or 'client'}"
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    user = User(
        username=username, first_name=name[:150], last_name="(interface)", role=c.Role.INTERFACE, is_active=False
    )
    user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def client_register(
    *, name: str, teams: list[Team], can_send: bool, can_read: bool, by: User, rate_limit_per_minute: int | None = None
) -> tuple[ApiClient, str]:
    """A new client and its token: the token is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Enter the system's name."})
    if ApiClient.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": "A client with this name is registered already."})
    if not teams:
        raise ValidationError({"teams": "Choose the teams whose patients it may see."})
    if not (can_send or can_read):
        raise ValidationError({"can_send": "Choose what it may do: send results, read records, or both."})
    token, prefix, digest = tokens.new_token()
    client = ApiClient(
        name=name,
        can_send=can_send,
        can_read=can_read,
        user=_interface_user(name),
        token_prefix=prefix,
        token_hash=digest,
        created_by=by,
    )
    if rate_limit_per_minute:
        client.rate_limit_per_minute = rate_limit_per_minute
    client._history_user = by
    client.save()
    client.teams.set(teams)
    return client, token


@transaction.atomic
def client_update(*, client: ApiClient, teams: list[Team], can_send: bool, can_read: bool, by: User) -> ApiClient:
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if not teams:
        raise ValidationError({"teams": "Choose the teams whose patients it may see."})
    if not (can_send or can_read):
        raise ValidationError({"can_send": "Choose what it may do: send results, read records, or both."})
    client.can_send, client.can_read = can_send, can_read
    client._history_user = by
    client.save()
    client.teams.set(teams)
    return client


@transaction.atomic
def client_rotate(*, client: ApiClient, by: User) -> str:
    """A new token for the client; the old one stops working at once."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if not client.is_active:
        raise ValidationError("This client is revoked: register a new one.")
    token, prefix, digest = tokens.new_token()
    client.token_prefix, client.token_hash, client.token_issued_at = prefix, digest, timezone.now()
    client._history_user = by
    client.save()
    return token


@transaction.atomic
def client_revoke(*, client: ApiClient, reason: str, by: User) -> ApiClient:
    """Its token stops working at once, for good; what it sent stays."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason for revoking."})
    if client.is_active:
        client.revoked_at, client.revoked_by, client.revoke_reason = timezone.now(), by, reason.strip()
        client._history_user = by
        client.save()
    return client


def client_for_token(token: str) -> ApiClient | None:
    """The active client this token belongs to; None for a token unknown, wrong or revoked."""
    prefix = tokens.prefix_of(token)
    if prefix is None:
        return None
    client = ApiClient.objects.filter(token_prefix=prefix).first()
    if client is None or not tokens.matches(token, client.token_hash) or not client.is_active:
        return None
    return client
