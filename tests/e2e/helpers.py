"""Steps the journeys share."""

import re
from datetime import date

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
