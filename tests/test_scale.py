"""Issue 8: the indexes the failsafe lists and search rely on are usable by the
queries that need them, and the two forms of the data-quality list agree.

A partial index is only usable when the query's WHERE implies the index's
condition; a trigram index only when the search is written as UPPER(name) LIKE.
These tests ask PostgreSQL for the plan with sequential scans discouraged: if
the planner still cannot use the named index, the query and the index have
drifted apart, and the list would be slow at scale however small the test data.
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from followup import choices as c
from followup.models import FollowUpItem, Patient
from followup.querysets import DATA_QUALITY_FLAGS, OPEN_DUE_ON
from followup.worklists import WORKLISTS

from .factories import (
    FollowUpItemFactory,
    PatientFactory,
    PrimaryDiagnosisFactory,
    RecurrenceFactory,
    RecurrenceSiteFactory,
)

TODAY = timezone.localdate()

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")


# The indexes of issue 8 that compete with each other for the same queries.
SCALE_INDEXES = [
    "followup_item_open_patient",
    "followup_item_unacknowledged",
    "followup_item_unack_urgent",
    # Issue 17: expression indexes whose statistics are the open items' and the waiting results' alone.
    "followup_item_open_due_on",
    "followup_item_unack_flag",
    "followup_patient_family_trgm",
    "followup_patient_given_trgm",
    "followup_patient_hospital_no",
]

# Name, or hospital number typed into the same box: all three are searched at once.
NAME_SEARCH = ("followup_patient_family_trgm", "followup_patient_given_trgm", "followup_patient_hospital_no")


def plan(queryset, *, indexes: tuple[str, ...]) -> str:
    """The plan with sequential scans discouraged and the *other* issue-8 indexes set
    aside (inside the test's transaction, rolled back after it): the named indexes
    are then the planner's obvious choice, if and only if the query can use them."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        for other in SCALE_INDEXES:
            if other not in indexes:
                cursor.execute(f"DROP INDEX {other}")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def populated(nurse):
    """A few thousand items, mostly done and acknowledged as in real life, then ANALYZE:
    on empty tables every plan costs the same and the planner's choice means nothing."""
    patients = PatientFactory.create_batch(40, team=nurse.team, named_nurse=nurse)
    items = []
    for n, patient in enumerate(patients):
        for k in range(60):
            done = k < 50
            items.append(
                FollowUpItem(
                    patient=patient,
                    kind=c.FollowUpKind.MAMMOGRAM,
                    due_on=TODAY + timedelta(days=30 * (k - 52) + n),
                    status=c.FollowUpStatus.DONE if done else c.FollowUpStatus.DUE,
                    done_on=TODAY + timedelta(days=30 * (k - 52)) if done else None,
                    result=c.ImagingOutcome.NORMAL if done else "",
                    result_recorded_on=TODAY + timedelta(days=30 * (k - 52)) if done else None,
                    result_acknowledged_at=timezone.now() if done and k else None,
                    result_acknowledged_by=nurse if done and k else None,
                    created_by=nurse,
                    updated_by=nurse,
                )
            )
    FollowUpItem.objects.bulk_create(items)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE followup_followupitem")
        cursor.execute("ANALYZE followup_patient")


@postgres_only
@pytest.mark.usefixtures("populated")
@pytest.mark.parametrize(
    ("name", "queryset", "indexes"),
    [
        ("overdue", lambda: FollowUpItem.objects.overdue(today=TODAY), ("followup_item_open_due_on",)),
        ("due soon", lambda: FollowUpItem.objects.due_soon(today=TODAY), ("followup_item_open_due_on",)),
        # The results list reads its rows in its own order (abnormal first, then the oldest).
        ("results", lambda: FollowUpItem.objects.awaiting_acknowledgement(), ("followup_item_unack_urgent",)),
        ("no next follow-up", lambda: Patient.objects.without_next_follow_up(), ("followup_item_open_patient",)),
        # Its count (the dashboard) filters on an expression with statistics of its own (issue 17).
        (
            "due soon count",
            lambda: FollowUpItem.objects.due_soon(today=TODAY).order_by(),
            ("followup_item_open_due_on",),
        ),
        (
            "results count",
            lambda: FollowUpItem.objects.awaiting_acknowledgement().order_by(),
            ("followup_item_unack_flag",),
        ),
        ("search by name", lambda: Patient.objects.search("smith"), NAME_SEARCH),
        ("search by two names", lambda: Patient.objects.search("susan smith"), NAME_SEARCH),
    ],
)
def test_the_list_can_use_its_indexes(name, queryset, indexes):
    text = plan(queryset(), indexes=indexes)
    for index in indexes:
        assert index in text, f"{name}: {index} is not usable by the query:\n{text}"


@pytest.mark.django_db
def test_open_item_index_covers_exactly_the_open_items(nurse):
    """The partial indexes are built on the same conditions the lists filter with."""
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    due = FollowUpItemFactory(patient=patient, due_on=TODAY - timedelta(days=60))
    FollowUpItemFactory(
        patient=patient,
        due_on=TODAY - timedelta(days=60),
        status=c.FollowUpStatus.CANCELLED,
        cancel_reason="Not needed",
    )
    assert list(FollowUpItem.objects.overdue(today=TODAY)) == [due]
    open_patient = next(i for i in FollowUpItem._meta.indexes if i.name == "followup_item_open_patient")
    assert list(FollowUpItem.objects.filter(open_patient.condition)) == [due]
    # The overdue list's expression index (issue 17) holds a due date for the open items alone.
    assert list(FollowUpItem.objects.alias(due=OPEN_DUE_ON).filter(due__isnull=False)) == [due]


@pytest.mark.django_db
def test_data_quality_flags_are_the_same_for_the_list_and_for_one_patient(nurse):
    """The list computes each flag once for all patients; the patient page per patient. Same answers."""
    born = date(1960, 5, 17)
    clean = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=clean)
    no_number = PatientFactory(team=nurse.team, named_nurse=nurse, nhs_number="")
    PrimaryDiagnosisFactory(patient=no_number, laterality="")
    twin_a = PatientFactory(
        team=nurse.team, named_nurse=nurse, family_name="Okoro", given_name="Ada", date_of_birth=born
    )
    twin_b = PatientFactory(
        team=nurse.team, named_nurse=nurse, family_name="OKORO", given_name="ada", date_of_birth=born
    )
    PrimaryDiagnosisFactory(patient=twin_a, er_status="")
    siteless = PatientFactory(team=nurse.team, named_nurse=nurse)
    RecurrenceFactory(patient=siteless)
    with_site = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=with_site)
    RecurrenceSiteFactory(recurrence__patient=with_site)

    listed = {p.pk: p for p in Patient.objects.data_quality_problems()}
    assert set(listed) == {no_number.pk, twin_a.pk, twin_b.pk, siteless.pk}
    for patient in [clean, no_number, twin_a, twin_b, siteless, with_site]:
        one = list(WORKLISTS["data-quality"].for_patient(patient, today=TODAY))
        assert [p.pk for p in one] == ([patient.pk] if patient.pk in listed else [])
        if one:
            flags = {flag for flag in DATA_QUALITY_FLAGS if getattr(one[0], flag)}
            assert flags == {flag for flag in DATA_QUALITY_FLAGS if getattr(listed[patient.pk], flag)}
    assert listed[twin_a.pk].possible_duplicate and listed[twin_a.pk].missing_receptors
    assert listed[twin_b.pk].missing_primary and not listed[twin_b.pk].missing_receptors
    assert listed[no_number.pk].missing_nhs_number and listed[no_number.pk].missing_laterality
    assert listed[siteless.pk].recurrence_without_site and listed[siteless.pk].missing_primary


