"""The cockpit drills from the city to a window, and every number it shows equals the rows it
links to (counted naively from the raw rows, cohorts.rows) on generated data: the totals, each
child, the series and the rankings; the page's links lead to exactly those rows, scoped."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI, TAIJIANG
from django.utils import timezone
from evaluations.conftest import principal

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(sites, items, calendar, areas):
    """Two months of cases at the three test sites (bianmin/demo/scale.py, roll-ups counted while
    loading), plus a case still open and overdue (a live figure)."""
    from bianmin.demo.scale import generate

    generate(600, days=60, chunk=250)
    return sites


def _naive(metric, where, start, end):
    from bianmin.figures.cohorts import rows

    return rows(metric, where, start, end).count()


def _check_counts(counts, where, start, end):
    from bianmin.figures.cohorts import rows

    for metric, value in counts.items():
        if metric in ("rect_due", "appeal_due", "late", "open_overdue", "rect_overdue_open", "appeal_overdue_open") \
                or metric in {"completed", "on_time", "multi_trip", "evaluated", "satisfied", "defaulted", "bad",
                              "followed", "rectified", "received", "rect_found", "rect_done", "rect_on_time",
                              "appeals", "appeal_replied", "appeal_on_time", "appeal_rated", "appeal_satisfied",
                              "fu_rated", "fu_satisfied"}:
            want = rows(metric, where, None if metric == "open_overdue" else start,
                        None if metric == "open_overdue" else end).count()
            assert value == want, (where, metric, value, want)


def test_every_number_of_every_level_equals_its_rows(generated, areas, make_user):
    from bianmin.figures.cockpit import cockpit, place_get

    actor = principal(make_user("city_admin", CITY))
    t = timezone.localdate()
    sites = generated
    levels = [dict(area_code=CITY), dict(area_code=GULOU), dict(area_code=GUDONG),
              dict(area_code=GUDONG, site_id=sites["gudong"].pk),
              dict(area_code=GUDONG, site_id=sites["gudong"].pk, window_id=sites["w1"].pk)]
    for start in (t - timedelta(days=45), t - timedelta(days=20), t.replace(day=1)):
        for level in levels:
            place = place_get(actor=actor, **level)
            c = cockpit(actor=actor, place=place, start=start, end=t, grain="month")
            _check_counts(c.counts, place.where, start, t)
            for r in c.rates:
                assert 0 <= r.numerator <= r.denominator, (level, r.key)
            for child in c.children:
                from bianmin.figures.cockpit import place_get as pg

                sub = pg(actor=actor, area_code=child.params["area"], site_id=child.params.get("site"),
                         window_id=child.params.get("window"))
                if "window" in child.params and child.params["window"] == 0:
                    from bianmin.figures.cohorts import Where

                    sub_where = Where(place.where.path, site=place.site.pk, window=0)
                else:
                    sub_where = sub.where
                _check_counts({k: v for k, v in child.counts.items() if k != "open_overdue"}, sub_where, start, t)
            # the series adds up to the total
            assert sum(cnt["completed"] for _p, cnt, _r in c.series) == c.counts["completed"]
            assert sum(cnt["evaluated"] for _p, cnt, _r in c.series) == c.counts["evaluated"]
    # drilled down: the city has districts, 鼓楼 townships, 鼓东 its sites, the site its windows
    city = cockpit(actor=actor, place=place_get(actor=actor, area_code=CITY), start=t - timedelta(days=45), end=t)
    assert {c.name for c in city.children} >= {"鼓楼区", "台江区"} and city.child_kind == "县（市）区"
    assert city.rankings and all(r.counts["completed"] for r in city.rankings)  # townships ranked
    gd = cockpit(actor=actor, place=place_get(actor=actor, area_code=GUDONG), start=t - timedelta(days=45), end=t)
    assert gd.child_kind == "服务场所" and sites["gudong"].pk in {c.key for c in gd.children}
    site = cockpit(actor=actor, place=place_get(actor=actor, area_code=GUDONG, site_id=sites["gudong"].pk),
                   start=t - timedelta(days=45), end=t)
    assert site.child_kind == "窗口" and {c.key for c in site.children} >= {sites["w1"].pk, sites["w2"].pk}


def test_a_cockpit_is_a_fixed_number_of_reads_at_every_level(generated, areas, make_user,
                                                             django_assert_max_num_queries):
    """Every level reads its pre-summed rows in a fixed number of statements, whatever the data
    (bench/bench_cockpit.py measures the time): the place's series, one row per child and
    ranked township, the three live counts, the names."""
    from bianmin.figures.cockpit import cockpit, place_get

    actor = principal(make_user("city_admin", CITY))
    t = timezone.localdate()
    sites = generated
    for level in (dict(area_code=CITY), dict(area_code=GULOU), dict(area_code=GUDONG),
                  dict(area_code=GUDONG, site_id=sites["gudong"].pk),
                  dict(area_code=GUDONG, site_id=sites["gudong"].pk, window_id=sites["w1"].pk)):
        place = place_get(actor=actor, **level)
        for start, grain in ((t - timedelta(days=364), "month"), (t - timedelta(days=30), "day")):
            with django_assert_max_num_queries(8):
                c = cockpit(actor=actor, place=place, start=start, end=t, grain=grain)
            assert c.counts["completed"] > 0, level


def test_day_series_and_live_figures(generated, areas, make_user, completed_case):
    from bianmin.cases.models import Case
    from bianmin.figures.cockpit import cockpit, place_get

    actor = principal(make_user("district_admin", GULOU))
    t = timezone.localdate()
    open_case = completed_case(day=t - timedelta(days=2))
    Case.objects.filter(pk=open_case.pk).update(state="in_progress", completed_at=None,
                                                promised_due_on=t - timedelta(days=1))
    c = cockpit(actor=actor, place=place_get(actor=actor, area_code=GULOU), start=t - timedelta(days=30), end=t,
                grain="day")
    assert c.grain == "day" and len(c.series) > 10
    assert c.counts["open_overdue"] == 1
    assert sum(ch.counts["open_overdue"] for ch in c.children) == 1
    assert c.counts["late"] == c.counts["completed"] - c.counts["on_time"]


def test_the_page_links_every_number_to_exactly_its_rows(client, login, generated, make_user, areas):
    login(make_user("district_admin", GULOU))
    t = timezone.localdate()
    start = (t - timedelta(days=45)).isoformat()
    page = client.get(f"/figures/?area={GULOU}&from={start}&to={t}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "指挥驾驶舱" in body and "echarts.min.js" in body and "cdn" not in body.lower()
    links = [unescape(h) for h in re.findall(r'href="(/figures/rows/\?[^"]+)"', body)]
    assert len(links) > 40
    seen = set()
    for href in links:
        q = parse_qs(urlparse(href).query)
        if q["m"][0] in seen or q.get("site"):
            continue
        seen.add(q["m"][0])
        rows = client.get(href)
        assert rows.status_code == 200, href
        count = int(re.search(r"共 <strong>(\d+)</strong> 条", rows.content.decode()).group(1))
        shown = re.search(re.escape(f'href="{href}"'.replace("&", "&amp;")) + r">([\d.%—]+)<", body)
        if shown and shown.group(1).isdigit():
            assert int(shown.group(1)) == count, href
    # drill down by the links the page gives: 鼓楼 → 鼓东 → its center → a window
    drill = unescape(re.search(r'<a href="(\?area=' + GUDONG + r'[^"]*)">鼓东街道</a>', body).group(1))
    town = client.get("/figures/" + drill)
    assert town.status_code == 200 and "服务场所" in town.content.decode()
    site_link = unescape(re.search(r'<a href="(\?area=' + GUDONG + r'&amp;site=\d+[^"]*)">', town.content.decode()).group(1))
    site = client.get("/figures/" + site_link)
    assert site.status_code == 200 and "窗口" in site.content.decode()
    window_link = unescape(re.search(r'<a href="(\?area=[^"]*window=\d+[^"]*)">', site.content.decode()).group(1))
    assert client.get("/figures/" + window_link).status_code == 200


def test_scope_and_bad_input(client, login, generated, make_user, areas):
    sites = generated
    login(make_user("center_manager", GUXI))
    assert client.get(f"/figures/?area={GUDONG}").status_code == 404
    assert client.get(f"/figures/?area={GUXI}&site={sites['gudong'].pk}").status_code == 404  # not below 鼓西
    assert client.get(f"/figures/rows/?m=completed&area={GUDONG}").status_code == 404
    assert client.get(f"/figures/?area={TAIJIANG}").status_code == 404
    login(make_user("district_admin", GULOU))
    assert client.get(f"/figures/?area={GULOU}&grain=week").status_code == 422
    assert client.get(f"/figures/?area={GULOU}&rank=nothing").status_code == 422
    assert client.get(f"/figures/?area={GULOU}&p=decade").status_code == 422
    assert client.get(f"/figures/?area={GULOU}&site=-1").status_code == 422
    bad = client.get(f"/figures/?area={GULOU}&from=2026-02-30")
    assert bad.status_code == 422 and "日期格式" in bad.content.decode()
    assert client.get(f"/figures/?area={GUDONG}&site={sites['gudong'].pk}&window=999999").status_code == 404
    for p in ("month", "quarter", "year", "12m"):
        assert client.get(f"/figures/?area={GULOU}&p={p}").status_code == 200


def test_the_api_gives_the_same_figures(client, login, generated, make_user, areas):
    from bianmin.figures.cockpit import cockpit, place_get

    user = make_user("district_admin", GULOU)
    login(user)
    t = timezone.localdate()
    start = t - timedelta(days=45)
    got = client.get(f"/api/v1/figures/cockpit?area_code={GULOU}&date_from={start}&date_to={t}")
    assert got.status_code == 200
    actor = principal(user)
    c = cockpit(actor=actor, place=place_get(actor=actor, area_code=GULOU), start=start, end=t)
    body = got.json()
    assert body["counts"] == c.counts and body["child_kind"] == "乡镇（街道）"
    assert {ch["name"]: ch["counts"]["completed"] for ch in body["children"]} == {
        ch.name: ch.counts["completed"] for ch in c.children}
    bad = client.get(f"/api/v1/figures/cockpit?area_code={GULOU}&date_from={t}&date_to={start}")
    assert bad.status_code == 422 and bad.json()["field"] == "date_to"
    assert client.get(f"/api/v1/figures/cockpit?area_code={GULOU}&date_from={start}&date_to={t}&grain=week"
                      ).status_code == 422
    assert client.get(f"/api/v1/figures/cockpit?area_code={TAIJIANG}&date_from={start}&date_to={t}").status_code == 404
