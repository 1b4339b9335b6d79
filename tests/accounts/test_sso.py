"""Single sign-on against a real OpenID Connect provider on loopback (tests/accounts/oidc_provider.py): the
authorization code flow with PKCE over real HTTP, an RS256-signed ID token checked against the provider's
published key, and only accounts an admin linked."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse

from accounts import signin, sso
from accounts.models import Event, SecurityEvent
from followup import choices as c
from tests.factories import UserFactory

from .conftest import dashboard_status, post_password
from .oidc_provider import CLIENT_ID, Provider


@pytest.fixture(scope="module")
def provider():
    with Provider() as running:
        yield running


@pytest.fixture
def idp(provider, settings):
    provider.reset()
    for name, value in provider.settings().items():
        setattr(settings, name, value)
    sso.forget_provider()
    yield provider
    sso.forget_provider()


@pytest.fixture
def linked(team):
    return UserFactory(username="jo.nurse", team=team, role=c.Role.NURSE, sso_id="CIS2-UUID-0001")


def sign_in_with_sso(client, next_url=""):
    """The browser's way: to the provider, which answers at once for idp.subject, and back."""
    start = client.get(reverse("oidc_authentication_init") + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start
    authorize = start["Location"]
    back = requests.get(authorize, allow_redirects=False, timeout=5)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def refusal_shown(client) -> str:
    return client.get(reverse("login")).content.decode()


@pytest.mark.django_db
def test_a_linked_user_signs_in_with_the_provider(client, idp, linked):
    page = client.get(reverse("login")).content.decode()
    assert "Log in with your NHS account" in page and 'href="/oidc/authenticate/"' in page

    response = sign_in_with_sso(client, next_url="/patients/")
    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert dashboard_status(client) == 200
    assert client.session[signin.SIGNED_IN_WITH] == signin.SSO
    assert int(client.session["_auth_user_id"]) == linked.pk
    # PKCE and the client's secret went to the token endpoint.
    request = idp.token_requests[-1]
    assert request["client_id"] == CLIENT_ID and len(request["code_verifier"]) >= 43
    event = SecurityEvent.objects.get(event=Event.SIGNED_IN_SSO)
    assert event.user == linked
    account = client.get(reverse("account")).content.decode()
    assert "Single sign-on" in account and "Linked: you can log in with your NHS account" in account


@pytest.mark.django_db
def test_the_claim_can_come_from_userinfo(client, idp, settings, team):
    settings.OIDC_USER_CLAIM = "email"
    person = UserFactory(username="jo", team=team, role=c.Role.NURSE, sso_id="Jo.Nurse@nhs.example")
    sign_in_with_sso(client)
    assert int(client.session["_auth_user_id"]) == person.pk


@pytest.mark.django_db
def test_an_admin_signing_in_with_the_provider_is_not_asked_for_a_second_code(client, idp):
    admin = UserFactory(username="boss", team=None, role=c.Role.ADMIN, is_staff=True, sso_id="cis2-uuid-0001")
    response = sign_in_with_sso(client)
    assert response["Location"] == reverse("followup:dashboard")
    assert int(client.session["_auth_user_id"]) == admin.pk


@pytest.mark.django_db
def test_an_unknown_person_is_refused_and_told_what_to_ask_for(client, idp, linked):
    idp.subject = "cis2-uuid-9999"
    response = sign_in_with_sso(client)
    assert response["Location"] == reverse("login")
    assert dashboard_status(client) == 302
    assert (
        "Your account at the identity provider is not linked to an account in this tracker. Ask an admin of the "
        "tracker to link it: they need your ID, cis2-uuid-9999." in refusal_shown(client)
    )
    assert (
        SecurityEvent.objects.get(event=Event.SSO_REFUSED).detail == "no account has single sign-on ID 'cis2-uuid-9999'"
    )


@pytest.mark.django_db
def test_nobody_is_created_by_signing_in(client, idp):
    from followup.models import User

    before = User.objects.count()
    idp.subject = "someone-new"
    sign_in_with_sso(client)
    assert User.objects.count() == before and dashboard_status(client) == 302


@pytest.mark.django_db
def test_a_disabled_user_is_refused(client, idp, linked):
    linked.is_active = False
    linked.save()
    sign_in_with_sso(client)
    assert dashboard_status(client) == 302
    assert "Your account in this tracker is switched off." in refusal_shown(client)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("misbehaviour", "detail"),
    [
        ("sign_with_other_key", "Signature verification failed"),
        ("audience", "Audience doesn't match"),
        ("token_issuer", "Invalid issuer"),
        ("expired", "Signature has expired"),
    ],
)
def test_a_token_that_does_not_check_out_is_refused(client, idp, linked, misbehaviour, detail):
    setattr(
        idp,
        misbehaviour,
        {"audience": "another-app", "token_issuer": "https://impostor.example"}.get(misbehaviour, True),
    )
    response = sign_in_with_sso(client)
    assert response["Location"] == reverse("login")
    assert dashboard_status(client) == 302
    assert "the answer from the identity provider could not be checked" in refusal_shown(client)
    assert detail in SecurityEvent.objects.get(event=Event.SSO_REFUSED).detail


