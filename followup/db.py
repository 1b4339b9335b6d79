"""Which database a query goes to: reports and exports may read from a replica.

With DATABASE_REPLICA_URL set, settings add a "replica" alias. Reads made inside
`reporting()` go there; every other read, and every write, goes to "default" (the
primary), so a nurse always sees what she has just saved. Without the alias
everything goes to "default", inside `reporting()` or not.

The alias is looked up when a query runs, not at import, so tests can add one.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_reporting: ContextVar[bool] = ContextVar("reporting", default=False)


@contextmanager
def reporting(active: bool = True) -> Iterator[None]:
    """Reads inside go to the replica, if there is one. A context manager or a decorator.

    `reporting(False)` switches it off again inside. The previous state is restored
    by value rather than by token, so a streamed download that is closed from
    another context (or garbage-collected) does not raise.
    """
    previous = _reporting.get()
    _reporting.set(active)
    try:
        yield
    finally:
        _reporting.set(previous)


def reporting_active() -> bool:
    return _reporting.get()


def report_db() -> str:
    """The alias reads go to right now: the replica inside `reporting()` when configured."""
    if _reporting.get() and REPLICA in connections.settings:
        return REPLICA
    return DEFAULT_DB_ALIAS


class ReportingRouter:
    """DATABASE_ROUTERS entry: the replica for reports only, the primary for everything else."""

    def db_for_read(self, model, **hints) -> str:
        # Never None: Django would then follow an instance's own database, and a
        # row read from the replica would pull its relations from there too.
        return report_db()

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # The replica is a copy of the primary: a row from either may point at the other's.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        # Migrations run on the primary; streaming replication copies them.
        return db == DEFAULT_DB_ALIAS
