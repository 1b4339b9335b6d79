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
import statistics
import time
from pathlib import Path

import _django  # noqa: F401  (sets Django up)
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from followup.models import Patient, User
from followup.worklists import WORKLISTS

SKIP_EXPLAIN = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK", "BEGIN", "COMMIT", "SET ")


def explain_ms(cursor, sql: str) -> float:
    cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}")
    plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Planning Time"] + plan[0]["Execution Time"]


def sql_time_ms(queries: list[dict], show_slowest: bool = False, repeat: int = 1) -> float:
    """PostgreSQL's planning + execution time for these statements, measured by itself
    (each statement's best of ``repeat``), in a transaction that is rolled back."""
    total = 0.0
    slowest = (0.0, "")
    with transaction.atomic():
        with connection.cursor() as cursor:
            for query in queries:
                sql = query["sql"]
                if sql.lstrip().upper().startswith(SKIP_EXPLAIN):
                    continue
                took = min(explain_ms(cursor, sql) for _ in range(repeat))
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


# Each index or statistics object of issues 8 and 17, and the pages it is for. --indexes
# measures those pages' SQL with it and without it (dropped inside a transaction
# that is rolled back, so the database is left as it was).
ABLATIONS = [
    ("followup_item_open_due_on", "DROP INDEX followup_item_open_due_on", ["overdue", "due-soon"]),
    ("followup_open_due_team", "DROP INDEX followup_open_due_team", ["dashboard"]),
    ("followup_open_due_day", "DROP INDEX followup_open_due_day", ["dashboard"]),
    ("followup_flags_counted", "DROP INDEX followup_flags_counted", ["dashboard"]),
    ("followup_patient_pifu_cover", "DROP INDEX followup_patient_pifu_cover", ["pifu-ending", "dashboard"]),
    ("followup_item_unack_flag", "DROP INDEX followup_item_unack_flag", ["worklist: results", "dashboard"]),
    ("followup_patient_scope", "DROP INDEX followup_patient_scope", ["dashboard"]),
    ("followup_flags_no_next", "DROP INDEX followup_flags_no_next", ["no-follow-up", "dashboard"]),
    ("followup_item_open_patient", "DROP INDEX followup_item_open_patient", ["patient page"]),
    ("followup_item_unacknowledged", "DROP INDEX followup_item_unacknowledged", ["worklist: results", "dashboard"]),
    ("followup_item_unack_urgent", "DROP INDEX followup_item_unack_urgent", ["worklist: results"]),
    (
        "followup_patient_family_trgm + given_trgm",
        "DROP INDEX followup_patient_family_trgm; DROP INDEX followup_patient_given_trgm",
        ["search: name"],
    ),
    ("followup_patient_hospital_no", "DROP INDEX followup_patient_hospital_no", ["search"]),
    ("followup_patient_dup_probe", "DROP INDEX followup_patient_dup_probe", ["patient page"]),
]


def ablate(captured: dict[str, list[dict]]) -> list[dict]:
    print(f"\n{'index (dropped in a rolled-back transaction)':44} {'page':30} {'with':>8} {'without':>9}")
    rows = []
    for name, ddl, page_keys in ABLATIONS:
        pages = [page for page in captured if any(key in page for key in page_keys)]
        before = {page: sql_time_ms(captured[page], repeat=3) for page in pages}
        with transaction.atomic():
            with connection.cursor() as cursor:
                for statement in ddl.split(";"):
                    cursor.execute(statement)
            after = {page: sql_time_ms(captured[page], repeat=3) for page in pages}
            transaction.set_rollback(True)
        for page in pages:
            rows.append({"index": name, "page": page, "with_ms": before[page], "without_ms": after[page]})
            print(f"{name:44} {page:30} {before[page]:8.1f} {after[page]:9.1f}")
    return rows


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
        "captured": queries,
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
    pages = [("dashboard", reverse("followup:dashboard")), ("dashboard charts", reverse("followup:dashboard_charts"))]
    pages += [(f"worklist: {slug}", reverse("followup:worklist", args=[slug])) for slug in WORKLISTS]
    pages += [
        ("patient search: name", reverse("followup:patient_list") + f"?q={surname}"),
        ("patient search: NHS number", reverse("followup:patient_list") + f"?q={patient.nhs_number}"),
        ("patient search: hospital no.", reverse("followup:patient_list") + f"?q={patient.hospital_number}"),
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
    parser.add_argument("--indexes", action="store_true", help="also measure each page's SQL without each index")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The page benchmark needs PostgreSQL: set DATABASE_URL.")

    patients = Patient.objects.count()
    print(f"Database: {patients:,} patients. Median of {args.repeat} warm requests per page.")
    results = []
    captured = {}
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
            captured.setdefault(name, row.pop("captured"))  # the first user's SQL, for --indexes
            row.update(page=name, user=username)
            results.append(row)
            ratio = f"{row['ratio']:.1f}" if row["ratio"] else "-"
            print(f"{name:34} {row['server_ms']:10.1f} {row['sql_ms']:9.1f} {ratio:>6} {row['queries']:8d}")
    ablations = ablate(captured) if args.indexes else []
    if args.json:
        figures = {"patients": patients, "pages": results, "indexes": ablations}
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
