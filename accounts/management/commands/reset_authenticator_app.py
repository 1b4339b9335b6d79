"""Break glass: reset a user's authenticator app from the server, when no admin can log in to do it (the
only admin lost their phone and their recovery codes). Recorded as a security event like an admin's reset."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import mfa


class Command(BaseCommand):
    help = "Reset a user's authenticator app and recovery codes, and lift their login lockout."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is called {username!r}.")
        mfa.reset(user, by=None)
        self.stdout.write(
            f"Reset the authenticator app of {username}: they set up a new one when they next log in with their "
            "password. Any login lockout is lifted."
        )
