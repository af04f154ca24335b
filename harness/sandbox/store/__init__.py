"""The sandbox's persistence: one SQLite file (``sqlite``), its tables (``schema``) and the
cross-process edit lock (``locks``). The lowest layer: it imports nothing of the sandbox but
its leaves (errors, JSON codec)."""

from harness.sandbox.store.sqlite import MAX_ID, SchemaVersionError, Store, dumps, loads, next_id, next_ids

__all__ = ["MAX_ID", "SchemaVersionError", "Store", "dumps", "loads", "next_id", "next_ids"]
