"""The policy pages: public search, a policy, forms, matching and subscribing; the editors'
workflow through the staff pages; the guide pages of the catalog showing related policies."""

from __future__ import annotations

import io
import re

import pytest
from conftest import GUDONG

from bianmin.core.models import OutboxMessage
from bianmin.policies import services
from bianmin.policies.models import Policy, State, Subscription


def _text(response) -> str:
    return response.content.decode()


def test_public_search_finds_by_colloquial_name_and_shows_the_filters(content, publish, client):
    policy = publish(content())
    page = client.get("/policies/", {"q": "稳岗补贴怎么领"})
    assert page.status_code == 200
    assert policy.title in _text(page) and "免申即享" in _text(page) and "政策类别" in _text(page)
    empty = client.get("/policies/", {"q": "宇宙飞船"})
    assert "没有找到符合条件的政策" in _text(empty)
    bad = client.get("/policies/", {"category": "nonsense"})
    assert bad.status_code == 422 and "政策类别无效" in _text(bad)


def test_the_policy_page_shows_every_element_and_its_forms(editors, content, client):
    draft = services.policy_create(actor=editors["a"], data=content(sizes=["small"], industries=["C"]))
    attachment = services.attachment_add(actor=editors["a"], policy_id=draft.pk, name="稳岗返还申请表.pdf",
                                         data=b"%PDF-1.4 form\n")
    services.policy_submit(actor=editors["a"], policy_id=draft.pk)
    services.policy_approve(actor=editors["b"], policy_id=draft.pk)
    page = _text(client.get(f"/policies/{draft.code}/"))
    for label in ("政策类别", "牵头部门", "承办科室（电话）", "政策执行期限", "优惠内容", "申请条件", "申报材料", "办理流程",
                  "申报表格", "发文字号", "发文机关", "C 制造业", "小型企业", "免申即享"):
        assert label in page, label
    download = client.get(f"/policies/{draft.code}/files/{attachment.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert "attachment" in download["Content-Disposition"]
    assert client.get(f"/policies/{draft.code}/files/999999/").status_code == 404


def test_an_unknown_or_withdrawn_policy_is_a_chinese_404(editors, content, publish, client):
    policy = publish(content())
    services.policy_withdraw(actor=editors["a"], policy_id=policy.pk, reason="废止")
    response = client.get(f"/policies/{policy.code}/")
    assert response.status_code == 404 and "不存在或已撤回" in _text(response)


def test_the_guide_of_a_related_item_shows_the_policy(content, publish, client, areas, pdepts):
    from bianmin.catalog.services import item_create, item_publish, standard_item_create
    from bianmin.regions.models import ServiceSite

    main = standard_item_create(actor=None, code="350110001000", name="个体工商户设立登记", item_type="license",
                                competent_department=pdepts["rsj"], implementing_body="街道", legal_limit_days=3)
    handling = standard_item_create(actor=None, code="350110001001", name="个体工商户设立登记（新设）",
                                    item_type="license", competent_department=pdepts["rsj"], implementing_body="街道",
                                    legal_limit_days=3, tier="handling", parent=main, handling_kind="new")
    site = ServiceSite.objects.create(code="C-GD2", name="鼓东街道便民服务中心", kind="center", area=areas[GUDONG])
    item = item_create(actor=None, standard_item=handling, area=site.area, site=site, promised_limit_days=1)
    item_publish(actor=None, item=item)
    policy = publish(content(title="增值税小规模纳税人“六税两费”减征", aliases="六税两费", items=[main]))
    from conftest import TAIJIANG

    from bianmin.catalog.services import department_create

    taijiang = department_create(actor=None, code="P-TJ", name="台江区人社局", category="劳动保障", area=areas[TAIJIANG])
    elsewhere = publish(content(title="台江区个体户开业补贴", lead_department=taijiang, items=[main]))
    guide = _text(client.get(f"/catalog/guide/{item.implementation_code}/"))
    assert "相关惠企政策" in guide and policy.title in guide and f"/policies/{policy.code}/" in guide
    assert elsewhere.title not in guide  # 台江's own policy does not apply at 鼓东
    standard = _text(client.get(f"/catalog/guide/{main.code}/"))
    assert policy.title in standard and elsewhere.title in standard  # the shared guide: everywhere
    # an item with no related policy shows no section at all
    other = standard_item_create(actor=None, code="350110002000", name="食品小作坊登记", item_type="license",
                                 competent_department=pdepts["rsj"], implementing_body="街道", legal_limit_days=3)
    assert "相关惠企政策" not in _text(client.get(f"/catalog/guide/{other.code}/"))


def test_matching_page_gives_reasons_and_offers_to_subscribe(content, publish, client):
    publish(content(sizes=["small", "micro"]))
    page = client.get("/policies/match/", {"industry": "65", "size": "micro", "area": GUDONG})
    text = _text(page)
    assert page.status_code == 200 and "符合条件" in text and "微型企业，符合" in text and "订阅政策推送" in text
    bad = client.get("/policies/match/", {"credit_code": "123", "size": "micro"})
    assert bad.status_code == 422 and "18位" in _text(bad)


def test_subscribing_through_the_pages_confirm_and_unsubscribe(content, publish, client):
    from bianmin.core.validators import make_credit_code

    response = client.post("/policies/subscribe/", {"credit_code": make_credit_code("350102", 9), "name": "福州某公司",
                                                    "area": GUDONG, "size": "micro", "channel": "sms",
                                                    "contact": "13905910001"})
    assert response.status_code == 200 and "139****0001" in _text(response)
    link = OutboxMessage.objects.get().payload["link"]
    path = re.sub(r"^https?://[^/]+", "", link)
    assert "确认订阅" in _text(client.get(path))
    client.post(path, {"action": "confirm"})
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE
    client.post(path, {"action": "cancel"})
    assert Subscription.objects.get().status == Subscription.Status.CANCELLED
    assert client.get("/policies/subscriptions/forged-token/").status_code == 404


def test_a_bad_subscription_form_writes_nothing(client, db, areas):
    response = client.post("/policies/subscribe/", {"credit_code": "", "name": "", "channel": "sms", "contact": "1"})
    assert response.status_code == 422 and "请填写统一社会信用代码" in _text(response)
    assert not Subscription.objects.exists()


def test_the_editors_workflow_through_the_pages(editors, pdepts, login, client):
    from django.test import Client

    a = login(editors["users"]["a"])
    form = {"title": "2026年福州市一次性吸纳就业补贴", "aliases": "招工补贴", "category": "employment",
            "lead_department": pdepts["rsj"].pk, "handling_office": "就业处", "handling_phone": "0591-1",
            "valid_from": "2026-01-01", "benefits": "每人1000元", "conditions": "新招用高校毕业生", "materials": "申请表",
            "procedure": "申请、审核、发放", "sizes": ["small"], "industries": ["C"], "items": ""}
    created = a.post("/policies/staff/new/", form)
    assert created.status_code == 302
    policy = Policy.objects.get()
    assert a.post(f"/policies/staff/{policy.pk}/action/", {"action": "submit"}).status_code == 302
    own = _text(a.get(f"/policies/staff/{policy.pk}/"))
    assert "四眼原则" in own
    refused = a.post(f"/policies/staff/{policy.pk}/action/", {"action": "approve"})
    assert refused.status_code == 403
    b = login(editors["users"]["b"], Client())
    assert b.post(f"/policies/staff/{policy.pk}/action/", {"action": "approve"}).status_code == 302
    policy.refresh_from_db()
    assert policy.state == State.PUBLISHED
    detail = _text(b.get(f"/policies/staff/{policy.pk}/"))
    assert "变更记录" in detail and "publish" in detail and "修订" in detail
    listing = _text(b.get("/policies/staff/", {"state": "published"}))
    assert policy.title in listing


def test_a_bad_policy_form_is_422_and_writes_nothing(editors, pdepts, login):
    a = login(editors["users"]["a"])
    response = a.post("/policies/staff/new/", {"title": "", "category": "employment", "lead_department": pdepts["rsj"].pk,
                                               "valid_from": "2026-13-01", "items": "NO-SUCH-ITEM"})
    assert response.status_code == 422 and "事项编码不存在" in _text(response)
    assert not Policy.objects.exists()


def test_import_page_shows_row_errors_and_export_downloads(editors, pdepts, login):
    from openpyxl import Workbook

    from bianmin.policies.xlsx import HEADERS

    a = login(editors["users"]["a"])
    wb = Workbook()
    wb.active.append(HEADERS)
    wb.active.append(["", "缺类别的政策"])
    buf = io.BytesIO()
    wb.save(buf)
    buf.name = "p.xlsx"
    buf.seek(0)
    response = a.post("/policies/staff/import/", {"file": buf})
    assert response.status_code == 422 and "整表退回" in _text(response) and "不能为空" in _text(response)
    export = a.get("/policies/staff/export/")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_staff_pages_refuse_users_without_policy_edit(make_user, login):
    clerk = login(make_user("window_clerk", GUDONG))
    assert clerk.get("/policies/staff/").status_code == 403


@pytest.mark.parametrize("url", ["/policies/staff/expiring/", "/policies/staff/profiles/", "/policies/staff/import/"])
def test_staff_pages_open_for_an_editor(editors, login, url):
    assert login(editors["users"]["a"]).get(url).status_code == 200


def test_staff_save_a_profile_with_a_pilot_code_after_the_warning(editors, login, areas):
    from bianmin.core.validators import CREDIT_CHARSET, make_credit_code

    good = make_credit_code("350102", 3)
    pilot = good[:17] + next(c for c in CREDIT_CHARSET if c != good[17])
    a = login(editors["users"]["a"])
    data = {"credit_code": pilot, "name": "早期试点企业", "area": GUDONG, "industry": "13", "size": "small"}
    warned = a.post("/policies/staff/profiles/new/", data)
    assert warned.status_code == 422 and "确认为早期试点代码" in _text(warned)
    saved = a.post("/policies/staff/profiles/new/", {**data, "pilot_override": "1"})
    assert saved.status_code == 302
    listing = _text(a.get("/policies/staff/profiles/"))
    assert "试点代码" in listing and pilot not in listing  # masked in the list

