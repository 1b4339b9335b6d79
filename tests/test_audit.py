"""The audit trail: every change names who and when with before/after; reads are logged; audit rows stay."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.audit import ChangeWithoutActor, refuse_change_without_actor
from followup.models import AccessLog, ExportLog, FollowUpItem, Patient
from followup.services import SiteEntry
from mdt.services import mdt_discussion_record
from tasks.services import task_create

from .factories import FollowUpItemFactory, FollowUpProtocolFactory, PatientFactory, ProtocolStepFactory, UserFactory

TODAY = timezone.localdate()
SERVICES = Path(__file__).resolve().parent.parent / "followup" / "services"


@pytest.fixture
def colleague(nurse):
    return UserFactory(username="priya", team=nurse.team, role=c.Role.NURSE, first_name="Priya", last_name="Shah")


def test_a_change_keeps_who_when_and_before_after(patient, nurse, colleague):
    services.patient_update(patient=patient, by=colleague, expected_version=1, given_name="Janet")
    latest = Patient.history.filter(id=patient.pk).latest("history_date")
    previous = latest.prev_record
    assert (latest.history_type, latest.history_user, latest.given_name) == ("~", colleague, "Janet")
    assert previous.given_name == "Jane"
    changed = {change.field for change in latest.diff_against(previous).changes}
    assert {"given_name", "version", "updated_by", "updated_at"} == changed


def test_bulk_changes_are_in_the_history_too(nurse, colleague, admin_user):
    """django-simple-history misses QuerySet.update(); the services use its bulk helpers instead."""
    patients = PatientFactory.create_batch(2, team=nurse.team, named_nurse=nurse)
    services.caseload_hand_over(from_nurse=nurse, to_nurse=colleague, by=admin_user)
    for patient in patients:
        latest = Patient.history.filter(id=patient.pk).latest("history_date")
        assert (latest.named_nurse_id, latest.history_user) == (colleague.pk, admin_user)

    item = FollowUpItemFactory(patient=patients[0])
    services.patient_discharge(
        patient=patients[0], discharged_on=TODAY, reason="Moved", by=admin_user, expected_version=2
    )
    latest = FollowUpItem.history.filter(id=item.pk).latest("history_date")
    assert (latest.status, latest.history_user) == ("cancelled", admin_user)


def test_generated_schedule_is_in_the_history(patient, nurse):
    protocol = FollowUpProtocolFactory()
    ProtocolStepFactory(protocol=protocol, occurrences=2)
    items = services.protocol_assign(patient=patient, protocol=protocol, start_on=TODAY, by=nurse)
    assert FollowUpItem.history.filter(id__in=[i.pk for i in items], history_type="+").count() == 2
    assert set(FollowUpItem.history.filter(id__in=[i.pk for i in items]).values_list("history_user", flat=True)) == {
        nurse.pk
    }


def test_services_never_write_with_queryset_update():
    """QuerySet.update() leaves no history: this test fails if a service starts using it."""
    offenders = [
        f"{path.name}:{number}"
        for path in SERVICES.glob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\.update\(", line) and "update_fields" not in line and not line.strip().startswith("#")
    ]
    assert offenders == []


def test_a_clinical_change_without_an_actor_is_refused(patient):
    historical = Patient.history.model(history_user=None, history_type="~")
    with pytest.raises(ChangeWithoutActor):
        refuse_change_without_actor(sender=Patient, instance=patient, history_instance=historical)
    with pytest.raises(Exception, match="without a signed-in user"):
        services.patient_update(patient=patient, by=None, expected_version=1, given_name="X")
    assert Patient.objects.get(pk=patient.pk).given_name == "Jane"


def test_history_page_shows_who_changed_what(client, nurse, colleague, patient):
    services.patient_update(patient=patient, by=colleague, expected_version=1, given_name="Janet")
    item = services.followup_item_add(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=TODAY, by=nurse)
    services.record_mark_entered_in_error(record=item, reason="Wrong patient", by=nurse)
    client.force_login(nurse)
    response = client.get(reverse("followup:patient_history", args=[patient.pk]))
    changes = response.context["changes"]
    assert [change.kind for change in changes][:2] == ["Marked entered in error", "Created"]
    renamed = next(change for change in changes if change.who == "Priya Shah")
    assert ("Given name", "Jane", "Janet") in renamed.changes
    assert "Wrong patient" in response.content.decode()


@pytest.mark.parametrize("rows", [1, 3])
def test_history_page_query_count_is_constant(rows, client, nurse, patient, django_assert_num_queries):
    for _ in range(rows):
        recurrence = services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.REGIONAL,
            sites=[SiteEntry(c.Site.AXILLARY_NODES)],
            diagnosed_on=TODAY,
            restaging_tests=[c.StagingModality.CT_CAP],
            by=nurse,
        )
        services.followup_item_add(patient=patient, kind=c.FollowUpKind.BLOODS, due_on=TODAY, by=nurse)
        mdt_discussion_record(
            recurrence=recurrence, meeting_on=TODAY, outcome="surgery", plan="Excision", attendees="MDT", by=nurse
        )
        task_create(patient=patient, description="Phone the patient", due_on=TODAY, by=nurse, assigned_to=nurse)
    client.force_login(nurse)
    # session, user, access check, access-log row, 3 id lookups (recurrences, episodes, tests),
    # 13 history tables (followup's 9, the contact log's, MDT discussions', tasks' and letters', each with the
    # users, team and other rows its changes name: issue 12), the banner's named nurse
    with django_assert_num_queries(4 + 3 + 13 + 1):
        client.get(reverse("followup:patient_history", args=[patient.pk]))


def test_opening_a_patient_is_logged(client, nurse, patient):
    client.force_login(nurse)
    client.get(reverse("followup:patient_detail", args=[patient.pk]))
    client.get(reverse("followup:patient_history", args=[patient.pk]))
    assert list(AccessLog.objects.order_by("pk").values_list("user", "patient", "action")) == [
        (nurse.pk, patient.pk, "view_patient"),
        (nurse.pk, patient.pk, "view_history"),
    ]


def test_audit_rows_have_no_change_or_delete_in_the_admin(client, admin_user, patient):
    log = AccessLog.objects.create(user=admin_user, patient=patient, action="view_patient", path="/")
    export = ExportLog.objects.create(user=admin_user, report="x", format="csv")
    client.force_login(admin_user)
    for name, obj in (("accesslog", log), ("exportlog", export)):
        assert client.post(reverse(f"admin:followup_{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
        response = client.post(reverse(f"admin:followup_{name}_change", args=[obj.pk]), {"report": "changed"})
        assert response.status_code in (200, 403)
    assert ExportLog.objects.get(pk=export.pk).report == "x"
    assert AccessLog.objects.filter(pk=log.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_on_postgresql_audit_rows_cannot_be_changed_even_through_the_orm(patient, nurse):
    services.patient_update(patient=patient, by=nurse, expected_version=1, given_name="Janet")
    AccessLog.objects.create(user=nurse, patient=patient, action="view_patient", path="/")
    export = ExportLog.objects.create(user=nurse, report="x", format="csv")
    export.rows, export.finished_at = 3, timezone.now()
    export.save()  # finishing a running export is allowed, once
    for attempt in (
        lambda: Patient.history.update(given_name="Forged"),
        lambda: Patient.history.all().delete(),
        lambda: AccessLog.objects.update(path="/elsewhere"),
        lambda: AccessLog.objects.all().delete(),
        lambda: ExportLog.objects.filter(pk=export.pk).update(rows=0),
        lambda: ExportLog.objects.filter(pk=export.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="cannot be changed or deleted"), transaction.atomic():
            attempt()
    assert Patient.history.filter(id=patient.pk).count() == 2
    assert ExportLog.objects.get(pk=export.pk).rows == 3


def test_history_survives_entered_in_error(patient, nurse):
    item = FollowUpItemFactory(patient=patient, due_on=TODAY + timedelta(days=3))
    services.record_mark_entered_in_error(record=item, reason="Duplicate", by=nurse)
    latest = FollowUpItem.history.filter(id=item.pk).latest("history_date")
    assert (latest.entered_in_error, latest.error_reason, latest.history_user) == (True, "Duplicate", nurse)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="history rows cannot be deleted there (triggers)")
def test_history_of_a_record_loaded_without_history_says_so(client, nurse, patient):
    Patient.history.filter(id=patient.pk).delete()  # like rows loaded by seed_demo's bulk inserts
    services.patient_update(patient=patient, by=nurse, expected_version=1, hospital_number="RX9")
    client.force_login(nurse)
    changes = client.get(reverse("followup:patient_history", args=[patient.pk])).context["changes"]
    assert changes[0].changes == [
        ("Earlier values not recorded: the record was loaded before its history began", None, None)
    ]
