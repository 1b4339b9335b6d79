"""Issue 12: "Result not yet available" on follow-up items, and the rule the database now holds:
a done mammogram, bloods or other test has its result or is awaiting it.

Rows saved before this rule (the admin site could save a done mammogram with no result)
would break the new constraint. They are not guessed at: each is marked as awaiting its
result, which puts it on the "Results awaited" list for a person to record the result (or
mark the item entered in error). Each change gets an audit history row saying why, and the
version moves on, so a form opened before the migration cannot overwrite it unseen.
"""

from django.db import migrations, models
from django.utils import timezone

RESULT_KINDS = ("mammogram", "bloods", "other")
REASON = "Done with no result recorded: marked 'Result not yet available' (migration 0008)"


def mark_results_awaited(apps, schema_editor):
    Item = apps.get_model("followup", "FollowUpItem")
    History = apps.get_model("followup", "HistoricalFollowUpItem")
    now = timezone.now()
    items = list(Item.objects.filter(status="done", kind__in=RESULT_KINDS, result=""))
    for item in items:
        item.result_awaited = True
        item.version += 1
        item.updated_at = now
    Item.objects.bulk_update(items, ["result_awaited", "version", "updated_at"], batch_size=500)
    fields = [field.attname for field in Item._meta.concrete_fields]
    History.objects.bulk_create(
        [
            History(
                **{name: getattr(item, name) for name in fields},
                history_date=now,
                history_type="~",
                history_change_reason=REASON,
                history_user=None,
            )
            for item in items
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0007_postgres_name_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="followupitem",
            name="result_awaited",
            field=models.BooleanField(default=False, verbose_name="result not yet available"),
        ),
        migrations.AddField(
            model_name="historicalfollowupitem",
            name="result_awaited",
            field=models.BooleanField(default=False, verbose_name="result not yet available"),
        ),
        migrations.RunPython(mark_results_awaited, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="followupitem",
            index=models.Index(
                condition=models.Q(("entered_in_error", False), ("result_awaited", True), ("status", "done")),
                fields=["done_on"],
                name="followup_item_result_awaited",
            ),
        ),
        migrations.AddConstraint(
            model_name="followupitem",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind__in", ("mammogram", "bloods", "other")), ("status", "done"), _negated=True),
                    models.Q(("result", ""), _negated=True),
                    ("result_awaited", True),
                    _connector="OR",
                ),
                name="followup_followupitem_done_has_result_or_awaits_it",
                violation_error_message="A done mammogram, bloods or other test needs its result, "
                "or 'Result not yet available'.",
            ),
        ),
        migrations.AddConstraint(
            model_name="followupitem",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("result_awaited", False),
                    models.Q(("kind__in", ("mammogram", "bloods", "other")), ("result", ""), ("status", "done")),
                    _connector="OR",
                ),
                name="followup_followupitem_awaited_only_without_result",
                violation_error_message="Only a done mammogram, bloods or other test with no result yet "
                "can be awaiting its result.",
            ),
        ),
    ]
