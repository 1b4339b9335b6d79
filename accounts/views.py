"""Logging in (password, then a code where one is needed, or single sign-on), logging out, and a user's
own account: their password, their authenticator app and recovery codes."""

import base64

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView as DjangoLoginView
from django.contrib.auth.views import PasswordChangeView as DjangoPasswordChangeView
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from followup.auth import lockout_response
from followup.display import plural

from . import mfa, signin, sso
from .events import record
from .forms import ChangePasswordForm, CodeForm, LoginForm, NewAppCodeForm
from .models import Event

TIMED_OUT = "Your login took too long. Enter your username and password again."


def _login_context() -> dict:
    return {
        "local_login": settings.LOCAL_LOGIN,
        "sso": sso.enabled(),
        "sso_name": settings.OIDC_PROVIDER_NAME,
    }


@method_decorator(login_not_required, name="dispatch")
class LoginView(DjangoLoginView):
    """The first step: single sign-on (when configured), or username and password (unless LOCAL_LOGIN is
    off). A user who needs a second factor goes on to it, not yet logged in."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_login_context()}

    def post(self, request, *args, **kwargs):
        if not settings.LOCAL_LOGIN:
            messages.error(request, f"Log in with {settings.OIDC_PROVIDER_NAME}: this tracker has no passwords.")
            return redirect("login")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        next_url = self.get_success_url()
        if mfa.needs_second_factor(user):
            signin.start_pending(self.request, user, next_url)
            return redirect("login_code" if mfa.has_app(user) else "login_set_up")
        return signin.complete(self.request, user, backend=user.backend, method=signin.PASSWORD, next_url=next_url)


def _wrong_code(request, user, form, message: str):
    """A wrong code counts towards the login lockout, as a wrong password does (django-axes): after
    AXES_FAILURE_LIMIT of either, AxesMiddleware answers with the lockout page instead of this one."""
    record(Event.WRONG_CODE, user=user, request=request)
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    form.add_error("code", message)


def _locked_out(request, user):
    credentials = {"username": user.get_username()}
    AxesProxyHandler.update_request(request)
    if AxesProxyHandler.is_locked(request, credentials):
        return lockout_response(request, credentials=credentials)
    return None


def _second_step(request, *, has_app: bool):
    """The person a second step is for, or where to send them instead: on in (a second press of Continue,
    or the recovery codes page reloaded, after the login completed), back to the password (none given, or
    too long ago), or to the other second step (an app set up, or none yet)."""
    if request.user.is_authenticated:
        return None, redirect(settings.LOGIN_REDIRECT_URL)
    user = signin.pending_user(request)
    if user is None:
        messages.info(request, TIMED_OUT)
        return None, redirect("login")
    if mfa.has_app(user) != has_app:
        return None, redirect("login_set_up" if has_app else "login_code")
    return user, None


@never_cache
@login_not_required
def login_code(request):
    """The second step: the code from the user's authenticator app, or a recovery code."""
    user, elsewhere = _second_step(request, has_app=True)
    if elsewhere:
        return elsewhere
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if locked := _locked_out(request, user):
            return locked
        if form.is_valid():
            checked = mfa.check(user, form.cleaned_data["code"])
            if checked.wait:
                form.add_error("code", f"Wait {plural(checked.wait, 'second')} after a wrong code, then try again.")
            elif checked.verified:
                return _signed_in_with_code(request, user, checked.verified)
            else:
                _wrong_code(
                    request,
                    user,
                    form,
                    "The code is wrong, used already or expired. Enter the code your app shows now.",
                )
    return render(request, "accounts/code.html", {"form": form, "person": user})


def _signed_in_with_code(request, user, verified):
    data = signin.pending(request)
    method = signin.PASSWORD_AND_RECOVERY_CODE if verified.recovery_code else signin.PASSWORD_AND_APP
    response = signin.complete(request, user, backend=data["backend"], method=method, next_url=data["next"])
    if verified.recovery_code:
        record(Event.RECOVERY_CODE_USED, user=user, request=request)
        left = verified.codes_left
        messages.warning(
            request,
            f"You used a recovery code: it will not work again. You have {left} left."
            + (" Make new ones from Your account." if left <= 3 else ""),
        )
    return response


