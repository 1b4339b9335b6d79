"""The filters of "Unmatched results": followup's worklist filter (named nurse of the patient found,
team of the sending system) and the message's own."""

import django_filters

from followup.filters import WorklistFilter, date_range

from .models import MessageFormat


class UnmatchedFilter(WorklistFilter):
    # Most unmatched messages have no patient: the list opens on the whole team, never a caseload.
    default_to_my_caseload = False

    received = date_range("received_at__date", "Received between")
    format = django_filters.ChoiceFilter(
        label="Format", field_name="format", choices=MessageFormat.choices, empty_label="All formats"
    )

    def filter_team(self, queryset, name, value):
        # A message belongs to the teams its sending system serves.
        return queryset.filter(client__teams=value) if value else queryset
