"""The sandbox's state: one SQLite file in WAL mode.

Why SQLite + WAL + ``synchronous=NORMAL``: a write the sandbox acknowledged (HTTP 200) must
survive the server being killed, since QA restarts the sandbox between plan weeks and the
durability test SIGKILLs it. In WAL mode a commit is durable once its frames are in the WAL
file, which ``write()``'s COMMIT puts there before the handler answers; with NORMAL the WAL is
only fsync'd at checkpoints, so an OS crash or power loss could lose the last commits, but a
killed *process* cannot (the OS page cache still holds the WAL). That is the failure the
sandbox must survive, at a fraction of FULL's cost per write.

Why synchronous calls on the event loop: every statement the sandbox runs is sub-millisecond,
and running them inline means the single-threaded aiohttp loop serialises writers for free
(no lock, no SQLITE_BUSY inside one process). Several worker processes (``--workers``) share
the file through SQLite's own locking with a busy timeout.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.sandbox import jsoncodec, registry

_CORE_SCHEMA = ("CREATE TABLE IF NOT EXISTS id_sequences (kind TEXT PRIMARY KEY, value INTEGER NOT NULL)",)

MAX_ID = 9_999_999_999  # CAISO ids (bids, CRRs) fit in ten digits


def dumps(value: Any) -> str:
    """JSON text for a JSON column (compact, stable key order for comparisons)."""
    return jsoncodec.dumps_sorted(value)


def loads(text: str | bytes | None) -> Any:
    return None if text is None else jsoncodec.loads(text)


def next_id(conn: sqlite3.Connection, kind: str, start: int = 1) -> int:
    """Next id of a kind: monotonic in committed state (a rolled-back write gives its id back)."""
    row = conn.execute(
        "INSERT INTO id_sequences(kind, value) VALUES (?, ?) "
        "ON CONFLICT(kind) DO UPDATE SET value = value + 1 RETURNING value",
        (kind, start),
    ).fetchone()
    value = int(row[0])
    if value > MAX_ID:
        raise OverflowError(f"id sequence {kind!r} exhausted")
    return value


class Store:
    """One connection per process; ``write()`` is an IMMEDIATE transaction, reentrant."""

    def __init__(self, path: str | Path, busy_timeout_ms: int = 10_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so a transaction means
        # exactly what write() says; check_same_thread=False because tests and the CLI
        # may touch the store from another thread, guarded by self._lock.
        self._conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
        )
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        conn = self._conn
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys=ON")
        self.create_schema()

    def create_schema(self) -> None:
        """Run the core DDL and every service's ``registry.schema`` DDL (idempotent)."""
        # executescript (not a write() transaction): DDL may hold several statements, and
        # IF NOT EXISTS makes each one idempotent, also when several workers start at once.
        import harness.sandbox.clock  # noqa: F401  (core tables register on import)
        import harness.sandbox.holdings  # noqa: F401
        import harness.sandbox.markets  # noqa: F401
        import harness.sandbox.participants  # noqa: F401

        registry.load_services()
        with self._lock:
            for ddl in (*_CORE_SCHEMA, *registry.SCHEMAS):
                self._conn.executescript(ddl)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; rollback on exception. Nested calls join the outer one."""
        with self._transaction("BEGIN IMMEDIATE", undo="ROLLBACK") as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several SELECTs (joins an open write)."""
        with self._transaction("BEGIN DEFERRED", undo="COMMIT") as conn:
            yield conn

    @contextmanager
    def _transaction(self, begin: str, *, undo: str) -> Iterator[sqlite3.Connection]:
        """``begin`` ... COMMIT, ending with ``undo`` on an exception; an inner call joins the
        transaction already open on this connection instead of starting its own."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute(begin)
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._depth = 0
                self._conn.execute(undo)
                raise
            self._depth = 0
            self._conn.execute("COMMIT")

    def next_id(self, conn: sqlite3.Connection, kind: str, start: int = 1) -> int:
        return next_id(conn, kind, start)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
