"""Opening a run database for writing, shared by any number of processes.

Several runs, sweeps and viewers may use one file at once (every shipped scenario defaults
to `runs/simkit.db`). The file is in WAL mode, so readers never wait for a writer; writers
take turns. Every write is one `BEGIN IMMEDIATE` transaction: it takes the write lock
before it reads anything, so two writers never deadlock on a lock upgrade (which SQLite
reports at once as "database is locked", whatever the busy timeout), and a writer that
finds the lock taken waits for it up to `wait_seconds()` (default 120 s, environment
variable `SIMKIT_DB_WAIT`). A tick's commit holds the lock for milliseconds, so that bound
is only met when another process holds the file far longer (a stuck or external writer);
then `DatabaseBusy` says so in one line.

`store_error` turns what SQLite and the OS raise about a database file (not a database,
a directory, read-only, disk full, under a file) into one line naming the file.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils

from simkit.errors import SimkitError, UsageError

DEFAULT_WAIT_S = 120.0
last_opened: Path | None = None  # the database a failure most likely concerns (named in the CLI's error line)


class DatabaseBusy(SimkitError):
    """Another process held the run database's write lock for longer than the wait bound."""


def wait_seconds() -> float:
    raw = os.environ.get("SIMKIT_DB_WAIT", "")
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_WAIT_S
    except ValueError:
        raise UsageError(f"SIMKIT_DB_WAIT={raw!r}: expected a number of seconds") from None


def store_error(exc: BaseException, path: Path | str) -> SimkitError | None:
    """One clear line for a failure to use the database file at `path`, or None when `exc`
    is not about the file. Usage errors (exit 2) for a path that cannot be a run database;
    runtime errors (exit 1) for a full disk, a lock held too long or a damaged file."""
    text = str(exc)
    low = text.lower()
    if isinstance(exc, sqlite3.Error):
        if "database is locked" in low or "database is busy" in low:
            return DatabaseBusy(f"{path}: another process kept the database locked for over {wait_seconds():g} s "
                                "(raise SIMKIT_DB_WAIT to wait longer)")
        if "disk is full" in low or "disk i/o error" in low:
            return SimkitError(f"{path}: the disk is full (or failed) while writing the database")
        if "file is not a database" in low or "file is encrypted" in low:
            return UsageError(f"{path}: not a SQLite run database (name a simkit database file, or a new path)")
        if "malformed" in low or "corrupt" in low:
            return SimkitError(f"{path}: the database file is damaged ({text})")
        if "readonly" in low or "read-only" in low:
            return UsageError(f"{path}: the database is read-only (check the file's and folder's permissions)")
        if "unable to open" in low:
            p = Path(path)
            if p.is_dir():
                return UsageError(f"{path}: is a directory, expected a database file")
            return UsageError(f"{path}: cannot open or create the database file (does its folder exist and is it writable?)")
        return None
    if isinstance(exc, OSError):
        where = exc.filename or path
        if exc.errno == errno.ENOSPC:
            return SimkitError(f"{where}: the disk is full")
        if isinstance(exc, (NotADirectoryError, FileExistsError)):
            return UsageError(f"{path}: cannot create it: a part of its folder path is a file, not a folder")
        if isinstance(exc, IsADirectoryError):
            return UsageError(f"{where}: is a directory, expected a file")
        if isinstance(exc, PermissionError):
            return UsageError(f"{where}: permission denied")
        if exc.errno in (errno.EROFS,):
            return UsageError(f"{where}: read-only file system")
        return None
    return None


@contextmanager
def translated(path: Path | str) -> Iterator[None]:
    """Re-raise SQLite/OS failures about `path` as one-line simkit errors."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        mapped = store_error(exc, path)
        if mapped is None:
            raise
        raise mapped from exc


def open_for_writing(path: Path) -> sqlite_utils.Database:
    """The database at `path` (created, with its folder, if missing) in WAL mode, with the
    busy timeout set before the first statement."""
    path = Path(path)
    global last_opened
    last_opened = path
    with translated(path):
        if path.is_dir():
            raise UsageError(f"{path}: is a directory, expected a database file")
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=wait_seconds(), check_same_thread=False)
        db = sqlite_utils.Database(conn)
        deadline = time.monotonic() + wait_seconds()
        while True:  # two processes creating one new file may both try to switch it to WAL
            try:
                db.enable_wal()
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        db.execute("PRAGMA synchronous=NORMAL")
    return db


@contextmanager
def write_transaction(db: sqlite_utils.Database, path: Path | str) -> Iterator[None]:
    """One IMMEDIATE transaction: all of the block's writes, or none of them. sqlite-utils
    calls inside nest as savepoints."""
    conn = db.conn
    with translated(path):
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