# Rendering shortcuts taken for speed (docs/performance.md): same answers as the slow way.


def test_url_for_is_reverse():
    from django.urls import reverse

    from followup.tables import url_for

    for name in ["followup:patient_detail", "followup:item_done", "followup:symptom_triage"]:
        for pk in [1, 7, 2147483646, 123456]:
            assert url_for(name, pk) == reverse(name, args=[pk])


def test_cached_signature_answers_like_inspect():
    import django_tables2 as tables
    from django_tables2.utils import inspect

    from followup.tables.cells import _cached_signature

    def plain(record, value):
        return value

    class Base:
        def render(self, value):
            return value

    class Child(Base):
        def render(self, record, table, **kwargs):
            return record

    def reference(fn):
        parameters = inspect.signature(fn).parameters.values()
        args = tuple(p.name for p in parameters if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
        keywords = next((p.name for p in parameters if p.kind == p.VAR_KEYWORD), None)
        return args, keywords

    cached = _cached_signature(reference)
    for _ in range(2):  # the second round answers from the cache
        assert cached(plain) == (("record", "value"), None)
        assert cached(Base().render) == (("value",), None)
        assert cached(Child().render) == (("record", "table"), "kwargs")
        assert cached(Base.render) == (("self", "value"), None)
    assert tables.utils.signature.__qualname__ == "_cached_signature.<locals>.signature"  # the table code uses it


@pytest.mark.django_db
def test_row_actions_carry_what_the_forms_need(client, nurse, team):
    """The action cells are written in Python now: links come back to the filtered page,
    forms carry the CSRF token and the row's version; read-only roles get none."""
    from followup.tables import url_for

    from .factories import UserFactory

    patient = PatientFactory(team=team, named_nurse=nurse)
    item = FollowUpItemFactory(patient=patient, due_on=TODAY - timedelta(days=90))
    done = FollowUpItemFactory(
        patient=patient, status=c.FollowUpStatus.DONE, done_on=TODAY, due_on=TODAY, result=c.ImagingOutcome.NORMAL
    )
    client.force_login(nurse)
    overdue = client.get("/worklists/overdue/?nurse=all&kind=mammogram").content.decode()
    expected = (
        f'href="{url_for("followup:item_done", item.pk)}?next=/worklists/overdue/%3Fnurse%3Dall%26kind%3Dmammogram"'
    )
    assert expected in overdue
    assert f"for {patient.family_name.upper()}, {patient.given_name}</span>" in overdue
    results = client.get("/worklists/results/").content.decode()
    form = results[results.index('<form class="app-row-form"') :]
    form = form[: form.index("</form>")]
    assert f'action="{url_for("followup:item_acknowledge", done.pk)}"' in form
    assert 'name="csrfmiddlewaretoken" value="' in form
    assert f'name="version" value="{done.version}"' in form

    client.force_login(UserFactory(username="sam", team=team, role=c.Role.CLINICIAN))
    assert "app-row-form" not in client.get("/worklists/results/").content.decode()
    assert "app-inline-links" not in client.get("/worklists/overdue/?nurse=all").content.decode()
