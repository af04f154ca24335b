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

from harness.sandbox import jsoncodec
from harness.sandbox.store.schema import SCHEMA_VERSION, TABLES

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


def next_ids(conn: sqlite3.Connection, kind: str, count: int) -> list[int]:
    """``count`` consecutive ids of a kind in one statement (``next_id``'s sequence): a 500-bid
    upload or a cleared auction's 50,000 grants would otherwise pay one round trip each."""
    if count <= 0:
        return []
    row = conn.execute(
        "INSERT INTO id_sequences(kind, value) VALUES (?, ?) "
        "ON CONFLICT(kind) DO UPDATE SET value = value + ? RETURNING value",
        (kind, count, count),
    ).fetchone()
    last = int(row[0])
    if last > MAX_ID:
        raise OverflowError(f"id sequence {kind!r} exhausted")
    return list(range(last - count + 1, last + 1))


class SchemaVersionError(RuntimeError):
    """The database file was written by another version of the sandbox's schema."""

    def __init__(self, path: Path, found: int) -> None:
        self.path, self.found = path, found
        written = f"schema version {found}" if found else "a crrsim from before schema versions"
        super().__init__(
            f"The sandbox database {path} was written by {written}; this crrsim uses schema version "
            f"{SCHEMA_VERSION}. It holds rehearsal data only: move or delete the file (and its -wal/-shm "
            f"files) to start afresh, or give another one with --db."
        )


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
        """Create every table of ``schema.TABLES`` (idempotent), after checking that the file
        was written by this schema version; a new file is stamped with it."""
        # executescript (not a write() transaction): DDL may hold several statements, and
        # IF NOT EXISTS makes each one idempotent, also when several workers start at once.
        with self._lock:
            found = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
            if found not in (0, SCHEMA_VERSION) or (found == 0 and self._has_tables()):
                raise SchemaVersionError(self.path, found)
            for ddl in TABLES:
                self._conn.executescript(ddl)
            if found == 0:
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _has_tables(self) -> bool:
        """A file with tables but no version stamp predates schema versions (crrsim <= 0.1)."""
        return (
            self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone()
            is not None
        )

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
