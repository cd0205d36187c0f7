"""Django's SQLite backend, with writers queued on a file lock before ``BEGIN IMMEDIATE``.

Why: SQLite has one write lock per database. A writer that finds it taken waits in SQLite's
busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25… ms between tries: when a transaction holds
the lock for 2 ms, the next writer typically sleeps 8 ms, and with a few gunicorn workers the
cores sit idle while requests wait. Here each write transaction first takes an advisory
``flock`` on ``<database>-writer.lock`` (polled every fraction of a millisecond), so the next
writer starts as soon as the previous one commits. The kernel drops the lock of a process that
dies (a SIGKILLed worker cannot leave it held). Correctness still rests on SQLite's own locking:
a process without this backend (the sqlite3 shell, a backup) is simply not queued here, and
after ``timeout`` seconds of waiting the transaction goes ahead to SQLite's busy handler as
before.
"""

from __future__ import annotations

import fcntl
import os
import time

from django.db.backends.sqlite3 import base

POLL_SECONDS = 0.0002


class WriterLock:
    """An advisory exclusive lock on one file, held by one connection at a time."""

    def __init__(self, path: str, timeout: float):
        self.path = path
        self.timeout = timeout
        self.fd: int | None = None
        self.held = False

    def acquire(self) -> bool:
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = None
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.held = True
                return True
            except BlockingIOError:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.timeout
                elif now >= deadline:
                    return False  # SQLite's busy handler decides from here
                time.sleep(POLL_SECONDS)

    def release(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.release()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class DatabaseWrapper(base.DatabaseWrapper):
    writer_lock: WriterLock | None = None

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        if self.writer_lock is None and not self.is_in_memory_db():
            self.writer_lock = WriterLock(f"{self.settings_dict['NAME']}-writer.lock",
                                          float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5)))
        return conn

    def _start_transaction_under_autocommit(self):
        lock = self.writer_lock
        if lock is None:
            return super()._start_transaction_under_autocommit()
        lock.acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            lock.release()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer()

    def _close(self):
        try:
            return super()._close()
        finally:
            if self.writer_lock is not None:
                self.writer_lock.close()
                self.writer_lock = None

    def _release_writer(self):
        if self.writer_lock is not None:
            self.writer_lock.release()
