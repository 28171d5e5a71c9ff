"""Indexes FerretDB 1.24 does not make usable by itself, added by the deploy step for each backend.

FerretDB pushes an equality filter down to its backend, but the indexes it creates for `createIndexes`
cannot serve that SQL (measured; see the README's "Storage" section):

- **PostgreSQL** (the default): equality becomes `_jsonb->'field' @> $1`, which FerretDB's own B-tree
  indexes on `(_jsonb->'field')` cannot answer. `postgres/ferretdb-gin-indexes.sql` installs an event
  trigger that gives every single-field or leading B-tree index FerretDB creates a GIN twin on the same
  expression, at the moment FerretDB creates it. The application declares ordinary MongoDB indexes; the
  trigger learns the table (FerretDB names tables `<collection>_<hash>`, listed in each schema's
  `_ferretdb_database_metadata`) from the DDL event itself, so no name has to be looked up.
- **SQLite** (the fallback): only `_id` equality is pushed down, as `_ferretdb_sjson->'$._id' = ?`, while
  FerretDB indexes `_ferretdb_sjson->"_id"`; SQLite uses an expression index only for the exact same
  expression. `SQLiteIdIndexer` adds that exact index to every collection's table (tables listed in each
  database file's `_ferretdb_collections`). Other filters stay full scans on SQLite.
"""
from __future__ import annotations

import logging
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

GIN_TRIGGER_SQL = Path(__file__).resolve().parent / "postgres" / "ferretdb-gin-indexes.sql"
FERRETDB_DATABASE = "ferretdb"


def prepare_postgres(bin_dir: Path, port: int, process: subprocess.Popen, log_path: Path, timeout: float = 60) -> str:
    """Create FerretDB's database and install the GIN trigger (idempotent); returns FerretDB's PostgreSQL URL."""
    psql = [str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt"]
    deadline = time.monotonic() + timeout
    while True:  # the port answers before the server accepts sessions ("the database system is starting up")
        ready = subprocess.run(psql + ["-d", "postgres", "-c", "SELECT 1"], capture_output=True, text=True)
        if ready.returncode == 0:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"[duban] PostgreSQL did not accept sessions: {ready.stderr.strip()}; see {log_path}")
        time.sleep(0.2)
    exists = subprocess.run(psql + ["-d", "postgres", "-c", f"SELECT 1 FROM pg_database WHERE datname = '{FERRETDB_DATABASE}'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if not exists:
        subprocess.run(psql + ["-d", "postgres", "-c", f"CREATE DATABASE {FERRETDB_DATABASE}"], check=True)
    subprocess.run(psql + ["-d", FERRETDB_DATABASE, "-f", str(GIN_TRIGGER_SQL)], check=True,
                   stderr=subprocess.DEVNULL)  # NOTICEs of the idempotent DROP … IF EXISTS
    return f"postgres://postgres@127.0.0.1:{port}/{FERRETDB_DATABASE}"


def ensure_sqlite_id_indexes(data_dir: Path) -> int:
    """Give every FerretDB table under ``data_dir`` the `_id` index its lookups can use; returns how many were added."""
    added = 0
    for database in sorted(data_dir.glob("*.sqlite")):
        connection = sqlite3.connect(database, timeout=5)
        try:
            tables = [row[0] for row in connection.execute("SELECT table_name FROM _ferretdb_collections")]
            existing = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
            for table in tables:
                name = f"{table}_duban_id"
                if name not in existing:
                    connection.execute(f"CREATE INDEX IF NOT EXISTS \"{name}\" ON \"{table}\" (_ferretdb_sjson->'$._id')")
                    added += 1
            connection.commit()
        except sqlite3.Error as error:  # a file FerretDB is still creating, or busy: the next pass gets it
            log.debug("sqlite index pass skipped %s: %s", database, error)
        finally:
            connection.close()
    return added


class SQLiteIdIndexer:
    """Adds the `_id` expression index to new FerretDB/SQLite collections every few seconds (SQLite has no DDL triggers)."""

    def __init__(self, data_dir: Path, interval: float = 2.0):
        self.data_dir = data_dir
        self.interval = interval
        self._stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, name="sqlite-id-indexer", daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            ensure_sqlite_id_indexes(self.data_dir)

    def stop(self) -> None:
        self._stop.set()
