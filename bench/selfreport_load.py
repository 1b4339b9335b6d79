"""Load test of the patient's self-report page, bounded and on loopback, and the lock-out under it.

    DATABASE_URL=postgres://.../followup_bench_selfreport python bench/selfreport_load.py [--seconds 30]

Makes the database when it is missing (migrate, ``seed_demo --patients 200`` when it holds no patient),
issues personal codes to 40 active patients (the bench keeps the codes it is shown), starts gunicorn
(gthread, 2 workers x 4 threads, DEBUG off, AXES_PROXY_COUNT=1 so each request's X-Forwarded-For is
its client address) on a free port, then 8 client threads for ``--seconds`` over kept-alive
connections: GETs of the empty form, POSTs of complete reports with wrong codes (random, well formed)
and with right codes and dates of birth (each a report on "Symptoms to triage"), each from a random
address of 10.0.0.0/16. Prints requests/s, p50/p95/p99 latency per kind and overall, and every
answer that was not the one expected (errors).

Under the same load every client also attacks one code (its patient's right code with wrong dates
of birth, from the client's own address) five times: all 8 clients together must get exactly
SELF_REPORT_CODE_ATTEMPTS "wrong" answers and "locked" (429) for every other try; then the right code
and date of birth, from a fresh address, must be refused (429). Prints figures; exits 1 when the
lock-out did not hold.
"""

import argparse
import http.client
import os
import random
import re
import signal
import statistics
import subprocess
import threading
import time
from urllib.parse import urlencode

from _django import ROOT  # sets Django up
from django.conf import settings
from django.db import connection
from prepare import create_database, free_port, gunicorn_command, manage, wait_until_up

from followup import choices as c
from followup.models import Patient, User
from selfreport import codes
from selfreport.models import CodeAttempt
from selfreport.services import personal_code_issue

PATH = "/report-symptoms/"
ATTACKS_PER_CLIENT = 5
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def prepare(patients: int) -> tuple[list[tuple[str, object]], tuple[str, object]]:
    """(code, date of birth) of 40 patients for right answers, and one more to attack."""
    create_database(os.environ.get("DATABASE_URL", ""))
    manage("migrate", "--no-input", "-v0")
    manage("collectstatic", "--no-input", "-v0")  # DEBUG off: the pages' static files come from the manifest
    if not Patient.all_objects.exists():
        print(f"Loading {patients} demo patients...", flush=True)
        manage("seed_demo", "--patients", str(patients))
    nurse = User.objects.filter(role=c.Role.NURSE).order_by("pk").first()
    active = list(Patient.objects.filter(status__in=c.ACTIVE_PATIENT_STATUSES).order_by("pk")[:41])
    known = []
    for patient in active:
        _row, plaintext = personal_code_issue(patient=patient, by=nurse)
        known.append((plaintext, patient.date_of_birth))
    return known[:-1], known[-1]


def form(code: str, born, *, urgent: str = "none") -> dict:
    return {
        "code": code,
        "born_0": str(born.day),
        "born_1": str(born.month),
        "born_2": str(born.year),
        "urgent": urgent,
        "area": "general",
        "symptoms_general": "tired",
        "lasted": c.SymptomDuration.OVER_TWO_WEEKS,
        "worsening": c.Worsening.NO,
        "description": "Load test: tired for three weeks.",
    }


