"""The annual assessment per district: inspection scores and the platform's own figures counted
from the raw rows, under configurable weights, with the breakdown; a part without data is left
out and the others' weights scaled; ranking pages and xlsx."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from conftest import CITY, GULOU, TAIJIANG
from openpyxl import load_workbook

from bianmin.core.errors import Invalid, NotFound
from bianmin.inspections import selectors, services

from .conftest import at, full_scores


@pytest.fixture
def year_data(running, people, principal, template, make_cases, sites, areas):
    """2026: 鼓楼 scores 96 and 台江 0 (never submitted); 鼓楼 has one late case, four counted
    evaluations (three satisfied) and four appeals (two answered on time); 台江 one on-time appeal."""
    from bianmin.appeals.models import Appeal
    from bianmin.cases.models import Case
    from bianmin.evaluations.models import Evaluation

    cycle, ss = running
    inspector = principal(people["inspector"])
    services.sampled_site_submit(actor=principal(people["gulou"]), sampled_site_id=ss.pk)
    services.review_score(actor=inspector, sampled_site_id=ss.pk,
                          scores=full_scores(template, deduct={1: ("6", "标识不清")}))
    services.review_finish(actor=inspector, sampled_site_id=ss.pk, now=at(date(2026, 3, 5)))
    services.cycle_close(actor=inspector, cycle_id=cycle.pk, now=at(date(2026, 3, 20)))
    late = make_cases("gudong", 1, completed=date(2026, 5, 6))[0]
    Case.objects.filter(pk=late.pk).update(promised_due_on=date(2026, 5, 1))
    cases = list(Case.objects.filter(site=sites["gudong"]).order_by("pk")[:5])
    Evaluation.objects.bulk_create([
        Evaluation(case=c, grade=g, aspect_set="onsite", channel="qr", is_default=d, area=c.site.area, site=c.site,
                   evaluated_at=at(date(2026, 5, 8)), fingerprint=str(c.pk))
        for c, g, d in zip(cases, (5, 4, 3, 2, 5), (False, False, False, False, True), strict=True)])

    def appeal(n, area, *, on_time, replied=True, due=date(2026, 6, 1)):
        return Appeal(number=f"SQ{n}", kind="complaint", channel="phone", area=area, title="诉求", content="内容",
                      registered_at=at(date(2026, 5, 20)), due_date=due,
                      status="replied" if replied else "in_progress", replied_on_time=on_time if replied else None)

    gudong_area = sites["gudong"].area
    Appeal.objects.bulk_create([
        appeal(1, gudong_area, on_time=True), appeal(2, gudong_area, on_time=True), appeal(3, gudong_area, on_time=False),
        appeal(4, gudong_area, on_time=None, replied=False, due=date(2026, 5, 25)),
        appeal(5, gudong_area, on_time=None, replied=False, due=date(2030, 1, 1)),  # open, not yet due: not counted
        appeal(6, sites["taijiang"].area, on_time=True)])
    return cycle


def test_the_assessment_combines_scores_and_figures_under_the_weights(year_data, people, principal, areas):
    a = services.assessment_compute(actor=principal(people["inspector"]), area=areas[CITY], year=2026,
                                    today=date(2026, 12, 3))
    rows = {r.district.code: r for r in a.rows.all()}
    gulou, taijiang = rows[GULOU], rows[TAIJIANG]
    b = gulou.breakdown
    assert (b["inspection"]["value"], b["satisfaction"]["value"], b["timeliness"]["value"], b["appeal"]["value"]) == (
        "96.0", "75.0", "88.9", "50.0")
    assert (b["satisfaction"]["numerator"], b["satisfaction"]["denominator"]) == (3, 4)
    assert (b["timeliness"]["numerator"], b["timeliness"]["denominator"]) == (8, 9)
    assert (b["appeal"]["numerator"], b["appeal"]["denominator"]) == (2, 4)
    # 96×40% + 75×30% + 88.9×15% + 50×15% = 38.4 + 22.5 + 13.335 + 7.5
    assert gulou.total == Decimal("81.7") and gulou.rank == 1
    tb = taijiang.breakdown
    assert tb["satisfaction"]["value"] is None and tb["satisfaction"]["contribution"] is None
    assert tb["inspection"]["effective_weight"] == "57.1" and tb["inspection"]["rescaled"] is True
    # (0×40 + 100×15 + 100×15) / 70
    assert taijiang.total == Decimal("42.9") and taijiang.rank == 2


def test_weights_are_configurable_per_year_and_checked(year_data, people, principal, areas):
    inspector = principal(people["inspector"])
    with pytest.raises(Invalid, match="之和应为 100"):
        services.scheme_set(actor=inspector, area=areas[CITY], year=2026, weights={"inspection": 50})
    with pytest.raises(Invalid, match="未知的考核项"):
        services.scheme_set(actor=inspector, area=areas[CITY], year=2026, weights={"inspection": 100, "x": 0})
    with pytest.raises(NotFound):
        services.scheme_set(actor=principal(people["gulou"]), area=areas[CITY], year=2026, weights={"inspection": 100})
    services.scheme_set(actor=inspector, area=areas[CITY], year=2026, weights={"inspection": 100})
    a = services.assessment_compute(actor=inspector, area=areas[CITY], year=2026)
    assert a.weights == {"inspection": 100, "satisfaction": 0, "timeliness": 0, "appeal": 0}
    assert [(r.district.code, r.total) for r in a.rows.order_by("rank")] == [(GULOU, Decimal("96.0")),
                                                                            (TAIJIANG, Decimal("0.0"))]
    assert services.weights_for(areas[CITY], 2027) == {"inspection": 40, "satisfaction": 30, "timeliness": 15,
                                                       "appeal": 15}


def test_a_district_sees_its_own_row_the_city_all(year_data, people, principal, areas):
    a = services.assessment_compute(actor=principal(people["inspector"]), area=areas[CITY], year=2026)
    assert [r.district.code for r in selectors.assessment_rows(actor=principal(people["gulou"]), assessment=a)] == [GULOU]
    assert len(selectors.assessment_rows(actor=principal(people["city"]), assessment=a)) == 2
    assert not selectors.assessment_rows(actor=principal(people["gudong"]), assessment=a)
    with pytest.raises(NotFound):
        services.assessment_compute(actor=principal(people["gulou"]), area=areas[CITY], year=2026)


def test_assessment_and_ranking_pages_and_xlsx(year_data, people, principal, areas, client):
    services.assessment_compute(actor=principal(people["inspector"]), area=areas[CITY], year=2026)
    client.force_login(people["inspector"])
    page = client.get("/inspections/assessment/?year=2026")
    assert page.status_code == 200 and "鼓楼区" in page.content.decode() and "81.7" in page.content.decode()
    xlsx = client.get("/inspections/assessment/?year=2026&format=xlsx")
    rows = list(load_workbook(BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("排名", "县（市）区", "综合得分") and rows[1][:3] == (1, "鼓楼区", 81.7)
    ranking = client.get(f"/inspections/cycles/{year_data.pk}/ranking/?format=xlsx")
    rows = list(load_workbook(BytesIO(ranking.content)).active.iter_rows(values_only=True))
    assert rows[1][:4] == (1, "鼓楼区", "（区平均）", 96.0)
    client.force_login(people["gulou"])
    own = client.get("/inspections/assessment/?year=2026").content.decode()
    assert "鼓楼区" in own and "台江区" not in own.split("各期督查排名")[0]
    assert client.post("/inspections/assessment/", {"action": "compute", "year": "2026"}).status_code == 404
