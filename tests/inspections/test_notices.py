"""Rectification notices: numbered, a PDF with the embedded CJK font, a deadline on the platform's
calendar (调休 included), sent in the platform and through the outbox, answered once at a time
with evidence, accepted or sent back, overdue ones reported to the leadership list."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from conftest import CITY, GULOU
from django.db import connection

from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound, UnsupportedType
from bianmin.core.models import OutboxMessage
from bianmin.inspections import selectors, services
from bianmin.inspections.models import Leader, Notice, NoticeEvent, NoticeEvidence, Notification

from .conftest import PDF, PNG, at, full_scores


def test_the_deadline_counts_working_days_with_tiaoxiu(cycle_factory, make_cases, people, principal, template, calendar):
    make_cases("gudong", 1, completed=date(2025, 12, 10))
    cycle = cycle_factory(start=date(2026, 1, 1), end=date(2026, 2, 28), notice_days=3, districts=(GULOU,))
    services.cycle_sample(actor=principal(people["inspector"]), cycle_id=cycle.pk, now=at(date(2026, 1, 5)))
    ss = cycle.sites.get()
    services.sampled_site_submit(actor=principal(people["gulou"]), sampled_site_id=ss.pk)
    services.review_score(actor=principal(people["inspector"]), sampled_site_id=ss.pk,
                          scores=full_scores(template, deduct={3: ("8", "司法所未进驻")}))
    services.review_finish(actor=principal(people["inspector"]), sampled_site_id=ss.pk, now=at(date(2026, 2, 12)))
    notice = ss.findings.get().notice
    # Thursday 12 Feb: Friday 13 (1), Saturday 14 is a 调休 working day (2), 春节 15–23, Tuesday 24 (3).
    assert notice.deadline == date(2026, 2, 24)
    assert notice.working_days == 3 and notice.deadline_unconfirmed is False


def test_an_issued_notice_reaches_the_district_in_the_platform_and_the_outbox(notice):
    assert notice.number == "ZGTZ202600001" and notice.status == Notice.Status.ISSUED
    assert notice.addressee.code == GULOU and notice.deadline == date(2026, 3, 19)
    note = Notification.objects.get(dedupe_key=f"notice:{notice.pk}")
    assert note.area.code == GULOU and notice.number in note.title
    msg = OutboxMessage.objects.get(dedupe_key=f"inspections:notice:{notice.pk}")
    assert msg.channel == "notify" and msg.recipient == f"area:{GULOU}" and "功能分区标识不清" in msg.payload["text"]
    assert list(notice.events.values_list("kind", flat=True)) == ["issued"]


def test_the_pdf_embeds_its_font_and_is_kept(notice, people, principal):
    n, stored = services.notice_pdf(actor=principal(people["gudong"]), notice_id=notice.pk)
    from django.core.files.storage import default_storage

    data = default_storage.open(stored.path, "rb").read()
    assert data.startswith(b"%PDF") and b"/FontFile2" in data and b"WenQuanYiMicroHei" in data
    again = services.notice_pdf(actor=principal(people["gulou"]), notice_id=notice.pk)[1]
    assert again.pk == stored.pk


def test_answer_accept_round_trip(notice, people, principal):
    district = principal(people["gulou"])
    with pytest.raises(Invalid, match="佐证材料"):
        services.notice_answer(actor=district, notice_id=notice.pk, answer="已整改")
    services.notice_answer(actor=district, notice_id=notice.pk, answer="重新制作功能分区标识",
                           files=[("after.png", PNG)], now=at(date(2026, 3, 18)))
    inspector = principal(people["inspector"])
    with pytest.raises(Invalid, match="退回理由"):
        services.notice_decide(actor=inspector, notice_id=notice.pk, accept=False, note="")
    services.notice_decide(actor=inspector, notice_id=notice.pk, accept=False, note="照片不清晰，请补充")
    notice.refresh_from_db()
    assert notice.status == Notice.Status.RETURNED and notice.deadline == date(2026, 3, 19)
    services.notice_answer(actor=district, notice_id=notice.pk, answer="补充清晰照片", files=[("after2.pdf", PDF)],
                           now=at(date(2026, 3, 23)))
    n = services.notice_decide(actor=inspector, notice_id=notice.pk, accept=True, note="整改到位")
    assert (n.status, n.rounds, n.rectified_on, n.on_time) == (Notice.Status.ACCEPTED, 2, date(2026, 3, 23), False)
    assert list(n.events.values_list("kind", flat=True)) == ["issued", "answered", "returned", "answered", "accepted"]
    assert list(n.evidence.values_list("round", flat=True)) == [1, 2]
    with pytest.raises(Conflict, match="已验收办结"):
        services.notice_answer(actor=district, notice_id=notice.pk, answer="再答", files=[("a.pdf", PDF)])


def test_who_answers_and_who_decides(notice, people, principal):
    with pytest.raises(Forbidden, match="由鼓楼区办理"):
        services.notice_answer(actor=principal(people["gudong"]), notice_id=notice.pk, answer="x", files=[("a.pdf", PDF)])
    with pytest.raises(Forbidden, match="组织检查的单位不能代为办理"):
        services.notice_answer(actor=principal(people["city"]), notice_id=notice.pk, answer="x", files=[("a.pdf", PDF)])
    with pytest.raises(NotFound):
        services.notice_answer(actor=principal(people["taijiang"]), notice_id=notice.pk, answer="x",
                               files=[("a.pdf", PDF)])
    services.notice_answer(actor=principal(people["gulou"]), notice_id=notice.pk, answer="已整改", files=[("a.pdf", PDF)])
    with pytest.raises(Forbidden, match="福州市的督查人员"):
        services.notice_decide(actor=principal(people["gulou"]), notice_id=notice.pk, accept=True)
    with pytest.raises(NotFound):
        services.notice_decide(actor=principal(people["guxi"]), notice_id=notice.pk, accept=True)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.ANSWERED and notice.rounds == 1


def test_a_bad_file_in_an_answer_leaves_the_notice_as_it_was(notice, people, principal):
    with pytest.raises(UnsupportedType):
        services.notice_answer(actor=principal(people["gulou"]), notice_id=notice.pk, answer="已整改",
                               files=[("a.pdf", PDF), ("b.docx", b"PK\x03\x04docx")])
    notice.refresh_from_db()
    assert (notice.status, notice.rounds, notice.revision) == (Notice.Status.ISSUED, 0, 1)
    assert not NoticeEvidence.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_notice_answered_twice_at_once_takes_one_answer(notice, people, principal):
    district = principal(people["gulou"])
    barrier = threading.Barrier(2)
    results: list[object] = []

    def answer(n):
        try:
            barrier.wait(timeout=30)
            services.notice_answer(actor=district, notice_id=notice.pk, answer=f"第{n}份答复",
                                   files=[(f"e{n}.pdf", PDF + str(n).encode())])
            results.append("ok")
        except BaseException as exc:  # reported below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "str"], results
    assert "等待验收" in next(r for r in results if isinstance(r, Conflict)).message
    notice.refresh_from_db()
    assert (notice.status, notice.rounds, notice.revision) == (Notice.Status.ANSWERED, 1, 2)
    assert NoticeEvidence.objects.filter(notice=notice).count() == 1
    assert NoticeEvent.objects.filter(notice=notice, kind="answered").count() == 1
    kept = NoticeEvidence.objects.get(notice=notice)
    assert notice.answer.endswith(kept.file_name[1] + "份答复")


def test_overdue_notices_reach_the_leadership_list_once(notice, people, principal, areas):
    services.leader_add(actor=principal(people["inspector"]), area=areas[GULOU], name="王五", title="分管副区长",
                        mobile="13900001111")
    services.leader_add(actor=principal(people["gulou"]), area=areas[GULOU], name="赵六", title="区行政服务中心主任",
                        user=people["gulou"])
    assert services.notices_check_overdue(today=date(2026, 3, 19)) == 0  # due today: not late yet
    assert services.notices_check_overdue(today=date(2026, 3, 20)) == 1
    assert services.notices_check_overdue(today=date(2026, 3, 21)) == 0
    notice.refresh_from_db()
    assert notice.escalated_for == date(2026, 3, 19) and notice.is_overdue(date(2026, 3, 20))
    sms = OutboxMessage.objects.get(channel="sms", recipient="13900001111")
    assert "王五" in sms.payload["text"] and notice.number in sms.payload["text"]
    assert OutboxMessage.objects.filter(channel="notify", recipient=f"user:{people['gulou'].username}").count() == 1
    event = notice.events.get(kind="escalated")
    assert "分管副区长王五" in event.text and "区行政服务中心主任赵六" in event.text
    assert Notification.objects.filter(dedupe_key__startswith=f"escalated:{notice.pk}:").count() == 2


def test_an_answered_notice_is_not_escalated(notice, people, principal):
    services.notice_answer(actor=principal(people["gulou"]), notice_id=notice.pk, answer="已整改", files=[("a.pdf", PDF)])
    assert services.notices_check_overdue(today=date(2026, 4, 1)) == 0


def test_leaders_need_a_way_to_be_reached(areas, people, principal):
    with pytest.raises(Invalid, match="手机号码或选择平台账号"):
        services.leader_add(actor=principal(people["inspector"]), area=areas[GULOU], name="王五", title="副区长")
    with pytest.raises(Invalid, match="手机号码格式"):
        services.leader_add(actor=principal(people["inspector"]), area=areas[GULOU], name="王五", title="副区长",
                            mobile="12345")
    with pytest.raises(NotFound):
        services.leader_add(actor=principal(people["taijiang"]), area=areas[GULOU], name="王五", title="副区长",
                            mobile="13900001111")
    assert not Leader.objects.exists()


def test_the_inbox_is_the_addressed_units(notice, people, principal):
    assert [n.title for n in selectors.notifications(actor=principal(people["gulou"]))][:1] == [
        f"整改通知 {notice.number}：鼓东街道便民服务中心"]
    assert not selectors.notifications(actor=principal(people["gudong"])).filter(dedupe_key=f"notice:{notice.pk}")
    assert not selectors.notifications(actor=principal(people["inspector"])).filter(dedupe_key=f"notice:{notice.pk}")
    district = principal(people["gulou"])
    before = selectors.unread_count(actor=district)
    note = Notification.objects.get(dedupe_key=f"notice:{notice.pk}")
    services.notification_read(actor=district, notification_id=note.pk)
    assert selectors.unread_count(actor=district) == before - 1
    with pytest.raises(NotFound):
        services.notification_read(actor=principal(people["taijiang"]), notification_id=note.pk)


def test_city_admin_sees_notices_everywhere_a_center_only_its_own(notice, people, principal):
    assert selectors.notices(actor=principal(people["gudong"])).get() == notice
    assert not selectors.notices(actor=principal(people["guxi"])).exists()
    assert selectors.notices(actor=principal(people["city"]), area_code=GULOU).get() == notice
    assert not selectors.notices(actor=principal(people["city"]), area_code="350103000000").exists()
    assert selectors.notices(actor=principal(people["city"]), overdue=True, today=date(2026, 3, 20)).get() == notice
    assert notice.organiser.code == CITY


def test_every_step_leaves_an_audit_row(notice, people, principal):
    from bianmin.core.models import AuditEntry

    services.notice_answer(actor=principal(people["gulou"]), notice_id=notice.pk, answer="已整改", files=[("a.pdf", PDF)])
    services.notice_decide(actor=principal(people["inspector"]), notice_id=notice.pk, accept=True, note="好")
    kinds = list(AuditEntry.objects.filter(target_type__startswith="inspections.").order_by("id")
                 .values_list("target_type", "action"))
    assert ("inspections.cycle", "create") in kinds and ("inspections.sampledsite", "transition") in kinds
    assert [a for t, a in kinds if t == "inspections.notice"] == ["create", "transition", "transition"]
    answered = AuditEntry.objects.filter(target_type="inspections.notice", changes__status="answered").get()
    assert answered.actor_label == people["gulou"].username and answered.changes["evidence"][0][0] == "a.pdf"
