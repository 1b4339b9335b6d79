from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UserWithTeamBackend(ModelBackend):
    """Loads the signed-in user with their team: every page shows the team and scopes by it."""

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("team").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
