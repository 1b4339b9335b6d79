from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import sso, views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/login/code/", views.login_code, name="login_code"),
    path("accounts/login/set-up/", views.login_set_up, name="login_set_up"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/", views.account, name="account"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/recovery-codes/", views.new_recovery_codes, name="recovery_codes_new"),
    # Single sign-on (OpenID Connect): the way out to the provider and the way back.
    path("oidc/authenticate/", login_not_required(sso.SSORequestView.as_view()), name="oidc_authentication_init"),
    path("oidc/callback/", login_not_required(sso.SSOCallbackView.as_view()), name="oidc_authentication_callback"),
]
