from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UserWithTeamBackend(ModelBackend):
    """Loads the signed-in user with their team: every page shows the team and scopes by it."""

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("team").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


def client_ip(request) -> str:
    """The address a login lockout keys on.

    Behind LOCKOUT_PROXY_COUNT (env AXES_PROXY_COUNT) trusted proxies the client is that many entries from
    the right of X-Forwarded-For (entries further left are the client's to forge);
    with no proxy it is REMOTE_ADDR.
    """
    from django.conf import settings

    count = settings.LOCKOUT_PROXY_COUNT
    if count:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")
