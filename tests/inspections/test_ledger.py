"""The notices in the one rectification ledger (followups): a row opened on commit of the notice,
kept in step with it (answered, sent back, accepted, overdue), found again by the sweep when the
signal is lost, never edited from the ledger's side; the ledger's source filter, its xlsx and its
按期整改率 per area."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from conftest import GUDONG, GULOU
from openpyxl import load_workbook

from bianmin.core.errors import Conflict
from bianmin.followups import selectors as ledger
from bianmin.followups import services as followups
from bianmin.followups.models import Rectification
from bianmin.inspections import services
from bianmin.inspections.models import Notice
from bianmin.inspections.signals import notice_changed

from .conftest import PDF, at


def _row(notice) -> Rectification:
    return Rectification.objects.get(source="inspection", source_ref=f"inspection_notice:{notice.pk}")


def _agrees(notice: Notice, row: Rectification, today: date) -> None:
    """The notice and its ledger row tell one story."""
    notice.refresh_from_db()
    row.refresh_from_db()
    assert row.deadline == notice.deadline and row.found_on == notice.issued_on
    assert (row.status == "done") == (notice.status == Notice.Status.ACCEPTED)
    assert row.on_time == notice.on_time and row.done_on == notice.rectified_on
    assert (ledger.rectification_flag(row, today) == "overdue") == notice.is_overdue(today)
    assert notice.ledger_revision == notice.revision and notice.ledger_ref == row.number


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_the_ledger_follows_the_notice_through_every_state(running, people, principal, template, on_commit):
    from .conftest import full_scores

    _cycle, ss = running
    services.sampled_site_submit(actor=principal(people["gulou"]), sampled_site_id=ss.pk)
    services.review_score(actor=principal(people["inspector"]), sampled_site_id=ss.pk,
                          scores=full_scores(template, deduct={1: ("7", "功能分区标识不清")}))
    with on_commit():
        services.review_finish(actor=principal(people["inspector"]), sampled_site_id=ss.pk, now=at(date(2026, 3, 5)))
    notice = ss.findings.get().notice
    row = _row(notice)
    assert row.number.startswith("ZG20260305") and row.site == ss.site and row.area.code == GUDONG
    assert f"整改通知 {notice.number}" in row.problem and row.status == "open" and row.measure == ""
    _agrees(notice, row, date(2026, 3, 10))
    _agrees(notice, row, date(2026, 3, 20))  # overdue on both sides
    district, inspector = principal(people["gulou"]), principal(people["inspector"])
    with on_commit():
        services.notice_answer(actor=district, notice_id=notice.pk, answer="重做标识", files=[("a.pdf", PDF)],
                               now=at(date(2026, 3, 12)))
    row.refresh_from_db()
    assert row.measure == "重做标识" and row.owner_name == "鼓楼区" and row.status == "open"
    _agrees(notice, row, date(2026, 3, 13))
    with on_commit():
        services.notice_decide(actor=inspector, notice_id=notice.pk, accept=False, note="不到位")
    _agrees(notice, row, date(2026, 3, 20))
    with on_commit():
        services.notice_answer(actor=district, notice_id=notice.pk, answer="再次整改", files=[("b.pdf", PDF + b"2")],
                               now=at(date(2026, 3, 16)))
    with on_commit():
        services.notice_decide(actor=inspector, notice_id=notice.pk, accept=True, note="通过")
    row.refresh_from_db()
    assert (row.status, row.done_on, row.on_time) == ("done", date(2026, 3, 16), True)
    assert "再次整改" in row.result and "通过" in row.result
    _agrees(notice, row, date(2026, 4, 1))


def test_a_lost_signal_is_found_by_the_sweep(notice, people, principal):
    # The fixture's commit callbacks never ran (no receiver saw the notice): the ledger lacks it.
    assert not Rectification.objects.filter(source="inspection").exists()
    assert notice.ledger_revision == 0
    assert followups.rectifications_from_inspection_notices() == 1
    row = _row(notice)
    services.notice_answer(actor=principal(people["gulou"]), notice_id=notice.pk, answer="已整改",
                           files=[("a.pdf", PDF)], now=at(date(2026, 3, 12)))
    services.notice_decide(actor=principal(people["inspector"]), notice_id=notice.pk, accept=True, note="好")
    assert followups.rectifications_from_inspection_notices() == 1
    assert followups.rectifications_from_inspection_notices() == 0  # nothing left behind
    _agrees(notice, row, date(2026, 3, 13))


def test_the_receiver_is_connected(notice):
    notice_changed.send(sender=Notice, notice_id=notice.pk, revision=notice.revision, status=notice.status,
                        area_code=GUDONG)
    assert _row(notice).status == "open"


def test_the_ledger_does_not_edit_a_notices_row(notice, people, principal):
    followups.rectifications_from_inspection_notices()
    row = _row(notice)
    city = principal(people["city"])
    with pytest.raises(Conflict, match="在整改通知中答复"):
        followups.rectification_plan(actor=city, rectification_id=row.pk, measure="x", owner_name="y")
    with pytest.raises(Conflict, match="在整改通知中答复"):
        followups.rectification_complete(actor=city, rectification_id=row.pk, result="x")


def test_the_ledger_filters_by_source_and_rates_per_area(notice, people, principal, areas, sites):
    followups.rectifications_from_inspection_notices()
    city = principal(people["city"])
    followups.rectification_open(actor=city, source="other", area=areas[GULOU], problem="其他来源的问题",
                                 found_on=date(2026, 3, 5), working_days=5)
    both = ledger.rectification_ledger(actor=city, start=date(2026, 3, 1), end=date(2026, 3, 31))
    only = ledger.rectification_ledger(actor=city, start=date(2026, 3, 1), end=date(2026, 3, 31), source="inspection")
    assert both.count() == 2 and [r.source for r in only] == ["inspection"]
    rates = ledger.on_time_by_area(actor=city, start=date(2026, 3, 1), end=date(2026, 3, 31), today=date(2026, 3, 25))
    # both rows are past their deadline and open: 0 of 2 on time, all in 鼓楼区
    assert [(r.label, r.numerator, r.denominator) for r in rates] == [("福州市（合计）", 0, 2), ("鼓楼区", 0, 2)]
    district = ledger.on_time_by_area(actor=principal(people["gulou"]), start=date(2026, 3, 1), end=date(2026, 3, 31),
                                      source="inspection", today=date(2026, 3, 25))
    assert [(r.label, r.numerator, r.denominator) for r in district] == [("鼓楼区（合计）", 0, 1), ("鼓东街道", 0, 1)]


def test_the_ledger_page_filters_and_exports_inspection_rows(notice, people, client, sites):
    followups.rectifications_from_inspection_notices()
    client.force_login(people["gulou"])
    page = client.get("/followups/ledgers/rectifications/?from=2026-03-01&to=2026-03-31&source=inspection")
    assert page.status_code == 200
    body = page.content.decode()
    assert f"/inspections/notices/{notice.pk}/" in body and "按期整改率" in body and "督查整改通知" in body
    xlsx = client.get("/followups/ledgers/rectifications/?from=2026-03-01&to=2026-03-31&source=inspection&format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][2] == "问题来源" and rows[1][2] == "督查整改通知" and notice.number in rows[1][5]
    bad = client.get("/followups/ledgers/rectifications/?from=2026-03-01&to=2026-03-31&source=bogus")
    assert bad.status_code == 200  # an unknown source shows every source
