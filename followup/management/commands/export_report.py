"""Reports to a file for scheduled jobs: the same files the Reports pages download.

Reads from the replica when DATABASE_REPLICA_URL is set (followup/db.py); the
export log is written to the primary.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from followup import choices as c
from followup.db import report_db, reporting
from followup.display import plural
from followup.exports import start_log, write_csv, write_xlsx
from followup.models import Team
from followup.reports import LINE_LISTS, SUMMARIES


class AllTeams:
    """The scope of a scheduled export: every team, like an admin (narrow it with --team)."""

    is_authenticated = True
    is_active = True
    is_admin_role = True
    role = c.Role.ADMIN
    team_id = None
    pk = None


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Dates are YYYY-MM-DD, not {value!r}.") from exc


class Command(BaseCommand):
    help = (
        "Write a report to a CSV or XLSX file, the same file the Reports page downloads. "
        f"Reports: {', '.join([*LINE_LISTS, *SUMMARIES])}."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="The report, e.g. recurrence-register.")
        parser.add_argument("--format", choices=c.ExportFormat.values, default=c.ExportFormat.CSV)
        parser.add_argument("--from", dest="start", help="First date, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", help="Last date, YYYY-MM-DD.")
        parser.add_argument("--team", help="Team code; every team when left out.")
        parser.add_argument("-o", "--output", required=True, help="The file to write.")

    @reporting()
    def handle(self, *args, name, format, start, end, team, output, verbosity, **options):
        if name not in LINE_LISTS and name not in SUMMARIES:
            raise CommandError(f"No report {name!r}. Reports: {', '.join([*LINE_LISTS, *SUMMARIES])}.")
        start, end = (_date(start) if start else None), (_date(end) if end else None)
        if start and end and start > end:
            raise CommandError("--from is after --to.")
        team_obj = None
        if team:
            team_obj = Team.objects.filter(code=team).first()
            if team_obj is None:
                raise CommandError(f"No team with code {team!r}.")
        filters = {"from": start and start.isoformat(), "to": end and end.isoformat(), "team": team}
        log = start_log(user=None, report=name, fmt=format, filters=filters, via=c.ExportVia.COMMAND)
        with transaction.atomic(using=report_db()):
            if name in LINE_LISTS:
                report = LINE_LISTS[name]
                rows = report.base()
                if team_obj:
                    rows = rows.filter(**{f"{report.patient_prefix}team": team_obj})
                if start:
                    rows = rows.filter(**{f"{report.date_field}__gte": start})
                if end:
                    rows = rows.filter(**{f"{report.date_field}__lte": end})
                headers, data, title = report.headers, report.rows(report.values(rows)), report.title
                text_columns = report.text_columns
            else:
                definition = SUMMARIES[name]
                today = timezone.localdate()
                result = definition.build(
                    user=AllTeams(),
                    team=team_obj,
                    start=start or today.replace(month=1, day=1),
                    end=end or today,
                    today=today,
                )
                headers, data, title, text_columns = (
                    result.headers,
                    (tuple(r) for r in result.rows),
                    definition.title,
                    set(),
                )
            if format == c.ExportFormat.CSV:
                with open(output, "w", newline="", encoding="utf-8") as handle:
                    count = write_csv(handle, headers, data)
            else:
                count = write_xlsx(output, headers, data, title=title, text_columns=text_columns)
        log.rows, log.finished_at = count, timezone.now()
        log.save(update_fields=["rows", "finished_at"])
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(f"Wrote {plural(count, 'row')} of {name} to {output}."))
