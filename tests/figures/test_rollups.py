"""The roll-ups behind every figure: kept current after commit by the apps' news (submit, default,
bad review followed up, rectified, appeal upheld and excluded, rectification done or late, case
visits, appeals), equal to the naive count over the raw rows, rebuildable from them, repaired by
the daily job when a news was lost; and a property test over generated data: every rate within
0–100% and equal to the naive count, whatever the period."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI
from django.core.management import CommandError, call_command
from django.utils import timezone
from evaluations.conftest import at, principal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db


def _values(rates):
    return {r.key: (r.numerator, r.denominator) for r in rates}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def run(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run


@pytest.fixture
def mixed_set(completed_case, make_user, committed, areas):
    from bianmin.evaluations.services import evaluation_submit, evaluations_apply_defaults
    from bianmin.followups import services as fs

    y = timezone.localdate() - timedelta(days=1)
    d3 = y - timedelta(days=3)

    def ev(case, grade, day):
        return committed(evaluation_submit, case_id=case.pk, grade=grade, channel="web", actor=None,
                         evaluated_at=at(day, 17), reasons=["slow"] if grade <= 2 else []).evaluation

    gd = [completed_case(day=y) for _ in range(5)]
    gx = [completed_case(site="guxi", window="gx1", day=y) for _ in range(3)]
    old = [completed_case(day=d3, visits=2) for _ in range(2)]
    ev(gd[0], 5, y)
    ev(gd[1], 4, y)
    bad_followed = ev(gd[2], 1, y)
    bad_appealed = ev(gd[3], 2, y)
    ev(gx[0], 3, y)
    bad_open = ev(gx[1], 1, y)
    bad_explained = ev(old[0], 2, y)  # an old case evaluated later: counts in its case's day
    ev(old[1], 5, d3)
    completed_case(site="guxi", window="gx1", day=y - timedelta(days=9))
    committed(evaluations_apply_defaults, now=at(y, 12))  # default 满意: counted in no active figure

    admin = principal(make_user("district_admin", GULOU))
    manager = principal(make_user("center_manager", GUDONG))
    h = committed(fs.handling_verify, actor=admin, handling_id=bad_followed.handling.pk, verdict="confirmed",
                  verification="属实", measure="培训", owner_name="王")
    committed(fs.rectification_complete, actor=admin, rectification_id=h.rectification_id, result="已培训")
    committed(fs.handling_follow_up, actor=admin, handling_id=h.pk, satisfied=True, result="满意")
    committed(fs.handling_verify, actor=admin, handling_id=bad_explained.handling.pk, verdict="no_basis",
              verification="无依据", explanation="已解释")
    committed(fs.handling_appeal, actor=manager, handling_id=bad_appealed.handling.pk, reason="误评", evidence="录像")
    committed(fs.handling_appeal_decide, actor=admin, handling_id=bad_appealed.handling.pk, upheld=True, note="成立")
    # a rectification from another source, past its deadline and still open
    committed(fs.rectification_open, actor=admin, source="other", area=areas[GUXI], problem="指南未更新",
              measure="更新指南", owner_name="李", working_days=1, found_on=y - timedelta(days=10))
    return {"y": y, "d3": d3, "bad_open": bad_open}


PERIODS = [(0, 0), (3, 0), (10, 1), (40, 1)]  # days back from yesterday .. to today (+1 = today)


def _all(areas, y):
    from bianmin.figures.cohorts import Where
    from bianmin.figures.rollups import totals
    from bianmin.figures.selectors import RATE_DEFS, naive_counts, rates_for, rates_for_naive

    keys = [d[0] for d in RATE_DEFS]
    out = []
    for code in (CITY, GULOU, GUDONG, GUXI):
        for back, fwd in PERIODS:
            start, end = y - timedelta(days=back), y + timedelta(days=fwd)
            rolled, naive = totals(Where(areas[code].path), start, end), naive_counts(Where(areas[code].path), start, end)
            assert rolled == {k: naive[k] for k in rolled}, (code, back)
            out.append((code, back, _values(rates_for(areas[code], start, end, keys=keys)),
                        _values(rates_for_naive(areas[code], start, end, keys=keys))))
    return out


def test_rollup_figures_equal_the_naive_count_after_a_mix_of_writes(mixed_set, areas):
    for code, back, rolled, naive in _all(areas, mixed_set["y"]):
        assert rolled == naive, (code, back)
    from bianmin.figures.selectors import rates_for

    y = mixed_set["y"]
    got = _values(rates_for(areas[GULOU], y - timedelta(days=10), y + timedelta(days=1),
                            keys=("participation", "followup", "rectification", "on_time", "multi_trip")))
    # 11 completed cases in 鼓楼; 8 evaluated actively, the appealed bad review left the figures: 7;
    # bad reviews: followed (rectified), open, explained; on time: one done, one late and open;
    # two old cases came twice (跑多趟).
    assert got["participation"] == (7, 11) and got["followup"] == (1, 3) and got["rectification"] == (2, 3)
    assert got["on_time"] == (1, 2) and got["multi_trip"] == (2, 11)
    # the old case's bad review, made yesterday, counts three days back with its case, not yesterday
    assert _values(rates_for(areas[GUDONG], y, y))["rectification"] == (1, 1)
    assert _values(rates_for(areas[GUDONG], mixed_set["d3"], mixed_set["d3"]))["rectification"] == (1, 1)


def test_the_rates_read_the_rollups(mixed_set, areas):
    from bianmin.figures.models import AreaDailyRollup
    from bianmin.figures.selectors import rates_for

    y = mixed_set["y"]
    before = _values(rates_for(areas[GUDONG], y, y))["participation"]
    # an area's figures are its own pre-summed row, not its slices' rows summed at read time
    assert AreaDailyRollup.objects.filter(day=y, area_path=areas[GUDONG].path).update(completed=1000) == 1
    assert _values(rates_for(areas[GUDONG], y, y))["participation"] == (before[0], 1000)


def test_rebuild_reproduces_the_rollups_and_check_finds_drift(mixed_set, areas):
    from bianmin.figures.models import FIELDS, AreaDailyRollup, AreaMonthlyRollup, DailyRollup, MonthlyRollup
    from bianmin.figures.rollups import rebuild

    def snapshot():
        return (sorted(DailyRollup.objects.values_list("day", "area_id", "site_key", "window_key", *FIELDS)),
                sorted(MonthlyRollup.objects.values_list("month", "area_id", "site_key", "window_key", *FIELDS)),
                sorted(AreaDailyRollup.objects.values_list("day", "area_path", *FIELDS)),
                sorted(AreaMonthlyRollup.objects.values_list("month", "area_path", *FIELDS)))

    call_command("rebuild_rollups", "--check")
    kept = snapshot()
    DailyRollup.objects.update(evaluated=0)
    with pytest.raises(CommandError, match="不一致"):
        call_command("rebuild_rollups", "--check")
    DailyRollup.objects.all().delete()
    MonthlyRollup.objects.all().delete()
    AreaDailyRollup.objects.all().delete()
    AreaMonthlyRollup.objects.all().delete()
    assert rebuild() > 0
    assert snapshot() == kept  # the rows moved by the news after each commit are the rows rebuilt
    for code, back, rolled, naive in _all(areas, mixed_set["y"]):
        assert rolled == naive, (code, back)
    # --since recomputes only the days from then (and their months); earlier days are kept as they are
    DailyRollup.objects.filter(day__lt=mixed_set["y"]).update(bad=99)
    call_command("rebuild_rollups", "--since", mixed_set["y"].isoformat())
    assert DailyRollup.objects.filter(day=mixed_set["d3"], bad=99).exists()
    assert not DailyRollup.objects.filter(day=mixed_set["y"], bad=99).exists()


def test_the_areas_rows_hold_their_subtrees_and_check_finds_their_drift(mixed_set, areas):
    """Every area's row is the sum of the slices below it, for the city, a district and a
    township, on the day and in the month; a drifted area row is found by --check."""
    from django.db.models import Sum

    from bianmin.figures.models import FIELDS, AreaDailyRollup, AreaMonthlyRollup, DailyRollup, MonthlyRollup
    from bianmin.figures.rollups import month_of

    y = mixed_set["y"]
    for code in (CITY, GULOU, GUDONG, GUXI):
        path = areas[code].path
        for model, source, field, value in ((AreaDailyRollup, DailyRollup, "day", y),
                                            (AreaMonthlyRollup, MonthlyRollup, "month", month_of(y))):
            want = source.objects.filter(area_path__startswith=path, **{field: value}).aggregate(
                **{k: Sum(k) for k in FIELDS})
            row = model.objects.get(area_path=path, **{field: value})
            assert row.counts() == {k: v or 0 for k, v in want.items()}, (code, field)
    assert AreaDailyRollup.objects.get(area_path=areas[GULOU].path, day=y).completed > 0
    call_command("rebuild_rollups", "--check")
    AreaMonthlyRollup.objects.filter(area_path=areas[GULOU].path).update(bad=77)
    with pytest.raises(CommandError, match="不一致"):
        call_command("rebuild_rollups", "--check")


def test_a_missing_area_row_is_recounted_by_the_next_news(mixed_set, completed_case, areas, committed):
    """An area row gone (a manual delete, an interrupted rebuild) is summed again from the
    slices when a news next moves a slice below it, not left short by the difference."""
    from bianmin.evaluations.services import evaluation_submit
    from bianmin.figures.models import AreaDailyRollup, AreaMonthlyRollup
    from bianmin.figures.rollups import check

    y = mixed_set["y"]
    AreaDailyRollup.objects.filter(area_path=areas[GULOU].path, day=y).delete()
    # The month of the news only: a month the news does not touch stays to the rebuild.
    AreaMonthlyRollup.objects.filter(area_path=areas[CITY].path, month=y.replace(day=1)).delete()
    assert check()
    committed(evaluation_submit, case_id=completed_case(day=y).pk, grade=5, channel="web", actor=None)
    assert check() == []


def test_a_period_is_read_from_month_rows_and_the_fewer_day_rows():
    """pieces(): the month rows, the day rows added and the day rows taken away cover exactly
    the days of the period, once each, whatever the period; a partial month is read from the
    fewer rows (its days, or its month row less the days outside)."""
    from bianmin.figures.rollups import pieces

    @settings(max_examples=300, deadline=None)
    @given(st.dates(date(2024, 1, 1), date(2027, 12, 31)), st.integers(0, 800))
    def check(start, length):
        end = start + timedelta(days=length)
        months, add, sub = pieces(start, end)
        count: dict = {}
        if months:
            m = months[0]
            while m <= months[1]:
                d = m
                while d.month == m.month:
                    count[d] = count.get(d, 0) + 1
                    d += timedelta(days=1)
                m = d
        for lo, hi in add:
            assert lo.month == hi.month and lo.year == hi.year
            for i in range((hi - lo).days + 1):
                count[lo + timedelta(days=i)] = count.get(lo + timedelta(days=i), 0) + 1
        for lo, hi in sub:
            assert lo.month == hi.month and lo.year == hi.year
            for i in range((hi - lo).days + 1):
                count[lo + timedelta(days=i)] = count.get(lo + timedelta(days=i), 0) - 1
        want = {start + timedelta(days=i): 1 for i in range(length + 1)}
        assert {d: n for d, n in count.items() if n} == want
        rows = sum((hi - lo).days + 1 for lo, hi in add + sub)
        assert rows <= 2 * 16  # at most about half a month of day rows at each end

    check()
    assert pieces(date(2025, 12, 4), date(2026, 12, 3)) == (
        (date(2025, 12, 1), date(2026, 11, 1)), [(date(2026, 12, 1), date(2026, 12, 3))],
        [(date(2025, 12, 1), date(2025, 12, 3))])


def test_rebuild_command_refuses_a_bad_date():
    with pytest.raises(CommandError, match="日期格式"):
        call_command("rebuild_rollups", "--since", "2026-13-40")
    with pytest.raises(CommandError, match="结束日期"):
        call_command("rebuild_rollups", "--since", "2026-05-02", "--until", "2026-05-01")


def test_a_lost_news_is_repaired_by_the_daily_job(mixed_set, completed_case, areas, make_user):
    """A write whose news never arrives (no on-commit callbacks run here: the signal is lost)
    leaves the roll-ups behind; the daily job's repair brings them back in line."""
    from bianmin.evaluations.services import evaluation_submit
    from bianmin.figures.selectors import rates_for, rates_for_naive
    from bianmin.figures.tasks import daily

    y = mixed_set["y"]
    before = _values(rates_for(areas[GUDONG], y, y))["participation"]
    case = completed_case(day=y)  # its news arrives
    evaluation_submit(case_id=case.pk, grade=5, channel="web", actor=None)  # its news is lost
    stale = _values(rates_for(areas[GUDONG], y, y))["participation"]
    assert stale == (before[0], before[1] + 1) != _values(rates_for_naive(areas[GUDONG], y, y))["participation"]
    result = daily()
    assert result["rebuilt"] > 0
    assert _values(rates_for(areas[GUDONG], y, y)) == _values(rates_for_naive(areas[GUDONG], y, y))
    call_command("rebuild_rollups", "--check")


