"""Heartbeats, going offline after a silence and back, faults, availability, maintenance."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bianmin.core.errors import Invalid

from .conftest import bearer, heartbeat, principal

TZ = ZoneInfo("Asia/Shanghai")


def test_first_heartbeat_brings_the_terminal_online(client, make_terminal):
    terminal, raw = make_terminal("gudong")
    response = heartbeat(client, terminal, raw, software_version="3.2.1", paper="low")
    assert response.status_code == 200
    data = response.json()
    assert data["state"] == "online" and data["state_label"] == "在线" and data["config_etag"].startswith('"')
    terminal.refresh_from_db()
    assert terminal.activated_at is not None and terminal.paper == "low" and terminal.software_version == "3.2.1"


def test_a_key_speaks_only_for_its_own_terminal(client, make_terminal):
    mine, raw = make_terminal("gudong")
    other, _ = make_terminal("gudong")
    assert heartbeat(client, other, raw).status_code == 404
    assert heartbeat(client, mine, "nonsense-key").status_code == 401


def test_bad_heartbeat_is_422_in_chinese_and_changes_nothing(client, make_terminal):
    terminal, raw = make_terminal("gudong")
    response = heartbeat(client, terminal, raw, status="exploded")
    assert response.status_code == 422 and response.json()["field"] == "status"
    assert "取值不在允许范围内" in response.json()["message"]
    terminal.refresh_from_db()
    assert terminal.state == "pending" and terminal.last_seen_at is None


def test_silence_marks_offline_notifies_the_district_and_the_next_heartbeat_brings_it_back(client, make_terminal, settings):
    from bianmin.core.models import OutboxMessage
    from bianmin.kiosks.models import Outage
    from bianmin.kiosks.services import Heartbeat, terminal_heartbeat, terminals_mark_offline

    settings.BIANMIN_KIOSK_OFFLINE_MINUTES = 10
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
    terminal, _raw = make_terminal("gudong")
    quiet, _ = make_terminal("gudong")
    for t in (terminal, quiet):
        terminal_heartbeat(actor=None, terminal=t, beat=Heartbeat(), now=t0)
    terminal_heartbeat(actor=None, terminal=quiet, beat=Heartbeat(), now=t0 + timedelta(minutes=9))

    assert terminals_mark_offline(now=t0 + timedelta(minutes=9, seconds=59)) == []
    marked = terminals_mark_offline(now=t0 + timedelta(minutes=12))
    assert [t.code for t in marked] == [terminal.code]
    terminal.refresh_from_db()
    assert terminal.state == "offline"
    outage = Outage.objects.get(terminal=terminal)
    assert outage.kind == "offline" and outage.started_at == t0 and outage.ended_at is None
    message = OutboxMessage.objects.get(channel="notify")
    assert message.recipient == "area:350102000000" and message.payload["terminals"] == [terminal.code]
    assert "已离线" in message.payload["text"]
    # Idempotent: the next run marks nothing and sends nothing new.
    assert terminals_mark_offline(now=t0 + timedelta(minutes=13)) == []
    assert OutboxMessage.objects.count() == 1

    terminal_heartbeat(actor=None, terminal=terminal, beat=Heartbeat(), now=t0 + timedelta(hours=1))
    terminal.refresh_from_db()
    outage.refresh_from_db()
    assert terminal.state == "online" and outage.ended_at == t0 + timedelta(hours=1)


def test_offline_list_through_the_api_is_scoped(client, login, make_terminal, make_user, settings):
    from conftest import GULOU, GUXI

    from bianmin.kiosks.services import Heartbeat, terminal_heartbeat, terminals_mark_offline

    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
    terminal, _ = make_terminal("gudong")
    terminal_heartbeat(actor=None, terminal=terminal, beat=Heartbeat(), now=t0)
    terminals_mark_offline(now=t0 + timedelta(hours=1))
    login(make_user("district_admin", GULOU))
    assert [t["code"] for t in client.get("/api/v1/kiosk/offline").json()] == [terminal.code]
    login(make_user("center_manager", GUXI))
    assert client.get("/api/v1/kiosk/offline").json() == []


def test_fault_opens_its_own_spell_and_availability_counts_the_spells(make_terminal):
    from bianmin.kiosks.models import Outage
    from bianmin.kiosks.selectors import availability
    from bianmin.kiosks.services import Heartbeat, terminal_heartbeat, terminals_mark_offline

    day = date(2026, 3, 2)
    t0 = datetime(2026, 3, 2, 0, 0, tzinfo=TZ)
    terminal, _ = make_terminal("gudong")
    terminal_heartbeat(actor=None, terminal=terminal, beat=Heartbeat(), now=t0)
    terminal_heartbeat(actor=None, terminal=terminal, beat=Heartbeat(status="fault", printer="fault"), now=t0 + timedelta(hours=6))
    terminal_heartbeat(actor=None, terminal=terminal, beat=Heartbeat(), now=t0 + timedelta(hours=9))
    # Silent from 12:00: offline spell from the last heartbeat, back at 18:00.
    terminal_heartbeat(actor=None, terminal=terminal, beat=Heartbeat(), now=t0 + timedelta(hours=12))
    terminals_mark_offline(now=t0 + timedelta(hours=13))
    terminal_heartbeat(actor=None, terminal=terminal, beat=Heartbeat(), now=t0 + timedelta(hours=18))
    kinds = sorted((o.kind, o.started_at.astimezone(TZ).hour, o.ended_at.astimezone(TZ).hour)
                   for o in Outage.objects.filter(terminal=terminal))
    assert kinds == [("fault", 6, 9), ("offline", 12, 18)]
    terminal.refresh_from_db()
    a = availability(terminals=[terminal], start=day, end=day, now=t0 + timedelta(hours=24))[terminal.pk]
    assert a.seconds == 24 * 3600 and a.down == 9 * 3600
    assert a.ratio == pytest.approx(15 / 24)
    assert a.by_kind["fault"] == 3 * 3600 and a.by_kind["offline"] == 6 * 3600


def test_availability_by_area_through_the_api(client, login, make_terminal, city_admin):
    from bianmin.kiosks.services import Heartbeat, terminal_heartbeat

    terminal, _ = make_terminal("gudong")
    terminal_heartbeat(actor=None, terminal=terminal, beat=Heartbeat())
    login(city_admin)
    data = client.get("/api/v1/kiosk/availability?area=350102000000").json()
    assert data["area_code"] == "350102000000"
    assert [a["code"] for a in data["areas"]] == ["350102001000"] and data["areas"][0]["terminals"] == 1
    assert data["terminals"][0]["code"] == terminal.code
    assert client.get("/api/v1/kiosk/availability?start=2026-03-02&end=2026-03-01").status_code == 422


def test_maintenance_records_are_checked_and_audited(client, login, make_terminal, manager):
    from bianmin.core.models import AuditEntry
    from bianmin.kiosks.services import maintenance_record

    terminal, _ = make_terminal("gudong")
    with pytest.raises(Invalid, match="不能早于安装日期"):
        maintenance_record(actor=principal(manager), terminal=terminal, kind="repair", performed_on=date(2019, 1, 1),
                           performed_by="陈工", description="换打印头")
    login(manager)
    url = f"/api/v1/kiosk/terminals/{terminal.code}/maintenance"
    response = client.post(url, {"kind": "repair", "performed_on": "2024-05-06", "performed_by": "陈工",
                                 "description": "更换打印头"}, content_type="application/json")
    assert response.status_code == 201 and response.json()["kind_label"] == "维修"
    assert [m["description"] for m in client.get(url).json()] == ["更换打印头"]
    assert AuditEntry.objects.filter(target_type="kiosks.maintenance").count() == 1
    bad = client.post(url, {"kind": "repair", "performed_on": "2024-05-06", "performed_by": "", "description": "x"},
                      content_type="application/json")
    assert bad.status_code == 422 and bad.json()["message"] == "请填写维护人员"


def test_config_needs_the_terminals_key(client, make_terminal):
    terminal, raw = make_terminal("gudong")
    assert client.get(f"/api/v1/kiosk/terminals/{terminal.code}/config").status_code == 401
    assert client.get(f"/api/v1/kiosk/terminals/{terminal.code}/config", **bearer(raw)).status_code == 200
