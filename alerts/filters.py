"""The Alerts page's filters: what kind, and whether it went."""

import django_filters

from .models import Alert, AlertKind, AlertStatus


class AlertFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label="Kind", choices=AlertKind.choices, empty_label="All kinds")
    status = django_filters.ChoiceFilter(label="Status", choices=AlertStatus.choices, empty_label="Any status")

    class Meta:
        model = Alert
        fields = ["kind", "status"]
