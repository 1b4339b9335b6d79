"""When PostgreSQL goes away: a 503 page (not a crash), nothing half-written, recovery on its own."""

import psycopg
import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse

from followup import choices as c
from followup import services
from followup.models import FollowUpItem

from .factories import PatientFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def fresh_connection_after():
    yield
    connection.close()  # teardown starts from a fresh connection


def next_request_starts():
    """What Django runs at the start of every request (the test client leaves it out)."""
    close_old_connections()


def _other_connection():
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.connect(**params, autocommit=True)


def test_a_killed_database_connection_is_replaced_without_an_error(client, nurse):
    client.force_login(nurse)
    assert client.get(reverse("followup:dashboard")).status_code == 200
    pid = connection.connection.info.backend_pid
    with _other_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    # CONN_HEALTH_CHECKS: the next request finds the connection dead and opens a new one.
    next_request_starts()
    assert client.get(reverse("followup:dashboard")).status_code == 200
    assert connection.connection.info.backend_pid != pid


def test_database_outage_is_a_503_page_and_the_app_recovers(client, nurse):
    client.force_login(nurse)
    client.raise_request_exception = False
    assert client.get(reverse("followup:dashboard")).status_code == 200
    settings_dict = connection.settings_dict
    port = settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = "1"  # nothing listens there: the database has gone
    try:
        page = client.get(reverse("followup:dashboard"))
        health = Client().get("/health")  # a load balancer has no session
    finally:
        settings_dict["PORT"] = port
        connection.close()
    assert page.status_code == 503 and page["Retry-After"] == "30"
    body = page.content.decode()
    assert "the service is unavailable" in body and "Traceback" not in body
    assert (health.status_code, health.json()) == (503, {"app": "ok", "database": "unavailable"})
    # The database is back: the very next request works.
    next_request_starts()
    assert client.get(reverse("followup:dashboard")).status_code == 200
    assert Client().get("/health").status_code == 200


def test_a_write_cut_short_leaves_nothing_half_written(nurse):
    """A discharge cancels items in the same transaction: if the connection dies, neither happens."""
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    services.followup_item_add(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=patient.date_of_birth, by=nurse)
    pid = connection.connection.info.backend_pid
    original = services.patients._close_open_items

    def die_midway(*args, **kwargs):
        with _other_connection() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        return original(*args, **kwargs)

    services.patients._close_open_items = die_midway
    try:
        with pytest.raises(Exception):  # noqa: B017 (any database error: the connection is gone)
            services.patient_discharge(
                patient=patient, discharged_on=patient.date_of_birth, reason="x", by=nurse, expected_version=1
            )
    finally:
        services.patients._close_open_items = original
        connection.close()
    patient.refresh_from_db()
    assert patient.status == c.PatientStatus.SURVEILLANCE
    assert FollowUpItem.objects.get(patient=patient).status == c.FollowUpStatus.DUE
