"""On-site visits (photos, time and place), mystery visits (hidden from the visited site until
published) and phone checks: each raises findings and notices through the same pipeline."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import GULOU

from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound
from bianmin.inspections import selectors, services
from bianmin.inspections.models import FieldCheck, Finding, Notice

from .conftest import PNG, at, full_scores


def _visit(people, principal, sites, method="onsite", **kw):
    defaults = {"place": "鼓东街道便民服务中心一楼大厅"} if method != "phone" else {"line": "consult", "answered": False}
    return services.check_create(actor=principal(people["inspector"]), method=method, site=sites["gudong"],
                                 at=at(date(2026, 3, 10), 9), **{**defaults, **kw})


def test_an_onsite_visit_needs_place_and_photos_and_raises_notices(people, principal, sites, calendar):
    with pytest.raises(Invalid, match="检查地点"):
        _visit(people, principal, sites, place="")
    check = _visit(people, principal, sites, lat=26.08, lng=119.30, summary="窗口人员脱岗一人")
    inspector = principal(people["inspector"])
    services.check_finding_add(actor=inspector, check_id=check.pk, category="staff", description="3号窗口人员脱岗")
    with pytest.raises(Invalid, match="须上传现场照片"):
        services.check_finish(actor=inspector, check_id=check.pk)
    services.check_photo_add(actor=inspector, check_id=check.pk, files=[("hall.png", PNG)], caption="大厅")
    check = services.check_finish(actor=inspector, check_id=check.pk, now=at(date(2026, 3, 10), 11))
    assert check.organiser.code == "350100000000" and check.status == FieldCheck.Status.FINISHED
    notice = Notice.objects.get(finding__check_record=check)
    assert notice.source == "onsite" and notice.addressee.code == GULOU and notice.deadline == date(2026, 3, 24)
    assert "3号窗口人员脱岗" in notice.problem
    with pytest.raises(Conflict, match="已完成"):
        services.check_photo_add(actor=inspector, check_id=check.pk, files=[("b.png", PNG + b"1")])


def test_a_mystery_visit_is_hidden_until_published(people, principal, sites, calendar):
    check = _visit(people, principal, sites, method="mystery", summary="暗访：等候 40 分钟无人引导")
    inspector = principal(people["inspector"])
    finding = services.check_finding_add(actor=inspector, check_id=check.pk, category="daily",
                                         description="无人引导，群众等候 40 分钟")
    services.check_finish(actor=inspector, check_id=check.pk)
    assert not Notice.objects.exists() and finding.published is False
    for who in ("gudong", "gulou", "gulou_inspector", "clerk"):
        actor = principal(people[who])
        assert not selectors.checks(actor=actor).exists(), who
        assert not selectors.findings(actor=actor).exists(), who
        with pytest.raises(NotFound):
            selectors.check_get(actor=actor, check_id=check.pk)
    assert selectors.check_get(actor=inspector, check_id=check.pk) == check
    with pytest.raises(NotFound):  # the district cannot even see the city's unpublished visit
        services.check_publish(actor=principal(people["gulou"]), check_id=check.pk)


def test_publishing_a_mystery_visit_shows_it_and_sends_its_notices(people, principal, sites, calendar):
    check = _visit(people, principal, sites, method="mystery", summary="暗访记录")
    inspector = principal(people["inspector"])
    services.check_finding_add(actor=inspector, check_id=check.pk, category="windows", description="综合窗口未挂牌")
    with pytest.raises(Conflict, match="完成后才能公布"):
        services.check_publish(actor=inspector, check_id=check.pk)
    services.check_finish(actor=inspector, check_id=check.pk)
    services.check_publish(actor=inspector, check_id=check.pk, now=at(date(2026, 3, 12)))
    assert selectors.check_get(actor=principal(people["gudong"]), check_id=check.pk).published_at is not None
    assert selectors.findings(actor=principal(people["gudong"])).get().published
    notice = Notice.objects.get(finding__check_record=check)
    assert notice.source == "mystery" and notice.issued_on == date(2026, 3, 12)
    with pytest.raises(Conflict, match="已公布"):
        services.check_publish(actor=inspector, check_id=check.pk)


def test_a_phone_check_records_the_line_and_its_answer(people, principal, sites, calendar):
    with pytest.raises(Invalid, match="请选择抽查的电话"):
        _visit(people, principal, sites, method="phone", line="")
    with pytest.raises(Invalid, match="是否接通"):
        _visit(people, principal, sites, method="phone", answered=None)
    check = _visit(people, principal, sites, method="phone")
    assert check.phone_number == "0591-87000001" and check.answered is False and check.place == ""
    inspector = principal(people["inspector"])
    services.check_finding_add(actor=inspector, check_id=check.pk, category="daily",
                               description="工作时间拨打咨询电话三次无人接听")
    services.check_finish(actor=inspector, check_id=check.pk)
    assert Notice.objects.get(finding__check_record=check).source == "phone"


def test_a_scored_visit_in_a_cycle_counts_in_its_scores(running, people, principal, sites, template):
    cycle, _ss = running
    inspector = principal(people["inspector"])
    check = services.check_create(actor=inspector, method="onsite", site=sites["gudong"], at=at(date(2026, 3, 10)),
                                  place="大厅", cycle_id=cycle.pk)
    assert check.template == cycle.template and check.organiser == cycle.area
    services.check_photo_add(actor=inspector, check_id=check.pk, files=[("a.png", PNG)])
    services.check_score(actor=inspector, check_id=check.pk, scores=full_scores(template, deduct={8: ("6", "未着装")}))
    check = services.check_finish(actor=inspector, check_id=check.pk, now=at(date(2026, 3, 10)))
    assert check.score == 96
    site_score = cycle.scores.get(level="site", site=sites["gudong"])
    assert site_score.score == 96 and site_score.checks == 1
    assert Finding.objects.get(check_record=check).deduction == 4


def test_only_reviewers_of_an_organiser_record_checks(people, principal, sites, calendar):
    with pytest.raises(Forbidden, match="无权"):
        services.check_create(actor=principal(people["gudong"]), method="onsite", site=sites["gudong"],
                              at=at(date(2026, 3, 10)), place="大厅")
    with pytest.raises(NotFound):
        services.check_create(actor=principal(people["taijiang"]), method="onsite", site=sites["gudong"],
                              at=at(date(2026, 3, 10)), place="大厅")
    own = services.check_create(actor=principal(people["gulou"]), method="onsite", site=sites["gudong"],
                                at=at(date(2026, 3, 10)), place="大厅")
    assert own.organiser.code == GULOU
    assert not FieldCheck.objects.exclude(pk=own.pk).exists()
