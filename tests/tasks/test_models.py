from datetime import date, timedelta

import pytest

from tasks.models import Task, due_in_words

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    "days, words",
    [(-3, "Overdue by 3 days"), (-1, "Overdue by 1 day"), (0, "Due today"), (1, "Due tomorrow"), (9, "Due in 9 days")],
)
def test_due_in_words_says_overdue_in_words(days, words):
    assert due_in_words(Task(due_on=TODAY + timedelta(days=days)), TODAY) == words
