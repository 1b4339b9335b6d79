"""Load benchmark: gunicorn (2 workers) on 127.0.0.1, 8 concurrent clients (wrk),
requests/s and p50/p95/p99 latency for the worklist and patient pages.

    DATABASE_URL=postgres://... python bench/load.py [--seconds 10] [--json out.json]

Starts gunicorn as docs/deployment.md runs it (gthread, 2 workers x 2 threads,
DEBUG off, static files collected), signs in a nurse once (sign-in is slow by
design and is kept out of the figures), then points wrk at one page at a time,
and finally at all of them mixed, each for a fixed time. Every request carries
the nurse's session cookie; a non-200 answer is counted and reported. Prints
figures; it is not a pass/fail test.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _django import ROOT  # sets Django up
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from prepare import gunicorn_command, wait_until_up

from followup.models import Patient, User
from followup.worklists import WORKLISTS

# wrk: each connection walks the list of paths; done() prints the figures as JSON.
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local counter = 0
request = function()
  counter = counter + 1
  -- A new connection a request: a kept-alive connection stays with the gunicorn worker
  -- that accepted it, and 8 of them can land on one worker while the other idles.
  return wrk.format("GET", paths[(counter % #paths) + 1], {
    ["Cookie"] = os.getenv("BENCH_COOKIE"), ["Connection"] = "close"})
end
done = function(summary, latency, requests)
  local p = function(q) return latency:percentile(q) / 1000 end
  io.write(string.format(
    'WRK {"requests": %d, "seconds": %.3f, "non_2xx": %d, "errors": %d, '
    .. '"p50": %.1f, "p90": %.1f, "p95": %.1f, "p99": %.1f, "max": %.1f}\\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    p(50), p(90), p(95), p(99), latency.max / 1000))
end
"""


def session_cookie(username: str) -> str:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def page_groups(username: str, patients: int) -> list[tuple[str, list[str]]]:
    user = User.objects.get(username=username)
    dashboard, charts = reverse("followup:dashboard"), reverse("followup:dashboard_charts")
    groups = [("dashboard", [dashboard])]
    # The charts load after the counts, as they scroll into view: on their own, and a nurse who scrolls (both).
    groups += [("dashboard charts", [charts]), ("dashboard, then its charts", [dashboard, charts])]
    groups += [(f"worklist: {slug}", [reverse("followup:worklist", args=[slug])]) for slug in WORKLISTS]
    # Name search: the surnames of different patients of the caseload, each a page of matches.
    surnames = (
        Patient.objects.visible_to(user).filter(named_nurse=user).order_by("?").values_list("family_name", flat=True)
    )
    search = reverse("followup:patient_list")
    groups.append(("patient search: name", [f"{search}?q={name}" for name in surnames[:50]]))
    # Different patients, so no page is served from a warm cache of one record.
    ids = Patient.objects.visible_to(user).filter(named_nurse=user).order_by("?").values_list("pk", flat=True)
    groups.append(("patient page", [reverse("followup:patient_detail", args=[pk]) for pk in ids[:patients]]))
    lists = [paths[0] for name, paths in groups if name.startswith("worklist: ")]
    mixed = [groups[0][1][0], *lists, *groups[-1][1][:9]]
    groups.append((f"mixed: dashboard, {len(lists)} worklists, 9 patient pages", mixed))
    return groups


def wait_for_quiet_database(seconds: float = 180) -> None:
    """Until no other query runs on the database: when wrk stops, gunicorn finishes the
    requests it holds (a data-quality page takes seconds under load), and their
    queries must not run into the next line's figures."""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'active' AND pid <> pg_backend_pid()"
                )
                if cursor.fetchone()[0] == 0:
                    return
            time.sleep(0.5)
    finally:
        connection.close()


def run_wrk(base: str, paths: list[str], cookie: str, *, seconds: int, connections: int, workdir: Path) -> dict:
    path_file = workdir / "paths.txt"
    path_file.write_text("\n".join(paths) + "\n")
    script = workdir / "bench.lua"
    script.write_text(WRK_SCRIPT)
    env = {**os.environ, "BENCH_PATHS": str(path_file), "BENCH_COOKIE": cookie}
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "-s", str(script)]
    out = subprocess.run([*command, base], env=env, capture_output=True, text=True, check=True).stdout  # noqa: S603
    figures = json.loads(next(line[4:] for line in out.splitlines() if line.startswith("WRK ")))
    figures["rps"] = figures["requests"] / figures["seconds"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per page group")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--user", default="nurse")
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument(
        "--only", default="", help="run only page groups whose name contains one of these (comma-separated)"
    )
    parser.add_argument(
        "--parallel-workers",
        default=os.environ.get("DATABASE_PARALLEL_WORKERS", ""),
        help="DATABASE_PARALLEL_WORKERS for gunicorn (default: as set here; empty: the server's own)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The load benchmark needs PostgreSQL: set DATABASE_URL.")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")

    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, check=True)  # noqa: S603
    cookie = session_cookie(args.user)
    wanted = [part.strip() for part in args.only.split(",")]
    groups = [g for g in page_groups(args.user, 200) if any(part in g[0] for part in wanted)]
    connection.close()  # the benchmark process itself holds no connection while gunicorn runs

    base = f"http://127.0.0.1:{args.port}"
    gunicorn = gunicorn_command(workers=args.workers, threads=args.threads, port=args.port)
    env = {**os.environ, "DATABASE_PARALLEL_WORKERS": args.parallel_workers}
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    results = []
    try:
        wait_until_up(args.port)
        parallel = args.parallel_workers or "the server's setting"
        print(f"gunicorn: {args.workers} workers x {args.threads} threads (gthread), parallel workers: {parallel};")
        print(f"wrk: {args.connections} clients, {args.seconds} s per line, signed in as {args.user}; latencies in ms.")
        print(f"{'pages':40} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} {'non-200':>8}")
        with tempfile.TemporaryDirectory() as tmp:
            for name, paths in groups:
                options = {"connections": args.connections, "workdir": Path(tmp)}
                wait_for_quiet_database()
                run_wrk(base, paths, cookie, seconds=2, **options)  # warm-up
                wait_for_quiet_database()
                row = run_wrk(base, paths, cookie, seconds=args.seconds, **options)
                row["pages"] = name
                results.append(row)
                bad = row["non_2xx"] + row["errors"]
                print(
                    f"{name:40} {row['rps']:7.1f} {row['p50']:7.1f} {row['p95']:7.1f} {row['p99']:7.1f} "
                    f"{row['max']:7.1f} {bad:8d}"
                )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    if args.json:
        settings = {"workers": args.workers, "threads": args.threads, "parallel_workers": args.parallel_workers}
        Path(args.json).write_text(json.dumps({"settings": settings, "load": results}, indent=2))


if __name__ == "__main__":
    main()
