"""Audit hardening (issue 12): the access log also records admin-site reads and refused requests;
on PostgreSQL the audit tables refuse TRUNCATE.

0004 made audit rows refuse UPDATE and DELETE row by row; TRUNCATE fires no row trigger, so
each audit table gets a statement-level BEFORE TRUNCATE trigger too (a TRUNCATE ... CASCADE
from another table reaches them and is refused as well). The history tables, the access log,
the export log and django-axes' login records (its access log and failure log; not its access
attempts, the working state of a lockout that axes deletes by design when it is lifted).

A role that owns a table can drop its triggers: docs/operations.md runs the app as a role that
owns nothing. `manage.py flush` is refused too. The test suite resets its database as a
superuser in replica mode, where these triggers do not fire (tests/conftest.py).
"""

import django.db.models.deletion
from django.db import migrations, models

REFUSE_TRUNCATE = """
CREATE OR REPLACE FUNCTION followup_refuse_audit_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Audit table %% cannot be truncated', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def audit_tables(apps):
    config = apps.get_app_config("followup")
    history = [model._meta.db_table for model in config.get_models() if model.__name__.startswith("Historical")]
    others = [("followup", "AccessLog"), ("followup", "ExportLog"), ("axes", "AccessLog"), ("axes", "AccessFailureLog")]
    return [*history, *(apps.get_model(app, name)._meta.db_table for app, name in others)]


def add_truncate_guard(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(REFUSE_TRUNCATE)
    for table in audit_tables(apps):
        schema_editor.execute(
            f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION followup_refuse_audit_truncate()"
        )


def remove_truncate_guard(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in audit_tables(apps):
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {table}_no_truncate ON "{table}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS followup_refuse_audit_truncate()")


def refuse_rollback_over_refusals(apps, schema_editor):
    """Going back to 0009 makes AccessLog.patient required again: impossible once a refusal
    (a row naming no patient) is logged, and audit rows cannot be deleted. Say so plainly."""
    AccessLog = apps.get_model("followup", "AccessLog")
    if AccessLog.objects.filter(patient__isnull=True).exists():
        raise RuntimeError(
            "Migration 0010 cannot be reversed: the access log holds refused requests that name no "
            "patient, and audit rows are never deleted. Restore a backup taken before 0010 instead."
        )


class Migration(migrations.Migration):

    dependencies = [
        ('followup', '0009_restaging_refuted'),
        ('axes', '0010_accessattemptexpiration'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='accesslog',
            name='followup_accesslog_action_valid',
        ),
        migrations.AddField(
            model_name='accesslog',
            name='nhs_number',
            field=models.CharField(blank=True, max_length=10, verbose_name='NHS number asked about'),
        ),
        migrations.AddField(
            model_name='accesslog',
            name='object_pk',
            field=models.CharField(blank=True, max_length=40, verbose_name='key of record asked for'),
        ),
        migrations.AddField(
            model_name='accesslog',
            name='object_type',
            field=models.CharField(blank=True, help_text='The model, e.g. followup.patient.', max_length=60, verbose_name='type of record asked for'),
        ),
        migrations.AddField(
            model_name='accesslog',
            name='outcome',
            field=models.CharField(choices=[('viewed', 'Viewed'), ('not_found', 'Refused: not found'), ('registered_elsewhere', 'Refused: registered by another team'), ('check_paused', 'Refused: check paused (too many)')], default='viewed', max_length=20),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='action',
            field=models.CharField(choices=[('view_patient', 'Opened the patient page'), ('view_history', "Opened the patient's history"), ('view_in_admin', 'Opened in the admin site'), ('request_record', 'Asked for a record'), ('check_nhs_number', 'Entered an NHS number to register')], max_length=20),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='patient',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='followup.patient'),
        ),
        migrations.AddIndex(
            model_name='accesslog',
            index=models.Index(fields=['user', 'outcome', 'at'], name='followup_access_refusals'),
        ),
        migrations.AddConstraint(
            model_name='accesslog',
            constraint=models.CheckConstraint(condition=models.Q(('action__in', ['view_patient', 'view_history', 'view_in_admin', 'request_record', 'check_nhs_number'])), name='followup_accesslog_action_valid', violation_error_message='Choose a valid action.'),
        ),
        migrations.AddConstraint(
            model_name='accesslog',
            constraint=models.CheckConstraint(condition=models.Q(('outcome__in', ['viewed', 'not_found', 'registered_elsewhere', 'check_paused'])), name='followup_accesslog_outcome_valid', violation_error_message='Choose a valid outcome.'),
        ),
        migrations.AddConstraint(
            model_name='accesslog',
            constraint=models.CheckConstraint(condition=models.Q(('patient__isnull', False), models.Q(('object_pk', ''), _negated=True), models.Q(('nhs_number', ''), _negated=True), _connector='OR'), name='followup_accesslog_names_what_was_asked_for', violation_error_message='An access log row names the patient, the record or the NHS number asked for.'),
        ),
        migrations.RunPython(add_truncate_guard, remove_truncate_guard),
        # Reversed first when going back: stops before anything is undone.
        migrations.RunPython(migrations.RunPython.noop, refuse_rollback_over_refusals),
    ]
