"""Steps the journeys share."""

import base64
import re
import time
from datetime import date

import pyotp
from playwright.sync_api import Locator, Page, expect

PASSWORD = "correct-horse-battery"  # tests/factories.UserFactory's


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Through the login form, as a person would; lands on the dashboard. An admin (who always needs a
    second factor) sets up an authenticator app the first time and types its code after, as a person
    would with a phone: the code is computed by pyotp from the key the page shows, or the one stored."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile("Dashboard|Set up an authenticator app|Enter the code"))
    if heading.inner_text() == "Set up an authenticator app":
        set_up_app(page)
        page.get_by_role("button", name="I have saved my recovery codes").click()
    elif heading.inner_text().startswith("Enter the code"):
        page.get_by_label("Code", exact=True).fill(app_code(username))
        page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")


def set_up_app(page: Page) -> pyotp.TOTP:
    """On the set-up page: the key read as a person would type it into their app, its code entered."""
    page.get_by_text("I cannot scan the QR code").click()
    app = pyotp.TOTP(page.locator("#secret-key").inner_text().replace(" ", ""))
    page.get_by_label("Code from your authenticator app").fill(app.now())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Save your recovery codes")
    return app


def app_code(username: str) -> str:
    """A code the user's app shows now that was not used yet: a step after the last one used, within the
    one step of tolerance (waiting for the next step if both were used)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    app = pyotp.TOTP(base64.b32encode(device.bin_key).decode())
    while True:
        now = int(time.time() // 30)
        for step in (now, now + 1):
            if step > device.last_t:
                return app.at(step * 30)
        time.sleep(1)


def path_is(path: str) -> re.Pattern:
    """A URL pattern for expect(page).to_have_url(): this path (and query) on the live server."""
    return re.compile(r"^http://[^/]+" + re.escape(path) + "$")


def row(page: Page, text: str) -> Locator:
    """The table body row that mentions ``text`` (a patient's name, usually)."""
    return page.locator("tbody tr").filter(has_text=text)


def message(page: Page) -> Locator:
    """The flash message shown after an action."""
    return page.locator(".app-message")


def tab_to(page: Page, target: Locator, *, limit: int = 60) -> int:
    """Press Tab until ``target`` has the keyboard focus; returns how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"{target} never received the focus in {limit} presses of Tab")


def date_input(page: Page | Locator, legend: str) -> Locator:
    """The NHS.UK date input (day, month and year boxes) whose fieldset's legend is ``legend``."""
    return page.get_by_role("group", name=legend, exact=True)


def fill_date(page: Page | Locator, legend: str, when: date) -> None:
    """Type a date into the date input named by its legend, box by box, as a person would."""
    group = date_input(page, legend)
    group.get_by_label("Day", exact=True).fill(str(when.day))
    group.get_by_label("Month", exact=True).fill(str(when.month))
    group.get_by_label("Year", exact=True).fill(str(when.year))


def expect_date(page: Page | Locator, legend: str, when: date | None) -> None:
    """The date input shows this date (None: its three boxes are empty)."""
    group = date_input(page, legend)
    shown = ("", "", "") if when is None else (str(when.day), str(when.month), str(when.year))
    for label, value in zip(("Day", "Month", "Year"), shown, strict=True):
        expect(group.get_by_label(label, exact=True)).to_have_value(value)
