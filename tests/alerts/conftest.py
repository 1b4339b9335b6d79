"""Fixtures of the alerts: a team with its shared inbox and lead, a nurse with an email, a distinctive
patient (to search every email for), the worker (in memory, or the real one on PostgreSQL), and a real
SMTP server on loopback."""

import socket
from datetime import date, timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import connection, connections
from django.utils import timezone
from procrastinate import testing
from procrastinate.contrib.django import app

from alerts import services
from alerts.models import Alert, AlertStatus
from followup import choices as c
from tests.factories import FollowUpItemFactory, PatientFactory, SymptomReportFactory, UserFactory

TODAY = timezone.localdate()

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the worker's jobs live in PostgreSQL (procrastinate needs it); on SQLite alerts wait, queued",
)


@pytest.fixture
def team(team):
    team.shared_inbox = "north.breast.unit@followup-test.invalid"
    team.save()
    return team


@pytest.fixture
def nurse(team):
    return UserFactory(
        username="alex", first_name="Alex", last_name="Morgan", team=team, role=c.Role.NURSE,
        email="alex.morgan@followup-test.invalid",
    )  # fmt: skip


@pytest.fixture
def lead(team):
    user = UserFactory(
        username="sam", first_name="Sam", last_name="Patel", team=team, role=c.Role.CLINICIAN,
        email="sam.patel@followup-test.invalid",
    )  # fmt: skip
    team.lead = user
    team.save()
    return user


# Searched for in every email: nothing of it may appear.
DISTINCTIVE = {
    "given_name": "Philippa",
    "family_name": "Quixotic-Farquharson",
    "nhs_number": "9434765919",
    "hospital_number": "HZQ98765",
    "date_of_birth": date(1951, 2, 3),
    "address_line_1": "17 Marmalade Crescent",
    "town": "Bramblewick",
    "postcode": "ZZ99 7QQ",
}
IDENTIFIERS = [
    "Philippa", "Quixotic", "Farquharson", "9434765919", "943 476 5919", "HZQ98765", "1951", "3 Feb",
    "03/02", "Marmalade", "Bramblewick", "ZZ99 7QQ", "ZZ997QQ",
]  # fmt: skip


def identifiers_in(raw: str) -> list[str]:
    """The patient identifiers in an email as it went over SMTP. The Message-ID and Date headers are left out:
    their digits are random or the clock's (a Message-ID once held "1951", the patient's year of birth)."""
    kept = "\n".join(line for line in raw.splitlines() if not line.lower().startswith(("message-id:", "date:")))
    return [identifier for identifier in IDENTIFIERS if identifier.lower() in kept.lower()]


@pytest.fixture
def philippa(nurse):
    return PatientFactory(team=nurse.team, named_nurse=nurse, **DISTINCTIVE)


def red_flag_report(patient, **fields):
    values = {"red_flag": c.RedFlag.CORD_COMPRESSION, "source": c.ReportSource.PATIENT} | fields
    return SymptomReportFactory(patient=patient, description="Back pain and my legs feel weak.", **values)


def escalated_result(patient, *, days: int = 20, result=c.ImagingOutcome.ABNORMAL):
    done_on = TODAY - timedelta(days=days)
    return FollowUpItemFactory(
        patient=patient, kind=c.FollowUpKind.MAMMOGRAM, status=c.FollowUpStatus.DONE, due_on=done_on,
        done_on=done_on, result=result, result_recorded_on=done_on,
    )  # fmt: skip


def deliver_all() -> list[Alert]:
    """Send every queued alert as the worker would (its service), here in the test's transaction."""
    delivered = []
    for alert in Alert.objects.filter(status=AlertStatus.QUEUED).order_by("pk"):
        delivered.append(services.alert_deliver(alert=alert))
    return delivered


def email_text(message) -> str:
    """Everything an email carries: its headers, subject and body as sent."""
    return message.message().as_string()


@pytest.fixture(autouse=True)
def worker_threads_close_their_connections():
    """The worker runs each job in a pool thread with Django's connection of that thread, kept for
    CONN_MAX_AGE: left open, it would block the test database's teardown. 0 here: closed after each job."""
    settings_dict = connections.settings["default"]
    kept = settings_dict["CONN_MAX_AGE"]
    settings_dict["CONN_MAX_AGE"] = 0
    yield
    settings_dict["CONN_MAX_AGE"] = kept


@pytest.fixture
def memory_worker():
    """The worker on procrastinate's in-memory connector (any database): ``run()`` drains the alerts queue
    as a real worker would, retries included. Needs committed rows: transaction=True tests."""
    connector = testing.InMemoryConnector()
    with app.replace_connector(connector):

        def run() -> None:
            app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False, queues=["alerts"])

        connector.run = run
        yield connector


@pytest.fixture
def postgresql_worker():
    """``run()``: the real worker, with its own connector (psycopg, its own connections, as ``manage.py
    procrastinate worker`` runs it) on the test database, until the alerts queue is empty. Alerts are
    raised before, through Django's connection, as the app raises them."""

    def run(queues=("alerts",)) -> None:
        with app.replace_connector(app.connector.get_worker_connector()):
            app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False, queues=list(queues))

    return run


class Handler:
    """An SMTP server's handler that refuses the first ``refuse`` messages (451, try later), then accepts."""

    def __init__(self, refuse: int = 0):
        self.refuse = refuse
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 Requested action aborted: try again later"
        self.received.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback (aiosmtpd in a thread); Django's SMTP backend pointed at it."""
    handler = Handler()
    port = free_port()  # aiosmtpd cannot take port 0 (PITFALLS.md)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    handler.port = port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.ALERT_RETRY_SECONDS = 0
    settings.ALERT_SEND_ATTEMPTS = 3
    mail.outbox = []
