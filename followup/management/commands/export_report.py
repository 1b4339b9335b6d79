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
from followup.exports import period_label, scope_of, start_log, write_csv, write_xlsx
from followup.models import Team, User
from followup.reports import LINE_LISTS, SUMMARIES


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
        parser.add_argument(
            "--by",
            required=True,
            metavar="USERNAME",
            help="The active user the file is for: the export has their access and the export log names them.",
        )
        parser.add_argument("--team", help="Team code; every team the user given with --by may see when left out.")
        parser.add_argument("-o", "--output", required=True, help="The file to write.")

    @reporting()
    def handle(self, *args, name, format, start, end, by, team, output, verbosity, **options):
        if name not in LINE_LISTS and name not in SUMMARIES:
            raise CommandError(f"No report {name!r}. Reports: {', '.join([*LINE_LISTS, *SUMMARIES])}.")
        start, end = (_date(start) if start else None), (_date(end) if end else None)
        if start and end and start > end:
            raise CommandError("--from is after --to.")
        user = User.objects.select_related("team").filter(username=by, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {by!r} (--by names the person the file is for).")
        team_obj = None
        if team:
            team_obj = Team.objects.filter(code=team).first()
            if team_obj is None:
                raise CommandError(f"No team with code {team!r}.")
            if not user.is_admin_role and team_obj.pk != user.team_id:
                raise CommandError(f"{user.username} cannot export team {team}: only {scope_of(user)}.")
        today = timezone.localdate()
        filters = {"team": team_obj}
        if name in SUMMARIES:
            # A summary always covers a period: this year so far unless given.
            period_given = bool(start or end)
            start, end = start or today.replace(month=1, day=1), end or today
            if SUMMARIES[name].uses_dates:
                filters["period"] = period_label(start, end, default=not period_given)
        elif start or end:
            filters["period"] = period_label(start, end)
        log = start_log(user=user, report=name, fmt=format, filters=filters, via=c.ExportVia.COMMAND)
        with transaction.atomic(using=report_db()):
            if name in LINE_LISTS:
                report = LINE_LISTS[name]
                rows = report.base().visible_to(user)
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
                result = definition.build(user=user, team=team_obj, start=start, end=end, today=today)
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
