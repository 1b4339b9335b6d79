"""Steps the journeys share."""

import re

from playwright.sync_api import Locator, Page, expect

PASSWORD = "correct-horse-battery"  # tests/factories.UserFactory's


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Through the login form, as a person would; lands on the dashboard."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")


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
