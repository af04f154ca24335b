"""Per-portfolio edit locks that hold in one process and across the workers of a sandbox.

A second concurrent writer to the same portfolio gets POR0306 at once instead of waiting; see
``EditLocks`` for how the lock spans worker processes (file locks where the OS has them, a
lease row elsewhere).
"""

from __future__ import annotations

import errno
import hashlib
import os
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harness.sandbox.errors import CRRError

if TYPE_CHECKING:
    from harness.sandbox.store.sqlite import Store


class EditLocks:
    """Per-portfolio edit lock: a second concurrent writer gets POR0306 instead of waiting.

    Held in this process (a set) and, when a store is given, across the workers of a
    multi-process sandbox too: as an open-file-description byte lock (Linux ``F_OFD_SETLK``) at
    a 62-bit hash of the key in a file beside the database -- no SQLite write per edit, and the
    kernel drops the lock if a worker dies -- or, where that is unavailable, as a lease row in
    SQLite whose expiry bounds how long a dead worker's lease blocks that portfolio.
    """

    LEASE_S = 60.0

    def __init__(self, use_file_locks: bool = True) -> None:
        self._held: set[tuple[str, ...]] = set()
        self._file_locks = use_file_locks and hasattr(fcntl_module(), "F_OFD_SETLK")
        self._files: dict[tuple[int, str], int] = {}

    @property
    def _me(self) -> str:
        return f"{os.getpid()}-{id(self)}"  # read when used: workers fork after this object exists

    @contextmanager
    def hold(self, key: tuple[str, ...], store: Store | None = None) -> Iterator[None]:
        if key in self._held:
            raise CRRError("POR0306")
        lease = "\x1f".join(key)
        release = None if store is None else self._take(store, lease)
        self._held.add(key)
        try:
            yield
        finally:
            self._held.discard(key)
            if release is not None:
                release()

    def held(self, key: tuple[str, ...]) -> bool:
        return key in self._held

    def _take(self, store: Store, lease: str) -> Callable[[], None]:
        if self._file_locks and str(store.path) != ":memory:":
            return self._take_file_lock(store, lease)
        self._take_lease(store, lease)

        def release() -> None:
            with store.write() as conn:
                conn.execute("DELETE FROM edit_leases WHERE lease = ? AND holder = ?", (lease, self._me))

        return release

    def _take_file_lock(self, store: Store, lease: str) -> Callable[[], None]:
        fcntl = fcntl_module()
        where = (os.getpid(), str(store.path))  # a forked worker opens its own description
        fd = self._files.get(where)
        if fd is None:
            fd = self._files[where] = os.open(f"{store.path}-edit-locks", os.O_RDWR | os.O_CREAT, 0o600)
        offset = int.from_bytes(hashlib.blake2b(lease.encode(), digest_size=8).digest(), "big") >> 2

        def lock(kind: int) -> None:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", kind, os.SEEK_SET, offset, 1, 0))

        try:
            lock(fcntl.F_WRLCK)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise CRRError("POR0306") from None
            raise
        return lambda: lock(fcntl.F_UNLCK)

    def _take_lease(self, store: Store, lease: str) -> None:
        now = time.time()
        with store.write() as conn:
            conn.execute("DELETE FROM edit_leases WHERE lease = ? AND expires < ?", (lease, now))
            taken = conn.execute(
                "INSERT INTO edit_leases(lease, holder, expires) VALUES (?, ?, ?) ON CONFLICT(lease) DO NOTHING",
                (lease, self._me, now + self.LEASE_S),
            ).rowcount
        if not taken:
            raise CRRError("POR0306")


def fcntl_module() -> Any:
    """``fcntl`` where the platform has it (not on Windows), else None."""
    try:
        import fcntl
    except ImportError:
        return None
    return fcntl


EDIT_LOCKS = EditLocks()
