"""Writes in bulk, which send no model signals, keep the patient flags too (scope.KeepsPatientFlags)."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from followup import choices as c
from followup.models import FollowUpItem, OpenItemDue, Patient, PatientFlags

from .factories import FollowUpItemFactory, PatientFactory, PrimaryDiagnosisFactory, SymptomReportFactory

pytestmark = pytest.mark.django_db


def _flags(patient) -> PatientFlags:
    return PatientFlags.objects.get(patient=patient)


@pytest.fixture
def lost(nurse):
    """An active patient with a primary and no follow-up item at all: on "No next follow-up"."""
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=patient)
    assert _flags(patient).no_next_follow_up
    return patient


def test_bulk_create_of_items_takes_the_patient_off_no_next_follow_up(lost):
    today = timezone.localdate()
    item = FollowUpItem(patient=lost, kind=c.FollowUpKind.MAMMOGRAM, due_on=today + timedelta(days=90))
    item.created_by = item.updated_by = lost.created_by
    item.created_at = item.updated_at = timezone.now()
    FollowUpItem.objects.bulk_create([item])
    assert not _flags(lost).no_next_follow_up
    assert lost not in Patient.objects.flagged_without_next_follow_up()


def test_queryset_update_through_all_objects_keeps_the_flags(lost):
    # However the status changes (an import, the admin, a script through the ORM): the patient leaves the list.
    Patient.all_objects.filter(pk=lost.pk).update(
        status=c.PatientStatus.DISCHARGED, discharged_on=timezone.localdate(), discharge_reason="Moved away"
    )
    assert not _flags(lost).no_next_follow_up
    assert lost not in Patient.objects.flagged_without_next_follow_up()


def test_bulk_update_of_items_puts_the_patient_back_on_no_next_follow_up(nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=patient)
    item = FollowUpItemFactory(patient=patient)
    assert not _flags(patient).no_next_follow_up
    item.status, item.cancel_reason = c.FollowUpStatus.CANCELLED, "Not needed"
    FollowUpItem.objects.bulk_update([item], ["status", "cancel_reason"])
    assert _flags(patient).no_next_follow_up


def test_update_of_a_name_clears_the_possible_duplicate_of_the_other(nurse):
    born = timezone.localdate().replace(year=1961)
    one = PatientFactory(
        team=nurse.team, named_nurse=nurse, family_name="Adeyemi", given_name="Ola", date_of_birth=born
    )
    two = PatientFactory(
        team=nurse.team, named_nurse=nurse, family_name="Adeyemi", given_name="Ola", date_of_birth=born
    )
    assert _flags(one).possible_duplicate and _flags(two).possible_duplicate
    Patient.objects.filter(pk=two.pk).update(family_name="Bello")
    assert not _flags(one).possible_duplicate and not _flags(two).possible_duplicate


def test_an_item_moved_to_another_patient_refreshes_both(nurse, lost):
    """The admin can move a row to another patient: the one it left and the one it joined both follow."""
    other = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=other)
    item = FollowUpItemFactory(patient=other)
    assert _flags(lost).no_next_follow_up and not _flags(other).no_next_follow_up
    item = FollowUpItem.objects.get(pk=item.pk)  # as the admin loads it
    item.patient = lost
    item.save()
    assert not _flags(lost).no_next_follow_up and _flags(other).no_next_follow_up


def test_queryset_update_moving_items_refreshes_both_patients(nurse, lost):
    other = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=other)
    FollowUpItemFactory(patient=other)
    FollowUpItem.objects.filter(patient=other).update(patient=lost)
    assert not _flags(lost).no_next_follow_up and _flags(other).no_next_follow_up


def test_migrate_fills_a_row_for_every_patient_without_one(lost):
    from django.core.management import call_command

    PatientFlags.objects.filter(patient=lost).delete()
    call_command("migrate", verbosity=0)
    assert _flags(lost).no_next_follow_up


@pytest.mark.django_db(transaction=True)
def test_two_transactions_changing_one_patient_wait_for_each_other(nurse):
    """A nurse cancels one open item while another cancels the other: each refresh works the row out after
    the other's commit (the advisory locks of followup/flags.py), so the patient lands on "No next
    follow-up". Without them each saw the other's item still open and the last to commit stored that."""
    if connection.vendor != "postgresql":
        pytest.skip("the locks are PostgreSQL's (SQLite has one writer at a time)")
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=patient)
    first_item, second_item = FollowUpItemFactory(patient=patient), FollowUpItemFactory(patient=patient)
    first_saved, first_may_commit = threading.Event(), threading.Event()
    failures = []

    def cancel(item_pk: int, *, hold: bool) -> None:
        try:
            with transaction.atomic():
                item = FollowUpItem.objects.get(pk=item_pk)
                item.status, item.cancel_reason = c.FollowUpStatus.CANCELLED, "Not needed"
                item.save()
                if hold:
                    first_saved.set()
                    first_may_commit.wait(10)
        except Exception as error:  # noqa: BLE001 (reported by the test below)
            failures.append(error)
        finally:
            connection.close()

    first = threading.Thread(target=cancel, args=(first_item.pk,), kwargs={"hold": True})
    second = threading.Thread(target=cancel, args=(second_item.pk,), kwargs={"hold": False})
    first.start()
    assert first_saved.wait(10)
    second.start()
    time.sleep(0.5)  # the second is now waiting for the first's lock
    first_may_commit.set()
    first.join(10)
    second.join(10)
    assert failures == []
    assert _flags(patient).no_next_follow_up
    assert patient in Patient.objects.flagged_without_next_follow_up()


