"""The policy workflow: drafts, review by another editor, publication, revision, withdrawal,
expiry, the changes feed, attachments; every change audited."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import GUXI, TAIJIANG

from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound
from bianmin.core.models import AuditEntry, OutboxMessage
from bianmin.policies import selectors, services
from bianmin.policies.indexing import Filters
from bianmin.policies.models import Policy, PolicyChange, PolicyFacet, State


def _audit_ops(policy) -> list[str]:
    ids = [str(i) for i in Policy.objects.filter(code=policy.code).values_list("id", flat=True)]
    return [e.changes.get("op") for e in AuditEntry.objects.filter(target_type="policies.policy", target_id__in=ids)
            .order_by("id")]


def test_draft_review_publish_is_audited_and_enters_the_feed(editors, content):
    draft = services.policy_create(actor=editors["a"], data=content())
    assert draft.state == State.DRAFT and draft.code.startswith("350100-")
    assert not PolicyChange.objects.exists() and not PolicyFacet.objects.exists()
    services.policy_submit(actor=editors["a"], policy_id=draft.pk)
    published = services.policy_approve(actor=editors["b"], policy_id=draft.pk, note="同意")
    assert published.state == State.PUBLISHED and published.reviewed_by == editors["b"].name  # the person, not the log-in (22.9)
    change = PolicyChange.objects.get()
    assert (change.code, change.action, change.reason, change.seq) == (draft.code, "upsert", "published", 1)
    assert published.feed_seq == 1 and published.public_body.startswith('{"code":')
    assert PolicyFacet.objects.filter(policy=published, token="zcatemployment").exists()
    assert _audit_ops(published) == ["create", "submit", "publish"]


def test_the_submitter_cannot_publish_their_own_draft(editors, content):
    draft = services.policy_create(actor=editors["a"], data=content())
    services.policy_submit(actor=editors["a"], policy_id=draft.pk)
    with pytest.raises(Forbidden, match="四眼原则"):
        services.policy_approve(actor=editors["a"], policy_id=draft.pk)
    assert Policy.objects.get(pk=draft.pk).state == State.REVIEW


def test_a_draft_is_not_published_without_review(editors, content):
    draft = services.policy_create(actor=editors["a"], data=content())
    with pytest.raises(Conflict, match="不能审核发布"):
        services.policy_approve(actor=editors["b"], policy_id=draft.pk)


def test_reject_sends_back_with_a_note_and_requires_one(editors, content):
    draft = services.policy_create(actor=editors["a"], data=content())
    services.policy_submit(actor=editors["a"], policy_id=draft.pk)
    with pytest.raises(Invalid, match="退回意见"):
        services.policy_reject(actor=editors["b"], policy_id=draft.pk, note=" ")
    back = services.policy_reject(actor=editors["b"], policy_id=draft.pk, note="请补充申报材料清单")
    assert back.state == State.DRAFT and back.review_note == "请补充申报材料清单"


def test_only_drafts_are_edited(editors, content, publish):
    policy = publish(content())
    with pytest.raises(Conflict, match="修订"):
        services.policy_update(actor=editors["a"], policy_id=policy.pk, data=content(title="改标题"))


def test_update_records_what_changed(editors, content):
    draft = services.policy_create(actor=editors["a"], data=content())
    services.policy_update(actor=editors["a"], policy_id=draft.pk, data=content(title="2026年稳岗返还（修改）",
                                                                                 sizes=["small", "micro"]))
    entry = AuditEntry.objects.filter(target_id=str(draft.pk), action=AuditEntry.Action.UPDATE).get()
    assert entry.changes["title"] == ["2026年福州市失业保险稳岗返还", "2026年稳岗返还（修改）"]
    assert entry.changes["sizes"] == [[], ["small", "micro"]]


@pytest.mark.parametrize("change, field", [
    ({"valid_until": dt.date(2025, 1, 1)}, "valid_until"),
    ({"industries": ["Z9"]}, "industries"),
    ({"sizes": ["huge"]}, "sizes"),
    ({"min_age_years": 5, "max_age_years": 2}, "max_age_years"),
    ({"category": "nonsense"}, "category"),
    ({"title": ""}, "title"),
])
def test_bad_content_is_refused_in_chinese_and_nothing_is_written(editors, content, change, field):
    with pytest.raises(Invalid) as exc:
        services.policy_create(actor=editors["a"], data=content(**change))
    assert exc.value.field == field and any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)
    assert not Policy.objects.exists()


def test_areas_must_lie_within_the_lead_departments_area(editors, content, pdepts, areas):
    with pytest.raises(Invalid, match="适用区域"):
        services.policy_create(actor=editors["gulou"], data=content(lead_department=pdepts["gulou_gxj"],
                                                                     areas=[areas[TAIJIANG]]))


def test_an_editor_works_only_within_their_area(editors, content, pdepts):
    # The 鼓楼 editor cannot create a city policy; a city policy is not found for them.
    with pytest.raises(NotFound):
        services.policy_create(actor=editors["gulou"], data=content())
    draft = services.policy_create(actor=editors["a"], data=content())
    with pytest.raises(NotFound):
        services.policy_submit(actor=editors["gulou"], policy_id=draft.pk)
    mine = services.policy_create(actor=editors["gulou"], data=content(lead_department=pdepts["gulou_gxj"]))
    assert mine.area.code == "350102000000" and mine.code.startswith("350102-")


def test_a_revision_keeps_the_public_version_until_it_is_published(editors, content, publish):
    v1 = publish(content())
    v2 = services.policy_revise(actor=editors["a"], policy_id=v1.pk)
    assert (v2.code, v2.version, v2.state, v2.previous_id) == (v1.code, 2, State.DRAFT, v1.pk)
    with pytest.raises(Conflict, match="修订稿"):
        services.policy_revise(actor=editors["a"], policy_id=v1.pk)
    services.policy_update(actor=editors["a"], policy_id=v2.pk, data=content(benefits="中小微企业按90%返还。"))
    assert selectors.public_get(code=v1.code).pk == v1.pk  # the draft is not public
    services.policy_submit(actor=editors["a"], policy_id=v2.pk)
    services.policy_approve(actor=editors["b"], policy_id=v2.pk)
    v1.refresh_from_db()
    assert v1.state == State.SUPERSEDED and v1.public_body == "" and not v1.facets.exists()
    assert selectors.public_get(code=v1.code).pk == v2.pk
    assert list(PolicyChange.objects.values_list("reason", flat=True)) == ["published", "revised"]


def test_withdrawal_takes_it_out_of_public_view_and_is_a_delete_in_the_feed(editors, content, publish):
    policy = publish(content())
    with pytest.raises(Invalid, match="撤回原因"):
        services.policy_withdraw(actor=editors["a"], policy_id=policy.pk, reason="")
    services.policy_withdraw(actor=editors["a"], policy_id=policy.pk, reason="政策已废止")
    with pytest.raises(NotFound):
        selectors.public_get(code=policy.code)
    last = PolicyChange.objects.order_by("-seq").first()
    assert (last.action, last.reason) == ("delete", "withdrawn")
    assert selectors.policy_search(q="稳岗返还").total == 0


def test_publishing_a_term_already_over_is_refused(editors, content):
    draft = services.policy_create(actor=editors["a"], data=content(valid_from=dt.date(2020, 1, 1),
                                                                    valid_until=dt.date(2020, 12, 31)))
    with pytest.raises(Invalid, match="执行期限已过"):
        services.policy_submit(actor=editors["a"], policy_id=draft.pk)


def test_the_daily_job_expires_ended_terms_once(editors, content, publish):
    policy = publish(content(valid_from=dt.date(2026, 1, 1), valid_until=dt.date(2026, 12, 31)))
    assert services.policies_expire_due(today=dt.date(2026, 12, 31)) == 0
    assert services.policies_expire_due(today=dt.date(2027, 1, 1)) == 1
    assert services.policies_expire_due(today=dt.date(2027, 1, 2)) == 0
    policy.refresh_from_db()
    assert policy.state == State.EXPIRED and '"state":"expired"' in policy.public_body
    change = PolicyChange.objects.order_by("-seq").first()
    assert (change.action, change.reason) == ("upsert", "expired")
    assert _audit_ops(policy)[-1] == "expire"


def test_departments_are_told_once_of_policies_expiring_within_30_days(editors, content, publish, pdepts):
    soon = publish(content(valid_until=dt.date(2027, 1, 20)))
    publish(content(title="2026年福州市一次性吸纳就业补贴", valid_until=dt.date(2027, 6, 30)))
    today = dt.date(2027, 1, 1)
    assert services.policies_warn_expiring(today=today) == 1
    message = OutboxMessage.objects.get(dedupe_key__startswith="policies-expiring:")
    assert message.recipient == f"department:{pdepts['rsj'].code}"
    assert [p["code"] for p in message.payload["policies"]] == [soon.code]
    assert services.policies_warn_expiring(today=today) == 0
    assert services.policies_warn_expiring(today=today + dt.timedelta(days=1)) == 0
    assert OutboxMessage.objects.filter(dedupe_key__startswith="policies-expiring:").count() == 1


def test_feed_numbers_follow_commit_order_and_are_never_reused(editors, content, publish):
    a = publish(content())
    b = publish(content(title="2026年福州市一次性吸纳就业补贴"))
    services.policy_withdraw(actor=editors["a"], policy_id=a.pk, reason="废止")
    assert list(PolicyChange.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]
    assert selectors.feed_position() == 3
    b.refresh_from_db()
    assert b.feed_seq == 2


def test_attachments_follow_the_upload_rules_and_only_drafts_change(editors, content, publish):
    draft = services.policy_create(actor=editors["a"], data=content())
    pdf = b"%PDF-1.4\n% demo form\n"
    attached = services.attachment_add(actor=editors["a"], policy_id=draft.pk, name="申请表.pdf", data=pdf)
    assert attached.file.content_type == "application/pdf"
    from bianmin.core.errors import UnsupportedType

    with pytest.raises(UnsupportedType):
        services.attachment_add(actor=editors["a"], policy_id=draft.pk, name="宏.docm", data=b"PK\x03\x04evil")
    services.policy_submit(actor=editors["a"], policy_id=draft.pk)
    published = services.policy_approve(actor=editors["b"], policy_id=draft.pk)
    assert f'files/{attached.pk}/' in published.public_body
    with pytest.raises(Conflict):
        services.attachment_remove(actor=editors["a"], policy_id=published.pk, attachment_id=attached.pk)
    revision = services.policy_revise(actor=editors["a"], policy_id=published.pk)
    assert [a.name for a in revision.attachments.all()] == ["申请表.pdf"]


def test_discarding_a_draft_leaves_an_audit_row(editors, content):
    draft = services.policy_create(actor=editors["a"], data=content())
    services.policy_discard(actor=editors["a"], policy_id=draft.pk)
    assert not Policy.objects.exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DELETE, target_id=str(draft.pk)).exists()


def test_a_given_code_must_be_new(editors, content, publish):
    publish(content(), code="RSJ-2026-01")
    with pytest.raises(Conflict, match="已存在"):
        services.policy_create(actor=editors["a"], data=content(), code="RSJ-2026-01")
    with pytest.raises(Invalid, match="政策编号"):
        services.policy_create(actor=editors["a"], data=content(), code="有 空格")


def test_bulk_load_publishes_for_the_system_only(editors, content):
    with pytest.raises(Forbidden):
        services.policies_load(actor=editors["a"], rows=[("", content())], publish=True)
    loaded = services.policies_load(actor=None, rows=[("", content()), ("", content(title="过期的政策",
                                                                                  valid_from=dt.date(2020, 1, 1),
                                                                                  valid_until=dt.date(2020, 12, 31)))],
                                    publish=True)
    assert [p.state for p in loaded] == [State.PUBLISHED, State.EXPIRED]
    assert PolicyChange.objects.count() == 2 and selectors.feed_position() == 2
    assert selectors.policy_search(q="稳岗返还").total == 2
    assert selectors.policy_search(q="稳岗返还", filters=Filters(in_force=True)).total == 1


def test_a_city_policy_is_not_found_for_a_township_editor(editors, content, make_user):
    from bianmin.accounts.principals import principal_for_user

    guxi = principal_for_user(make_user("policy_editor", GUXI))
    draft = services.policy_create(actor=editors["a"], data=content())
    with pytest.raises(NotFound):
        services.policy_submit(actor=guxi, policy_id=draft.pk)
    assert Policy.objects.get(pk=draft.pk).state == State.DRAFT
