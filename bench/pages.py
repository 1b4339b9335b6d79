"""Page benchmark: the Django view's server time against PostgreSQL's own time
for the same SQL, and the number of queries, for every worklist, the dashboard,
patient search and the patient page.

    DATABASE_URL=postgres://... python bench/pages.py [--repeat 5] [--json out.json]

Each page is requested through Django's test client (the whole stack: middleware,
view, queries, template) ``--repeat`` times after one warm-up request; the median
is the server time. The SQL of one request is then captured and each statement
run again under ``EXPLAIN (ANALYZE, TIMING OFF)`` inside a transaction that is
rolled back; PostgreSQL's planning + execution time, summed, is the SQL time.
Ratio = server time / SQL time (the issue's target: at most 3 for worklist and
patient pages). Prints figures; it is not a pass/fail test.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from followup.models import Patient, User  # noqa: E402
from followup.worklists import WORKLISTS  # noqa: E402

SKIP_EXPLAIN = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK", "BEGIN", "COMMIT", "SET ")


def sql_time_ms(queries: list[dict], show_slowest: bool = False) -> float:
    """PostgreSQL's planning + execution time for these statements, measured by itself."""
    total = 0.0
    slowest = (0.0, "")
    with transaction.atomic():
        with connection.cursor() as cursor:
            for query in queries:
                sql = query["sql"]
                if sql.lstrip().upper().startswith(SKIP_EXPLAIN):
                    continue
                cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}")
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                took = plan[0]["Planning Time"] + plan[0]["Execution Time"]
                total += took
                if show_slowest:
                    print(f"  {took:8.1f} ms  {sql[:150]}")
                if show_slowest and took > slowest[0]:
                    slowest = (took, sql)
            if show_slowest and slowest[1]:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {slowest[1]}")
                plan = "\n".join(line for (line,) in cursor.fetchall())
                print(f"\n--- slowest statement ({slowest[0]:.1f} ms):\n{slowest[1]}\n{plan}\n")
        transaction.set_rollback(True)
    return total


def measure(client: Client, url: str, repeat: int, explain: bool = False) -> dict:
    response = client.get(url, secure=True)  # warm-up (and a check that the page works)
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get(url, secure=True)
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as captured:
        client.get(url, secure=True)
    queries = [q for q in captured.captured_queries if not q["sql"].startswith(SKIP_EXPLAIN)]
    server = statistics.median(times)
    sql = sql_time_ms(queries, show_slowest=explain)
    return {
        "url": url,
        "server_ms": server,
        "sql_ms": sql,
        "ratio": server / sql if sql else None,
        "queries": len(queries),
    }


def rich_patient(user) -> Patient:
    """A patient of the user's scope with a long record: recurrences, restaging, symptoms."""
    return (
        Patient.objects.visible_to(user)
        .annotate(n=Count("recurrences", distinct=True))
        .filter(n__gt=0, symptom_reports__isnull=False)
        .order_by("-n", "pk")
        .first()
    )


def pages_for(user) -> list[tuple[str, str]]:
    patient = rich_patient(user)
    surname = patient.family_name
    pages = [("dashboard", reverse("followup:dashboard"))]
    pages += [(f"worklist: {slug}", reverse("followup:worklist", args=[slug])) for slug in WORKLISTS]
    pages += [
        ("patient search: name", reverse("followup:patient_list") + f"?q={surname}"),
        ("patient search: NHS number", reverse("followup:patient_list") + f"?q={patient.nhs_number}"),
        ("patient page", reverse("followup:patient_detail", args=[patient.pk])),
    ]
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--users", default="nurse,admin")
    parser.add_argument("--only", default="", help="run only pages whose name contains this")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--explain", action="store_true", help="print each page's slowest statement and its plan")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The page benchmark needs PostgreSQL: set DATABASE_URL.")

    patients = Patient.objects.count()
    print(f"Database: {patients:,} patients. Median of {args.repeat} warm requests per page.")
    results = []
    for username in args.users.split(","):
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        print(f"\n{username} ({user.get_role_display()}, {user.team or 'all teams'})")
        print(f"{'page':34} {'server ms':>10} {'SQL ms':>9} {'ratio':>6} {'queries':>8}")
        for name, url in pages_for(user):
            if args.only and args.only not in name:
                continue
            row = measure(client, url, args.repeat, explain=args.explain)
            row.update(page=name, user=username)
            results.append(row)
            ratio = f"{row['ratio']:.1f}" if row["ratio"] else "-"
            print(f"{name:34} {row['server_ms']:10.1f} {row['sql_ms']:9.1f} {ratio:>6} {row['queries']:8d}")
    if args.json:
        Path(args.json).write_text(json.dumps({"patients": patients, "pages": results}, indent=2))


if __name__ == "__main__":
    main()
