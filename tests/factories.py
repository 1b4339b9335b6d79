"""Factories: valid rows by default, so a test only states what matters to it."""

from datetime import date, timedelta
from pathlib import Path

import factory
from django.apps import apps as django_apps
from django.conf import settings
from django.utils import timezone

from followup import choices as c
from followup import models as m
from followup.nhs import nhs_numbers_in_test_range

NHS_NUMBERS = nhs_numbers_in_test_range(2000)


def project_models() -> list:
    """Every model of this project's own apps (followup and the apps beside it), not Django's or libraries'."""
    root = Path(settings.BASE_DIR).resolve()
    return [
        model
        for config in django_apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(root)
        for model in config.get_models()
    ]


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Team
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"team{n}")
    name = factory.Sequence(lambda n: f"Breast Unit {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Nurse{n}")
    role = c.Role.NURSE
    team = factory.SubFactory(TeamFactory)
    password = factory.django.Password("correct-horse-battery")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Patient

    nhs_number = factory.Sequence(lambda n: NHS_NUMBERS[n % len(NHS_NUMBERS)])
    hospital_number = factory.Sequence(lambda n: f"H{n:06d}")
    given_name = "Jane"
    family_name = factory.Sequence(lambda n: f"Patient{n}")
    date_of_birth = date(1960, 5, 17)
    sex = c.Sex.FEMALE
    team = factory.SubFactory(TeamFactory)
    named_nurse = factory.SubFactory(UserFactory, team=factory.SelfAttribute("..team"))
    created_by = factory.SelfAttribute("named_nurse")
    updated_by = factory.SelfAttribute("named_nurse")


class PrimaryDiagnosisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.PrimaryDiagnosis

    patient = factory.SubFactory(PatientFactory)
    laterality = c.Laterality.LEFT
    diagnosed_on = date(2022, 3, 1)
    histology = c.Histology.NST
    grade = c.Grade.G2
    er_status = c.ReceptorStatus.POSITIVE
    pr_status = c.ReceptorStatus.POSITIVE
    her2_status = c.ReceptorStatus.NEGATIVE
    created_by = factory.SelfAttribute("patient.named_nurse")
    updated_by = factory.SelfAttribute("patient.named_nurse")


class FollowUpProtocolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.FollowUpProtocol

    name = factory.Sequence(lambda n: f"Protocol {n}")


class ProtocolStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ProtocolStep

    protocol = factory.SubFactory(FollowUpProtocolFactory)
    kind = c.FollowUpKind.MAMMOGRAM
    start_months = 12
    interval_months = 12
    occurrences = 5


class FollowUpItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.FollowUpItem

    patient = factory.SubFactory(PatientFactory)
    kind = c.FollowUpKind.MAMMOGRAM
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=60))
    done_on = None
    result = ""
    # A result is recorded the day the test was done unless a test says otherwise.
    result_recorded_on = factory.LazyAttribute(lambda o: (o.done_on or timezone.localdate()) if o.result else None)
    created_by = factory.SelfAttribute("patient.named_nurse")
    updated_by = factory.SelfAttribute("patient.named_nurse")


class RecurrenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Recurrence

    patient = factory.SubFactory(PatientFactory)
    metastatic_type = c.MetastaticType.REGIONAL
    status = c.RecurrenceStatus.CONFIRMED
    diagnosed_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=10))
    created_by = factory.SelfAttribute("patient.named_nurse")
    updated_by = factory.SelfAttribute("patient.named_nurse")


class RecurrenceSiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.RecurrenceSite

    recurrence = factory.SubFactory(RecurrenceFactory)
    metastatic_type = factory.SelfAttribute("recurrence.metastatic_type")
    site = c.Site.AXILLARY_NODES
    created_by = factory.SelfAttribute("recurrence.created_by")
    updated_by = factory.SelfAttribute("recurrence.created_by")


class RestagingEpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.RestagingEpisode

    recurrence = factory.SubFactory(RecurrenceFactory)
    opened_on = factory.SelfAttribute("recurrence.diagnosed_on")
    target_on = factory.LazyAttribute(lambda o: o.opened_on + timedelta(days=28))
    created_by = factory.SelfAttribute("recurrence.created_by")
    updated_by = factory.SelfAttribute("recurrence.created_by")


class StagingTestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.StagingTest

    episode = factory.SubFactory(RestagingEpisodeFactory)
    modality = c.StagingModality.CT_CAP
    requested_on = factory.SelfAttribute("episode.opened_on")
    created_by = factory.SelfAttribute("episode.created_by")
    updated_by = factory.SelfAttribute("episode.created_by")


class SymptomReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.SymptomReport

    patient = factory.SubFactory(PatientFactory)
    reported_on = factory.LazyFunction(timezone.localdate)
    area = c.SymptomArea.BONE
    description = "Aching in the lower back."
    created_by = factory.SelfAttribute("patient.named_nurse")
    updated_by = factory.SelfAttribute("patient.named_nurse")


class GPPracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.GPPractice
        django_get_or_create = ["ods_code"]

    ods_code = factory.Sequence(lambda n: f"Y{90000 + n:05d}")
    name = factory.Sequence(lambda n: f"Test Street Surgery {n}")
    address_line_1 = "1 Fictional Lane"
    town = "Testville"
    postcode = "ZZ99 3AA"
    phone = "01632 960001"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contacts.Contact"

    patient = factory.SubFactory(PatientFactory)
    kind = "phone_out"
    answered = True
    contacted_at = factory.LazyFunction(timezone.now)
    by = factory.SelfAttribute("patient.named_nurse")
    summary = "Discussed the mammogram result."
    created_by = factory.SelfAttribute("by")
    updated_by = factory.SelfAttribute("by")


class LetterFactory(factory.django.DjangoModelFactory):
    """An issued letter's row as letters.services.letter_issue leaves it, with stand-in bytes' digest
    (the bytes themselves, a LetterPDF, only where a test needs them: tests/letters/)."""

    class Meta:
        model = "letters.Letter"

    patient = factory.SubFactory(PatientFactory)
    kind = "care_plan"
    recipient = "patient"
    addressee = factory.LazyAttribute(lambda o: o.patient.full_name)
    issued_at = factory.LazyFunction(timezone.now)
    issued_by = factory.SelfAttribute("patient.named_nurse")
    contact = factory.SubFactory(
        ContactFactory, patient=factory.SelfAttribute("..patient"), kind="letter", answered=None
    )
    sha256 = "0" * 64
    size = 1234
    created_by = factory.SelfAttribute("issued_by")
    updated_by = factory.SelfAttribute("issued_by")
