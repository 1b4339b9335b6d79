"""Export benchmark: a line list's CSV download against PostgreSQL's own COPY of
the same SQL, in rows per second, with the exporting process's peak memory.

    DATABASE_URL=postgres://... python bench/export.py [--repeat 3] [--json out.json]

The export goes through the web download's code path: a fresh subprocess sets
Django up and GETs the line list with ``?export=csv`` as an admin, iterating
``response.streaming_content`` to the end, counting rows and bytes. By default
the request goes to the URL's view with the user set on it (the same view, filters,
export log and streaming generator as a download; only the middleware is left
out, so nothing but the export log is written); ``--via client`` sends it through
Django's test client and every middleware after ``force_login`` instead. Rows are
the export log's count (written by the export itself), checked against the
lines received. The subprocess reports its resident memory after Django setup
(baseline) and its peak (``ru_maxrss``) at the end.

COPY runs ``COPY (<sql>) TO STDOUT WITH CSV`` through psycopg 3 on the same
connection settings, where <sql> and its parameters are the line list
queryset's ``query.sql_with_params()``, built as the view builds it from the
same filters; the subprocess checks that this is the statement the export ran.

Target (issue 8): export rows/s at least 25% of COPY's, peak memory under 200 MB.
With ``--repeat`` the medians are shown. Prints figures; it is not a pass/fail test.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

from _django import ROOT  # sets Django up
from django.db import connection, transaction
from django.db.models import Max
from django.http import QueryDict
from django.test import Client, RequestFactory
from django.urls import resolve, reverse

from followup.exports import EXPORT_SESSION
from followup.models import ExportLog, Team, User
from followup.reports import LINE_LISTS
from followup.views.reports import LineListView

TARGET_RATIO = 0.25
TARGET_PEAK_MB = 200


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS) or its high-water mark (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def query_params(args) -> dict[str, str]:
    """The line list's GET parameters for these filters: none means every row an admin sees."""
    params = {"nurse": "all"}
    if args.team:
        params["team"] = str(Team.objects.get(code=args.team).pk)
    if args.start:
        params["period_after"] = args.start
    if args.end:
        params["period_before"] = args.end
    return params


def export_sql(slug: str, user, params: dict[str, str]) -> tuple[str, tuple]:
    """The SELECT the download runs: the view's filterset over the view's queryset, as values()."""
    query = QueryDict(mutable=True)
    query.update({**params, "export": "csv"})
    request = RequestFactory().get(reverse("followup:report_line_list", args=[slug]), query)
    request.user = user
    view = LineListView()
    view.setup(request, slug=slug)
    view.line_list = LINE_LISTS[slug]
    filterset = view.get_filterset(view.get_filterset_class())
    if not filterset.is_valid():
        raise SystemExit(f"Filters not valid: {filterset.errors}")
    return view.line_list.values(filterset.qs).query.sql_with_params()


# The export, in its own process --------------------------------------------------


def child(args) -> None:
    baseline = rss_mb()
    user = User.objects.get(username=args.user)
    params = query_params(args)
    expected = export_sql(args.report, user, params)
    ran: list[tuple[str, tuple]] = []

    def capture(execute, sql, sql_params, many, context):
        ran.append((sql, tuple(sql_params or ())))
        return execute(sql, sql_params, many, context)

    url = reverse("followup:report_line_list", args=[args.report])
    query = {**params, "export": "csv"}
    last_log = ExportLog.objects.aggregate(last=Max("pk"))["last"] or 0
    if args.via == "client":
        client = Client()
        client.force_login(user)
        get = partial(client.get, url, query)
    else:
        request = RequestFactory().get(url, query)
        request.user = user
        match = resolve(url)
        get = partial(match.func, request, *match.args, **match.kwargs)
    before = rss_mb()
    with connection.execute_wrapper(capture):
        start = time.perf_counter()
        response = get()
        first_byte = None
        size = lines = 0
        for chunk in response.streaming_content:
            if first_byte is None:
                first_byte = time.perf_counter() - start
            size += len(chunk)
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - start
    response.close()  # as the server does when the body is sent
    if args.via == "client":
        client.logout()  # deletes the session row force_login made
    log = ExportLog.objects.get(pk__gt=last_log, user=user, report=args.report, format="csv")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "status": response.status_code,
                "rows": log.rows,
                "lines": lines,
                "bytes": size,
                "seconds": seconds,
                "first_byte_s": first_byte,
                "baseline_rss_mb": baseline,
                "before_export_rss_mb": before,
                "peak_rss_mb": peak,
                "vmhwm_mb": rss_mb("VmHWM"),
                "same_sql": any(sql == expected[0] and tuple(p) == tuple(expected[1]) for sql, p in ran),
            }
        )
    )


