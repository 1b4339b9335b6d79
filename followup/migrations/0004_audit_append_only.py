"""On PostgreSQL, audit rows cannot be changed or deleted, not even through the ORM.

Triggers refuse UPDATE and DELETE on the history tables and the access log, and
on an export log row once it is finished (its row count is filled in at the end).
TRUNCATE is refused by 0010_audit_hardening. SQLite keeps the app-level rule only.
"""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION followup_refuse_audit_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Audit rows of %% cannot be changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION followup_refuse_finished_export_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.finished_at IS NOT NULL THEN
        RAISE EXCEPTION 'A finished export log row cannot be changed or deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def audit_tables(apps):
    config = apps.get_app_config("followup")
    tables = [model._meta.db_table for model in config.get_models() if model.__name__.startswith("Historical")]
    return [*tables, apps.get_model("followup", "AccessLog")._meta.db_table]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(APPEND_ONLY)
    for table in audit_tables(apps):
        schema_editor.execute(
            f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION followup_refuse_audit_change()"
        )
    schema_editor.execute(
        'CREATE TRIGGER followup_exportlog_append_only BEFORE UPDATE OR DELETE ON "followup_exportlog" '
        "FOR EACH ROW EXECUTE FUNCTION followup_refuse_finished_export_change()"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in [*audit_tables(apps), "followup_exportlog"]:
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS followup_refuse_audit_change()")
    schema_editor.execute("DROP FUNCTION IF EXISTS followup_refuse_finished_export_change()")


class Migration(migrations.Migration):
    dependencies = [("followup", "0003_audit_history")]

    operations = [migrations.RunPython(forwards, backwards)]
