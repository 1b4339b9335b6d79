"""PostgreSQL only: trigram indexes for patient name search.

Name search is "contains, any case" (UPPER(name) LIKE '%TERM%'), which no b-tree
index can answer: trigram GIN indexes (pg_trgm, a trusted extension that the
database owner may create) turn it from a scan of every patient into an index
lookup (53 ms -> 3 ms at 100,000 patients; docs/performance.md). SQLite has no
such index, and needs none at the sizes it is meant for.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS followup_patient_family_trgm "
    "ON followup_patient USING gin (UPPER(family_name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS followup_patient_given_trgm "
    "ON followup_patient USING gin (UPPER(given_name) gin_trgm_ops)",
]

BACKWARD = [
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
