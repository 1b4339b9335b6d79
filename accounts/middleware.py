from django.contrib import messages
from django.shortcuts import redirect

from .signin import SIGNED_IN_WITH, SSO

# What a user whose password an admin reset may still reach: the page to choose a new one, logging out,
# and the session's own keep-alive.
ALLOWED = {"password_change", "logout", "stay_signed_in"}


class PasswordChangeRequiredMiddleware:
    """After an admin's reset (User.must_change_password), every page leads to choosing a new password.
    A session signed in by single sign-on has no password here to change."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not getattr(user, "must_change_password", False):
            return None
        if request.session.get(SIGNED_IN_WITH) == SSO or not user.has_usable_password():
            return None
        match = request.resolver_match
        if match is not None and match.url_name in ALLOWED and not match.namespace:
            return None
        if request.path.startswith("/static/"):
            return None
        messages.info(request, "An admin reset your password. Choose a new one to carry on.")
        return redirect("password_change")
