"""HL7v2 benchmark: ORU^R01 results through POST /api/hl7/v2/ with 4 concurrent senders, against
the same number of plain inserts of the inbox row.

    DATABASE_URL=postgres://.../followup_bench_hl7 python bench/hl7.py [--seconds 20] [--json out.json]

Makes the database when it is missing (migrate, ``seed_demo --patients 300`` when it holds no
patient), registers a sending client for every team, starts gunicorn as bench/load.py does
(gthread, 2 workers x 2 threads, DEBUG off), then 4 sender threads post the sample CT report
(integration/samples/01) for demo patients in turn (their NHS number, name and date of birth, a
distinct control id each) over kept-alive connections (http.client) for ``--seconds``: messages/s,
p50/p95/p99 latency, and every answer that is not HTTP 200 with MSA-1 AA. Each message goes the
whole way: token and rate check, raw row, hl7apy parse, duplicate check, patient, code map,
candidates, placing, the audit row. Then 4 threads insert as many InboxMessage rows with the ORM
(one ``create`` each, autocommit): rows/s. Finally one process parses the sample 500 times under
cProfile and prints where the time goes. Prints figures; it is not a pass/fail test.
"""

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import signal
import statistics
import subprocess
import threading
import time
import uuid
from pathlib import Path

from _django import ROOT  # sets Django up
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone
from prepare import create_database, gunicorn_command, manage, wait_until_up

from followup import choices as c
from followup.models import Patient, Team, User
from followup.nhs import nhs_number_error
from integration import hl7, samples
from integration.clients import client_register
from integration.models import ApiClient, InboxMessage, MessageFormat, MessageStatus


def prepare(patients: int) -> None:
    create_database(os.environ.get("DATABASE_URL", ""))
    manage("migrate", "--no-input", "-v0")
    if not Patient.all_objects.exists():
        print(f"Loading {patients} demo patients...", flush=True)
        manage("seed_demo", "--patients", str(patients))


def register_client() -> str:
    admin = User.objects.filter(role=c.Role.ADMIN).order_by("pk").first()
    name = f"Bench RIS {uuid.uuid4().hex[:8]}"
    _, token = client_register(
        name=name, teams=list(Team.objects.all()), can_send=True, can_read=False, by=admin, rate_limit_per_minute=10**7
    )
    return token


def messages(count: int) -> list[str]:
    """``count`` CT reports with distinct control ids, for the demo patients in turn."""
    people = [  # the demo's patients with a valid NHS number (it keeps a few invalid ones on purpose)
        person
        for person in Patient.objects.values("nhs_number", "family_name", "given_name", "date_of_birth")[:600]
        if not nhs_number_error(person["nhs_number"])
    ]
    template = samples.text("01-ct-chest-abdomen-pelvis.hl7")
    run = uuid.uuid4().hex[:6].upper()
    out = []
    for n in range(count):
        person = people[n % len(people)]
        out.append(samples.fill(template, control_id=f"BENCH{run}{n:07d}", run=f"{run}{n}", **person))
    return out


