"""Issue 14's "done when", end to end: an editor publishes a policy (another reviews it), a citizen
finds it by a colloquial query, an item's guide shows it, an outside system reads it through the
API with a key and gets 304 while it is unchanged, an enterprise profile matches it with reasons,
and a subscriber is notified through the outbox — once."""

from __future__ import annotations

import datetime as dt
import json
import re

from conftest import CITY, GUDONG
from django.test import Client


def test_issue_14_done(editors, pdepts, areas, login, django_capture_on_commit_callbacks):
    from bianmin.accounts import services as accounts
    from bianmin.catalog.services import item_create, item_publish, standard_item_create
    from bianmin.core.models import OutboxMessage
    from bianmin.core.outbox import deliver_due
    from bianmin.core.validators import make_credit_code
    from bianmin.policies import tasks
    from bianmin.policies.models import Policy
    from bianmin.regions.models import ServiceSite

    si = standard_item_create(actor=None, code="350108004000", name="创业担保贷款申请受理", item_type="benefit",
                              competent_department=pdepts["rsj"], implementing_body="街道", legal_limit_days=15)
    site = ServiceSite.objects.create(code="C-GD", name="鼓东街道便民服务中心", kind="center", area=areas[GUDONG])
    item = item_create(actor=None, standard_item=si, area=site.area, site=site, promised_limit_days=5)
    item_publish(actor=None, item=item)

    # An enterprise subscribes (and confirms) before the policy exists.
    citizen = Client()
    citizen.post("/policies/subscribe/", {"credit_code": make_credit_code("350102", 5), "name": "福州榕城小吃店",
                                          "area": GUDONG, "industry": "62", "size": "micro", "founded_on": "2025-09-01",
                                          "channel": "sms", "contact": "13905910001"})
    confirm = re.sub(r"^https?://[^/]+", "", OutboxMessage.objects.get().payload["link"])
    citizen.post(confirm, {"action": "confirm"})

    # Editor A drafts and submits through the pages; editor B publishes.
    a = login(editors["users"]["a"], Client())
    a.post("/policies/staff/new/", {
        "title": "2026年福州市创业担保贷款及贴息", "aliases": "创业贷、创业贷款", "category": "finance",
        "lead_department": pdepts["rsj"].pk, "handling_office": "创业服务处", "handling_phone": "0591-87113285",
        "valid_from": "2026-01-01", "benefits": "个人创业最高可申请30万元创业担保贷款，按合同利息给予贴息。",
        "conditions": "在本市创业的高校毕业生、退役军人等，或符合条件的小微企业。", "materials": "申请表、营业执照",
        "procedure": "窗口受理、审核、放款、贴息", "sizes": ["small", "micro"], "max_age_years": "3",
        "items": si.code})
    policy = Policy.objects.get()
    a.post(f"/policies/staff/{policy.pk}/action/", {"action": "submit"})
    b = login(editors["users"]["b"], Client())
    with django_capture_on_commit_callbacks(execute=True):
        assert b.post(f"/policies/staff/{policy.pk}/action/", {"action": "approve"}).status_code == 302
    policy.refresh_from_db()
    assert policy.state == "published"

    # A citizen finds it by what people call it.
    assert policy.title in citizen.get("/policies/", {"q": "创业贷怎么申请"}).content.decode()
    # The item's guide shows it.
    assert policy.title in citizen.get(f"/catalog/guide/{item.implementation_code}/").content.decode()

    # An outside system with a key reads it, then gets 304 while it is unchanged.
    _, raw = accounts.apikey_create(actor=None, name="区级政务平台", kind="system", area=areas[CITY], scopes=["policies.read"])
    system = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    first = system.get(f"/api/v1/policies/{policy.code}")
    assert first.status_code == 200 and first.json()["items"][0]["code"] == si.code
    assert system.get(f"/api/v1/policies/{policy.code}", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert system.get(f"/api/v1/policies/by-item/{item.implementation_code}").json()["items"][0]["code"] == policy.code
    feed = system.get("/api/v1/policies/changes", {"since": 0}).json()
    assert [c["code"] for c in feed["changes"]] == [policy.code]

    # An enterprise profile matches it, with a reason per condition.
    matched = citizen.post("/api/v1/policies/match", data=json.dumps(
        {"industry": "62", "size": "micro", "area_code": GUDONG, "founded_on": "2025-09-01"}),
        content_type="application/json").json()
    m = next(x for x in matched["matches"] if x["policy"]["code"] == policy.code)
    assert m["eligible"] and {c["key"]: c["status"] for c in m["conditions"]}["size"] == "met"
    assert any("成立不超过3年" in c["text"] for c in m["conditions"])

    # The subscriber is told, through the outbox, once.
    assert tasks.notify_subscribers.func(policy.pk, None) == 1
    assert tasks.notify_subscribers.func(policy.pk, None) == 0
    notice = OutboxMessage.objects.get(dedupe_key__startswith="policy-notice:")
    assert notice.recipient == "13905910001" and policy.title in notice.payload["text"]
    deliver_due(now=notice.next_attempt_at + dt.timedelta(seconds=1))
    notice.refresh_from_db()
    assert notice.status == "sent"
