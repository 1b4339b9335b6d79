"""A refuted recurrence closes its restaging: the outcome "Closed: recurrence refuted";
and an index for the results list's order (abnormal first, then the longest waiting).

Episodes of recurrences refuted before this change were left "open" (issue 12):
they are closed here, on the day their recurrence was last changed (its
refutation), with a row in the episode's history naming who refuted it.
"""

from django.db import migrations, models
from django.utils import timezone

OPEN_OUTCOMES = ("open", "equivocal")
REASON = "Migration 0009: the recurrence was refuted, so its restaging is closed"


def _change(apps, episodes, values):
    """Save each episode's change (``values(episode)``) with a version bump and a history row:
    the models of a migration send no signals, so simple-history would record nothing."""
    RestagingEpisode = apps.get_model("followup", "RestagingEpisode")
    History = apps.get_model("followup", "HistoricalRestagingEpisode")
    now = timezone.now()
    for episode in episodes:
        who = episode.recurrence.updated_by_id
        RestagingEpisode.objects.filter(pk=episode.pk).update(
            version=episode.version + 1, updated_at=now, updated_by_id=who, **values(episode)
        )
        changed = RestagingEpisode.objects.get(pk=episode.pk)
        History.objects.create(
            id=changed.pk,
            created_at=changed.created_at,
            created_by_id=changed.created_by_id,
            updated_at=changed.updated_at,
            updated_by_id=changed.updated_by_id,
            version=changed.version,
            entered_in_error=changed.entered_in_error,
            error_reason=changed.error_reason,
            error_marked_at=changed.error_marked_at,
            error_marked_by_id=changed.error_marked_by_id,
            recurrence_id=changed.recurrence_id,
            opened_on=changed.opened_on,
            target_on=changed.target_on,
            outcome=changed.outcome,
            closed_on=changed.closed_on,
            history_date=now,
            history_type="~",
            history_user_id=who,
            history_change_reason=REASON[:100],
        )


def close_refuted_restaging(apps, schema_editor):
    RestagingEpisode = apps.get_model("followup", "RestagingEpisode")
    episodes = RestagingEpisode.objects.select_related("recurrence").filter(
        recurrence__status="refuted", outcome__in=OPEN_OUTCOMES, entered_in_error=False
    )

    def closed(episode):
        refuted_on = timezone.localdate(episode.recurrence.updated_at)
        return {"outcome": "refuted", "closed_on": max(refuted_on, episode.opened_on)}

    _change(apps, list(episodes), closed)


def reopen_refuted_restaging(apps, schema_editor):
    RestagingEpisode = apps.get_model("followup", "RestagingEpisode")
    episodes = RestagingEpisode.objects.select_related("recurrence").filter(outcome="refuted")
    _change(apps, list(episodes), lambda episode: {"outcome": "open", "closed_on": None})


class Migration(migrations.Migration):

    dependencies = [
        ('followup', '0008_results_awaited_and_dates'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='restagingepisode',
            name='followup_restagingepisode_outcome_valid',
        ),
        migrations.AlterField(
            model_name='historicalrestagingepisode',
            name='outcome',
            field=models.CharField(choices=[('open', 'Open: tests outstanding'), ('equivocal', 'Equivocal: further tests needed'), ('no_distant', 'No distant disease'), ('distant', 'Distant disease found'), ('refuted', 'Closed: recurrence refuted')], default='open', max_length=12),
        ),
        migrations.AlterField(
            model_name='restagingepisode',
            name='outcome',
            field=models.CharField(choices=[('open', 'Open: tests outstanding'), ('equivocal', 'Equivocal: further tests needed'), ('no_distant', 'No distant disease'), ('distant', 'Distant disease found'), ('refuted', 'Closed: recurrence refuted')], default='open', max_length=12),
        ),
        migrations.AddConstraint(
            model_name='restagingepisode',
            constraint=models.CheckConstraint(condition=models.Q(('outcome__in', ['open', 'equivocal', 'no_distant', 'distant', 'refuted'])), name='followup_restagingepisode_outcome_valid', violation_error_message='Choose a valid outcome.'),
        ),
        migrations.RunPython(close_refuted_restaging, reopen_refuted_restaging),
        migrations.AddIndex(
            model_name='followupitem',
            index=models.Index(models.ExpressionWrapper(models.Q(('result', '01'), _negated=True), output_field=models.BooleanField()), models.F('done_on'), models.F('id'), condition=models.Q(('entered_in_error', False), ('result_acknowledged_at__isnull', True), ('status', 'done'), models.Q(('result', ''), _negated=True)), name='followup_item_unack_urgent'),
        ),
    ]
