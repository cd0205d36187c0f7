"""The ledger pages at scale (views.CappedPaginator, selectors._ledger_scope): a capped count, a
late row lookup per page, the scope given as area ids for the indexes. The rows shown must be
exactly those of the plain scoped query in the ledger's order, on every page, for a city, a
district and a township user, on both access paths (narrow: an id list; wide: the index walk),
with a fixed number of queries whatever the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI
from django.utils import timezone

pytestmark = pytest.mark.django_db

LEDGERS = ["followups", "problems", "rectifications"]


@pytest.fixture
def scaled(areas, calendar):
    from bianmin.demo.scale import generate

    generate(1500, days=60, chunk=500)


def _reference(ledger: str, path: str, start, end) -> list[int]:
    from bianmin.followups.models import FollowUp, Rectification
    from bianmin.followups.selectors import _period

    if ledger == "followups":
        qs = _period(FollowUp.objects.exclude(outcome="").filter(area__path__startswith=path), "done_at", start, end,
                     is_datetime=True).order_by("-done_at", "-id")
    else:
        qs = _period(Rectification.objects.filter(area__path__startswith=path), "found_on", start, end,
                     is_datetime=False).order_by("-found_on", "-id")
    return list(qs.values_list("pk", flat=True))


@pytest.fixture(params=["narrow", "wide"])
def access_path(request, monkeypatch):
    from bianmin.followups import selectors

    if request.param == "wide":
        monkeypatch.setattr(selectors, "NARROW_SCOPE_AREAS", 0)
    return request.param


@pytest.mark.parametrize("ledger", LEDGERS)
def test_every_page_shows_the_rows_of_the_plain_query(scaled, areas, make_user, login, client, monkeypatch,
                                                      access_path, ledger, django_assert_max_num_queries, settings):
    from bianmin.core import calendar
    from bianmin.followups import views

    monkeypatch.setattr(views, "LEDGER_PAGE", 7)
    # The pages read the working-day calendar: its in-process copy asks the shared cache whether
    # it is still current once it is older than BIANMIN_CALENDAR_RECHECK_SECONDS — one more query
    # on whichever page the clock reaches that age (seen at 10 of 9 on a loaded machine). Load
    # the copy now and keep it for the test, so the count depends on the page, not on the clock.
    settings.BIANMIN_CALENDAR_RECHECK_SECONDS = 24 * 3600
    calendar.is_working_day(timezone.localdate())
    t = timezone.localdate()
    start = t - timedelta(days=45)
    for role, code in (("city_admin", CITY), ("district_admin", GULOU), ("center_manager", GUDONG)):
        c = login(make_user(role, code), client)
        want = _reference(ledger, areas[code].path, start, t)
        assert want, (ledger, code)
        pages = -(-len(want) // 7)
        got = []
        for number in range(1, pages + 1):
            with django_assert_max_num_queries(9):  # session, user, grants, area ids, count, page ids, rows
                r = c.get(f"/followups/ledgers/{ledger}/?from={start}&to={t}&page={number}")
            assert r.status_code == 200
            page = r.context["page"]
            assert page.paginator.count == len(want) and not page.paginator.capped
            got += [obj.pk for obj in page.object_list]
        assert got == want, (ledger, code)
        if pages > 1:
            assert f"共 {len(want)} 条）" in r.content.decode()


def test_the_count_stops_at_the_cap_and_says_so(scaled, areas, make_user, login, client, monkeypatch):
    from bianmin.followups import views

    monkeypatch.setattr(views, "LEDGER_PAGE", 3)
    monkeypatch.setattr(views.CappedPaginator, "cap", 6)
    t = timezone.localdate()
    start = t - timedelta(days=60)
    want = _reference("followups", areas[CITY].path, start, t)
    assert len(want) > 6
    c = login(make_user("city_admin", CITY), client)
    r = c.get(f"/followups/ledgers/followups/?from={start}&to={t}&page=2")
    page = r.context["page"]
    assert page.paginator.count == 6 and page.paginator.capped and page.paginator.num_pages == 2
    assert [f.pk for f in page.object_list] == want[3:6]
    assert "共 6 条以上，请缩小日期范围或导出" in r.content.decode()
    # a page past the cap shows the last one (Paginator.get_page), not an error
    r = c.get(f"/followups/ledgers/followups/?from={start}&to={t}&page=99")
    assert r.status_code == 200 and [f.pk for f in r.context["page"].object_list] == want[3:6]
    # the export is not capped: every row of the period
    import io

    from openpyxl import load_workbook

    xlsx = c.get(f"/followups/ledgers/followups/?from={start}&to={t}&format=xlsx")
    assert len(list(load_workbook(io.BytesIO(xlsx.content)).active.values)) == len(want) + 1


@pytest.mark.parametrize("ledger", LEDGERS)
def test_a_township_sees_none_of_its_siblings_rows_on_either_path(scaled, areas, make_user, login, client,
                                                                  access_path, ledger):
    from bianmin.followups.models import FollowUp, Rectification

    t = timezone.localdate()
    start = t - timedelta(days=60)
    model = FollowUp if ledger == "followups" else Rectification
    gudong = set(model.objects.filter(area__path__startswith=areas[GUDONG].path).values_list("pk", flat=True))
    assert gudong
    c = login(make_user("center_manager", GUXI), client)
    r = c.get(f"/followups/ledgers/{ledger}/?from={start}&to={t}")
    assert r.status_code == 200
    shown = {obj.pk for obj in r.context["page"].object_list}
    assert not shown & gudong
    assert shown == set(_reference(ledger, areas[GUXI].path, start, t)[:50])
