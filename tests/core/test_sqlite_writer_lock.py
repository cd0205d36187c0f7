"""SQLite writers queue on a file lock before BEGIN IMMEDIATE (core/db/sqlite3/base.py)."""

import os
import signal
import subprocess
import sys

import pytest
from django.db import connection, transaction

from bianmin.core.db.sqlite3.base import WriterLock


def test_a_second_writer_waits_for_the_first_and_gets_the_lock_when_it_is_released(tmp_path):
    path = str(tmp_path / "db-writer.lock")
    first, second = WriterLock(path, timeout=5), WriterLock(path, timeout=0)
    assert first.acquire()
    assert second.acquire() is False  # timed out: left to SQLite's busy handler
    assert not second.held
    first.release()
    assert second.acquire()
    second.close()
    first.close()


def test_the_lock_of_a_killed_process_is_released(tmp_path):
    path = str(tmp_path / "db-writer.lock")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()", path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        waiter = WriterLock(path, timeout=0)
        assert waiter.acquire() is False
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        waiter.timeout = 10
        assert waiter.acquire()
        waiter.close()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


@pytest.mark.django_db(transaction=True)
def test_a_write_transaction_holds_the_lock_until_commit_or_rollback():
    if connection.vendor != "sqlite":
        assert getattr(connection, "writer_lock", None) is None
        return
    connection.ensure_connection()
    lock = connection.writer_lock
    assert lock is not None and lock.path.endswith("-writer.lock")
    with transaction.atomic():
        assert lock.held
        with transaction.atomic():  # a savepoint takes nothing more
            assert lock.held
    assert not lock.held
    with pytest.raises(RuntimeError), transaction.atomic():
        assert lock.held
        raise RuntimeError("回滚")
    assert not lock.held
    other = WriterLock(lock.path, timeout=0)
    assert other.acquire()  # nobody holds it between transactions
    other.close()
