"""Send the sample ORU^R01 messages (integration/samples/) to a running server and print each ACK.

    python manage.py send_sample_results --url http://127.0.0.1:8000/api/hl7/v2/ --token ftk_... \\
        [--nhs-number 9990000018] [--only 01,04]

With --nhs-number (a patient in this database, e.g. a demo patient with a CT requested) the
samples carry her NHS number, name and date of birth, so they match her open tests; the
"unknown NHS number" sample keeps its own and lands on "Unmatched results". Each run uses fresh
control ids and today's dates. HTTP through the standard library only (urllib).
"""

import time
import urllib.error
import urllib.parse
import urllib.request

from django.core.management.base import BaseCommand, CommandError

from followup.models import Patient
from followup.nhs import normalise_nhs_number
from integration import samples


class Command(BaseCommand):
    help = "Post the sample HL7v2 results to a running server (POST /api/hl7/v2/) and print each ACK."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/api/hl7/v2/")
        parser.add_argument("--token", required=True, help="the sending client's bearer token (ftk_...)")
        parser.add_argument("--nhs-number", default="", help="fill in this patient's NHS number, name and birth date")
        parser.add_argument("--only", default="", help="comma-separated sample numbers or names, e.g. 01,04")

    def handle(self, *args, **options):
        patient = None
        if options["nhs_number"]:
            number = normalise_nhs_number(options["nhs_number"])
            patient = Patient.objects.filter(nhs_number=number).first()
            if patient is None:
                raise CommandError(f"No patient in this database has NHS number {number}.")
            self.stdout.write(f"Filling in {patient.given_name} {patient.family_name} ({number}).")
        wanted = [part.strip() for part in options["only"].split(",") if part.strip()]
        run = time.strftime("%H%M%S")
        for index, name in enumerate(samples.names(), start=1):
            if wanted and not any(name.startswith(part) or name == part for part in wanted):
                continue
            person = {}
            if patient is not None and name != samples.UNKNOWN:
                person = {
                    "nhs_number": patient.nhs_number,
                    "family_name": patient.family_name,
                    "given_name": patient.given_name,
                    "date_of_birth": patient.date_of_birth,
                }
            body = samples.fill(samples.text(name), control_id=f"SAMPLE{run}{index:02d}", run=run, **person)
            status, ack = self.post(options["url"], options["token"], body)
            self.stdout.write(f"\n{name}: HTTP {status}")
            self.stdout.write(ack.replace("\r", "\n").strip())

    def post(self, url: str, token: str, body: str) -> tuple[int, str]:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise CommandError(f"--url must be an http:// or https:// address, not {url!r}.")
        request = urllib.request.Request(  # noqa: S310 (the URL is the operator's own server)
            url,
            data=body.encode("utf-8"),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/hl7-v2; charset=utf-8"},
        )
        try:
            # The scheme is checked above: http or https only.
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # nosec B310
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")
        except urllib.error.URLError as error:
            raise CommandError(f"Cannot reach {url}: {error.reason}. Is the server running?") from error
