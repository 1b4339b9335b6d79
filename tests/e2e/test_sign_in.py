"""Logging in, in a real browser: single sign-on through a real OpenID Connect provider on loopback, and
setting up an authenticator app (its code computed by pyotp from the key the page shows, as a phone would)."""

import re
import time
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import expect

from accounts import sso

from ..accounts.oidc_provider import Provider
from . import a11y
from .helpers import PASSWORD, path_is, set_up_app


@pytest.fixture
def provider(settings):
    with Provider() as running:
        running.subject = None  # the provider's own sign-in page, as a person sees it
        for name, value in running.settings().items():
            setattr(settings, name, value)
        # What the settings work out from OIDC_ISSUER at start-up (clinic/settings.py): the header's
        # logout form may redirect to the provider.
        policy = {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]}
        policy["form-action"] = [*policy["form-action"], running.issuer]
        settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": policy}
        sso.forget_provider()
        yield running
        sso.forget_provider()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_single_sign_on_from_the_login_page_and_back_out(new_context, provider, alex, browser_errors):
    alex.sso_id = "cis2-uuid-0001"
    alex.save()
    for width in (1280, 390):
        page = new_context(viewport={"width": width, "height": 900}).new_page()
        page.goto("/accounts/login/")
        problems = a11y.axe_problems(page) + (a11y.width_problems(page) if width == 390 else [])
        assert problems == [], problems
        expect(page.get_by_role("heading", name="Or log in with a username and password")).to_be_visible()

    page.get_by_role("button", name="Log in with your NHS account").click()
    expect(page.get_by_role("heading", name="Loopback identity provider")).to_be_visible()
    assert urlsplit(page.url).port == provider.port
    page.get_by_label("Your ID").fill("cis2-uuid-0001")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.locator(".app-account-name")).to_contain_text("Alex Morgan")

    page.locator(".app-account-name").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    logged_in_with = page.locator(".nhsuk-summary-list__row", has_text="This time you logged in with")
    expect(logged_in_with.locator("dd")).to_have_text("Single sign-on")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(path_is("/accounts/login/"))
    assert len(provider.logouts) == 1 and provider.logouts[0]["id_token_hint"]
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    assert browser_errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_someone_the_tracker_does_not_know_is_told_why(page, provider, alex):
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Log in with your NHS account").click()
    page.get_by_label("Your ID").fill("cis2-uuid-7777")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(path_is("/accounts/login/"))
    expect(page.locator(".app-message")).to_contain_text("they need your ID, cis2-uuid-7777")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_admin_sets_up_an_authenticator_app_and_is_asked_for_it_next_time(page, chris, browser_errors):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("chris")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up an authenticator app")
    expect(page.get_by_role("img", name=re.compile("QR code that adds Breast-care follow-up"))).to_be_visible()

    # A wrong code first: refused beside the field, nothing set up.
    page.get_by_label("Code from your authenticator app").fill("12345")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter the 6 digits the app shows")
    app: pyotp.TOTP = set_up_app(page)
    codes = page.locator(".app-recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}", code) for code in codes)
    page.get_by_role("button", name="I have saved my recovery codes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Username").fill("chris")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter the code from your authenticator app")
    # The code from the app set up from the page's key (the next 30-second step's: the step used to set it
    # up is spent, and one step ahead is allowed).
    page.get_by_label("Code", exact=True).fill(app.at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")

    # Lost the phone: a recovery code instead, once.
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Username").fill("chris")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("I cannot use my authenticator app").click()
    expect(page.get_by_text("Enter one of the recovery codes")).to_be_visible()
    page.get_by_label("Code", exact=True).fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".app-message")).to_contain_text("You have 9 left")
    assert browser_errors == []
