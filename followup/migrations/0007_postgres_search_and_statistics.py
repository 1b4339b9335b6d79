"""PostgreSQL only: trigram indexes for patient name search, and statistics that
tell the planner how few open items are overdue.

- Name search is "contains, any case" (UPPER(name) LIKE '%TERM%'), which no
  b-tree index can answer: trigram GIN indexes (pg_trgm, a trusted extension
  that the database owner may create) turn it from a scan of every patient into
  an index lookup.
- Open follow-up items are a third of all items, but open items past their due
  date a fraction of a percent. Without statistics on status and due date
  together, PostgreSQL multiplies the two selectivities, expects fifty times too
  many overdue rows and chooses a plan that reads every open item.

Figures with and without each: docs/performance.md. SQLite has neither, and
needs neither at the sizes it is meant for.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS followup_patient_family_trgm "
    "ON followup_patient USING gin (UPPER(family_name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS followup_patient_given_trgm "
    "ON followup_patient USING gin (UPPER(given_name) gin_trgm_ops)",
    "CREATE STATISTICS IF NOT EXISTS followup_item_status_due (mcv) ON status, due_on FROM followup_followupitem",
    "ALTER STATISTICS followup_item_status_due SET STATISTICS 1000",
    "ANALYZE followup_followupitem",
]

BACKWARD = [
    "DROP STATISTICS IF EXISTS followup_item_status_due",
    "DROP INDEX IF EXISTS followup_patient_given_trgm",
    "DROP INDEX IF EXISTS followup_patient_family_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0006_scale_indexes"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