def sender(port: int, token: str, bodies: list[str], stop_at: float, results: list, lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/hl7-v2; charset=utf-8"}
    latencies, bad, sent, errors = [], 0, 0, 0
    while time.monotonic() < stop_at and bodies:
        with lock:
            if not bodies:
                break
            body = bodies.pop()
        start = time.perf_counter()
        try:
            conn.request("POST", "/api/hl7/v2/", body=body.encode("utf-8"), headers=headers)
            response = conn.getresponse()
            answer = response.read().decode("utf-8", "replace")
            ok = response.status == 200 and "\rMSA|AA|" in answer
        except (OSError, http.client.HTTPException):
            # A kept-alive connection the server closed (gunicorn's keep-alive timeout): reconnect
            # and count it as a connection error, apart from the answers that were not AA.
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            errors += 1
            with lock:
                bodies.append(body)  # sent again on the new connection
            continue
        latencies.append((time.perf_counter() - start) * 1000)
        bad += not ok
        sent += 1
        if not ok and bad == 1:
            print(f"A reply that was not AA: HTTP {response.status} {answer[:300]!r}", flush=True)
    conn.close()
    with lock:
        results.append((latencies, bad, sent, errors))


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values else 0.0


def run_senders(port: int, token: str, bodies: list[str], *, seconds: float, senders: int) -> dict:
    results: list = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(target=sender, args=(port, token, bodies, stop_at, results, lock)) for _ in range(senders)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    latencies = [ms for lat, _, _, _ in results for ms in lat]
    sent = sum(n for _, _, n, _ in results)
    return {
        "messages": sent,
        "seconds": round(elapsed, 2),
        "per_second": round(sent / elapsed, 1),
        "p50": round(statistics.median(latencies), 1) if latencies else 0,
        "p95": round(percentile(latencies, 95), 1),
        "p99": round(percentile(latencies, 99), 1),
        "max": round(max(latencies, default=0), 1),
        "not_aa": sum(b for _, b, _, _ in results),
        "connection_errors": sum(e for _, _, _, e in results),
    }


def inserts(client: ApiClient, count: int, threads: int) -> dict:
    """``count`` plain InboxMessage rows, ``threads`` threads, one ORM create (autocommit) each."""
    body = samples.text("01-ct-chest-abdomen-pelvis.hl7")
    run = uuid.uuid4().hex[:6].upper()
    counter = iter(range(count))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            InboxMessage.objects.create(
                client=client,
                format=MessageFormat.HL7V2,
                body=body,
                sha256="0" * 64,
                control_id=f"INSERT{run}{n:07d}",
                status=MessageStatus.UNMATCHED,
                reason="benchmark insert",
            )
        connections.close_all()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    return {"rows": count, "seconds": round(elapsed, 2), "per_second": round(count / elapsed, 1)}


def profile_parse(repeat: int = 500) -> tuple[float, str]:
    body = samples.text("01-ct-chest-abdomen-pelvis.hl7")
    hl7.read(body)
    start = time.perf_counter()
    for _ in range(repeat):
        hl7.read(body)
    per_message = (time.perf_counter() - start) * 1000 / repeat
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        hl7.read(body)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(12)
    return per_message, out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--patients", type=int, default=300, help="demo patients to seed into an empty database")
    parser.add_argument("--port", type=int, default=8078)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The HL7 benchmark needs PostgreSQL: set DATABASE_URL.")
    prepare(args.patients)
    token = register_client()
    client = ApiClient.objects.order_by("-pk").first()
    # Enough distinct messages for the run at well over the aim (the pool is never exhausted).
    bodies = messages(int(args.seconds * 400) + 2000)
    warmup = messages(200)
    connection.close()

    gunicorn = gunicorn_command(workers=args.workers, threads=args.threads, port=args.port)
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=dict(os.environ), start_new_session=True)  # noqa: S603
    try:
        wait_until_up(args.port)
        run_senders(args.port, token, warmup, seconds=5, senders=args.senders)
        http_figures = run_senders(args.port, token, bodies, seconds=args.seconds, senders=args.senders)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    insert_figures = inserts(client, http_figures["messages"], args.senders)
    per_message, profile = profile_parse()
    statuses = dict(
        InboxMessage.objects.filter(client=client, control_id__startswith="BENCH")
        .values_list("status")
        .annotate(n=Count("pk"))
    )

    print(f"gunicorn: {args.workers} workers x {args.threads} threads (gthread); {args.senders} senders (keep-alive)")
    print(
        f"HL7v2 over HTTP: {http_figures['messages']} messages in {http_figures['seconds']} s = "
        f"{http_figures['per_second']} messages/s; p50 {http_figures['p50']} ms, p95 {http_figures['p95']} ms, "
        f"p99 {http_figures['p99']} ms, max {http_figures['max']} ms; not AA: {http_figures['not_aa']}, "
        f"connection errors (resent): {http_figures['connection_errors']}"
    )
    print(f"  stored as: {statuses}")
    print(
        f"Plain inserts of the inbox row ({args.senders} threads, ORM create): {insert_figures['rows']} rows in "
        f"{insert_figures['seconds']} s = {insert_figures['per_second']} rows/s"
    )
    print(f"hl7.read of the sample CT report, one process: {per_message:.2f} ms a message")
    print(profile)
    if args.json:
        settings = {
            "workers": args.workers,
            "threads": args.threads,
            "senders": args.senders,
            "at": str(timezone.now()),
        }
        Path(args.json).write_text(
            json.dumps(
                {
                    "settings": settings,
                    "http": http_figures,
                    "statuses": statuses,
                    "inserts": insert_figures,
                    "parse_ms": round(per_message, 2),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
