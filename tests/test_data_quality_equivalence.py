"""Review (issue 8): the data-quality list after the rewrite, against the pre-rewrite definition."""

from datetime import date

import pytest
from django.db.models import Exists, OuterRef, Q

from followup import choices as c
from followup import services
from followup.models import Patient, PrimaryDiagnosis, Recurrence
from followup.querysets import DATA_QUALITY_FLAGS, NHS_NUMBER_INVALID, _flag
from followup.worklists import WORKLISTS

from .factories import PatientFactory, PrimaryDiagnosisFactory, RecurrenceFactory, RecurrenceSiteFactory

pytestmark = pytest.mark.django_db


def _old_flags(qs):
    """with_data_quality_flags() as at d742857."""
    recurrences = Recurrence.objects.without_site().filter(patient=OuterRef("pk"))
    primaries = PrimaryDiagnosis.objects.filter(patient=OuterRef("pk"))
    return (
        qs._with_nhs_digits()
        ._with_name_keys()
        .annotate(
            missing_nhs_number=_flag(Q(nhs_number="")),
            invalid_nhs_number=_flag(NHS_NUMBER_INVALID),
            possible_duplicate=qs._duplicate_exists(),
            recurrence_without_site=Exists(recurrences),
            missing_laterality=Exists(primaries.missing_laterality()),
            missing_receptors=Exists(primaries.missing_receptors()),
            missing_primary=~Exists(primaries),
        )
    )


def _scenario(nurse):
    mk = lambda **kw: PatientFactory(team=nurse.team, named_nurse=nurse, **kw)  # noqa: E731
    born = date(1955, 1, 2)
    clean = mk()
    PrimaryDiagnosisFactory(patient=clean)
    # missing / invalid numbers
    for number in ["", "9434765918", "0000000000", "9990000000"]:
        PrimaryDiagnosisFactory(patient=mk(nhs_number=number))
    # duplicates, one pair with an entered-in-error twin
    a = mk(family_name="Okoro", given_name="Ada", date_of_birth=born)
    b = mk(family_name="OKORO", given_name="ada", date_of_birth=born)
    PrimaryDiagnosisFactory(patient=a)
    PrimaryDiagnosisFactory(patient=b)
    c1 = mk(family_name="Smith", given_name="Sue", date_of_birth=born)
    PrimaryDiagnosisFactory(patient=c1)
    c2 = mk(family_name="Smith", given_name="Susan", date_of_birth=born)
    services.record_mark_entered_in_error(record=c2, reason="Duplicate", by=nurse)
    # recurrences: no site, refuted without site, EIE without site, with site
    for kind in ["nosite", "refuted", "eie", "site"]:
        p = mk()
        PrimaryDiagnosisFactory(patient=p)
        if kind == "site":
            RecurrenceSiteFactory(recurrence__patient=p)
        elif kind == "refuted":
            RecurrenceFactory(patient=p, status=c.RecurrenceStatus.REFUTED)
        else:
            r = RecurrenceFactory(patient=p)
            if kind == "eie":
                services.record_mark_entered_in_error(record=r, reason="Wrong", by=nurse)
    # primaries: no laterality, EIE no laterality (then no primary), receptors, DCIS
    p = mk()
    PrimaryDiagnosisFactory(patient=p, laterality="")
    p = mk()
    bad = PrimaryDiagnosisFactory(patient=p, laterality="")
    services.record_mark_entered_in_error(record=bad, reason="Wrong", by=nurse)
    PrimaryDiagnosisFactory(patient=mk(), er_status="")
    PrimaryDiagnosisFactory(patient=mk(), histology=c.Histology.DCIS, her2_status="")
    PrimaryDiagnosisFactory(patient=mk(), histology=c.Histology.DCIS, her2_status="", pr_status="")
    mk()  # nothing at all: missing primary
    # an entered-in-error patient with every problem
    gone = mk(nhs_number="")
    RecurrenceFactory(patient=gone)
    PrimaryDiagnosisFactory(patient=gone, laterality="", er_status="")
    services.record_mark_entered_in_error(record=gone, reason="Wrong", by=nurse)


# The flags the old definition had. Issue 12 added "implausible_date" (tests/test_dates.py); this
# scenario holds no implausible date, so the two lists must still be the same.
OLD_FLAGS = tuple(flag for flag in DATA_QUALITY_FLAGS if flag != "implausible_date")


def test_list_and_each_flag_match_the_old_definition(nurse):
    _scenario(nurse)
    old = _old_flags(Patient.objects.all())
    any_problem = Q()
    for flag in OLD_FLAGS:
        any_problem |= Q(**{flag: True})
    old_list = {p.pk: {f for f in OLD_FLAGS if getattr(p, f)} for p in old.filter(any_problem)}
    for per_row in (False, True):
        new = Patient.objects.data_quality_problems(per_row=per_row)
        new_list = {p.pk: {f for f in OLD_FLAGS if getattr(p, f)} for p in new}
        assert new_list == old_list
        for flag in OLD_FLAGS:
            assert set(new.having_problem(flag).values_list("pk", flat=True)) == set(
                old.filter(**{flag: True}).values_list("pk", flat=True)
            ), flag
    worklist = WORKLISTS["data-quality"]
    assert worklist.counts(nurse, today=date.today())["team"] == len(old_list)
    for pk, flags in old_list.items():
        one = list(worklist.for_patient(Patient.objects.get(pk=pk), today=date.today()))
        assert [{f for f in OLD_FLAGS if getattr(one[0], f)}] == [flags]
