"""Platform-level behaviour: the bianmin command, production settings, the API's conventions."""

import json
import os
import subprocess
import sys

import pytest

from bianmin import cli


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
     ("0.0.0.0", False), ("192.168.1.10", False), ("::", False), ("example.org", False)],
)
def test_loopback_detection(host, loopback):
    assert cli._is_loopback(host) is loopback


@pytest.mark.django_db(transaction=True)
def test_up_refuses_network_while_demo_logins_exist(capsys):
    from bianmin.accounts.models import User

    User.objects.create(username="demo_x", is_demo=True)
    assert cli.main(["up", "--no-demo", "--host", "0.0.0.0", "--port", "8999"]) == 2
    assert "演示账号" in capsys.readouterr().err


def test_check_deploy_is_clean_without_debug(tmp_path):
    env = {**os.environ, "BIANMIN_DEBUG": "0", "BIANMIN_VAR": str(tmp_path), "SECRET_KEY": "x" * 60 + "Qz9!"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bianmin.cli", "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_openapi_schema_and_docs_are_local(client):
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


@pytest.mark.django_db
def test_json_keeps_chinese_unescaped(client, areas):
    response = client.get("/api/v1/areas/350102")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "鼓楼区".encode() in response.content
    assert json.loads(response.content)["name"] == "鼓楼区"


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["999999", "35010", "abc", "350102999000"])
def test_unknown_area_is_404_in_chinese(client, areas, code):
    response = client.get(f"/api/v1/areas/{code}")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found" and "区划" in body["message"]


@pytest.mark.django_db
def test_worker_queues_a_delivery_run_before_it_starts(monkeypatch):
    """`bianmin worker` sends what waited while no worker ran: a delivery run is queued first."""
    from django_tasks_db.models import DBTaskResult

    from bianmin.core.tasks import deliver_outbox

    started = []
    monkeypatch.setattr(cli, "cmd_manage", lambda argv: started.append(argv) or 0)
    assert cli.cmd_worker([]) == 0
    assert started == [["db_worker"]]
    assert DBTaskResult.objects.filter(task_path=deliver_outbox.module_path, status="READY").count() == 1


@pytest.mark.django_db
def test_worker_starts_the_nightly_purge_of_rate_counters(monkeypatch):
    """Nothing queued purge_rate_counters before: the RateCounter table only grew under `bianmin
    worker`. The worker's start queues it once; each run queues the next night's."""
    from django_tasks_db.models import DBTaskResult

    from bianmin.core.tasks import purge_rate_counters

    monkeypatch.setattr(cli, "cmd_manage", lambda argv: 0)
    cli.cmd_worker([])
    cli.cmd_worker([])
    queued = DBTaskResult.objects.filter(task_path=purge_rate_counters.module_path, status="READY")
    assert queued.count() == 1
