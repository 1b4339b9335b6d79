"""Migrations that change what existing rows mean: run on a database holding such rows."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from followup import flags
from followup.models import AccessLog, FollowUpItem


def days(n: int) -> date:
    return timezone.localdate() + timedelta(days=n)


def _people(apps):
    Team, User, Patient = (apps.get_model("followup", name) for name in ("Team", "User", "Patient"))
    team = Team.objects.create(name="North", code="north")
    nurse = User.objects.create(username="alex", team=team, role="nurse")
    patient = Patient.objects.create(
        given_name="Ann",
        family_name="Green",
        date_of_birth=date(1950, 1, 1),
        sex="F",
        team=team,
        named_nurse=nurse,
        created_by=nurse,
        updated_by=nurse,
    )
    return nurse, patient


@pytest.mark.django_db(transaction=True)
def test_migration_0013_starts_the_wait_of_results_already_recorded_on_the_day_done():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    before = ("followup", "0012_history_display")
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    nurse, patient = _people(old)
    Item = old.get_model("followup", "FollowUpItem")
    common = {"patient": patient, "kind": "mammogram", "due_on": days(-40), "created_by": nurse, "updated_by": nurse}
    with_result = Item.objects.create(status="done", done_on=days(-30), result="02", **common)
    awaited = Item.objects.create(status="done", done_on=days(-20), result_awaited=True, **common)
    due = Item.objects.create(**common)

    MigrationExecutor(connection).migrate(leaves)
    flags.fill_missing()  # as manage.py migrate does once its last migration has run (post_migrate)

    recorded = dict(
        FollowUpItem.all_objects.filter(pk__in=[with_result.pk, awaited.pk, due.pk]).values_list(
            "pk", "result_recorded_on"
        )
    )
    assert recorded == {with_result.pk: days(-30), awaited.pk: None, due.pk: None}


@pytest.mark.django_db(transaction=True)
def test_migration_0010_refuses_to_go_back_once_a_refusal_naming_no_patient_is_logged():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    hardened = ("followup", "0010_audit_hardening")
    executor.migrate([hardened])
    try:
        apps = executor.loader.project_state([hardened]).apps
        nurse, _ = _people(apps)
        apps.get_model("followup", "AccessLog").objects.create(
            user=nurse,
            action="request_record",
            outcome="not_found",
            object_type="followup.followupitem",
            object_pk="99",
            path="/items/99/done/",
        )

        with pytest.raises(RuntimeError, match="Migration 0010 cannot be reversed: the access log holds refused"):
            MigrationExecutor(connection).migrate([("followup", "0009_restaging_refuted")])

        # Stopped before anything of 0010 was undone: the refusal is still logged, 0010 still applied.
        assert AccessLog.objects.filter(patient__isnull=True).count() == 1
        assert hardened in MigrationRecorder(connection).applied_migrations()
    finally:
        MigrationExecutor(connection).migrate(leaves)
        flags.fill_missing()  # as manage.py migrate does once its last migration has run (post_migrate)
