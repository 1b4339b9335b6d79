"""The failsafe list "Recurrence not yet discussed at MDT", as followup/worklists.py's WORKLISTS uses it."""

from datetime import date

from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from followup.display import noun_for, show_date

from .models import not_discussed_at_mdt

SLUG = "mdt-not-discussed"


def rows(today: date):
    return not_discussed_at_mdt()


def describe(recurrence) -> str:
    """One row as the patient page lists it (no query: the recurrence's own fields)."""
    days = (timezone.localdate() - recurrence.diagnosed_on).days
    return (
        f"{recurrence.get_metastatic_type_display()} recurrence of {show_date(recurrence.diagnosed_on)} "
        f"({recurrence.get_status_display().lower()}): not yet discussed at MDT, "
        f"{days} day{pluralize(days)} since the recurrence"
    )


def tasks(recurrence, today: date) -> list:
    """The patient page's button for a row (followup/patient_tasks.py)."""
    from followup.patient_tasks import Task  # patient_tasks imports the worklists, which import this module

    return [
        Task(
            "Record the MDT discussion",
            reverse("mdt:discussion_record", args=[recurrence.pk]),
            f" of the {noun_for(recurrence)} of {show_date(recurrence.diagnosed_on)}",
        )
    ]
