"""Rates on a known set: participation, satisfaction, 差评回访率, 差评整改率, on-time
rectification; default and excluded evaluations kept out; below 100% in red, the missing items
one click away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import GUDONG, GULOU, GUXI
from django.utils import timezone
from evaluations.conftest import at, principal

pytestmark = pytest.mark.django_db


@pytest.fixture
def known_set(completed_case, make_user, django_capture_on_commit_callbacks):
    from bianmin.evaluations.services import evaluation_submit, evaluations_apply_defaults
    from bianmin.followups import services as fs

    y = timezone.localdate() - timedelta(days=1)

    def ev(case, grade):
        with django_capture_on_commit_callbacks(execute=True):
            return evaluation_submit(case_id=case.pk, grade=grade, channel="web", actor=None, evaluated_at=at(y, 17),
                                     reasons=["slow"] if grade <= 2 else []).evaluation

    gd = [completed_case(day=y) for _ in range(4)]
    gx = [completed_case(site="guxi", window="gx1", day=y) for _ in range(2)]
    ev(gd[0], 5)
    ev(gd[1], 3)
    e3 = ev(gd[2], 1)
    e5 = ev(gx[0], 2)
    completed_case(site="guxi", window="gx1", day=y - timedelta(days=8))
    evaluations_apply_defaults(now=at(y, 12))  # a default 满意 in the period: not an active evaluation
    admin = principal(make_user("district_admin", GULOU))
    h = fs.handling_verify(actor=admin, handling_id=e3.handling.pk, verdict="confirmed", verification="属实",
                           measure="培训", owner_name="王")
    fs.rectification_complete(actor=admin, rectification_id=h.rectification_id, result="已培训")
    fs.handling_follow_up(actor=admin, handling_id=h.pk, satisfied=True, result="满意")
    return {"y": y, "e3": e3, "e5": e5}


def _values(rates):
    return {r.key: (r.numerator, r.denominator) for r in rates}


def test_rates_on_a_known_set(known_set, areas):
    from bianmin.followups.selectors import rates_for

    y, t = known_set["y"], timezone.localdate()  # the rectification was found today
    assert _values(rates_for(areas[GULOU], y, t)) == {
        "participation": (4, 6), "satisfaction": (2, 4), "followup": (1, 2), "rectification": (1, 2), "on_time": (1, 1)}
    assert _values(rates_for(areas[GUDONG], y, t)) == {
        "participation": (3, 4), "satisfaction": (2, 3), "followup": (1, 1), "rectification": (1, 1), "on_time": (1, 1)}
    assert _values(rates_for(areas[GUXI], y, t)) == {
        "participation": (1, 2), "satisfaction": (0, 1), "followup": (0, 1), "rectification": (0, 1), "on_time": (0, 0)}
    # another period holds none of it
    assert _values(rates_for(areas[GULOU], y - timedelta(days=30), y - timedelta(days=20)))["participation"] == (0, 0)


def test_overdue_rectification_counts_against_on_time(known_set, areas, make_user, calendar):
    from bianmin.followups import services as fs
    from bianmin.followups.selectors import missing_items, rates_for

    y = known_set["y"]
    admin = principal(make_user("district_admin", GULOU))
    late = fs.rectification_open(actor=admin, source="other", area=areas[GUXI], problem="指南未更新", measure="更新指南",
                                 owner_name="李", working_days=1, found_on=y - timedelta(days=10))
    t = timezone.localdate()
    rates = _values(rates_for(areas[GULOU], y - timedelta(days=10), t))
    assert rates["on_time"] == (1, 2)
    assert list(missing_items(actor=admin, area=areas[GULOU], key="on_time", start=y - timedelta(days=10), end=t)) == [late]


def test_rates_page_shows_red_with_missing_items_one_click_away(client, login, known_set, make_user):
    y = known_set["y"].isoformat()
    login(make_user("district_admin", GULOU))
    page = client.get(f"/followups/rates/?area={GULOU}&from={y}&to={y}")
    body = page.content.decode()
    assert page.status_code == 200 and "差评回访率" in body and "鼓东街道" in body and "鼓西街道" in body
    link = f"/followups/rates/missing/?key=followup&area={GULOU}&from={y}&to={y}"
    assert f'class="rate-bad" href="{link}"' in body and "50.0%" in body
    missing = client.get(link)
    assert missing.status_code == 200 and known_set["e5"].case.acceptance_number in missing.content.decode()
    assert known_set["e3"].case.acceptance_number not in missing.content.decode()
    api = client.get(f"/api/v1/followups/rates?area_code={GULOU}&date_from={y}&date_to={y}")
    assert api.status_code == 200 and api.json()[0]["rates"][2]["below_target"] is True
    xlsx = client.get(f"/followups/rates/?area={GULOU}&from={y}&to={y}&format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    # a township manager of 鼓西 cannot see 鼓楼's figures, nor 鼓东's
    login(make_user("center_manager", GUXI))
    assert client.get(f"/followups/rates/?area={GUDONG}").status_code == 404
    assert client.get(f"/followups/rates/?area={GULOU}&from=2026-13-01").status_code in (404, 422)
