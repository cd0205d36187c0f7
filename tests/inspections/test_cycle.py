"""A whole online check through the services: templates versioned, a cycle keeping its version,
the scheduled job idempotent, the draw reproducible from a fixed cut-off, materials attached and
uploaded, item-by-item review, findings becoming notices, scores per site and district."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import CITY, GUDONG, GULOU, TAIJIANG

from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, UnsupportedType
from bianmin.inspections import sampling, selectors, services
from bianmin.inspections.models import Cycle, Material, Notice, SampledCase, SampledSite

from .conftest import PDF, PNG, at, full_scores


def test_a_new_template_version_leaves_the_cycles_version_alone(template, cycle_factory, areas, people, principal):
    cycle = cycle_factory()
    items = [{"category": "guides", "text": "办事指南公开", "max_score": "100"}]
    v2 = services.template_version_create(actor=principal(people["inspector"]), area=areas[CITY], code=template.code,
                                          name="修订版", items=items, note="精简")
    assert (template.version, v2.version) == (1, 2)
    cycle.refresh_from_db()
    assert cycle.template_id == template.pk
    assert cycle.template.items.count() == 12 and cycle.template.total == Decimal("100")
    assert services.template_latest(template.code) == v2


def test_template_checks_its_items(areas, people, principal):
    actor = principal(people["inspector"])
    with pytest.raises(Invalid, match="检查方面无效"):
        services.template_version_create(actor=actor, area=areas[CITY], code="t1", name="模板",
                                          items=[{"category": "x", "text": "a", "max_score": 1}])
    with pytest.raises(Invalid, match="分值应大于 0"):
        services.template_version_create(actor=actor, area=areas[CITY], code="t1", name="模板",
                                          items=[{"category": "site", "text": "a", "max_score": 0}])
    with pytest.raises(Invalid, match="模板编码"):
        services.template_version_create(actor=actor, area=areas[CITY], code="模板", name="模板",
                                          items=[{"category": "site", "text": "a", "max_score": 1}])


def test_a_district_cannot_revise_the_citys_template(template, areas, people, principal):
    with pytest.raises(Forbidden, match="上级单位制定"):
        services.template_version_create(actor=principal(people["gulou"]), area=areas[GULOU], code=template.code,
                                          name="改", items=[{"category": "site", "text": "a", "max_score": 1}])


def test_the_draw_is_the_rule_applied_and_recorded(running, sites):
    cycle, ss = running
    assert cycle.status == Cycle.Status.RUNNING
    assert sorted(cycle.sites.values_list("site__code", flat=True)) == ["C-GUDONG", "C-TJ"]
    assert ss.site == sites["gudong"] and ss.cases.count() == 2
    rule = cycle.rule
    assert rule["completed_before"].startswith("2026-03-01T00:00:00")
    assert rule["completed_from"].startswith("2026-01-01T00:00:00")  # the two months before
    assert rule["algorithm"] == sampling.ALGORITHM and rule["case_id_max"] > 0
    assert selectors.sample_verify(cycle=cycle) is True
    assert cycle.submit_due == date(2026, 3, 16)  # 10 working days from Monday 2 March


def test_the_same_seed_and_rule_give_the_same_sample_whatever_is_written_after(running, make_cases):
    cycle, _ss = running
    first = sampling.draw(seed=cycle.seed, rule=cycle.rule)
    # Cases finished after the cut-off, and newer rows back-dated into the window: neither counts.
    make_cases("gudong", 20, completed=date(2026, 3, 3))
    make_cases("gudong", 20, completed=date(2026, 2, 12))
    again = sampling.draw(seed=cycle.seed, rule=cycle.rule)
    assert [(d.site_code, d.case_ids) for d in again] == [(d.site_code, d.case_ids) for d in first]
    assert selectors.sample_verify(cycle=cycle) is True
    other = sampling.draw(seed=cycle.seed + 1, rule=cycle.rule)
    assert sampling.digest(other) != cycle.sample_digest or len(first) == 0


def test_only_cases_of_the_window_are_drawn(cycle_factory, make_cases, people, principal, calendar):
    before = make_cases("gudong", 3, completed=date(2025, 12, 1))  # older than the window
    inside = make_cases("gudong", 3, completed=date(2026, 2, 27))
    make_cases("gudong", 3, completed=date(2026, 3, 1))  # the cycle's own period
    make_cases("gudong", 3, completed=date(2026, 2, 20), state="in_progress")
    cycle = cycle_factory(districts=(GULOU,), sites=2, cases=10)
    services.cycle_sample(actor=principal(people["inspector"]), cycle_id=cycle.pk, now=at(date(2026, 3, 2)))
    drawn = set(SampledCase.objects.filter(sampled_site__cycle=cycle).values_list("case_id", flat=True))
    assert drawn == {c.pk for c in inside}
    assert not drawn & {c.pk for c in before}


def test_a_cycle_is_drawn_once(running, people, principal):
    cycle, _ = running
    with pytest.raises(Conflict, match="已抽样"):
        services.cycle_sample(actor=principal(people["inspector"]), cycle_id=cycle.pk)
    assert SampledSite.objects.filter(cycle=cycle).count() == 2


def test_a_future_cycle_is_not_drawn_yet(cycle_factory, people, principal, calendar):
    cycle = cycle_factory(start=date(2026, 5, 1), end=date(2026, 6, 30))
    with pytest.raises(Conflict, match="尚未开始"):
        services.cycle_sample(actor=principal(people["inspector"]), cycle_id=cycle.pk, now=at(date(2026, 4, 1)))
    assert not SampledSite.objects.filter(cycle=cycle).exists()


def test_a_district_cannot_create_a_city_cycle_nor_reach_another_districts(cycle_factory, areas, people, principal,
                                                                           template):
    with pytest.raises(NotFound):
        cycle_factory(by="gulou")
    with pytest.raises(Invalid, match="不在鼓楼区"):
        services.cycle_create(actor=principal(people["gulou"]), area=areas[GULOU], title="区自查",
                              period_start=date(2026, 3, 1), period_end=date(2026, 4, 30), template_id=template.pk,
                              district_codes=[TAIJIANG])
    assert not Cycle.objects.exists()


def test_the_scheduled_job_creates_each_period_once(areas, people, principal, template, make_cases, calendar):
    services.schedule_set(actor=principal(people["inspector"]), area=areas[CITY], template_code=template.code,
                          site_kinds=["center", "station"], sites_per_district=1, cases_per_site=1)
    services.schedule_set(actor=principal(people["gulou"]), area=areas[GULOU], template_code=template.code,
                          period_months=3, sites_per_district=2)
    first = services.cycles_create_due(today=date(2026, 5, 6))
    again = services.cycles_create_due(today=date(2026, 5, 20))
    assert {(c.area.code, c.period_start, c.period_end) for c in first} == {
        (CITY, date(2026, 5, 1), date(2026, 6, 30)), (GULOU, date(2026, 4, 1), date(2026, 6, 30))}
    assert again == []
    assert Cycle.objects.count() == 2 and set(Cycle.objects.values_list("status", flat=True)) == {"running"}
    city = Cycle.objects.get(area__code=CITY)
    assert city.template_id == template.pk and city.title == "福州市2026年第3期督查（5—6月）"
    assert set(city.districts.values_list("code", flat=True)) == {GULOU, TAIJIANG}
    assert services.cycles_create_due(today=date(2026, 7, 1))[0].period_start == date(2026, 7, 1)


def test_period_of_counts_from_january():
    assert services.period_of(date(2026, 12, 3), 2) == (date(2026, 11, 1), date(2026, 12, 31), 6)
    assert services.period_of(date(2026, 12, 3), 5) == (date(2026, 11, 1), date(2026, 12, 31), 3)
    assert services.period_of(date(2026, 2, 28), 1) == (date(2026, 2, 1), date(2026, 2, 28), 2)


def test_the_district_submits_with_the_platforms_materials_attached(running, people, principal):
    cycle, ss = running
    actor = principal(people["gulou"])
    services.material_upload(actor=actor, sampled_site_id=ss.pk, title="场所照片", files=[("hall.png", PNG)])
    ss = services.sampled_site_submit(actor=actor, sampled_site_id=ss.pk)
    kinds = sorted(ss.materials.values_list("kind", flat=True))
    assert kinds == ["compliance", "dossier", "dossier", "item_list", "upload"]
    for m in ss.materials.exclude(kind="upload").select_related("file"):
        assert m.file.content_type == "application/pdf"
    assert ss.status == SampledSite.Status.SUBMITTED
    with pytest.raises(Conflict, match="已提交"):
        services.material_upload(actor=actor, sampled_site_id=ss.pk, title="补充", files=[("b.pdf", PDF)])


def test_bad_uploads_leave_nothing(running, people, principal, settings):
    _cycle, ss = running
    actor = principal(people["gulou"])
    with pytest.raises(UnsupportedType, match="类型不支持"):
        services.material_upload(actor=actor, sampled_site_id=ss.pk, title="制度", files=[("a.pdf", PDF), ("x.exe", b"MZ\x90")])
    settings.BIANMIN_CASE_FILE_MAX_BYTES = 40
    with pytest.raises(TooLarge, match="过大"):
        services.material_upload(actor=actor, sampled_site_id=ss.pk, title="制度", files=[("a.pdf", PDF)])
    with pytest.raises(Invalid, match="为空"):
        services.material_upload(actor=actor, sampled_site_id=ss.pk, title="制度", files=[("e.pdf", b"")])
    assert not Material.objects.filter(sampled_site=ss).exists()


def test_only_the_level_below_the_organiser_submits(running, people, principal):
    _cycle, ss = running
    with pytest.raises(Forbidden, match="由鼓楼区办理"):
        services.sampled_site_submit(actor=principal(people["gudong"]), sampled_site_id=ss.pk)
    with pytest.raises(Forbidden, match="组织检查的单位不能代为办理"):
        services.sampled_site_submit(actor=principal(people["city"]), sampled_site_id=ss.pk)
    with pytest.raises(NotFound):
        services.sampled_site_submit(actor=principal(people["taijiang"]), sampled_site_id=ss.pk)
    ss.refresh_from_db()
    assert ss.status == SampledSite.Status.REQUESTED


def test_review_item_by_item_then_findings_become_notices(running, people, principal, template):
    cycle, ss = running
    services.sampled_site_submit(actor=principal(people["gulou"]), sampled_site_id=ss.pk)
    inspector = principal(people["inspector"])
    scores = full_scores(template, deduct={1: ("7", "功能分区标识不清"), 10: ("12", "2份卷宗缺受理通知书")})
    with pytest.raises(Invalid, match="请填写评审意见"):
        services.review_score(actor=inspector, sampled_site_id=ss.pk,
                              scores=[{"item_id": scores[0]["item_id"], "score": "5", "remark": ""}])
    with pytest.raises(Invalid, match="得分应在 0 至 10.0"):
        services.review_score(actor=inspector, sampled_site_id=ss.pk,
                              scores=[{"item_id": scores[0]["item_id"], "score": "11", "remark": "x"}])
    services.review_score(actor=inspector, sampled_site_id=ss.pk, scores=scores[:5])
    with pytest.raises(Invalid, match="还有 7 个评分项未评分"):
        services.review_finish(actor=inspector, sampled_site_id=ss.pk)
    services.review_score(actor=inspector, sampled_site_id=ss.pk, scores=scores[5:])
    ss = services.review_finish(actor=inspector, sampled_site_id=ss.pk, now=at(date(2026, 3, 5)))
    assert (ss.score, ss.max_score) == (Decimal("94.0"), Decimal("100.0"))
    notices = list(Notice.objects.filter(cycle=cycle).order_by("number"))
    assert [n.number for n in notices] == ["ZGTZ202600001", "ZGTZ202600002"]
    assert {n.addressee.code for n in notices} == {GULOU}
    assert "功能分区标识不清" in notices[0].problem and "扣 3.0 分" in notices[0].problem
    # 10 working days from Thursday 5 March 2026: Friday 6 … Thursday 19 March
    assert {n.deadline for n in notices} == {date(2026, 3, 19)}
    site_score = cycle.scores.get(level="site")
    district_score = cycle.scores.get(level="district")
    assert (site_score.score, site_score.findings, district_score.score) == (Decimal("94.0"), 2, Decimal("94.0"))
    with pytest.raises(Conflict, match="已评审完成"):
        services.review_score(actor=inspector, sampled_site_id=ss.pk, scores=scores)


def test_a_reviewer_outside_the_organiser_is_refused(running, people, principal, template):
    _cycle, ss = running
    services.sampled_site_submit(actor=principal(people["gulou"]), sampled_site_id=ss.pk)
    scores = full_scores(template)
    with pytest.raises(Forbidden, match="福州市的督查人员"):
        services.review_score(actor=principal(people["gulou_inspector"]), sampled_site_id=ss.pk, scores=scores)
    with pytest.raises(NotFound):
        services.review_score(actor=principal(people["taijiang"]), sampled_site_id=ss.pk, scores=scores)
    assert not ss.scores.exists()


def test_closing_scores_a_silent_site_zero_with_a_notice(running, people, principal, template):
    cycle, ss = running
    services.sampled_site_submit(actor=principal(people["gulou"]), sampled_site_id=ss.pk)
    inspector = principal(people["inspector"])
    with pytest.raises(Conflict, match="待评审"):
        services.cycle_close(actor=inspector, cycle_id=cycle.pk)
    services.review_score(actor=inspector, sampled_site_id=ss.pk, scores=full_scores(template))
    services.review_finish(actor=inspector, sampled_site_id=ss.pk, now=at(date(2026, 3, 5)))
    cycle = services.cycle_close(actor=inspector, cycle_id=cycle.pk, now=at(date(2026, 3, 20)))
    assert cycle.status == Cycle.Status.CLOSED
    silent = cycle.sites.get(district__code=TAIJIANG)
    assert silent.score == Decimal("0")
    assert "未在送检截止日" in silent.findings.get().notice.problem
    ranking = [(s.area.code, s.score, s.rank) for s in cycle.scores.filter(level="district")]
    assert ranking == [(GULOU, Decimal("100.0"), 1), (TAIJIANG, Decimal("0.0"), 2)]


def test_a_district_runs_its_own_cycle_and_the_township_answers(areas, template, people, principal, make_cases,
                                                                calendar, sites):
    make_cases("gudong", 2, completed=date(2026, 2, 10))
    cycle = services.cycle_create(actor=principal(people["gulou"]), area=areas[GULOU], title="鼓楼区自查",
                                  period_start=date(2026, 3, 1), period_end=date(2026, 4, 30), template_id=template.pk,
                                  district_codes=[GULOU], site_kinds=["center", "station"], sites_per_district=3,
                                  cases_per_site=1, seed=1)
    services.cycle_sample(actor=principal(people["gulou"]), cycle_id=cycle.pk, now=at(date(2026, 3, 2)))
    ss = cycle.sites.get(site=sites["gudong"])
    with pytest.raises(Forbidden, match="组织检查的单位"):
        services.sampled_site_submit(actor=principal(people["gulou"]), sampled_site_id=ss.pk)
    services.sampled_site_submit(actor=principal(people["gudong"]), sampled_site_id=ss.pk)
    services.review_score(actor=principal(people["gulou"]), sampled_site_id=ss.pk,
                          scores=full_scores(template, deduct={2: ("4", "未设意见箱")}))
    services.review_finish(actor=principal(people["gulou"]), sampled_site_id=ss.pk, now=at(date(2026, 3, 5)))
    notice = ss.findings.get().notice
    assert notice.addressee.code == GUDONG and notice.organiser.code == GULOU


@pytest.mark.django_db(transaction=True)
def test_a_draw_while_cases_are_being_written_keeps_to_its_bounds(cycle_factory, make_cases, people, principal,
                                                                  calendar):
    """A writer adds cases during the draw, as the windows do — finished after the cut-off, and
    still open ones received in the window: the recorded sample is the redraw, and no case newer
    than the recorded bound is in it. (Rows back-dated into the window after the draw are the
    id bound's part: test_the_same_seed_and_rule_give_the_same_sample_whatever_is_written_after.)"""
    import threading

    from django.db import connection

    make_cases("gudong", 6, completed=date(2026, 2, 10))
    make_cases("guxi", 6, completed=date(2026, 2, 11))
    cycle = cycle_factory(districts=(GULOU,), sites=2, cases=3)
    stop = threading.Event()
    written: list[int] = []

    def writer():
        try:
            while not stop.is_set():
                written.extend(c.pk for c in make_cases("gudong", 2, completed=date(2026, 3, 3)))
                written.extend(c.pk for c in make_cases("guxi", 2, completed=date(2026, 2, 12), state="in_progress"))
        finally:
            connection.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        cycle = services.cycle_sample(actor=principal(people["inspector"]), cycle_id=cycle.pk, now=at(date(2026, 3, 4)))
    finally:
        stop.set()
        t.join(timeout=60)
    assert written, "the writer wrote while the draw ran"
    drawn = set(SampledCase.objects.filter(sampled_site__cycle=cycle).values_list("case_id", flat=True))
    assert len(drawn) == 6 and max(drawn) <= cycle.rule["case_id_max"]
    assert selectors.sample_verify(cycle=cycle) is True
