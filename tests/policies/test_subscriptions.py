"""Profiles and subscriptions: confirmation before anything is sent, new matching policies told
once through the outbox (SMS or e-mail), the pilot-code rule for saved profiles."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import GUDONG, GUXI

from bianmin.core.errors import Invalid, NotFound
from bianmin.core.models import AuditEntry, OutboxMessage
from bianmin.core.validators import CREDIT_CHARSET, make_credit_code
from bianmin.policies import services
from bianmin.policies.models import EnterpriseProfile, Subscription, SubscriptionNotice


def _pilot(code: str) -> str:
    return code[:17] + next(c for c in CREDIT_CHARSET if c != code[17])


@pytest.fixture
def profile_data(areas):
    def _make(**changes):
        values = dict(credit_code=make_credit_code("350102", 7), name="福州榕城软件科技有限公司", industry="65", size="micro",
                      area=areas[GUDONG], founded_on=dt.date(2023, 8, 8), tags=["科技型中小企业"])
        values.update(changes)
        return services.ProfileData(**values)

    return _make


@pytest.fixture
def subscriber(profile_data):
    sub = services.subscription_create(data=profile_data(), channel="sms", contact="139 0591 0001")
    return services.subscription_confirm(subscription_id=sub.pk)


def test_subscribing_sends_a_confirmation_link_and_nothing_else(profile_data):
    sub = services.subscription_create(data=profile_data(), channel="email", contact="HR@Example.COM")
    assert sub.status == Subscription.Status.PENDING and sub.contact == "hr@example.com"
    message = OutboxMessage.objects.get()
    assert message.channel == "email" and message.recipient == "hr@example.com"
    assert services.subscription_token(sub) in message.payload["link"] and "确认订阅" in message.payload["text"]
    assert services.subscription_from_token(services.subscription_token(sub)).pk == sub.pk
    with pytest.raises(NotFound):
        services.subscription_from_token(services.subscription_token(sub)[:-2] + "xx")


@pytest.mark.parametrize("channel, contact, field", [
    ("sms", "12345", "contact"), ("email", "not-an-address", "contact"), ("fax", "0591", "channel")])
def test_bad_contacts_are_refused_and_nothing_is_saved(profile_data, channel, contact, field):
    with pytest.raises(Invalid) as exc:
        services.subscription_create(data=profile_data(), channel=channel, contact=contact)
    assert exc.value.field == field
    assert not EnterpriseProfile.objects.exists() and not OutboxMessage.objects.exists()


def test_a_public_subscriber_cannot_use_a_pilot_code(profile_data):
    with pytest.raises(Invalid) as exc:
        services.subscription_create(data=profile_data(credit_code=_pilot(make_credit_code("350102", 7))),
                                     channel="sms", contact="13905910001")
    assert exc.value.code == "credit_code_checksum" and "试点代码" in exc.value.message
    assert not EnterpriseProfile.objects.exists()


def test_staff_confirm_a_pilot_code_and_the_override_is_audited(editors, profile_data, make_user, areas):
    from bianmin.accounts.principals import principal_for_user

    pilot = _pilot(make_credit_code("350102", 7))
    with pytest.raises(Invalid):
        services.profile_save(actor=editors["gulou"], data=profile_data(credit_code=pilot))
    saved = services.profile_save(actor=editors["gulou"], data=profile_data(credit_code=pilot), pilot_override=True)
    assert saved.pilot_code and saved.credit_code == pilot
    entry = AuditEntry.objects.get(target_type="policies.enterpriseprofile", target_id=str(saved.pk))
    assert entry.changes["pilot_code_confirmed"] is True and "credit_code" not in entry.changes
    # a clerk holds no policy.edit; an editor of another township cannot reach 鼓东's profile
    clerk = principal_for_user(make_user("window_clerk", GUDONG))
    from bianmin.core.errors import Forbidden

    with pytest.raises(Forbidden):
        services.profile_save(actor=clerk, data=profile_data())
    guxi = principal_for_user(make_user("policy_editor", GUXI))
    with pytest.raises(NotFound):
        services.profile_save(actor=guxi, data=profile_data(area=areas[GUXI]), profile_id=saved.pk)


def test_a_matching_new_policy_is_told_once(subscriber, content, publish, editors):
    policy = publish(content())  # no conditions: matches everyone
    assert services.subscribers_notify(policy_id=policy.pk) == 1
    assert services.subscribers_notify(policy_id=policy.pk) == 0  # a rerun, a second worker
    notice = OutboxMessage.objects.get(dedupe_key__startswith="policy-notice:")
    assert notice.channel == "sms" and notice.recipient == "13905910001"
    assert policy.title in notice.payload["text"] and "退订" in notice.payload["text"]
    # a revision of a policy they were told of is not told again
    revision = services.policy_revise(actor=editors["a"], policy_id=policy.pk)
    services.policy_submit(actor=editors["a"], policy_id=revision.pk)
    services.policy_approve(actor=editors["b"], policy_id=revision.pk)
    assert services.subscribers_notify(policy_id=revision.pk, previous_id=policy.pk) == 0
    assert SubscriptionNotice.objects.count() == 1


def test_a_revision_that_now_matches_is_news_but_one_that_matched_before_is_not(subscriber, content, publish, editors):
    large_only = publish(content(sizes=["large"]))
    assert services.subscribers_notify(policy_id=large_only.pk) == 0
    revision = services.policy_revise(actor=editors["a"], policy_id=large_only.pk)
    services.policy_update(actor=editors["a"], policy_id=revision.pk, data=content(sizes=["large", "micro"]))
    services.policy_submit(actor=editors["a"], policy_id=revision.pk)
    services.policy_approve(actor=editors["b"], policy_id=revision.pk)
    assert services.subscribers_notify(policy_id=revision.pk, previous_id=large_only.pk) == 1


def test_pending_cancelled_and_non_matching_subscribers_hear_nothing(profile_data, content, publish, areas):
    services.subscription_create(data=profile_data(), channel="sms", contact="13905910002")  # never confirmed
    cancelled = services.subscription_create(data=profile_data(), channel="sms", contact="13905910003")
    services.subscription_confirm(subscription_id=cancelled.pk)
    services.subscription_cancel(subscription_id=cancelled.pk)
    elsewhere = services.subscription_create(data=profile_data(area=areas[GUXI]), channel="sms", contact="13905910004")
    services.subscription_confirm(subscription_id=elsewhere.pk)
    gudong_only = publish(content(areas=[areas[GUDONG]]))
    assert services.subscribers_notify(policy_id=gudong_only.pk) == 0
    assert not OutboxMessage.objects.filter(dedupe_key__startswith="policy-notice:").exists()


def test_publishing_queues_the_notification_task_after_commit(subscriber, content, publish, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        policy = publish(content())
    job = DBTaskResult.objects.filter(task_path="bianmin.policies.tasks.notify_subscribers").get()
    assert job.args_kwargs["args"][0] == policy.pk
    assert DBTaskResult.objects.filter(task_path="bianmin.policies.tasks.daily_policies").exists()


def test_the_subscriber_corrects_the_profile_and_unsubscribes(subscriber, profile_data):
    services.subscription_profile_update(subscription_id=subscriber.pk, data=profile_data(size="small",
                                                                                          credit_code="ignored"))
    subscriber.profile.refresh_from_db()
    assert subscriber.profile.size == "small" and subscriber.profile.credit_code == make_credit_code("350102", 7)
    services.subscription_cancel(subscription_id=subscriber.pk)
    from bianmin.core.errors import Conflict

    with pytest.raises(Conflict):
        services.subscription_profile_update(subscription_id=subscriber.pk, data=profile_data())
