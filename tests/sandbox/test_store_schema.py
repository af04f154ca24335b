"""The sandbox database records its schema version and refuses a file of another version
(issue 10): every table comes from one explicit list, not from modules being imported."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.sandbox.store import SchemaVersionError, Store
from harness.sandbox.store.schema import SCHEMA_VERSION, TABLES


def test_a_new_file_gets_every_table_and_the_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "crr.db")
    store.close()
    conn = sqlite3.connect(tmp_path / "crr.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    declared = {ddl.split("EXISTS", 1)[1].split("(", 1)[0].strip() for ddl in TABLES if "CREATE TABLE" in ddl}
    assert tables == declared and len(tables) >= 20
    conn.close()
    Store(tmp_path / "crr.db").close()  # opening it again is fine


@pytest.mark.parametrize("version", [0, SCHEMA_VERSION + 1])
def test_a_file_of_another_schema_is_refused_with_a_sentence(tmp_path: Path, version: int) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE markets (name TEXT PRIMARY KEY)")  # a pre-version file has tables
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError) as refused:
        Store(db)
    text = str(refused.value)
    assert str(db) in text and f"schema version {SCHEMA_VERSION}" in text and "delete the file" in text


def test_sandbox_serve_refuses_an_old_database_before_it_starts(tmp_path: Path, dev_pki) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE markets (name TEXT PRIMARY KEY)")
    conn.commit()
    conn.close()
    done = CliRunner().invoke(
        cli, ["sandbox", "serve", "--port", "0", "--pki", str(dev_pki.directory), "--db", str(db)]
    )
    assert done.exit_code == 2, done.output
    assert "written by a crrsim from before schema versions" in " ".join(done.output.split())
    assert "Traceback" not in done.output
