"""The failsafe list "Unmatched results", as followup/worklists.py's WORKLISTS uses it.

Every message still to be placed by a person (unmatched, or stuck as received), of the systems that
serve the user's team; an admin sees all. A message leaves the list only by a person's action
(integration/placing.py), with who, when and why.
"""

from datetime import date

from followup.display import show_date

from .models import InboxMessage

SLUG = "unmatched-results"


def rows(today: date):
    return InboxMessage.objects.unplaced()


def describe(message) -> str:
    """One row in words (no query: the message's own fields)."""
    exam = message.exam_name or message.exam_code or "A result"
    return f"{exam} received {show_date(message.received_at)}: {message.reason or 'not yet placed'}"