def test_migrate_works_out_again_rows_written_before_the_kept_counts(lost, nurse):
    """A row as code older than the kept counts writes it (a rolling deploy): the database fills the new
    columns with their defaults (no error for the old code), and migrate works the row out again."""
    FollowUpItemFactory(patient=lost, due_on=timezone.localdate() + timedelta(days=3))
    SymptomReportFactory(patient=lost)
    PatientFlags.objects.filter(patient=lost).delete()
    OpenItemDue.objects.filter(patient=lost).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO followup_patientflags (patient_id, missing_nhs_number, invalid_nhs_number, "
            "possible_duplicate, recurrence_without_site, missing_laterality, missing_receptors, missing_primary, "
            "implausible_always, problem, no_next_follow_up) "
            "VALUES (%s, false, false, false, false, false, false, false, false, false, false)",
            [lost.pk],
        )
    old = _flags(lost)
    assert (old.team_id, old.symptoms, old.counted) == (None, 0, False)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    row = _flags(lost)
    assert (row.team_id, row.named_nurse_id, row.symptoms, row.counted) == (nurse.team_id, nurse.pk, 1, True)
    assert OpenItemDue.objects.filter(patient=lost).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_refresh_does_not_deadlock_with_a_transaction_holding_the_patients_row(nurse):
    """One nurse adds an item for a patient (its foreign key is checked at commit, a share lock on the patient's
    row) while another holds that row (discharging her) and is about to refresh. Checked at commit, after the
    first took the advisory lock, each waited for the other: PostgreSQL broke the deadlock by failing one.
    The refresh checks the foreign keys before it takes the lock."""
    if connection.vendor != "postgresql":
        pytest.skip("the locks are PostgreSQL's (SQLite has one writer at a time)")
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=patient)
    row_held = threading.Event()
    failures = []

    def hold_the_row_then_save() -> None:
        try:
            with transaction.atomic():
                held = Patient.objects.select_for_update().get(pk=patient.pk)
                row_held.set()
                time.sleep(0.8)  # the other adds its item meanwhile
                held.given_name = "Janet"
                held.save()  # refreshes: the advisory lock of her date of birth
        except Exception as error:  # noqa: BLE001 (reported by the test below)
            failures.append(error)
        finally:
            connection.close()

    def add_an_item() -> None:
        try:
            assert row_held.wait(10)
            with transaction.atomic():
                FollowUpItem.objects.create(
                    patient_id=patient.pk,
                    kind=c.FollowUpKind.CLINIC_REVIEW,
                    due_on=timezone.localdate() + timedelta(days=30),
                    created_by=nurse,
                    updated_by=nurse,
                )
        except Exception as error:  # noqa: BLE001 (reported by the test below)
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=hold_the_row_then_save), threading.Thread(target=add_an_item)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert failures == []
    assert Patient.objects.get(pk=patient.pk).given_name == "Janet"
    assert OpenItemDue.objects.filter(patient=patient).count() == 1
