"""Browser journeys: one Debian Chromium per session, a fresh browser context (cookies, storage) per test.

Playwright's own browser download does not work here, so pytest-playwright is not used:
these fixtures launch /usr/bin/chromium directly (PITFALLS.md, "Browser tests").
"""

import os
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from followup import choices as c

from ..factories import TeamFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Auto-waiting bounds: generous for a busy 2-core machine, short enough that a broken step fails fast.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)

# A response status the browser reports as a console error: expected on the 403, 404, 409 (conflict) and 429 pages.
_HTTP_STATUS_NOISE = re.compile(r"^Failed to load resource: the server responded with a status of (403|404|409|429)\b")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"No Chromium at {CHROMIUM}: `apt-get install chromium` to run the browser journeys."
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)  # CI: a missing browser must never pass quietly
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_errors():
    """JavaScript errors and console errors (a CSP refusal is one) of every page of the test."""
    return []


@pytest.fixture
def new_context(browser, live_server, browser_errors):
    """Make a browser context (one person's browser) on the live server; closed after the test.
    Keyword arguments go to Playwright's new_context (another viewport, a logged-in storage_state)."""
    contexts = []

    def make(**options):
        context = browser.new_context(
            **{
                "base_url": live_server.url,
                "accept_downloads": True,
                "locale": "en-GB",
                "timezone_id": "Europe/London",
                "viewport": {"width": 1280, "height": 900},
                **options,
            }
        )
        context.set_default_timeout(TIMEOUT_MS)

        def watch(page):
            def on_console(message):
                if message.type == "error" and not _HTTP_STATUS_NOISE.match(message.text):
                    browser_errors.append(f"{page.url}: {message.text}")

            page.on("console", on_console)
            page.on("pageerror", lambda error: browser_errors.append(f"{page.url}: {error}"))

        context.on("page", watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert browser_errors == [], "The pages raised JavaScript or console errors"


@pytest.fixture
def page(new_context):
    return new_context().new_page()


# People: the demo's, so failures read like the README. Every password is UserFactory's.


@pytest.fixture
def north(db):
    return TeamFactory(code="north", name="North Breast Unit")


@pytest.fixture
def south(db):
    return TeamFactory(code="south", name="South Breast Unit")


@pytest.fixture
def alex(north):
    return UserFactory(username="alex", first_name="Alex", last_name="Morgan", team=north, role=c.Role.NURSE)


@pytest.fixture
def priya(north):
    return UserFactory(username="priya", first_name="Priya", last_name="Shah", team=north, role=c.Role.NURSE)


@pytest.fixture
def jo(south):
    return UserFactory(username="jo", first_name="Jo", last_name="Evans", team=south, role=c.Role.NURSE)


@pytest.fixture
def chris(db):
    return UserFactory(
        username="chris",
        first_name="Chris",
        last_name="Taylor",
        team=None,
        role=c.Role.ADMIN,
        is_staff=True,
        is_superuser=True,
    )