def _qr_data_uri(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


@never_cache
@login_not_required
def login_set_up(request):
    """The second step the first time (or after an admin's reset): add this tracker to an authenticator app
    by its QR code, and prove it with a code. Then the recovery codes, shown once. Never cached: the page
    holds the app's secret (a shared ward computer's cache must not keep it)."""
    user, elsewhere = _second_step(request, has_app=False)
    if elsewhere:
        return elsewhere
    data = signin.pending(request)
    key = signin.new_app_key(request, user)
    form = NewAppCodeForm(request.POST or None)
    if request.method == "POST":
        if locked := _locked_out(request, user):
            return locked
        if form.is_valid():
            step = mfa.code_fits_key(key, form.cleaned_data["code"])
            if step is not None:
                codes = mfa.set_up_app(user, key, step, request=request)
                signin.forget_new_app_key(request)
                response = signin.complete(
                    request, user, backend=data["backend"], method=signin.PASSWORD_AND_APP, next_url=data["next"]
                )
                return _show_recovery_codes(request, codes, next_url=response.url, first=True)
            _wrong_code(request, user, form, "The code is wrong or expired. Enter the code the app shows now.")
    context = {
        "form": form,
        "person": user,
        "qr": _qr_data_uri(mfa.otpauth_url(user, key)),
        "secret": mfa.spaced_secret(key),
        "issuer": settings.OTP_TOTP_ISSUER,
    }
    return render(request, "accounts/set_up.html", context)


def _show_recovery_codes(request, codes: list[str], *, next_url: str, first: bool):
    """The recovery codes, shown this once (they are never shown again: new ones replace them)."""
    shown = [mfa.recovery_code_shown(code) for code in codes]
    return render(request, "accounts/recovery_codes.html", {"codes": shown, "next_url": next_url, "first": first})


def account(request):
    """A user's own account: how they logged in, their password, their authenticator app."""
    user = request.user
    app = mfa.app_of(user)
    context = {
        "signed_in_with": request.session.get(signin.SIGNED_IN_WITH, ""),
        "app": app,
        "codes_left": mfa.recovery_codes_left(user) if app else 0,
        "needs_second_factor": mfa.needs_second_factor(user),
        "has_password": user.has_usable_password(),
        "sso_linked": bool(user.sso_id),
        "sso_name": settings.OIDC_PROVIDER_NAME,
    }
    return render(request, "accounts/account.html", context)


@require_POST
def new_recovery_codes(request):
    """New recovery codes, shown once; the old ones stop working."""
    if not mfa.has_app(request.user):
        messages.info(request, "Set up an authenticator app first: recovery codes come with it.")
        return redirect("account")
    codes = mfa.new_recovery_codes(request.user, request=request)
    return _show_recovery_codes(request, codes, next_url=reverse("account"), first=False)


class PasswordChangeView(DjangoPasswordChangeView):
    """Change one's own password (the current one is asked). Also where an admin's reset leads."""

    form_class = ChangePasswordForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("account")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_usable_password():
            messages.info(request, f"You log in with {settings.OIDC_PROVIDER_NAME}: its password is changed there.")
            return redirect("account")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.save()
        if user.must_change_password:
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        update_session_auth_hash(self.request, user)
        record(Event.PASSWORD_CHANGED, user=user, request=self.request)
        messages.success(self.request, "Your password is changed. Use the new one next time you log in.")
        return redirect(self.get_success_url())


@require_POST
@login_not_required
def logout_view(request):
    """Ends the session here; after single sign-on, also at the provider when it has a logout page."""
    target = sso.provider_logout_url(request) or resolve_url(settings.LOGOUT_REDIRECT_URL)
    logout(request)
    return redirect(target)


@login_not_required
def admin_login(request):
    """The admin site's own login page would skip the second factor: it sends people to this one."""
    query = request.GET.urlencode()
    return redirect(reverse("login") + (f"?{query}" if query else ""))
