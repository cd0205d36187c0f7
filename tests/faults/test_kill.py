"""The server killed with SIGKILL in the middle of a write load, then restarted: every write it
acknowledged is there, no write is there by half, and writes retried after the restart are not
doubled.

Real processes: ``bianmin up`` (gunicorn, two workers) on its own database — a SQLite file, or a
throwaway PostgreSQL database beside the test database when the suite runs on PostgreSQL — and
client threads posting 12345 work orders (``POST /api/v1/appeals/work-orders``, each order one
appeal and its "registered" timeline event, written in one transaction) over loopback. Bounded:
the load runs until a few dozen writes are acknowledged, every wait has a deadline.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.db import connection

API_KEY = "killtest-" + "k" * 40
CLIENTS = 4
ACKED_BEFORE_KILL = 30
PATH = "/api/v1/appeals/work-orders"

SETUP = f"""
from django.conf import settings
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from bianmin.regions.services import areas_load, read_area_file
info = read_area_file(settings.BASE_DIR / "regions" / "data" / "350100-2023.csv")
areas_load(rows=[r for r in info.rows if r["code"] == "350100000000" or r["code"].startswith("350102")])
from bianmin.accounts.models import ApiKey
from bianmin.regions.models import Area
ApiKey.objects.create(name="12345 平台", prefix="{API_KEY[:8]}", digest=ApiKey.digest_of("{API_KEY}"),
                      area=Area.objects.get(code="350100000000"), scopes=["appeals.12345"])
"""

CHECK = """
import json
from django.db import connection
from bianmin.appeals.models import Appeal, AppealEvent
orders = list(Appeal.objects.filter(work_order_no__startswith="K").values_list("work_order_no", flat=True))
with_event = list(AppealEvent.objects.filter(kind=AppealEvent.Kind.REGISTERED, appeal__work_order_no__startswith="K")
                  .values_list("appeal__work_order_no", flat=True).distinct())
integrity = "ok"
if connection.vendor == "sqlite":
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA integrity_check")
        integrity = cursor.fetchone()[0]
print("RESULT" + json.dumps({"orders": orders, "with_event": with_event, "integrity": integrity}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server_database(tmp_path):
    """DATABASE_URL for the server: a SQLite file, or a new PostgreSQL database (dropped after)."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.sqlite3'}"
        return
    import psycopg

    s = connection.settings_dict
    name = f"bianmin_kill_{uuid.uuid4().hex[:8]}"
    params = {"host": s["HOST"] or None, "port": s["PORT"] or None, "user": s["USER"] or None,
              "password": s["PASSWORD"] or None, "dbname": "postgres"}
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    yield f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    def __init__(self, env: dict, port: int, log_path):
        self.env, self.port, self.log_path = env, port, log_path
        self.proc: subprocess.Popen | None = None

    def start(self, deadline_seconds: float = 180) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bianmin.cli", "up", "--no-demo", "--port", str(self.port), "--workers", "2"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.healthy():
                return
            try:  # a short bounded wait that also notices a server that exited
                self.proc.wait(timeout=0.25)
            except subprocess.TimeoutExpired:
                continue
            break
        raise AssertionError(f"server not ready:\n{self.log_path.read_text(errors='replace')[-3000:]}")

    def healthy(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once (they share the process group)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


def post_orders(port: int, orders: list[str]) -> tuple[int, dict]:
    body = json.dumps([
        {"work_order_no": no, "kind": "投诉", "title": "路灯不亮", "content": f"工单 {no}：小区门口路灯不亮",
         "area_code": "350102001000", "registered_at": "2026-03-02 09:30", "name": "张三", "mobile": "13800138000"}
        for no in orders
    ], ensure_ascii=False).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", PATH, body=body, headers={"Content-Type": "application/json", "X-Api-Key": API_KEY})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def run_check(env) -> dict:
    out = subprocess.run([sys.executable, "-m", "bianmin.cli", "manage", "shell", "-c", CHECK],
                         env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def test_sigkill_during_writes_loses_no_acknowledged_write(tmp_path, server_database):
    env = {**os.environ, "BIANMIN_VAR": str(tmp_path / "var"), "DATABASE_URL": server_database,
           "SECRET_KEY": "kill-test-" + "s" * 50, "BIANMIN_DEBUG": "0", "BIANMIN_LOG_LEVEL": "WARNING"}
    setup = subprocess.run([sys.executable, "-m", "bianmin.cli", "manage", "shell", "-c", SETUP],
                           env=env, capture_output=True, text=True, timeout=300)
    assert setup.returncode == 0, setup.stderr

    server = Server(env, free_port(), tmp_path / "server.log")
    acked: set[str] = set()
    unacked: list[list[str]] = []
    bad_status: list[tuple[int, dict]] = []
    lock = threading.Lock()
    enough, killed = threading.Event(), threading.Event()

    def client(i: int) -> None:
        n = 0
        while not killed.is_set() or n == 0:
            orders = [f"K{i}-{n}-{j}" for j in range(2)]
            n += 1
            try:
                status, body = post_orders(server.port, orders)
            except (OSError, http.client.HTTPException):  # refused, reset, cut mid-answer: not acknowledged
                with lock:
                    unacked.append(orders)
                if killed.is_set():
                    return
                continue
            with lock:
                if status == 200 and set(body.get("numbers", {})) == set(orders):
                    acked.update(orders)
                    if len(acked) >= ACKED_BEFORE_KILL:
                        enough.set()
                else:
                    bad_status.append((status, body))
                    unacked.append(orders)

    try:
        server.start()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        assert enough.wait(timeout=120), f"load did not get going: {bad_status[:3]}"
        server.kill()  # mid-load: requests are in flight
        killed.set()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
        # No 5xx ("database is locked" included) reached a client while the server ran.
        assert bad_status == []

        server.start()
        # Clients retry what was not acknowledged: the work-order number makes it idempotent.
        for orders in unacked:
            status, body = post_orders(server.port, orders)
            assert status == 200, body
        result = run_check(env)
    finally:
        server.kill()

    sent = acked | {o for batch in unacked for o in batch}
    assert result["integrity"] == "ok"
    assert acked <= set(result["orders"])  # every acknowledged write survived
    assert sorted(result["orders"]) == sorted(sent)  # retried writes not doubled
    assert sorted(result["with_event"]) == sorted(result["orders"])  # none half-written
