import pytest
from django.db import connection

from followup import choices as c

from .factories import PatientFactory, TeamFactory, UserFactory


@pytest.fixture
def team(db):
    return TeamFactory(code="north", name="North Breast Unit")


@pytest.fixture
def other_team(db):
    return TeamFactory(code="south", name="South Breast Unit")


@pytest.fixture
def nurse(team):
    return UserFactory(username="alex", team=team, role=c.Role.NURSE)


@pytest.fixture
def other_nurse(other_team):
    """A nurse from another team: may not see the first team's patients."""
    return UserFactory(username="jo", team=other_team, role=c.Role.NURSE)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="chris", team=None, role=c.Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def priya(nurse):
    """A second nurse of the same team: the other person in a conflict, the one who marks in error."""
    return UserFactory(username="priya", team=nurse.team, role=c.Role.NURSE, first_name="Priya", last_name="Shah")


@pytest.fixture
def nurse_client(client, nurse):
    client.force_login(nurse)
    return client


@pytest.fixture
def patient(nurse):
    return PatientFactory(team=nurse.team, named_nurse=nurse)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # PBKDF2 is slow by design; tests only need passwords that check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def reset_past_the_truncate_guard():
    """A transactional test resets the database with one TRUNCATE of every table, which the audit
    tables refuse on PostgreSQL (migration 0010). The test role is a superuser: it resets in
    replica mode, where ordinary triggers do not fire. The app's role cannot do this."""
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    plain = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = plain(self, style, tables, **kwargs)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def patient_flags_agree_with_the_rules(request):
    """After every test that uses the database: the patient flags table (followup/flags.py) equals the
    rules worked out from scratch, whatever the test did through services, views, factories or imports.
    A write that bypasses the model signals (QuerySet.update, raw SQL) without refreshing fails here."""
    wanted = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}
    uses_db = request.node.get_closest_marker("django_db") or wanted & set(request.fixturenames)
    if uses_db:
        request.getfixturevalue("_django_db_helper")  # set up before this check, so torn down after it
    yield
    if not uses_db:
        return
    from followup import flags

    found = flags.differences(lists=False)  # the lists themselves: tests/test_flags.py
    assert found == [], "the patient flags differ from the rules:\n" + "\n".join(map(str, found[:20]))