class Client:
    """One patient's browser: a kept-alive connection and the CSRF cookie and token of its first GET."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = self.token = ""

    def request(self, method: str, body: dict | None = None, address: str = "10.255.0.1") -> tuple[int, str]:
        headers = {"X-Forwarded-For": address}
        if self.cookie:
            headers["Cookie"] = self.cookie
        data = None
        if body is not None:
            data = urlencode({**body, "csrfmiddlewaretoken": self.token}, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, PATH, body=data, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("csrftoken="):
                self.cookie = value.split(";", 1)[0]
        if method == "GET":
            match = CSRF_INPUT.search(text)
            if match:
                self.token = match.group(1)
        return response.status, text


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values else 0.0


def worker(n: int, port: int, known, target, stop_at: float, results: dict, attack: list, lock: threading.Lock) -> None:
    rng = random.Random(n)  # noqa: S311 -- load mix, not secrets
    client = Client(port)
    client.request("GET")  # the CSRF cookie and token, as a browser has them
    mine: dict[str, list[float]] = {"GET": [], "POST wrong code": [], "POST right code": []}
    errors, attacks_left, sent = 0, ATTACKS_PER_CLIENT, 0
    while time.monotonic() < stop_at:
        sent += 1
        address = f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        roll = rng.random()
        if attacks_left and sent % 20 == n:  # the attack, spread through the run
            attacks_left -= 1
            code, born = target
            wrong = born.replace(year=born.year - 1 - rng.randrange(30))
            try:
                status, _ = client.request("POST", form(code, wrong), address=f"10.99.0.{n}")
            except (OSError, http.client.HTTPException):
                errors += 1
                continue
            with lock:
                attack.append(status)
            continue
        if roll < 0.3:
            kind, body, expected = "GET", None, 200
        elif roll < 0.85:
            kind, body, expected = "POST wrong code", form(codes.shown(codes.new_code()), known[0][1]), 200
        else:
            code, born = rng.choice(known)
            kind, body, expected = "POST right code", form(codes.shown(code), born), 302
        start = time.perf_counter()
        try:
            status, _ = client.request("GET" if body is None else "POST", body, address=address)
        except (OSError, http.client.HTTPException):
            errors += 1
            continue
        mine[kind].append((time.perf_counter() - start) * 1000)
        if status != expected:
            errors += 1
            if errors <= 3:
                print(f"client {n}: {kind} answered {status}, expected {expected}", flush=True)
    while attacks_left:  # a very slow run: the attack still happens
        attacks_left -= 1
        status, _ = client.request("POST", form(target[0], target[1].replace(year=1900)), address=f"10.99.0.{n}")
        with lock:
            attack.append(status)
    client.conn.close()
    with lock:
        for kind, values in mine.items():
            results.setdefault(kind, []).extend(values)
        results.setdefault("errors", []).append(errors)


def figures(values: list[float], seconds: float) -> str:
    return (
        f"{len(values)} requests, {len(values) / seconds:.1f}/s; p50 {statistics.median(values):.1f} ms, "
        f"p95 {percentile(values, 95):.1f} ms, p99 {percentile(values, 99):.1f} ms, max {max(values):.1f} ms"
        if values
        else "none"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--patients", type=int, default=200, help="demo patients to seed into an empty database")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The self-report benchmark needs PostgreSQL: set DATABASE_URL.")
    known, target = prepare(args.patients)
    connection.close()
    port = free_port()
    env = {**os.environ, "AXES_PROXY_COUNT": "1"}
    gunicorn = gunicorn_command(workers=args.workers, threads=args.threads, port=port)
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    results: dict = {}
    attack: list[int] = []
    lock = threading.Lock()
    try:
        wait_until_up(port)
        stop_at = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=worker, args=(n, port, known, target, stop_at, results, attack, lock))
            for n in range(args.clients)
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        after = Client(port)
        after.request("GET", address="10.98.0.1")
        right_status, right_text = after.request("POST", form(target[0], target[1]), address="10.98.0.1")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    every = [ms for kind in ("GET", "POST wrong code", "POST right code") for ms in results.get(kind, [])]
    errors = sum(results.get("errors", []))
    limit = settings.SELF_REPORT_CODE_ATTEMPTS
    wrong_answers, locked_answers = attack.count(200), attack.count(429)
    held = wrong_answers == limit and locked_answers == len(attack) - limit and right_status == 429
    print(
        f"gunicorn: {args.workers} workers x {args.threads} threads (gthread); {args.clients} clients, {elapsed:.1f} s"
    )
    for kind in ("GET", "POST wrong code", "POST right code"):
        print(f"  {kind}: {figures(results.get(kind, []), elapsed)}")
    print(f"  all: {figures(every, elapsed)}; errors (unexpected answers or dropped connections): {errors}")
    print(
        f"Lock-out under load: {len(attack)} tries at one code by {args.clients} clients: {wrong_answers} "
        f"answered 'wrong' (SELF_REPORT_CODE_ATTEMPTS = {limit}), {locked_answers} answered 'locked' (429); "
        f"then the right code and date of birth: {right_status}"
        f"{' (locked: Try again in ...)' if 'Try again in' in right_text else ''}"
    )
    key = codes.digest(target[0])
    print(
        f"  attempt log for that code: {CodeAttempt.objects.filter(code_key=key).count()} rows, "
        f"{CodeAttempt.objects.filter(code_key=key, succeeded=True).count()} succeeded"
    )
    print("Lock-out held." if held else "LOCK-OUT DID NOT HOLD.")
    if not held or errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
