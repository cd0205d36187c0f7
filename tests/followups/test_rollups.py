"""The daily roll-ups behind the rates: kept current by every write that moves a figure (submit,
default, bad review followed up, rectified, appeal upheld and excluded, rectification done or
late), equal to the naive aggregate over the raw rows, and rebuildable from them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI
from django.core.management import CommandError, call_command
from django.utils import timezone
from evaluations.conftest import at, principal

pytestmark = pytest.mark.django_db


def _values(rates):
    return {r.key: (r.numerator, r.denominator) for r in rates}


@pytest.fixture
def mixed_set(completed_case, make_user, django_capture_on_commit_callbacks, areas):
    from bianmin.evaluations.services import evaluation_submit, evaluations_apply_defaults
    from bianmin.followups import services as fs

    y = timezone.localdate() - timedelta(days=1)
    d3 = y - timedelta(days=3)

    def ev(case, grade, day):
        with django_capture_on_commit_callbacks(execute=True):
            return evaluation_submit(case_id=case.pk, grade=grade, channel="web", actor=None, evaluated_at=at(day, 17),
                                     reasons=["slow"] if grade <= 2 else []).evaluation

    gd = [completed_case(day=y) for _ in range(5)]
    gx = [completed_case(site="guxi", window="gx1", day=y) for _ in range(3)]
    old = [completed_case(day=d3) for _ in range(2)]
    ev(gd[0], 5, y)
    ev(gd[1], 4, y)
    bad_followed = ev(gd[2], 1, y)
    bad_appealed = ev(gd[3], 2, y)
    ev(gx[0], 3, y)
    bad_open = ev(gx[1], 1, y)
    bad_explained = ev(old[0], 2, d3)
    ev(old[1], 5, d3)
    completed_case(site="guxi", window="gx1", day=y - timedelta(days=9))
    evaluations_apply_defaults(now=at(y, 12))  # default 满意: counted in no active figure

    admin = principal(make_user("district_admin", GULOU))
    manager = principal(make_user("center_manager", GUDONG))
    h = fs.handling_verify(actor=admin, handling_id=bad_followed.handling.pk, verdict="confirmed", verification="属实",
                           measure="培训", owner_name="王")
    fs.rectification_complete(actor=admin, rectification_id=h.rectification_id, result="已培训")
    fs.handling_follow_up(actor=admin, handling_id=h.pk, satisfied=True, result="满意")
    fs.handling_verify(actor=admin, handling_id=bad_explained.handling.pk, verdict="no_basis", verification="无依据",
                       explanation="已解释")
    fs.handling_appeal(actor=manager, handling_id=bad_appealed.handling.pk, reason="误评", evidence="录像")
    fs.handling_appeal_decide(actor=admin, handling_id=bad_appealed.handling.pk, upheld=True, note="成立")
    # a rectification from another source, past its deadline and still open
    fs.rectification_open(actor=admin, source="other", area=areas[GUXI], problem="指南未更新", measure="更新指南",
                          owner_name="李", working_days=1, found_on=y - timedelta(days=10))
    return {"y": y, "d3": d3, "bad_open": bad_open}


PERIODS = [(0, 0), (3, 0), (10, 1), (40, 1)]  # days back from yesterday .. to today (+1 = today)


def _all_rates(areas, y):
    from bianmin.followups.selectors import rates_for, rates_for_naive

    out = []
    for code in (CITY, GULOU, GUDONG, GUXI):
        for back, fwd in PERIODS:
            start, end = y - timedelta(days=back), y + timedelta(days=fwd)
            out.append((code, back, _values(rates_for(areas[code], start, end)),
                        _values(rates_for_naive(areas[code], start, end))))
    return out


def test_rollup_figures_equal_the_naive_aggregate_after_a_mix_of_writes(mixed_set, areas):
    for code, back, rolled, naive in _all_rates(areas, mixed_set["y"]):
        assert rolled == naive, (code, back)
    from bianmin.followups.selectors import rates_for

    y = mixed_set["y"]
    got = _values(rates_for(areas[GULOU], y - timedelta(days=10), y + timedelta(days=1)))
    # 11 completed cases in 鼓楼; 8 evaluations made, the appealed bad review left the figures, the
    # defaults (unevaluated cases) are not active: 7;
    # bad reviews: followed (rectified), open, explained; on time: one done, one late and open.
    assert got["participation"] == (7, 11) and got["followup"] == (1, 3) and got["rectification"] == (2, 3)
    assert got["on_time"] == (1, 2)


def test_the_rates_read_the_rollups(mixed_set, areas):
    from bianmin.followups.models import DailyRollup
    from bianmin.followups.selectors import rates_for

    y = mixed_set["y"]
    before = _values(rates_for(areas[GUDONG], y, y))["participation"]
    DailyRollup.objects.filter(day=y, area_path__startswith=areas[GUDONG].path).update(completed=1000)
    assert _values(rates_for(areas[GUDONG], y, y))["participation"] == (before[0], 1000)


def test_rebuild_reproduces_the_rollups_and_check_finds_drift(mixed_set, areas, capsys):
    from bianmin.followups.models import DailyRollup
    from bianmin.followups.rollups import FIELDS, rebuild

    snapshot = sorted(DailyRollup.objects.filter(completed__gt=0).values_list("day", "area_id", *FIELDS))
    call_command("rebuild_rollups", "--check")
    DailyRollup.objects.update(active=0)
    with pytest.raises(CommandError, match="不一致"):
        call_command("rebuild_rollups", "--check")
    DailyRollup.objects.all().delete()
    assert rebuild() > 0
    assert sorted(DailyRollup.objects.filter(completed__gt=0).values_list("day", "area_id", *FIELDS)) == snapshot
    for code, back, rolled, naive in _all_rates(areas, mixed_set["y"]):
        assert rolled == naive, (code, back)
    # --since recomputes only the days from then; earlier days are kept as they are
    DailyRollup.objects.filter(day__lt=mixed_set["y"]).update(bad=99)
    call_command("rebuild_rollups", "--since", mixed_set["y"].isoformat())
    assert DailyRollup.objects.filter(day=mixed_set["d3"], bad=99).exists()
    assert not DailyRollup.objects.filter(day=mixed_set["y"], bad=99).exists()


def test_rebuild_command_refuses_a_bad_date():
    with pytest.raises(CommandError, match="日期格式"):
        call_command("rebuild_rollups", "--since", "2026-13-40")


def test_recompute_is_idempotent_and_paused_skips_upkeep(mixed_set, areas, completed_case):
    from bianmin.followups.models import DailyRollup
    from bianmin.followups.rollups import FIELDS, paused, recompute

    y = mixed_set["y"]
    row = DailyRollup.objects.get(day=y, area=areas[GUDONG])
    before = [getattr(row, k) for k in FIELDS]
    recompute(y, areas[GUDONG].pk)
    recompute(y, areas[GUDONG].pk)
    row.refresh_from_db()
    assert [getattr(row, k) for k in FIELDS] == before
    with paused():
        completed_case(day=y)
    row.refresh_from_db()
    assert row.completed == before[0]
    completed_case(day=y)  # upkeep back on: the slice is recomputed from the raw rows (both cases)
    row.refresh_from_db()
    assert row.completed == before[0] + 2


def test_the_page_call_groups_once_and_equals_the_naive_per_area(mixed_set, areas, make_user,
                                                                django_assert_max_num_queries):
    from bianmin.followups.selectors import rates_by_area, rates_for_naive

    y = mixed_set["y"]
    admin = principal(make_user("district_admin", GULOU))
    start, end = y - timedelta(days=10), y + timedelta(days=1)
    with django_assert_max_num_queries(4):  # roll-ups, open overdue rectifications, children (+ a grant lookup)
        total, children = rates_by_area(actor=admin, area=areas[GULOU], start=start, end=end)
    assert _values(total.rates) == _values(rates_for_naive(areas[GULOU], start, end))
    assert {c.area.code for c in children} >= {GUDONG, GUXI}
    for c in children:
        assert _values(c.rates) == _values(rates_for_naive(c.area, start, end)), c.area.code


def test_a_new_evaluation_adds_its_share_in_one_update_and_stays_equal_to_a_recount(
        mixed_set, completed_case, django_capture_on_commit_callbacks, areas):
    """The hot path: with the day's row in place a submission does not recount its slice (its cost
    does not grow with the day's size), and what it adds equals a recount, for a first evaluation,
    a 追评 and a bad review alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bianmin.evaluations.services import evaluation_submit
    from bianmin.followups.models import DailyRollup
    from bianmin.followups.rollups import FIELDS, slice_counts

    y = mixed_set["y"]
    cases = [completed_case(day=y) for _ in range(2)]
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
        evaluation_submit(case_id=cases[0].pk, grade=5, channel="web", actor=None, evaluated_at=at(y, 18))
    rollup_sql = [q["sql"] for q in ctx.captured_queries if "followups_dailyrollup" in q["sql"]]
    assert len(rollup_sql) == 1 and rollup_sql[0].startswith("UPDATE")
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"]]
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_submit(case_id=cases[0].pk, grade=2, channel="web", actor=None, evaluated_at=at(y, 19),
                          reasons=["slow"])  # a 追评: not an active evaluation, but a bad review
        evaluation_submit(case_id=cases[1].pk, grade=1, channel="web", actor=None, evaluated_at=at(y, 19),
                          reasons=["slow"])
    row = DailyRollup.objects.get(day=y, area=areas[GUDONG])
    assert {k: getattr(row, k) for k in FIELDS} == slice_counts(y, areas[GUDONG].pk)


