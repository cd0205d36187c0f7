"""`bianmin up` runs the task worker as a child of gunicorn's master (bianmin/gunicorn_conf.py):
started when the master is ready, restarted if it dies, stopped on exit; left out with
--no-worker. Tested with fake processes, not a real gunicorn."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from bianmin import cli, gunicorn_conf


class FakeProc:
    def __init__(self, pid, *, exits_at_once=False, ignores_term=False):
        self.pid = pid
        self.returncode = 0 if exits_at_once else None
        self.ignores_term = ignores_term
        self.calls = []
        self._ended = threading.Event()
        if exits_at_once:
            self._ended.set()

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        if not self._ended.wait(timeout if timeout is not None else 5):
            raise subprocess.TimeoutExpired("bianmin worker", timeout)
        return self.returncode

    def terminate(self):
        self.calls.append("terminate")
        if not self.ignores_term:
            self._end(-15)

    def kill(self):
        self.calls.append("kill")
        self._end(-9)

    def _end(self, code):
        self.returncode = code
        self._ended.set()


class FakeServer:
    class log:
        messages: list = []

        @classmethod
        def info(cls, msg, *args):
            cls.messages.append(msg % args if args else msg)


@pytest.fixture
def spawned(monkeypatch):
    procs = []

    def spawn():
        procs.append(FakeProc(1000 + len(procs)))
        return procs[-1]

    monkeypatch.setattr(gunicorn_conf, "_spawn", spawn)
    monkeypatch.setattr(gunicorn_conf, "_worker", None)
    return procs


def test_when_ready_starts_the_worker_and_on_exit_stops_it(spawned, monkeypatch):
    monkeypatch.delenv(gunicorn_conf.WORKER_ENV, raising=False)
    gunicorn_conf.when_ready(FakeServer)
    assert len(spawned) == 1 and spawned[0].poll() is None
    gunicorn_conf.on_exit(FakeServer)
    assert spawned[0].calls == ["terminate"] and len(spawned) == 1  # stopped, not restarted
    assert gunicorn_conf._worker is None


def test_no_worker_leaves_it_out(spawned, monkeypatch):
    monkeypatch.setenv(gunicorn_conf.WORKER_ENV, "0")
    gunicorn_conf.when_ready(FakeServer)
    gunicorn_conf.on_exit(FakeServer)
    assert spawned == [] and any("--no-worker" in m for m in FakeServer.log.messages)


def test_a_worker_that_ignores_sigterm_is_killed_after_the_timeout():
    proc = FakeProc(7, ignores_term=True)
    worker = gunicorn_conf.TaskWorker(spawn=lambda: proc)
    worker.start(watch=False)
    worker.stop(timeout=0.01)
    assert proc.calls == ["terminate", "kill"] and proc.returncode == -9


def test_a_worker_that_dies_is_started_again():
    first = FakeProc(1, exits_at_once=True)
    procs = [first]
    worker = gunicorn_conf.TaskWorker(spawn=lambda: procs[-1], delays=(0,))

    def respawn():
        # the second process: when the watcher waits for it, the server is stopping
        second = FakeProc(2)
        original_wait = second.wait

        def wait(timeout=None):
            worker._stopping.set()
            second._end(0)
            return original_wait(timeout)

        second.wait = wait
        procs.append(second)
        return second

    worker.start(watch=False)
    worker._spawn = respawn
    worker.watch()  # returns once stopping; synchronous, no thread
    assert [p.pid for p in procs] == [1, 2] and worker.proc is procs[1]


def test_the_worker_is_a_fresh_interpreter_in_its_own_session(monkeypatch):
    seen = {}

    def popen(cmd, **kwargs):
        seen.update(cmd=cmd, **kwargs)
        return FakeProc(3)

    monkeypatch.setattr(gunicorn_conf.subprocess, "Popen", popen)
    monkeypatch.setenv("BIANMIN_WARM_SEARCH", "1")
    gunicorn_conf._spawn()
    assert seen["cmd"] == [sys.executable, "-m", "bianmin.gunicorn_conf"]
    assert seen["start_new_session"] is True and "BIANMIN_WARM_SEARCH" not in seen["env"]


@pytest.mark.django_db
@pytest.mark.parametrize(("flag", "env"), [([], "1"), (["--no-worker"], "0")])
def test_up_runs_gunicorn_with_the_hooks(monkeypatch, capsys, flag, env):
    import django.core.management

    monkeypatch.setattr(django.core.management, "call_command", lambda *a, **k: None)
    execs = []

    def execv(path, args):
        execs.append(args)

    monkeypatch.setattr(cli.os, "execv", execv)
    for name in ("BIANMIN_UP_WORKER", "BIANMIN_WARM_SEARCH"):  # set by `up`: restored after the test
        monkeypatch.setenv(name, "unset")
    monkeypatch.delenv("BIANMIN_PUBLIC_BASE_URL", raising=False)  # set by `up` too
    assert cli.main(["up", "--no-demo", "--port", "8141", *flag]) == 0
    args = execs[0]
    assert args[args.index("-c") + 1] == "python:bianmin.gunicorn_conf" and "--preload" in args
    assert cli.os.environ["BIANMIN_UP_WORKER"] == env
    assert ("未启动（--no-worker）" in capsys.readouterr().out) == bool(flag)


def test_the_worker_ends_itself_when_the_master_is_gone(monkeypatch):
    """Killed with SIGKILL, the master cannot stop its worker: the worker sees it was re-parented
    and sends itself SIGTERM (graceful: it finishes its task)."""
    import signal

    parents = iter([100, 100, 1])
    killed = []
    monkeypatch.setattr(gunicorn_conf.os, "getppid", lambda: next(parents))
    monkeypatch.setattr(gunicorn_conf.os, "kill", lambda pid, sig: killed.append(sig))
    naps = []
    gunicorn_conf.watch_parent(100, sleep=naps.append)
    assert killed == [signal.SIGTERM] and len(naps) == 3


def test_the_child_program_is_bianmin_worker_with_the_watch(monkeypatch):
    started, ran = [], []

    class FakeThread:
        def __init__(self, target, args, name, daemon):
            started.append((target, args, daemon))

        def start(self):
            pass

    monkeypatch.setattr(gunicorn_conf.threading, "Thread", FakeThread)
    monkeypatch.setattr(cli, "main", lambda argv: ran.append(argv) or 0)
    assert gunicorn_conf.run_worker_child(["--interval", "2"]) == 0
    assert ran == [["worker", "--interval", "2"]]
    assert started[0][0] is gunicorn_conf.watch_parent and started[0][2] is True
