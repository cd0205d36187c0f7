"""Rates on a known set, one cohort each (issue 22 item 3): the cases completed in the period and
which of them were evaluated, whenever the evaluation came; default and excluded evaluations kept
out; below 100% in red, the rows behind every number one click away; the page, the API and the
xlsx give the same figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import GUDONG, GULOU, GUXI
from django.utils import timezone
from evaluations.conftest import at, principal

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service as production does: its on-commit news (and so the roll-ups) follow."""

    def run(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run


@pytest.fixture
def known_set(completed_case, make_user, committed):
    from bianmin.evaluations.services import evaluation_submit, evaluations_apply_defaults
    from bianmin.followups import services as fs

    y = timezone.localdate() - timedelta(days=1)

    def ev(case, grade):
        return committed(evaluation_submit, case_id=case.pk, grade=grade, channel="web", actor=None,
                         evaluated_at=at(y, 17), reasons=["slow"] if grade <= 2 else []).evaluation

    gd = [completed_case(day=y) for _ in range(4)]
    gx = [completed_case(site="guxi", window="gx1", day=y) for _ in range(2)]
    ev(gd[0], 5)
    ev(gd[1], 3)
    e3 = ev(gd[2], 1)
    e5 = ev(gx[0], 2)
    completed_case(site="guxi", window="gx1", day=y - timedelta(days=8))
    committed(evaluations_apply_defaults, now=at(y, 12))  # a default 满意: not an active evaluation
    admin = principal(make_user("district_admin", GULOU))
    h = committed(fs.handling_verify, actor=admin, handling_id=e3.handling.pk, verdict="confirmed",
                  verification="属实", measure="培训", owner_name="王")
    committed(fs.rectification_complete, actor=admin, rectification_id=h.rectification_id, result="已培训")
    committed(fs.handling_follow_up, actor=admin, handling_id=h.pk, satisfied=True, result="满意")
    return {"y": y, "e3": e3, "e5": e5}


def _values(rates):
    return {r.key: (r.numerator, r.denominator) for r in rates}


def test_rates_on_a_known_set(known_set, areas):
    from bianmin.figures.selectors import rates_for, rates_for_naive

    y, t = known_set["y"], timezone.localdate()  # the rectification was found today
    assert _values(rates_for(areas[GULOU], y, t)) == {
        "participation": (4, 6), "satisfaction": (2, 4), "followup": (1, 2), "rectification": (1, 2), "on_time": (1, 1)}
    assert _values(rates_for(areas[GUDONG], y, t)) == {
        "participation": (3, 4), "satisfaction": (2, 3), "followup": (1, 1), "rectification": (1, 1), "on_time": (1, 1)}
    assert _values(rates_for(areas[GUXI], y, t)) == {
        "participation": (1, 2), "satisfaction": (0, 1), "followup": (0, 1), "rectification": (0, 1), "on_time": (0, 0)}
    for code in (GULOU, GUDONG, GUXI):
        assert _values(rates_for(areas[code], y, t)) == _values(rates_for_naive(areas[code], y, t))
    # another period holds none of it
    assert _values(rates_for(areas[GULOU], y - timedelta(days=30), y - timedelta(days=20)))["participation"] == (0, 0)


def test_an_evaluation_counts_in_its_cases_period_never_over_100_percent(completed_case, committed, areas):
    """The bug: 鼓东 110.5% (21/19) because evaluations made this month were divided by cases
    finished this month. Cases finished last month and evaluated this month now count for last
    month; this month's cases not yet evaluated are simply not evaluated yet."""
    from bianmin.evaluations.services import evaluation_submit
    from bianmin.figures.selectors import rates_for, rates_for_naive

    today = timezone.localdate()
    this_month = today.replace(day=1) if today.day > 3 else today - timedelta(days=3)
    last_month = this_month - timedelta(days=10)
    old = [completed_case(day=last_month, complete_hour=10 + i) for i in range(3)]
    new = [completed_case(day=this_month)]
    for case in old + new:  # all four evaluated in this period
        committed(evaluation_submit, case_id=case.pk, grade=5, channel="web", actor=None)
    got = _values(rates_for(areas[GUDONG], this_month, today))
    assert got["participation"] == (1, 1)  # before: (4, 1) — 400%
    assert _values(rates_for(areas[GUDONG], last_month, last_month))["participation"] == (3, 3)
    assert got == _values(rates_for_naive(areas[GUDONG], this_month, today))


def test_overdue_rectification_counts_against_on_time(known_set, areas, make_user, calendar, committed):
    from bianmin.figures.selectors import missing_items, rates_for
    from bianmin.followups import services as fs

    y = known_set["y"]
    admin = principal(make_user("district_admin", GULOU))
    late = committed(fs.rectification_open, actor=admin, source="other", area=areas[GUXI], problem="指南未更新",
                     measure="更新指南", owner_name="李", working_days=1, found_on=y - timedelta(days=10))
    t = timezone.localdate()
    rates = _values(rates_for(areas[GULOU], y - timedelta(days=10), t))
    assert rates["on_time"] == (1, 2)
    assert list(missing_items(actor=admin, area=areas[GULOU], key="on_time", start=y - timedelta(days=10), end=t)) == [late]


def test_rates_page_shows_red_with_the_rows_one_click_away_and_api_and_xlsx_agree(
        client, login, known_set, make_user):
    from io import BytesIO

    from openpyxl import load_workbook

    y = known_set["y"].isoformat()
    login(make_user("district_admin", GULOU))
    page = client.get(f"/figures/rates/?area={GULOU}&from={y}&to={y}")
    body = page.content.decode()
    assert page.status_code == 200 and "差评回访率" in body and "鼓东街道" in body and "鼓西街道" in body
    link = f"/figures/rows/?m=not_followed&area={GULOU}&from={y}&to={y}"
    assert f'class="rate-bad" href="{link}"' in body and "50.0%" in body
    missing = client.get(link)
    assert missing.status_code == 200 and known_set["e5"].case.acceptance_number in missing.content.decode()
    assert known_set["e3"].case.acceptance_number not in missing.content.decode()
    api = client.get(f"/api/v1/figures/rates?area_code={GULOU}&date_from={y}&date_to={y}")
    assert api.status_code == 200
    by_key = {r["key"]: r for r in api.json()[0]["rates"]}
    assert by_key["followup"]["below_target"] is True and (by_key["followup"]["numerator"],
                                                            by_key["followup"]["denominator"]) == (1, 2)
    assert (by_key["participation"]["numerator"], by_key["participation"]["denominator"]) == (4, 6)
    xlsx = client.get(f"/figures/rates/?area={GULOU}&from={y}&to={y}&format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(xlsx.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    total = next(r for r in values if r[0] == "鼓楼区")
    assert "66.7%" in total and "4/6" in total and "1/2" in total
    # a township manager of 鼓西 cannot see 鼓楼's figures, nor 鼓东's
    login(make_user("center_manager", GUXI))
    assert client.get(f"/figures/rates/?area={GUDONG}").status_code == 404
    assert client.get(f"/figures/rates/?area={GULOU}").status_code == 404


def test_bad_input_gets_a_chinese_message_and_the_right_status(client, login, make_user, areas):
    login(make_user("district_admin", GULOU))
    page = client.get(f"/figures/rates/?area={GULOU}&from=2026-13-01")
    assert page.status_code == 422 and "日期格式" in page.content.decode()
    page = client.get(f"/figures/rates/?area={GULOU}&from=2026-05-02&to=2026-05-01")
    assert page.status_code == 422 and "结束日期不能早于开始日期" in page.content.decode()
    assert client.get(f"/figures/rows/?m=nonsense&area={GULOU}").status_code == 422
    assert client.get(f"/figures/rows/?m=completed&area={GULOU}&site=abc").status_code == 422
    api = client.get(f"/api/v1/figures/rates?area_code={GULOU}&date_from=2026-05-02&date_to=2026-05-01")
    assert api.status_code == 422 and api.json()["field"] == "date_to" and "结束日期" in api.json()["message"]
