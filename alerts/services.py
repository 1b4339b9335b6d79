"""Alerts: the one place an alert is raised. (Issue 16: being built; the red-flag hook is called by selfreport.)"""

from followup.models import SymptomReport


def alert_red_flag_report(*, report: SymptomReport) -> None:
    """Alert the team's shared inbox and the named nurse about a red-flag report, at once.

    Called inside the transaction that records the report. Until alerts/ lands this records nothing."""
    return None
