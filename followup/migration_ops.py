"""Migration operations that later apps reuse: an app's history tables become audit tables.

Migrations 0004 and 0010 made followup's history tables append-only on PostgreSQL (row
triggers refuse UPDATE and DELETE; a statement trigger refuses TRUNCATE). A new app with
clinical models calls ``guard_history(app_label, [model names])`` in the migration that
creates their history tables, so every history table of the project is guarded alike
(tests/test_audit_hardening.py checks that every Historical* table has both triggers).
SQLite keeps the app-level rule only.
"""

from django.db import migrations


def _tables(apps, app_label: str, names: list[str]) -> list[str]:
    return [apps.get_model(app_label, name)._meta.db_table for name in names]


def guard_history(app_label: str, names: list[str]) -> migrations.RunPython:
    """A RunPython operation: append-only and no-truncate triggers on these history tables.

    The trigger functions exist already (followup 0004 and 0010): depend on followup 0010 or later.
    """

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in _tables(apps, app_label, names):
            schema_editor.execute(
                f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}" '
                "FOR EACH ROW EXECUTE FUNCTION followup_refuse_audit_change()"
            )
            schema_editor.execute(
                f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON "{table}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION followup_refuse_audit_truncate()"
            )

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in _tables(apps, app_label, names):
            schema_editor.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}"')
            schema_editor.execute(f'DROP TRIGGER IF EXISTS {table}_no_truncate ON "{table}"')

    return migrations.RunPython(forwards, backwards)
