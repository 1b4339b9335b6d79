"""Make the benchmark database: create it if missing, migrate, load N demo patients
(only if it does not hold exactly N already: 100,000 take about three minutes),
then VACUUM ANALYZE so that every run starts from the same planner statistics,
and load the tables into PostgreSQL's cache (pg_prewarm) so that it starts warm.

    DATABASE_URL=postgres://.../followup_bench python bench/prepare.py --patients 100000
"""

import argparse
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import dj_database_url
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


def create_database(url: str) -> None:
    config = dj_database_url.parse(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("The benchmark needs PostgreSQL: set DATABASE_URL to a postgres:// address.")
    name = config["NAME"]
    server = {"host": config["HOST"] or None, "port": config["PORT"] or None, "user": config["USER"] or None}
    if config["PASSWORD"]:
        server["password"] = config["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"Creating database {name}")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(*args: str) -> str:
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout  # noqa: S603


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_command(*, workers: int, threads: int, port: int) -> list[str]:
    """gunicorn as docs/deployment.md runs it (gthread), on loopback, for the load benchmarks."""
    return [
        str(Path(sys.executable).parent / "gunicorn"),
        "clinic.wsgi",
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-class", "gthread",
        "--bind", f"127.0.0.1:{port}",
        "--log-level", "warning",
    ]  # fmt: skip


def wait_until_up(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer /health")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    create_database(url)
    manage("migrate", "--no-input", "-v0")
    manage("collectstatic", "--no-input", "-v0")  # DEBUG is off: the pages need the collected files
    count = int(
        manage(
            "shell",
            "-c",
            # The numbered demo patients (seed_demo adds one more of its own, for the self-report page).
            "from followup.models import Patient; "
            "print(Patient.all_objects.filter(hospital_number__startswith='DEMO').count())",
        ).split()[-1]
    )
    if count != args.patients:
        if count:
            raise SystemExit(
                f"The benchmark database holds {count:,} patients, not {args.patients:,}: "
                "drop it (or choose another DATABASE_URL) and run again."
            )
        print(f"Loading {args.patients:,} demo patients (about 2 s per 1,000)...", flush=True)
        seed = [sys.executable, "manage.py", "seed_demo", "--patients", str(args.patients)]
        subprocess.run(seed, cwd=ROOT, check=True)  # noqa: S603
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
        try:  # start warm: the tables and indexes in PostgreSQL's own cache (contrib pg_prewarm)
            connection.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            connection.execute(
                "SELECT pg_prewarm(oid::regclass) FROM pg_class "
                "WHERE relname LIKE 'followup%' AND relkind IN ('r', 'i')"
            )
        except psycopg.Error as error:
            print(f"(not prewarmed: {error})")
    print(f"Benchmark database ready: {args.patients:,} patients.\n")


if __name__ == "__main__":
    main()
