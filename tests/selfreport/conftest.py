import pytest

from ..factories import PatientFactory
from ..letters.factories import LetterheadFactory
from .helpers import BORN, issue


@pytest.fixture
def reporter(nurse):
    """A patient with a live code and the team's letterhead (acute oncology 01632 960999)."""
    LetterheadFactory(team=nurse.team)
    return PatientFactory(team=nurse.team, named_nurse=nurse, date_of_birth=BORN)


@pytest.fixture
def code(reporter, nurse) -> str:
    return issue(reporter, nurse)
