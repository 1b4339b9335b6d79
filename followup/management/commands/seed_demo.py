import time

from django.core.management.base import BaseCommand, CommandError

from followup import demo


class Command(BaseCommand):
    help = (
        "Load deterministic demo data: two teams, nurses, a clinician, an admin, protocols, and "
        "patients (999 test-range NHS numbers) whose histories put someone on every failsafe list. "
        "Safe to re-run: only missing patients are added."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=300, help="How many demo patients (default 300).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed; the same seed gives the same people.")
        parser.add_argument("--batch-size", type=int, default=1000, help="Patients written per transaction.")
        parser.add_argument("--dry-run", action="store_true", help="Say what would be created; write nothing.")

    def handle(self, *args, patients, seed, batch_size, dry_run, verbosity, **options):
        if patients < 0 or batch_size < 1:
            raise CommandError("--patients must be 0 or more and --batch-size at least 1.")
        if dry_run:
            self.stdout.write(
                f"Dry run: would ensure {len(demo.TEAMS)} teams, {len(demo.USERS)} users, "
                f"{len(demo.PROTOCOLS)} protocols and demo patients 1 to {patients}; nothing written."
            )
            return
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if verbosity >= 1:
                self.stdout.write(f"  patients {done:,}/{total:,} ({time.monotonic() - started:.1f} s)")

        created = demo.seed(patients=patients, seed=seed, batch_size=batch_size, progress=progress)
        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(f"Created {created:,} demo patients in {time.monotonic() - started:.1f} s.")
            )
            self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
            for username, first, last, role, team in demo.USERS:
                where = f", {dict(demo.TEAMS)[team]}" if team else ""
                self.stdout.write(f"  {username:<14} {first} {last}: {role.label}{where}")