def test_a_news_received_twice_counts_once(mixed_set, areas):
    from bianmin.cases.models import Case
    from bianmin.cases.signals import case_completed
    from bianmin.figures.selectors import rates_for, rates_for_naive

    y = mixed_set["y"]
    case = Case.objects.filter(state="completed", completed_at__date__gte=y - timedelta(days=1)).first()
    for _ in range(3):
        case_completed.send(sender=Case, case=case)
    assert _values(rates_for(areas[GULOU], y, y)) == _values(rates_for_naive(areas[GULOU], y, y))


def test_the_page_call_groups_once_and_equals_the_naive_per_area(mixed_set, areas, make_user,
                                                                django_assert_max_num_queries):
    from bianmin.figures.selectors import rates_by_area, rates_for_naive

    y = mixed_set["y"]
    admin = principal(make_user("district_admin", GULOU))
    start, end = y - timedelta(days=10), y + timedelta(days=1)
    with django_assert_max_num_queries(7):  # roll-up spans, two live counts, children (+ a grant lookup)
        total, children = rates_by_area(actor=admin, area=areas[GULOU], start=start, end=end)
    assert _values(total.rates) == _values(rates_for_naive(areas[GULOU], start, end))
    assert {c.area.code for c in children} >= {GUDONG, GUXI}
    for c in children:
        assert _values(c.rates) == _values(rates_for_naive(c.area, start, end)), c.area.code


