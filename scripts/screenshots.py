"""Capture the main pages into docs/screenshots/ with Debian's Chromium.

Usage: python scripts/screenshots.py BASE_URL  (a server with the demo data loaded;
`make screenshots` starts one). Logs in as the demo nurse, then the demo admin.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
# The printed demo login.
PASSWORD = "followup-demo-2026"  # noqa: S105 # nosec B105
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

NURSE_PAGES = [
    ("dashboard", "/"),
    ("worklists", "/worklists/"),
    ("worklist-overdue", "/worklists/overdue/?nurse=all"),
    ("worklist-due-soon", "/worklists/due-soon/"),
    ("worklist-results", "/worklists/results/?nurse=all"),
    ("worklist-results-awaited", "/worklists/results-awaited/?nurse=all"),
    ("worklist-staging-results", "/worklists/staging-results/?nurse=all"),
    ("worklist-restaging", "/worklists/restaging/?nurse=all"),
    ("worklist-distant-not-recorded", "/worklists/distant-not-recorded/?nurse=all"),
    ("worklist-symptoms", "/worklists/symptoms/?nurse=all"),
    ("worklist-no-follow-up", "/worklists/no-follow-up/?nurse=all"),
    ("worklist-data-quality", "/worklists/data-quality/?nurse=all"),
    ("patients", "/patients/?q=smith"),
    ("worklist-my-tasks", "/worklists/my-tasks/"),
    ("worklist-team-tasks", "/worklists/team-tasks/"),
    ("worklist-mdt-not-discussed", "/worklists/mdt-not-discussed/?nurse=all"),
    ("mdt-list", "/mdt/list/"),
]


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


# Each page at a laptop's width and a phone's: "name.png" and "name-phone.png".
WIDTHS = {"": 1280, "-phone": 390}


def main(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for suffix, width in WIDTHS.items():
            shoot_nurse_pages(browser, base, suffix, width)
            shoot_admin_pages(browser, base, suffix, width)
        browser.close()
    print(f"Screenshots written to {OUT}")


def shoot(page, name: str, suffix: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=OUT / f"{name}{suffix}.png", full_page=True)


def show_charts(page) -> None:
    """The dashboard's charts load as they scroll into view: scroll to them, wait until all are drawn."""
    page.locator("#dashboard-charts").scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelectorAll('main canvas[data-chart]').length === 3")
    page.evaluate("window.scrollTo(0, 0)")


def shoot_nurse_pages(browser, base: str, suffix: str, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{base}/accounts/login/")
    shoot(page, "login", suffix)
    log_in(page, base, "nurse")
    for name, path in NURSE_PAGES:
        page.goto(base + path)
        if name == "dashboard":
            show_charts(page)
        shoot(page, name, suffix)
    # The patient page of the first patient on the restaging list: a full story.
    page.goto(f"{base}/worklists/restaging/?nurse=all")
    page.locator("table.app-worklist tbody a").first.click()
    shoot(page, "patient", suffix)
    # A recurrence form sent with mistakes: local type (chosen first), no site, no date, no CT or PET-CT.
    page.get_by_role("link", name="Record a recurrence").click()
    page.get_by_label("Local", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("CT chest, abdomen and pelvis").uncheck()
    page.get_by_role("button", name="Save").click()
    shoot(page, "recurrence-form-errors", suffix)
    # A patient with contact details, tasks, contacts and letters (the demo issues letters to its first patients).
    page.goto(f"{base}/patients/?q=DEMO0000001")
    page.locator("table tbody a").first.click()
    shoot(page, "patient-contacts-letters", suffix)
    page.get_by_role("link", name="Log a contact").first.click()
    shoot(page, "log-a-contact", suffix)
    page.close()


def shoot_admin_pages(browser, base: str, suffix: str, width: int) -> None:
    admin = browser.new_page(viewport={"width": width, "height": 900})
    log_in(admin, base, "admin")
    for name, path in [
        ("reports", "/reports/"),
        ("report-restaging-turnaround", "/reports/summaries/restaging-turnaround/"),
        ("report-recurrence-register", "/reports/lists/recurrence-register/"),
    ]:
        admin.goto(base + path)
        shoot(admin, name, suffix)
    admin.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000")