def run_export(args) -> dict:
    command = [sys.executable, __file__, "--child", "--report", args.report, "--user", args.user, "--via", args.via]
    for flag, name in (("--team", "team"), ("--from", "start"), ("--to", "end")):
        if getattr(args, name):
            command += [flag, getattr(args, name)]
    if args.profile:
        command = [sys.executable, "-m", "cProfile", "-o", args.profile, *command[1:]]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603 (our own argv)
    if done.returncode != 0:
        raise SystemExit(f"The export failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# COPY, in this process -------------------------------------------------------------


def run_copy(sql: str, params: tuple) -> dict:
    size = lines = 0
    # The same session settings as the export's transaction (followup.exports.export_session).
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in EXPORT_SESSION:
            cursor.execute(statement)
        raw = cursor.cursor  # psycopg's own cursor: copy() binds the parameters client-side
        start = time.perf_counter()
        with raw.copy(f"COPY ({sql}) TO STDOUT WITH CSV", params) as copy:
            for block in copy:
                size += len(block)
                lines += bytes(block).count(b"\n")
        seconds = time.perf_counter() - start
        rows = raw.rowcount
    return {"rows": rows, "lines": lines, "bytes": size, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", default="follow-up-items", choices=list(LINE_LISTS))
    parser.add_argument("--user", default="admin", help="who downloads (an admin sees every team)")
    parser.add_argument("--team", help="a team code (default: every team)")
    parser.add_argument("--from", dest="start", help="first date of the line list's period, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", help="last date of the line list's period, YYYY-MM-DD")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; medians are shown")
    parser.add_argument(
        "--via",
        choices=["view", "client"],
        default="view",
        help="view: the URL's view called with the user set (writes only the export log); "
        "client: the test client through all middleware, after force_login (also writes a session, "
        "the user's last login and an access-log row)",
    )
    parser.add_argument("--profile", help="write a cProfile of the (first) export process to this file")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The export benchmark needs PostgreSQL: set DATABASE_URL.")
    if args.child:
        child(args)
        return

    user = User.objects.get(username=args.user)
    params = query_params(args)
    sql, sql_params = export_sql(args.report, user, params)
    exports, copies = [], []
    for i in range(args.repeat):
        copies.append(run_copy(sql, sql_params))
        exports.append(run_export(args))
        args.profile = None  # profile the first run only
        print(
            f"run {i + 1}: export {exports[-1]['seconds']:.1f} s, COPY {copies[-1]['seconds']:.1f} s, "
            f"peak {exports[-1]['peak_rss_mb']:.0f} MB",
            file=sys.stderr,
        )

    def median(runs, key):
        return statistics.median(run[key] for run in runs)

    export = {key: median(exports, key) for key in ("rows", "bytes", "seconds", "peak_rss_mb", "baseline_rss_mb")}
    export["first_byte_s"] = median(exports, "first_byte_s")
    copy = {key: median(copies, key) for key in ("rows", "bytes", "seconds")}
    export["rows_per_s"] = export["rows"] / export["seconds"]
    copy["rows_per_s"] = copy["rows"] / copy["seconds"]
    ratio = export["rows_per_s"] / copy["rows_per_s"]

    print(f"{args.report}, filters {params}, as {args.user} via the {args.via}; median of {args.repeat} run(s)")
    print(f"{'':8} {'rows':>11} {'MB':>8} {'seconds':>8} {'rows/s':>10}")
    for name, run in (("export", export), ("COPY", copy)):
        print(f"{name:8} {run['rows']:11,} {run['bytes'] / 1e6:8.1f} {run['seconds']:8.2f} {run['rows_per_s']:10,.0f}")
    print(f"ratio (export / COPY rows/s): {ratio:.0%}   target >= {TARGET_RATIO:.0%}")
    print(
        f"export process RSS: baseline after Django setup {export['baseline_rss_mb']:.0f} MB, "
        f"peak {export['peak_rss_mb']:.0f} MB   target < {TARGET_PEAK_MB} MB"
    )
    print(f"export first byte after {export['first_byte_s']:.2f} s")
    checks = []
    if any(run["status"] != 200 for run in exports):
        checks.append("the download did not answer 200")
    if any(run["lines"] != run["rows"] + 1 for run in exports):
        checks.append("lines received differ from the export log's rows + header")
    if any(run["rows"] != c["rows"] for run, c in zip(exports, copies, strict=True)):
        checks.append("export and COPY row counts differ")
    if not all(run["same_sql"] for run in exports):
        checks.append("the export ran different SQL from the queryset's")
    if export["rows"] < 1_000_000:
        checks.append("fewer than 1,000,000 rows")
    print("checks: " + ("; ".join(checks) if checks else "all passed (same SQL, same rows, lines = rows + header)"))
    if args.json:
        figures = {
            "report": args.report,
            "filters": params,
            "user": args.user,
            "repeat": args.repeat,
            "export": export,
            "copy": copy,
            "ratio": ratio,
            "runs": {"export": exports, "copy": copies},
            "checks": checks,
        }
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