def test_a_new_evaluation_refreshes_only_its_cases_slice(mixed_set, completed_case, committed, areas):
    """After commit, a submission recounts the one slice of its case (site, window, completion
    day): a few indexed queries, whatever the size of the city."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bianmin.evaluations.services import evaluation_submit
    from bianmin.figures.models import FIELDS, DailyRollup
    from bianmin.figures.rollups import CASES, case_key, slice_counts

    y = mixed_set["y"]
    case = completed_case(day=y)
    with CaptureQueriesContext(connection) as ctx:
        committed(evaluation_submit, case_id=case.pk, grade=5, channel="web", actor=None)
    touched = [q["sql"] for q in ctx.captured_queries if "figures_" in q["sql"]]
    assert 2 <= len(touched) <= 6
    key = case_key(case.pk)
    row = DailyRollup.objects.get(day=key[0], area_id=key[1], site_key=key[2], window_key=key[3])
    assert {k: getattr(row, k) for k in CASES.fields} == slice_counts(key, (CASES,))
    assert set(CASES.fields) <= set(FIELDS)


# --- the property: over generated data, every rate in 0–100% and equal to the naive count ------

def _generated_world(seed: int, n_cases: int, sites, windows, areas, today: date) -> None:
    """Rows straight into the tables (no services, no news): cases completed over 40 days at
    two townships, their first evaluations and 追评 (some default, some excluded), handlings in
    every state, rectifications of every source and state, appeals and follow-ups."""
    from bianmin.appeals.models import Appeal
    from bianmin.cases.models import Case
    from bianmin.evaluations.models import Evaluation
    from bianmin.followups.models import BadReviewHandling, FollowUp, Rectification

    rng = random.Random(seed)
    tz = timezone.get_current_timezone()
    places = [(sites["gudong"], windows["w1"]), (sites["gudong"], None), (sites["guxi"], windows["gx1"])]
    for i in range(n_cases):
        site, window = rng.choice(places)
        day = today - timedelta(days=rng.randint(0, 40))
        done = datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=tz)
        due = day + timedelta(days=rng.choice([-2, 0, 3]))
        received_at = site if rng.random() < 0.8 else rng.choice(places)[0]  # some 业务转办 from another site
        case = Case.objects.create(item=_item(site), site=site, received_site=received_at, window=window,
                                   applicant_kind="person", applicant_name="测试", mobile="13800000000",
                                   legal_limit_days=20, promised_limit_days=10, submitted_at=done, accepted_at=done,
                                   accepted_on=day, completed_at=done, completed_on=day, state="completed",
                                   result="approved", promised_due_on=rng.choice([due, None]),
                                   visit_count=rng.choice([1, 1, 2, 3]), acceptance_number=f"P{seed}-{i}")
        kind = rng.random()
        if kind < 0.15:
            continue  # not evaluated
        later = done + timedelta(days=rng.randint(0, 12))  # evaluated in a later period too
        grade = rng.choice([1, 2, 3, 4, 5, 5])
        is_default = kind < 0.3
        ev = Evaluation.objects.create(case=case, kind="first", grade=4 if is_default else grade, aspect_set="online",
                                       channel="default" if is_default else "web", is_default=is_default,
                                       excluded=(not is_default and rng.random() < 0.1), area=site.area, site=site,
                                       window=window, evaluated_at=later, fingerprint="x")
        evs = [ev]
        if not is_default and rng.random() < 0.25:
            evs.append(Evaluation.objects.create(case=case, kind="additional", grade=rng.choice([1, 2, 5]),
                                                 aspect_set="online", channel="web", area=site.area, site=site,
                                                 excluded=rng.random() < 0.1, window=window,
                                                 evaluated_at=later + timedelta(days=1), fingerprint="y"))
        for e in evs:
            if e.grade <= 2 and not e.is_default and rng.random() < 0.9:
                status = rng.choice(["open", "rectifying", "explained", "rectified", "followed_up", "appealed",
                                     "closed"])
                BadReviewHandling.objects.create(
                    evaluation=e, case=case, area=site.area, site=site, status=status, verify_due=day,
                    verdict=rng.choice(["", "confirmed", "no_basis", "mistaken"]),
                    followed_up_at=rng.choice([None, later + timedelta(days=3)]))
    for i in range(n_cases // 3):
        site = rng.choice([sites["gudong"], sites["guxi"], None])
        found = today - timedelta(days=rng.randint(0, 45))
        status = rng.choice(["open", "done"])
        Rectification.objects.create(
            number=f"R{seed}-{i}", source=rng.choice(["bad_review", "other", "follow_up"]), area=(site or sites["gudong"]).area,
            site=site, problem="问题", found_on=found, deadline=found + timedelta(days=rng.choice([1, 10, 30])),
            status=status, done_on=found + timedelta(days=3) if status == "done" else None,
            on_time=rng.choice([True, False]) if status == "done" else None)
    for i in range(n_cases // 3):
        site = rng.choice([sites["gudong"], sites["guxi"], None])
        reg = datetime.combine(today - timedelta(days=rng.randint(0, 45)), time(10), tzinfo=tz)
        replied = rng.random() < 0.6
        Appeal.objects.create(
            number=f"A{seed}-{i}", kind="complaint", channel="web", area=(site or sites["guxi"]).area, site=site,
            title="t", content="c", registered_at=reg, due_date=reg.date() + timedelta(days=rng.choice([1, 5, 60])),
            replied_at=reg + timedelta(days=2) if replied else None,
            replied_on_time=rng.choice([True, False, None]) if replied else None,
            satisfaction=rng.choice(["", "satisfied", "basic", "unsatisfied"]) if replied else "")
    for _ in range(n_cases // 3):
        site = rng.choice([sites["gudong"], sites["guxi"]])
        FollowUp.objects.create(reason="sample", area=site.area, site=site,
                                outcome=rng.choice(["", "reached", "unreached"]),
                                satisfaction=rng.choice(["", "satisfied", "basic", "unsatisfied"]),
                                done_at=rng.choice([None, datetime.combine(today - timedelta(days=rng.randint(0, 45)),
                                                                           time(11), tzinfo=tz)]))


def _item(site):
    from bianmin.catalog.models import Item

    return Item.objects.filter(site=site).first() or Item.objects.first()


@pytest.fixture
def world_base(sites, items, calendar):
    return sites, sites


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(seed=st.integers(min_value=1, max_value=10_000), n=st.integers(min_value=5, max_value=30),
       back=st.integers(min_value=0, max_value=45), length=st.integers(min_value=0, max_value=50))
def test_property_every_rate_within_0_and_100_and_equal_to_the_naive_count(world_base, areas, seed, n, back, length):
    from django.db import transaction

    from bianmin.core.capabilities import Cap
    from bianmin.core.principal import Grant, Principal
    from bianmin.figures.models import DailyRollup, MonthlyRollup
    from bianmin.figures.rollups import rebuild
    from bianmin.figures.selectors import RATE_DEFS, rates_by_area, rates_for, rates_for_naive

    sites, windows = world_base
    today = timezone.localdate()
    sid = transaction.savepoint()
    try:
        _generated_world(seed, n, sites, windows, areas, today)
        DailyRollup.objects.all().delete()
        MonthlyRollup.objects.all().delete()
        rebuild()
        keys = [d[0] for d in RATE_DEFS]
        start = today - timedelta(days=back)
        end = min(today, start + timedelta(days=length))
        for code in (CITY, GULOU, GUDONG, GUXI):
            got = rates_for(areas[code], start, end, keys=keys)
            assert _values(got) == _values(rates_for_naive(areas[code], start, end, keys=keys)), code
            for r in got:
                assert 0 <= r.numerator <= r.denominator, (code, r.key, r.numerator, r.denominator)
                assert r.value is None or 0.0 <= r.value <= 1.0
        actor = Principal(label="t", grants=[Grant(path=areas[CITY].path, capabilities=frozenset({Cap.VIEW}))])
        total, children = rates_by_area(actor=actor, area=areas[GULOU], start=start, end=end, keys=keys)
        assert _values(total.rates) == _values(rates_for_naive(areas[GULOU], start, end, keys=keys))
    finally:
        transaction.savepoint_rollback(sid)
