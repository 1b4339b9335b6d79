"""The MDT list's filters: followup's worklist filter (named nurse, team) and the recurrence's own."""

import django_filters

from followup import choices as c
from followup.filters import WorklistFilter, date_range


class NotDiscussedFilter(WorklistFilter):
    diagnosed = date_range("diagnosed_on", "Recurrence between")
    type = django_filters.ChoiceFilter(
        label="Recurrence type",
        field_name="metastatic_type",
        choices=c.MetastaticType.choices,
        empty_label="All types",
    )
    status = django_filters.ChoiceFilter(
        label="Status",
        field_name="status",
        choices=[(s.value, s.label) for s in (c.RecurrenceStatus.SUSPECTED, c.RecurrenceStatus.CONFIRMED)],
        empty_label="Suspected and confirmed",
    )
