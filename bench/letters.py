"""Letter benchmark: the time to generate a letter (its words from the record, then the PDF through
followup/pdf.py), the first render in a fresh process and then warm, p50/p95; and a whole issue
(render, store the PDF, record the contact), warm. ``import weasyprint`` is timed apart: a process
pays it once, with its first PDF.

    DATABASE_URL=postgres://... python bench/letters.py [--renders 50] [--json out.json]

Works on a throwaway team, patient and results created inside a transaction that is rolled back at
the end: nothing is left in the database. Target (issue 14): generating a letter under 1 s.
Prints figures; it is not a pass/fail test.
"""

import argparse
import json
import os
import statistics
import time
from datetime import date, timedelta

import _django  # noqa: F401  (sets Django up)
from django.db import transaction
from django.utils import timezone

from followup import choices as c
from followup.models import FollowUpItem, GPPractice, Patient, PrimaryDiagnosis, Team, User
from letters.choices import LetterKind
from letters.models import Letterhead
from letters.services import letter_issue, letter_render

TARGET_S = 1.0


class Rollback(Exception):
    pass


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def world():
    """A team with its letterhead, a nurse, and a patient with an address, a GP, a primary and results."""
    stamp = timezone.now().strftime("%H%M%S%f")
    team = Team.objects.create(name=f"Bench unit {stamp}", code=f"bench{stamp}")
    nurse = User.objects.create(username=f"bench-{stamp}", first_name="Bea", last_name="Bench", team=team)
    Letterhead.objects.create(
        team=team, unit_name="Bench Breast Unit", address_line_1="1 Test Way", town="Testville", postcode="ZZ99 1ZZ",
        phone="01632 960555", acute_oncology_phone="01632 960556", signature_name="The Breast Care Nurses",
    )  # fmt: skip
    gp = GPPractice.objects.create(
        ods_code=f"Y{stamp[-5:]}", name="Bench Surgery", address_line_1="2 Test Way", town="Testville",
        postcode="ZZ99 2ZZ",
    )  # fmt: skip
    stamps = {"created_by": nurse, "updated_by": nurse}
    patient = Patient.objects.create(
        given_name="Zoë", family_name="O’Bench", date_of_birth=date(1961, 4, 2), sex=c.Sex.FEMALE, team=team,
        named_nurse=nurse, address_line_1="3 Imaginary Road", town="Testville", postcode="ZZ99 3ZZ", gp_practice=gp,
        **stamps,
    )  # fmt: skip
    today = timezone.localdate()
    PrimaryDiagnosis.objects.create(patient=patient, diagnosed_on=today - timedelta(days=700), **stamps)
    result = FollowUpItem.objects.create(
        patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=today - timedelta(days=20), status="done",
        done_on=today - timedelta(days=14), result=c.ImagingOutcome.NORMAL, result_recorded_on=today, **stamps,
    )  # fmt: skip
    for months in (12, 24, 36):
        FollowUpItem.objects.create(
            patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=today + timedelta(days=30 * months), **stamps
        )
    return nurse, Patient.objects.select_related("named_nurse", "gp_practice", "team").get(pk=patient.pk), result


def timed(fn, n: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each call. The CPU time is this process's own work: on a machine shared
    with other load it is what the wall time would be on an idle one (rendering is single-threaded)."""
    times = []
    for _ in range(n):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    return times


def summary(times: list[tuple[float, float]]) -> dict:
    wall, cpu = [t[0] for t in times], [t[1] for t in times]
    return {
        "n": len(times),
        "p50_ms": ms(statistics.median(wall)),
        "p95_ms": ms(percentile(wall, 95)),
        "cpu_p50_ms": ms(statistics.median(cpu)),
        "cpu_p95_ms": ms(percentile(cpu, 95)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=50)
    parser.add_argument("--issues", type=int, default=20)
    parser.add_argument("--json", type=str, default="")
    args = parser.parse_args()
    figures = {}
    try:
        with transaction.atomic():
            nurse, patient, result = world()
            start, cpu = time.perf_counter(), time.process_time()
            import weasyprint  # noqa: F401  (what the first render pays once per process)

            figures["import_weasyprint_ms"] = ms(time.perf_counter() - start)
            figures["import_weasyprint_cpu_ms"] = ms(time.process_time() - cpu)
            start, cpu = time.perf_counter(), time.process_time()
            letter_render(patient=patient, kind=LetterKind.RESULT_PATIENT, result=result)
            figures["first_render_ms"] = ms(time.perf_counter() - start)
            figures["first_render_cpu_ms"] = ms(time.process_time() - cpu)
            for name, kind, about in (
                ("result_letter", LetterKind.RESULT_PATIENT, result),
                ("care_plan", LetterKind.CARE_PLAN, None),
            ):
                letter_render(patient=patient, kind=kind, result=about)  # warm-up
                figures[f"{name}_render"] = summary(
                    timed(lambda k=kind, r=about: letter_render(patient=patient, kind=k, result=r), args.renders)
                )
            figures["issue_result_letter"] = summary(
                timed(
                    lambda: letter_issue(patient=patient, kind=LetterKind.RESULT_PATIENT, result=result, by=nurse),
                    args.issues,
                )
            )
            _, pdf = letter_render(patient=patient, kind=LetterKind.CARE_PLAN)
            figures["care_plan_bytes"] = len(pdf)
            raise Rollback
    except Rollback:
        pass
    # The import is paid once per process (a web worker's first PDF), not per letter: reported apart.
    slowest = max(
        figures["first_render_ms"], *(figures[name]["p95_ms"] for name in ("result_letter_render", "care_plan_render"))
    )
    slowest_cpu = max(
        figures["first_render_cpu_ms"],
        *(figures[name]["cpu_p95_ms"] for name in ("result_letter_render", "care_plan_render")),
    )
    figures["target_ms"] = TARGET_S * 1000
    figures["under_target"] = slowest < TARGET_S * 1000
    figures["under_target_cpu"] = slowest_cpu < TARGET_S * 1000
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"import weasyprint (once per process): {figures['import_weasyprint_ms']} ms "
        f"(CPU {figures['import_weasyprint_cpu_ms']} ms)"
    )
    print(
        f"first render (fresh process, after the import): {figures['first_render_ms']} ms "
        f"(CPU {figures['first_render_cpu_ms']} ms)"
    )
    for name in ("result_letter_render", "care_plan_render", "issue_result_letter"):
        f = figures[name]
        print(
            f"{name}: p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms over {f['n']} "
            f"(CPU p50 {f['cpu_p50_ms']} ms, p95 {f['cpu_p95_ms']} ms)"
        )
    verdict = {True: "met", False: "NOT met"}
    print(
        f"target under {TARGET_S * 1000:.0f} ms (first render and p95): wall time "
        f"{verdict[figures['under_target']]}, CPU time {verdict[figures['under_target_cpu']]}"
    )
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)


if __name__ == "__main__":
    main()
