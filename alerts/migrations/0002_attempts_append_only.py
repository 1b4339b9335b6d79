"""The attempt log is append-only on PostgreSQL, as the audit tables are (followup/migration_ops.py)."""

from django.db import migrations

from followup.migration_ops import guard_history


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_alerts"),
        ("followup", "0010_audit_hardening"),
    ]

    operations = [guard_history("alerts", ["AlertAttempt"])]
