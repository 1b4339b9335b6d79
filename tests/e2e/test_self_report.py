"""Issue 16's journey: a patient reports on a phone, a nurse sees it first on her triage list, the alert is sent."""

import re
import threading
from datetime import date

import pytest
from django.core import mail
from django.db import connection, connections
from playwright.sync_api import expect

from followup import choices as c
from followup.models import SymptomReport

from ..factories import PatientFactory
from ..letters.factories import LetterheadFactory
from ..selfreport.helpers import issue
from .helpers import log_in, row

PHONE = {"width": 390, "height": 844}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_patient_reports_cord_compression_on_a_phone_and_the_nurse_sees_it_first(new_context, alex, chris):
    LetterheadFactory(team=alex.team)
    alex.team.shared_inbox = "north.breast.unit@followup-test.invalid"
    alex.team.save()
    alex.email = "alex.morgan@followup-test.invalid"
    alex.save()
    mary = PatientFactory(
        given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex, date_of_birth=date(1958, 4, 23)
    )
    older = PatientFactory(given_name="Ruth", family_name="Hill", team=alex.team, named_nurse=alex)
    SymptomReport.objects.create(
        patient=older, reported_on=date(2026, 1, 5), area=c.SymptomArea.LUNG, description="A dry cough.",
        created_by=alex, updated_by=alex,
    )  # fmt: skip
    code = issue(mary, alex)

    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto("/report-symptoms/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Tell us about new symptoms")
    expect(phone.locator("#not-for-emergencies")).to_contain_text("This is not for emergencies")
    phone.get_by_label("Your personal code").fill(code.lower()[:4] + " " + code.lower()[4:])
    born = phone.get_by_role("group", name="Your date of birth")
    born.get_by_label("Day").fill("23")
    born.get_by_label("Month").fill("4")
    born.get_by_label("Year").fill("1958")
    phone.get_by_label("None of these").check()
    phone.get_by_label("Bones (for example, your back, hips or ribs)").check()
    # The area's symptoms appear under it once it is chosen.
    expect(phone.get_by_label("Weak legs or numbness")).to_be_visible()
    phone.get_by_label("Pain in your back, hips or ribs").check()
    phone.get_by_label("Weak legs or numbness").check()
    phone.get_by_label("Less than a week").check()
    phone.get_by_role("group", name="Are your symptoms getting worse?").get_by_label("Yes").check()
    phone.get_by_label("Tell us about your symptoms").fill("Back pain since Tuesday, my legs feel heavy.")
    phone.get_by_role("button", name="Send your report").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Get help now")
    guidance = phone.locator("#what-to-do-now")
    expect(guidance).to_contain_text("Call the acute oncology team now")
    expect(guidance.get_by_role("link", name="01632 960999")).to_have_attribute("href", "tel:01632960999")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    expect(phone.locator("body")).not_to_contain_text("Brown")

    desk = new_context().new_page()
    log_in(desk, "alex")
    desk.get_by_role("link", name="Symptoms to triage", exact=True).click()
    expect(desk).to_have_url(re.compile(r"/worklists/symptoms/"))
    first = desk.locator("tbody tr").first
    expect(first).to_contain_text("BROWN, Mary")
    expect(first).to_contain_text("Red flag")
    expect(first).to_contain_text("Reported by the patient")
    expect(row(desk, "HILL, Ruth")).not_to_contain_text("Reported by the patient")
    report = SymptomReport.objects.get(patient=mary)
    assert (report.red_flag, report.source) == (c.RedFlag.CORD_COMPRESSION, c.ReportSource.PATIENT)

    # The alert is in the outbox: two red-flag alerts (shared inbox, named nurse), queued, then sent by the
    # real worker on PostgreSQL, with nothing in them that names the patient.
    admin = new_context().new_page()
    log_in(admin, "chris")
    admin.get_by_role("link", name="Alerts", exact=True).first.click()
    table = admin.locator("#alerts tbody")
    expect(table.locator("tr")).to_have_count(2)
    expect(table).to_contain_text("Red-flag symptom report")
    expect(table).to_contain_text("north.breast.unit@followup-test.invalid")
    expect(table).to_contain_text("alex.morgan@followup-test.invalid")
    if connection.vendor == "postgresql":
        _run_the_worker()
        admin.reload()
        expect(table.get_by_text("Sent", exact=True)).to_have_count(2)
        assert sorted(m.to[0] for m in mail.outbox) == [
            "alex.morgan@followup-test.invalid",
            "north.breast.unit@followup-test.invalid",
        ]
        assert all("Brown" not in m.message().as_string() for m in mail.outbox)


def _run_the_worker() -> None:
    """The worker as manage.py runs it (its own psycopg connections), until the alerts queue is empty."""
    from procrastinate.contrib.django import app

    settings_dict = connections.settings["default"]
    kept, settings_dict["CONN_MAX_AGE"] = settings_dict["CONN_MAX_AGE"], 0  # the job threads' connections close
    failures = []

    def work() -> None:
        try:
            with app.replace_connector(app.connector.get_worker_connector()):
                app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False, queues=["alerts"])
        except Exception as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            connections.close_all()

    # Its own thread: Playwright's event loop runs in this one, and the worker starts one of its own.
    worker = threading.Thread(target=work)
    try:
        worker.start()
        worker.join(timeout=60)
    finally:
        settings_dict["CONN_MAX_AGE"] = kept
    assert failures == [] and not worker.is_alive()
