"""Usage: every use logged (idempotent per ref), rolled up, and the figures the same whether a day
is read raw or from the roll-ups; late uses re-counted; the xlsx and the pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import GUXI

from bianmin.core.errors import Invalid

from .conftest import bearer, post_json, principal

TZ = ZoneInfo("Asia/Shanghai")


def use(item, outcome="success", *, at, ms=60000, ref=""):
    from bianmin.kiosks.services import Use

    return Use(item_code=item.code if item else None, outcome=outcome, duration_ms=ms, started_at=at, ref=ref)


def test_usage_api_is_idempotent_per_ref(client, make_terminal, kiosk_items):
    from bianmin.kiosks.models import UsageLog

    terminal, raw = make_terminal("gudong")
    url = f"/api/v1/kiosk/terminals/{terminal.code}/usage"
    now = datetime.now(TZ).isoformat()
    body = {"uses": [{"item_code": kiosk_items["social"].code, "outcome": "success", "duration_ms": 65000,
                      "started_at": now, "ref": "r-1"},
                     {"outcome": "abandoned", "duration_ms": 20000, "started_at": now, "ref": "r-2"}]}
    first = post_json(client, url, body, **bearer(raw))
    assert first.status_code == 201 and first.json() == {"saved": 2, "repeated": 0}
    again = post_json(client, url, body, **bearer(raw))
    assert again.status_code == 200 and again.json() == {"saved": 0, "repeated": 2}
    assert UsageLog.objects.count() == 2
    row = UsageLog.objects.get(ref="r-1")
    assert row.area_id == terminal.area_id and row.item_id == kiosk_items["social"].pk


def test_a_use_names_the_item_as_it_is_now(make_terminal, kiosk_items):
    """An item (never used) taken off the list and put back has a new row: a use logged after that
    names the new row (an id remembered from before would point at nothing and fail at commit)."""
    from bianmin.kiosks.models import KioskItem, UsageLog
    from bianmin.kiosks.services import usage_log

    terminal, _ = make_terminal("gudong")
    guide = kiosk_items["guide"]
    now = datetime.now(TZ)
    usage_log(terminal=terminal, uses=[use(kiosk_items["social"], at=now, ref="a")], now=now)
    standard_item = guide.standard_item
    guide.delete()
    again = KioskItem.objects.create(standard_item=standard_item, service="guide", position=3)
    usage_log(terminal=terminal, uses=[use(again, at=now, ref="b")], now=now)
    assert UsageLog.objects.get(ref="b").item_id == again.pk


@pytest.mark.parametrize(("use_", "field"), [
    ({"item_code": "NOPE", "outcome": "success", "duration_ms": 1}, "item_code"),
    ({"outcome": "success", "duration_ms": 1, "started_at": "2001-01-01T10:00:00+08:00"}, "started_at"),
    ({"outcome": "won", "duration_ms": 1}, "uses.1.outcome"),
])
def test_a_bad_use_rejects_the_batch_and_writes_nothing(client, make_terminal, kiosk_items, use_, field):
    from bianmin.kiosks.models import UsageLog

    terminal, raw = make_terminal("gudong")
    good = {"outcome": "success", "duration_ms": 1, "started_at": datetime.now(TZ).isoformat()}
    response = post_json(client, f"/api/v1/kiosk/terminals/{terminal.code}/usage",
                         {"uses": [good, {"started_at": datetime.now(TZ).isoformat(), **use_}]}, **bearer(raw))
    assert response.status_code == 422 and response.json()["field"] == field
    assert not UsageLog.objects.exists()


def _figures(actor, area, start, end):
    from bianmin.kiosks.selectors import usage_figures

    f = usage_figures(actor=actor, area=area, start=start, end=end)
    return (f.totals, [(r["day"], r["uses"], r["success"]) for r in f.by_day],
            [(r["terminal"].code, r["uses"], r["duration_ms"]) for r in f.by_terminal],
            [(r["item"].code if r["item"] else None, r["uses"], r["failed"]) for r in f.by_item],
            [(r["area"].code, r["uses"]) for r in f.by_area])


@pytest.fixture
def logged(make_terminal, kiosk_items):
    """Uses over two months (late February to mid-March 2026) on two terminals in two townships."""
    from bianmin.kiosks.services import usage_log

    gd, _ = make_terminal("gudong")
    gx, _ = make_terminal("guxi")
    now = datetime(2026, 3, 20, 12, 0, tzinfo=TZ)
    for n in range(40):
        day = datetime(2026, 2, 20, 9, 0, tzinfo=TZ) + timedelta(days=n % 25, minutes=n)
        item = [kiosk_items["social"], kiosk_items["house"], kiosk_items["guide"], None][n % 4]
        usage_log(terminal=gd if n % 3 else gx, uses=[use(item, ["success", "failed", "abandoned"][n % 3], at=day,
                                                           ms=1000 * n)], now=now)
    return gd, gx, now


def test_figures_are_the_same_raw_and_rolled_up(logged, areas, city_admin):
    from conftest import GULOU

    from bianmin.kiosks.models import UsageItemMonth, UsageMonthCover, UsageTerminalDay
    from bianmin.kiosks.services import usage_rollup

    actor = principal(city_admin)
    periods = [(date(2026, 2, 1), date(2026, 3, 20)), (date(2026, 2, 25), date(2026, 3, 5)),
               (date(2026, 3, 1), date(2026, 3, 31))]
    before = [_figures(actor, areas[GULOU], a, b) for a, b in periods]
    assert before[0][0]["uses"] == 40
    assert usage_rollup(today=date(2026, 3, 10)) == {"days": 28 + 9, "months": 2}
    assert UsageTerminalDay.objects.exists() and UsageItemMonth.objects.exists()
    assert dict(UsageMonthCover.objects.values_list("month", "through")) == {
        date(2026, 2, 1): date(2026, 2, 28),
        date(2026, 3, 1): date(2026, 3, 9)}
    assert [_figures(actor, areas[GULOU], a, b) for a, b in periods] == before
    assert usage_rollup(today=date(2026, 3, 10)) == {"days": 0, "months": 0}  # idempotent
    usage_rollup(today=date(2026, 3, 21))
    assert [_figures(actor, areas[GULOU], a, b) for a, b in periods] == before


def test_a_late_use_sends_its_day_back_to_be_counted(logged, areas, city_admin, kiosk_items):
    from conftest import GULOU

    from bianmin.kiosks.models import UsageMonthCover, UsageRolledDay
    from bianmin.kiosks.services import usage_log, usage_rollup

    gd, _gx, now = logged
    actor = principal(city_admin)
    usage_rollup(today=date(2026, 3, 20))
    total = _figures(actor, areas[GULOU], date(2026, 2, 1), date(2026, 3, 31))[0]["uses"]
    usage_log(terminal=gd, uses=[use(kiosk_items["guide"], at=datetime(2026, 3, 3, 10, tzinfo=TZ))], now=now)
    assert not UsageRolledDay.objects.filter(day=date(2026, 3, 3)).exists()
    assert not UsageMonthCover.objects.filter(month=date(2026, 3, 1)).exists()
    assert _figures(actor, areas[GULOU], date(2026, 2, 1), date(2026, 3, 31))[0]["uses"] == total + 1
    usage_rollup(today=date(2026, 3, 20))
    assert _figures(actor, areas[GULOU], date(2026, 2, 1), date(2026, 3, 31))[0]["uses"] == total + 1


def test_figures_are_scoped(logged, areas, make_user):
    from bianmin.core.errors import NotFound
    from bianmin.kiosks.selectors import usage_area

    gd, gx, _now = logged
    guxi = principal(make_user("center_manager", GUXI))
    f = _figures(guxi, usage_area(actor=guxi, code=None), date(2026, 2, 1), date(2026, 3, 31))
    assert [t for t, *_ in f[2]] == [gx.code]
    with pytest.raises(NotFound):
        usage_area(actor=guxi, code="350102001000")


def test_usage_api_page_and_xlsx(client, login, logged, city_admin):
    from io import BytesIO

    from openpyxl import load_workbook

    login(city_admin)
    data = client.get("/api/v1/kiosk/usage?area=350102000000&start=2026-02-01&end=2026-03-31").json()
    assert data["totals"]["uses"] == 40 and len(data["by_day"]) == 59
    assert {a["code"] for a in data["by_area"]} == {"350102001000", "350102002000"}
    assert client.get("/api/v1/kiosk/usage?start=2026-03-02&end=2026-03-01").status_code == 422
    page = client.get("/kiosks/areas/350102000000/?start=2026-02-01&end=2026-03-31")
    assert page.status_code == 200 and "使用 <strong>40</strong> 次" in page.content.decode()
    xlsx = client.get("/kiosks/areas/350102000000/usage.xlsx?start=2026-02-01&end=2026-03-31")
    assert xlsx.status_code == 200
    sheet = load_workbook(BytesIO(xlsx.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "维度" and rows[1][:4] == ("合计", "350102000000", "鼓楼区", 40)
    assert client.get("/kiosks/areas/350102000000/?start=2026-13-01").status_code == 422


def test_usage_log_checks(make_terminal, kiosk_items):
    from bianmin.kiosks.services import usage_log

    terminal, _ = make_terminal("gudong")
    now = datetime(2026, 3, 20, 12, 0, tzinfo=TZ)
    with pytest.raises(Invalid, match="至少"):
        usage_log(terminal=terminal, uses=[], now=now)
    with pytest.raises(Invalid, match="流水号重复"):
        usage_log(terminal=terminal, uses=[use(None, at=now, ref="a"), use(None, at=now, ref="a")], now=now)
