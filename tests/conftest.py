import pytest

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
def patient(nurse):
    return PatientFactory(team=nurse.team, named_nurse=nurse)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # PBKDF2 is slow by design; tests only need passwords that check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