@pytest.mark.django_db
def test_a_callback_this_browser_did_not_start_is_refused(client, idp, linked):
    other_browser = client.__class__()
    start = other_browser.get(reverse("oidc_authentication_init"))
    back = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(back.headers["Location"])
    client.get(reverse("oidc_authentication_init"))  # this browser started one of its own, with its own state
    response = client.get(f"{callback.path}?{callback.query}")
    assert response["Location"] == reverse("login")
    assert dashboard_status(client) == 302 and dashboard_status(other_browser) == 302
    assert "it was started in another window or took too long" in refusal_shown(client)
    assert "state not found" in SecurityEvent.objects.get(event=Event.SSO_REFUSED).detail


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("misbehaviour", "value", "detail"),
    [
        ("nonce", "a-nonce-this-browser-never-sent", "JWT Nonce verification failed."),
        # Not checked with the client secret: no published key is for HS256.
        ("hs256", True, "Could not find a valid JWKS"),
        ("broken_id_token", True, "DecodeError"),
        ("userinfo_sub", "someone-else", "userinfo is about another subject than the ID token"),
    ],
)
def test_a_forged_or_mixed_up_answer_is_refused_with_its_reason(client, idp, linked, misbehaviour, value, detail):
    setattr(idp, misbehaviour, value)
    response = sign_in_with_sso(client)
    assert response["Location"] == reverse("login") and dashboard_status(client) == 302
    assert "the answer from the identity provider could not be checked" in refusal_shown(client)
    assert detail in SecurityEvent.objects.get(event=Event.SSO_REFUSED).detail


@pytest.mark.django_db
def test_a_next_address_on_another_site_is_not_followed(client, idp, linked):
    response = sign_in_with_sso(client, next_url="https://evil.example/")
    assert response["Location"] == reverse("followup:dashboard")


@pytest.mark.django_db
def test_the_provider_saying_no_is_a_message_not_an_error_page(client, idp):
    start = client.get(reverse("oidc_authentication_init"))
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    response = client.get(reverse("oidc_authentication_callback"), {"error": "access_denied", "state": state})
    assert response["Location"] == reverse("login")
    assert "Single sign-on was cancelled or refused by the identity provider." in refusal_shown(client)


@pytest.mark.django_db
def test_an_unreachable_provider_is_a_message(client, settings, idp):
    settings.OIDC_DISCOVERY_URL = f"{idp.issuer}/nothing-here"
    sso.forget_provider()
    response = client.get(reverse("oidc_authentication_init"))
    assert response["Location"] == reverse("login")
    assert "the identity provider could not be reached" in refusal_shown(client)


@pytest.mark.django_db
def test_logging_out_ends_the_session_here_and_at_the_provider(client, idp, linked):
    sign_in_with_sso(client)
    id_token = client.session["oidc_id_token"]
    response = client.post(reverse("logout"))
    assert dashboard_status(client) == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{idp.issuer}/logout"
    query = {key: values[0] for key, values in parse_qs(target.query).items()}
    assert query == {
        "client_id": CLIENT_ID,
        "id_token_hint": id_token,
        "post_logout_redirect_uri": "http://testserver/accounts/login/",
    }
    back = requests.get(response["Location"], allow_redirects=False, timeout=5)
    assert back.headers["Location"] == "http://testserver/accounts/login/" and len(idp.logouts) == 1


@pytest.mark.django_db
def test_a_password_session_logs_out_here_only(client, idp, nurse):
    post_password(client, nurse)
    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login") and dashboard_status(client) == 302


@pytest.mark.django_db
def test_without_single_sign_on_configured_there_is_no_button_and_no_way_in(client, nurse):
    page = client.get(reverse("login")).content.decode()
    assert "Log in with your NHS account" not in page and 'name="password"' in page
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback"), {"code": "x", "state": "y"}).status_code == 404


@pytest.mark.django_db
def test_with_local_login_off_only_single_sign_on_is_offered(client, settings, idp, nurse):
    settings.LOCAL_LOGIN = False
    page = client.get(reverse("login")).content.decode()
    assert "Log in with your NHS account" in page and 'name="password"' not in page
    response = post_password(client, nurse)
    assert response["Location"] == reverse("login") and dashboard_status(client) == 302
    assert "this tracker has no passwords" in refusal_shown(client)


@pytest.mark.django_db
def test_a_password_login_carrying_a_code_and_state_does_not_reach_the_provider(client, idp, nurse):
    response = client.post(
        reverse("login") + "?code=abc&state=def",
        {"username": nurse.username, "password": "correct-horse-battery"},
        REMOTE_ADDR="10.0.0.7",
    )
    assert response["Location"] == reverse("followup:dashboard")
    assert idp.token_requests == []


@pytest.mark.django_db
def test_refused_sign_ins_do_not_lock_colleagues_out(client, settings, idp, linked):
    settings.AXES_FAILURE_LIMIT = 2
    idp.subject = "cis2-uuid-9999"
    for _ in range(3):
        sign_in_with_sso(client)
    idp.subject = "cis2-uuid-0001"
    sign_in_with_sso(client)
    assert int(client.session["_auth_user_id"]) == linked.pk
