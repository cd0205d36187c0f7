"""gunicorn settings of ``bianmin up`` (``-c python:bianmin.gunicorn_conf``): the task worker
(``bianmin worker``) runs as a child of gunicorn's master, so the one-command demo also sends
its SMS, builds its daily lists and its export files.

``when_ready`` starts the worker once the master is up; ``on_exit`` stops it (SIGTERM: it ends
its current task, or is killed after ``STOP_TIMEOUT``; an export cut short is taken over by a
later run, see exports/services.py). The worker is a fresh interpreter (fork + exec through
subprocess), not a fork of the master: the master preloaded the application and the search
dictionary, which the worker does not need. It runs in its own session, so Ctrl-C in the
terminal reaches gunicorn, which stops it in order; if it dies, it is started again after a
growing delay. If the master dies without stopping it (SIGKILL, an out-of-memory kill), the
worker notices that its parent is gone and ends itself (``run_worker_child``), rather than
living on as an orphan. ``bianmin up --no-worker`` (BIANMIN_UP_WORKER=0) leaves it out, for deployments
that run their workers apart.

gunicorn's master reaps every child that exits (``waitpid(-1)``), this one included; then
``Popen.wait`` returns 0, which is enough: only the exit matters here, not its status."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

WORKER_ENV = "BIANMIN_UP_WORKER"
STOP_TIMEOUT = 15  # seconds for the worker to end its task after SIGTERM
RESTART_DELAYS = (1, 5, 30, 60)  # seconds before restarting a worker that died, by consecutive failures
HEALTHY_AFTER = 60  # a worker that ran this long resets the delay

log = logging.getLogger("bianmin.up")


def worker_command() -> list[str]:
    # this module as a program: `bianmin worker`, bound to the life of the master (run_worker_child)
    return [sys.executable, "-m", "bianmin.gunicorn_conf"]


PARENT_CHECK_EVERY = 2.0  # seconds


def watch_parent(parent: int, *, every: float = PARENT_CHECK_EVERY, sleep=time.sleep) -> None:
    """End this process (SIGTERM: the worker finishes its current task) once ``parent`` is no
    longer its parent, i.e. the master that started it died and it was re-parented."""
    while True:
        sleep(every)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def run_worker_child(argv: list[str]) -> int:
    """``python -m bianmin.gunicorn_conf``: ``bianmin worker`` watched by a thread that ends it
    when the gunicorn master is gone."""
    threading.Thread(target=watch_parent, args=(os.getppid(),), name="bianmin-parent-watch", daemon=True).start()
    from bianmin.cli import main

    return main(["worker", *argv])


def _spawn() -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("BIANMIN_WARM_SEARCH", None)  # the web's preload, not the worker's
    return subprocess.Popen(worker_command(), env=env, start_new_session=True)


class TaskWorker:
    """The worker process and the thread that restarts it if it dies."""

    def __init__(self, spawn=None, delays=RESTART_DELAYS, clock=time.monotonic):
        self._spawn = spawn or _spawn
        self._delays = delays
        self._clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.proc = None

    def start(self, *, watch: bool = True) -> None:
        self._stopping.clear()
        self.proc = self._spawn()
        log.info("后台任务进程已启动（pid %s）", self.proc.pid)
        if watch:
            self._thread = threading.Thread(target=self.watch, name="bianmin-task-worker", daemon=True)
            self._thread.start()

    def watch(self) -> None:
        """Wait for the worker; start it again when it exits, unless we are stopping."""
        failures = 0
        while not self._stopping.is_set():
            started = self._clock()
            code = self.proc.wait()
            if self._stopping.is_set():
                return
            failures = 0 if self._clock() - started >= HEALTHY_AFTER else failures + 1
            delay = self._delays[min(max(failures - 1, 0), len(self._delays) - 1)]
            log.warning("后台任务进程已退出（返回码 %s），%s 秒后重新启动", code, delay)
            if self._stopping.wait(delay):
                return
            self.proc = self._spawn()
            log.info("后台任务进程已重新启动（pid %s）", self.proc.pid)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        self._stopping.set()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("后台任务进程未在 %s 秒内结束，强制停止", timeout)
                proc.kill()
                proc.wait()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


_worker: TaskWorker | None = None


def enabled() -> bool:
    return os.environ.get(WORKER_ENV, "1") != "0"


def when_ready(server) -> None:
    global _worker
    if not enabled():
        server.log.info("未随服务启动后台任务进程（--no-worker）：请另行运行 bianmin worker")
        return
    _worker = TaskWorker()
    _worker.start()


def on_exit(server) -> None:
    global _worker
    if _worker is not None:
        _worker.stop()
        _worker = None


if __name__ == "__main__":
    sys.exit(run_worker_child(sys.argv[1:]))
