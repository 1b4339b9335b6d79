import time

from django.core.management.base import BaseCommand, CommandError

from followup import flags
from followup.display import plural


class Command(BaseCommand):
    help = (
        "Work out every patient's flags (data quality, no next follow-up) again from scratch, by the rules, "
        "and compare them with the table the lists read (followup/flags.py); also compare each list as the "
        "rules give it today with the list read from the table. Prints each difference; exits with an error "
        "when there is any. --fix writes the rows of the patients concerned again from scratch."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fix", action="store_true", help="Write the rows of the patients concerned again from scratch."
        )
        parser.add_argument("--limit", type=int, default=50, help="Print at most this many differences.")

    def handle(self, *args, fix, limit, **options):
        started = time.monotonic()
        found = flags.differences()
        took = time.monotonic() - started
        for difference in found[:limit]:
            self.stdout.write(str(difference))
        if len(found) > limit:
            self.stdout.write(f"... and {len(found) - limit} more")
        if not found:
            self.stdout.write(f"No differences: the patient flags agree with the rules ({took:.1f} s).")
            return
        if fix:
            written = flags.repair(found)
            left = flags.differences()
            self.stdout.write(f"Fixed: {plural(written, 'row')} written again; {plural(len(left), 'difference')} left.")
            if not left:
                return
        raise CommandError(f"{plural(len(found), 'difference')} between the patient flags and the rules.")
