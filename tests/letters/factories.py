"""Letters' factories: a team's letterhead, a patient a letter can be written to (address, GP practice)."""

import factory

from followup import choices as c
from letters.models import Letterhead

from ..factories import GPPracticeFactory, PatientFactory, PrimaryDiagnosisFactory


class LetterheadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Letterhead
        django_get_or_create = ["team"]

    unit_name = factory.LazyAttribute(lambda o: f"{o.team.name}, Breast Care")
    address_line_1 = "Breast Unit, Level 2"
    address_line_2 = "Testshire General Hospital"
    town = "Testville"
    postcode = "ZZ99 1BC"
    phone = "01632 960123"
    acute_oncology_phone = "01632 960999"
    email = "breastcare@example.nhs.uk"
    signature_name = "The Breast Care Nurses"
    signature_role = "Clinical Nurse Specialists"


def letter_patient(*, team, named_nurse, gp=True, address=True, **fields):
    """A patient with what letters need: address, GP practice, primary diagnosis; and the team's letterhead."""
    LetterheadFactory(team=team)
    defaults = {
        "given_name": "Zoë",
        "family_name": "O’Brien",
        "nhs_number": "9434765919",
        "address_line_1": "12 Imaginary Road" if address else "",
        "address_line_2": "Nowhere Green" if address else "",
        "town": "Testville" if address else "",
        "postcode": "ZZ99 3CZ" if address else "",
        "gp_practice": GPPracticeFactory(
            ods_code="Y90001", name="Fictional Lane Surgery", address_line_1="7 Fictional Lane", postcode="ZZ99 4GP"
        )
        if gp
        else None,
        "sex": c.Sex.FEMALE,
    }
    patient = PatientFactory(team=team, named_nurse=named_nurse, **{**defaults, **fields})
    PrimaryDiagnosisFactory(patient=patient)
    return patient
