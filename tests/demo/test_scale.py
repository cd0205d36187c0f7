"""`bianmin demo --scale N`: N completed cases with evaluations, handlings, rectifications and
appeals in the demo data's distributions, written in bounded chunks, with figures equal to the
naive aggregate under the cohort rule (the roll-ups are counted while loading)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from bianmin import cli

pytestmark = pytest.mark.django_db

N = 2000


@pytest.fixture
def scaled(areas, work_calendar):
    _demo("--scale", str(N), "--chunk", "700", "--days", "120")


def test_counts_and_distributions(scaled):
    from bianmin.appeals.models import Appeal
    from bianmin.cases.models import Case
    from bianmin.evaluations.models import Evaluation
    from bianmin.followups.models import BadReviewHandling, Rectification

    assert Case.objects.filter(state="completed").count() == N
    evs = Evaluation.objects.all()
    active = evs.filter(is_default=False).count()
    assert 0.70 * N < active < 0.80 * N  # three in four evaluate
    # every default is at least 7 days after completion; the last week's silent cases have none yet
    now = timezone.now()
    assert not evs.filter(is_default=True, evaluated_at__gt=now).exists()
    assert evs.count() < N and evs.filter(is_default=True).count() > 0.15 * N
    bad = evs.filter(is_default=False, grade__lte=2).count()
    assert 0.03 * active < bad < 0.10 * active  # about one in sixteen (3.5% + 2.5%)
    assert 0.60 * active < evs.filter(is_default=False, grade=5).count() < 0.80 * active
    assert BadReviewHandling.objects.count() == bad  # every bad review has its handling
    assert Rectification.objects.filter(source="bad_review").count() == BadReviewHandling.objects.exclude(
        rectification=None).count() > 0
    assert Appeal.objects.count() == N // 40
    excluded = evs.filter(excluded=True)
    assert excluded.count() == BadReviewHandling.objects.filter(appeal_decision="upheld").count()
    # one evaluation per case at most (the unique rule holds on the bulk path)
    assert evs.values("case_id").distinct().count() == evs.count()


def test_figures_equal_the_naive_aggregate_and_a_second_run_appends(scaled, areas):
    from bianmin.cases.models import Case
    from bianmin.figures.cohorts import Where
    from bianmin.figures.rollups import totals
    from bianmin.figures.selectors import RATE_DEFS, naive_counts, rates_for, rates_for_naive

    t = timezone.localdate()
    keys = [d[0] for d in RATE_DEFS]
    for code in ("350100000000", "350102000000", "350102001000"):
        for start in (t - timedelta(days=30), t - timedelta(days=45), t - timedelta(days=120)):
            got = rates_for(_area(code), start, t, keys=keys)
            assert [(r.numerator, r.denominator) for r in got] \
                == [(r.numerator, r.denominator) for r in rates_for_naive(_area(code), start, t, keys=keys)]
            assert all(0 <= r.numerator <= r.denominator for r in got)
            rolled, naive = totals(Where(_area(code).path), start, t), naive_counts(Where(_area(code).path), start, t)
            assert rolled == {k: naive[k] for k in rolled}
    _demo("--scale", "100", "--days", "30")
    assert Case.objects.count() == N + 100
    call_command("rebuild_rollups", "--check")


def _area(code):
    from bianmin.regions.models import Area

    return Area.objects.get(code=code)


def test_bad_input_is_refused_in_chinese_and_nothing_is_written(areas, capsys):
    from bianmin.cases.models import Case

    assert cli.main(["demo", "--scale", "0"]) == 2
    assert "正整数" in capsys.readouterr().err
    assert not Case.objects.exists()


def test_demo_help_names_the_scale_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["demo", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--scale N", "--days", "--seed", "--chunk"):
        assert option in out


def test_bianmin_demo_dispatches_to_the_generator_or_the_demo_city(monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "_setup_django", lambda: None)
    monkeypatch.setattr(cli, "_demo_scale", lambda args: seen.append(("scale", args.scale, args.days)) or 0)
    monkeypatch.setattr("bianmin.demo.load_demo", lambda out=None: seen.append(("demo",)))
    monkeypatch.setattr("bianmin.demo.real_accounts", lambda: 0)
    assert cli.main(["demo", "--scale", "1000000", "--days", "365"]) == 0
    assert cli.main(["demo", "--scale=500"]) == 0
    assert cli.main(["demo"]) == 0
    assert seen == [("scale", 1000000, 365), ("scale", 500, 365), ("demo",)]
    with pytest.raises(SystemExit) as exit_:
        cli.main(["demo", "--scale"])  # argparse: a value is required
    assert exit_.value.code == 2


def test_demo_refuses_a_database_with_real_accounts_unless_told(make_user, monkeypatch, capsys):
    """Demo data (log-ins with a published password, invented citizens) must not land beside a
    real city's accounts by a mistyped command."""
    from bianmin.accounts.models import User

    seen = []
    monkeypatch.setattr(cli, "_setup_django", lambda: None)
    monkeypatch.setattr("bianmin.demo.load_demo", lambda out=None: seen.append("demo"))
    monkeypatch.setattr(cli, "_demo_scale", lambda args: seen.append("scale") or 0)
    make_user("city_admin", "350100000000", username="real_admin")
    for argv in (["demo"], ["demo", "--scale", "100"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert "正式账号" in err and "--allow-real-accounts" in err
    assert seen == []
    assert cli.main(["demo", "--allow-real-accounts"]) == 0 and seen == ["demo"]
    User.objects.filter(username="real_admin").update(is_demo=True)  # only demo accounts: no question
    assert cli.main(["demo"]) == 0 and seen == ["demo", "demo"]


def test_writes_through_the_services_follow_the_bulk_ids(scaled, areas):
    """The bulk path gives ids itself: on PostgreSQL the sequences must move past them."""
    from bianmin.followups.services import rectification_open

    r = rectification_open(actor=None, source="other", area=_area("350102001000"), problem="规模数据之后的新问题",
                           measure="整改", owner_name="王", working_days=5)
    assert r.pk > 0 and r.number


def _demo(*argv):
    assert cli.main(["demo", "--quiet", *argv]) == 0


def _rollup_rows():
    from bianmin.figures.models import FIELDS, AreaDailyRollup, AreaMonthlyRollup, DailyRollup, MonthlyRollup

    return (sorted(DailyRollup.objects.values_list("day", "area_id", "area_path", "site_key", "window_key", *FIELDS)),
            sorted(MonthlyRollup.objects.values_list("month", "area_id", "area_path", "site_key", "window_key", *FIELDS)),
            sorted(AreaDailyRollup.objects.values_list("day", "area_path", *FIELDS)),
            sorted(AreaMonthlyRollup.objects.values_list("month", "area_path", *FIELDS)))


def test_rollups_counted_while_loading_equal_a_rebuild_from_the_raw_rows(scaled):
    """The generator counts the roll-ups itself (no rescan at the end): the same rows as
    rollups.rebuild, also after a second load that adds to existing days."""
    from bianmin.figures.rollups import rebuild

    _demo("--scale", "300", "--days", "30", "--seed", "7")
    counted = _rollup_rows()
    assert all(counted) and rebuild() == len(counted[0])
    assert _rollup_rows() == counted


def _index_ddl():
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
        else:
            cursor.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                           "ORDER BY indexname")
        return cursor.fetchall()


def test_bulk_load_drops_and_restores_the_secondary_indexes_identically(areas, work_calendar, monkeypatch):
    from django.db import connection

    from bianmin.cases.models import Case
    from bianmin.demo import scale

    before = _index_ddl()
    seen = []
    real = scale._generate

    def spy(*args, **kwargs):
        seen.append({name for _t, name, _sql in _index_ddl()})
        return real(*args, **kwargs)

    monkeypatch.setattr(scale, "_generate", spy)
    counts = scale.generate(400, days=30, chunk=150, bulk=True)
    assert counts["cases"] == Case.objects.count() == 400
    # while loading, the plain indexes of the bulk tables were gone; the unique ones stayed
    during = seen[0]
    assert "evaluation_area_time_idx" not in during and "case_submitted_idx" not in during
    assert "uniq_rectification_source" in during
    assert _index_ddl() == before  # the same statements: the schema ends identical
    assert connection.introspection.get_constraints(connection.cursor(), "evaluations_evaluation")[
        "evaluation_area_time_idx"]["columns"] == ["area_id", "evaluated_at"]


def test_the_followup_ledger_gets_its_rows(scaled):
    from bianmin.followups.models import BadReviewHandling, FollowUp

    followed = BadReviewHandling.objects.exclude(followed_up_at=None)
    assert FollowUp.objects.filter(reason="unsatisfied").count() == followed.count() > 0
    assert FollowUp.objects.filter(reason="unsatisfied", handling__followed_up_at=models_F("done_at")).count() \
        == followed.count()
    sampled = FollowUp.objects.filter(reason="sample")
    active_good = N * 0.75 * 0.94
    assert 0.04 * active_good < sampled.count() < 0.16 * active_good  # about one in ten, those already due
    assert not FollowUp.objects.filter(done_at__gt=timezone.now()).exists()


def models_F(name):
    from django.db.models import F

    return F(name)


def test_appeal_numbers_that_meet_are_drawn_again(areas, work_calendar, monkeypatch):
    """At 10M cases (a thousand appeals a day) two random numbers of a day meet: the load draws
    again instead of failing on the unique number (found in the 10M run)."""
    from bianmin.appeals import services
    from bianmin.appeals.models import Appeal
    from bianmin.demo.scale import generate

    draws = iter(["SQ20260101" + f"{i // 3:08d}" for i in range(10_000)])  # every number comes three times
    monkeypatch.setattr(services, "new_number", lambda day=None: next(draws))
    counts = generate(400, days=20, chunk=150)
    numbers = list(Appeal.objects.values_list("number", flat=True))
    assert counts["appeals"] == len(numbers) == 10 and len(set(numbers)) == 10
