from math import ceil
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from followup import import_files, imports
from followup.display import plural
from followup.models import Team, User
from followup.permissions import can_administer


class Command(BaseCommand):
    help = (
        "Import a caseload from a CSV or XLSX file (the columns of the template at /import/template.csv) "
        "into a team. Every row is checked first; the import writes all rows or none. Rows are matched on "
        "NHS number, so importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The CSV or XLSX file.")
        parser.add_argument("--team", required=True, metavar="CODE", help="Code of the team to import into.")
        parser.add_argument(
            "--by",
            metavar="USERNAME",
            help="The admin recorded as making the changes (needed unless --dry-run).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check every row and say what would change.")

    def handle(self, *args, file, team, by, dry_run, verbosity, **options):
        team_obj = Team.objects.filter(code=team).first()
        if team_obj is None:
            raise CommandError(f'No team with the code "{team}".')
        user = None
        if not dry_run:
            user = User.objects.filter(username=by).first() if by else None
            if user is None or not can_administer(user):
                raise CommandError("Say who is importing with --by USERNAME: an active admin.")
        try:
            with file.open("rb") as stream:
                # No more than the limit and a byte is read: a bigger file is refused without filling the memory.
                content = stream.read(import_files.MAX_FILE_BYTES + 1)
            plan = imports.build_plan(content, team=team_obj)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        except imports.ImportFileError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

        for row in plan.rows:
            # Every row with -v 2; by default the updates, each change as "was → will be".
            if verbosity >= 2 or (verbosity >= 1 and row.changes and not row.errors):
                self.stdout.write(f"Row {row.number:>5}  {row.nhs_display or '-':<12}  {row.name}: {row.summary}")
                for change in row.changes if not row.errors else ():
                    self.stdout.write(f"{'':12}{change}")
            for error in row.errors:
                self.stderr.write(f"Row {row.number} ({row.nhs_display or 'no NHS number'}): {error}")
        counts = plan.counts
        if verbosity >= 1:
            self.stdout.write(
                f"{plural(len(plan.rows), 'row')} for {team_obj}: {counts['create']:,} to create, "
                f"{counts['update']:,} to update, {counts['unchanged']:,} unchanged, {counts['errors']:,} with errors"
                + (f", {plural(counts['skipped'], 'example row')} skipped." if counts["skipped"] else ".")
            )
        if plan.error_rows:
            raise CommandError(f"{imports.rows_have_errors(len(plan.error_rows))}: nothing imported.")
        if dry_run:
            if verbosity >= 1:
                self.stdout.write("Dry run: nothing written.")
            return

        todo = len(plan.to_write)
        step = max(1, min(1000, ceil(todo / 10)))
        try:
            for done in imports.apply_plan(plan, by=user):
                if verbosity >= 1 and (done % step == 0 or done == todo):
                    self.stdout.write(f"  {done:,}/{plural(todo, 'row')} processed")
        except ValidationError as exc:
            raise CommandError(f"Nothing imported: {' '.join(exc.messages)}") from exc
        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported: {counts['create']:,} created, {counts['update']:,} updated, "
                    f"{counts['unchanged']:,} unchanged."
                )
            )