def test_opening_a_bad_reviews_handling_does_not_recount_its_slice_and_later_steps_do(
        mixed_set, completed_case, django_capture_on_commit_callbacks, areas):
    """A new handling is neither followed up nor rectified, so it moves no figure: the bad review's
    submission (with the handling opened on commit) counts nothing, and the row still equals a
    recount; a later step that moves a figure (the follow-up) recounts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bianmin.evaluations.services import evaluation_submit
    from bianmin.followups.models import BadReviewHandling, DailyRollup
    from bianmin.followups.rollups import FIELDS, slice_counts

    y = mixed_set["y"]
    case = completed_case(day=y)
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
        e = evaluation_submit(case_id=case.pk, grade=1, channel="web", actor=None, evaluated_at=at(y, 18),
                              reasons=["slow"]).evaluation
    handling = BadReviewHandling.objects.get(evaluation=e)
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"]]
    row = DailyRollup.objects.get(day=y, area=areas[GUDONG])
    assert {k: getattr(row, k) for k in FIELDS} == slice_counts(y, areas[GUDONG].pk)
    before = row.followed
    handling.followed_up_at = timezone.now()
    handling.save()
    row.refresh_from_db()
    assert row.followed == before + 1
    assert {k: getattr(row, k) for k in FIELDS} == slice_counts(y, areas[GUDONG].pk)
