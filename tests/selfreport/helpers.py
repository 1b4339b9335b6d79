"""What the self-report tests share: a form as the patient fills it in, and a patient with a code."""

from datetime import date

from followup import choices as c
from selfreport.services import personal_code_issue

BORN = date(1958, 4, 23)


def answers(code: str, *, born: date = BORN, **overrides) -> dict:
    """A complete report: bone pain for over two weeks, getting worse, no urgent symptom."""
    data = {
        "code": code,
        "born_0": str(born.day),
        "born_1": str(born.month),
        "born_2": str(born.year),
        "urgent": ["none"],
        "area": "bone",
        "symptoms_bone": ["pain", "night"],
        "lasted": c.SymptomDuration.OVER_TWO_WEEKS,
        "worsening": c.Worsening.YES,
        "description": "My lower back has ached for three weeks.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def issue(patient, nurse) -> str:
    _code, plaintext = personal_code_issue(patient=patient, by=nurse)
    return plaintext
