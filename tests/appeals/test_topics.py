"""What appeals are about (issue 19.8): the two-level content classification as data with codes,
the rule classifier on every way in (registration, 12345 push and import), staff correction, the
analysis by class with trends over twelve periods, and demo appeals classified by what they say."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from conftest import GUDONG, GULOU, GUXI
from django.core.management import CommandError, call_command
from django.utils import timezone

from bianmin.appeals import selectors, services, topics
from bianmin.appeals.demo_texts import TEXTS
from bianmin.appeals.models import Appeal, AppealEvent, TopicClass
from bianmin.core.errors import Invalid, NotFound
from bianmin.core.models import AuditEntry


def _file_classifier() -> topics.Classifier:
    """The classifier over the data file itself (no database)."""
    rows = topics.default_rows()
    ids = {r["code"]: n for n, r in enumerate(rows, start=1)}
    return topics.Classifier([SimpleNamespace(pk=ids[r["code"]], code=r["code"], keywords=r["keywords"], active=True,
                                              parent_id=ids[r["parent"]] if r["parent"] else None) for r in rows])


def test_the_classification_is_two_levels_of_codes_with_one_catch_all():
    rows = topics.default_rows()
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    groups = {r["code"] for r in rows if not r["parent"]}
    assert all(len(c) == 2 for c in groups) and len(groups) == 10
    for r in rows:
        if r["parent"]:
            assert len(r["code"]) == 4 and r["code"].startswith(r["parent"]) and r["parent"] in groups, r
    assert [r["code"] for r in rows if r["parent"] and not r["keywords"]] == ["9901"]


@pytest.mark.parametrize(("code", "kind", "title", "content"), TEXTS, ids=[t[2] for t in TEXTS])
def test_every_demo_text_lands_in_its_class(code, kind, title, content):
    assert _file_classifier().classify(title, content).code == code


def test_place_names_and_filler_words_are_no_topic():
    """The word counts this replaced ranked 鼓楼 and 准备 as topics: a text with nothing but
    those has no class but the catch-all."""
    match = _file_classifier().classify("鼓楼区鼓东街道", "准备去鼓东街道便民服务中心，想了解一下情况。")
    assert (match.code, match.score) == ("9901", 0)


def test_the_title_weighs_more_than_the_content():
    c = _file_classifier()
    assert c.classify("社保窗口排队", "").code == "0103"  # 排队*4 vs 社保*4: a tie goes to the smaller code…
    assert c.classify("异地就医", "排队").code == "0202"  # …the title names the matter


@pytest.mark.django_db
def test_the_migration_loaded_the_file():
    assert TopicClass.objects.count() == len(topics.default_rows())
    assert TopicClass.objects.get(code="0103").parent.code == "01"


# --- on the way in --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_registration_classifies_by_content(register, clerk):
    appeal = register(clerk, title="家里老人申请高龄津贴", content="九十岁老人行动不便，希望上门办理高龄津贴认证。")
    assert (appeal.topic.code, appeal.topic_by) == ("0203", "rule")
    other = register(clerk, title="其他事项", content="想了解一下情况。")
    assert other.topic.code == "9901"


def _push(client, key, **order):
    body = {"work_order_no": "WO-T1", "kind": "投诉", "title": "社保窗口排队", "content": "排了两个小时",
            "area_code": GUDONG, "registered_at": "2026-11-05 10:00", "name": "王五", "mobile": "13700000000"}
    body.update(order)
    return client.post("/api/v1/appeals/work-orders", [body], content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def hotline_key(areas):
    from bianmin.accounts.models import ApiKey

    raw = "k12345_topics_secret_value_that_is_long_enough"
    ApiKey.objects.create(name="12345平台", prefix="k12345", digest=ApiKey.digest_of(raw), area=areas[GULOU],
                          scopes=["appeals.12345"])
    return raw


@pytest.mark.django_db
def test_pushed_orders_are_classified_and_a_staff_correction_survives_a_resend(client, hotline_key, manager,
                                                                              as_principal):
    assert _push(client, hotline_key).status_code == 200
    appeal = Appeal.objects.get(work_order_no="WO-T1")
    assert appeal.topic.code == "0103"
    # The platform sends the order again with other content: the rules classify it again.
    _push(client, hotline_key, title="社保卡补办需要什么材料", content="补办需要带哪些材料")
    appeal.refresh_from_db()
    assert (appeal.topic.code, appeal.topic_by) == ("0101", "rule")
    # Staff say it is about social insurance; a further resend keeps their class.
    services.appeal_topic_set(actor=as_principal(manager), appeal=appeal, code="0201", note="实为社保卡问题")
    _push(client, hotline_key, title="社保卡补办需要什么材料", content="补办需要带哪些材料和照片")
    appeal.refresh_from_db()
    assert (appeal.topic.code, appeal.topic_by, appeal.content) == ("0201", "staff", "补办需要带哪些材料和照片")


# --- staff correction -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_correcting_the_class_is_recorded(register, clerk, as_principal):
    appeal = register(clerk)
    before = appeal.topic.code
    appeal = services.appeal_topic_set(actor=as_principal(clerk), appeal=appeal, code="0102", note="实为态度问题")
    assert (appeal.topic.code, appeal.topic_by) == ("0102", "staff")
    event = appeal.events.get(kind=AppealEvent.Kind.TOPIC)
    assert event.data == {"from": before, "to": "0102"} and "服务态度" in event.text and "实为态度问题" in event.text
    assert AuditEntry.objects.filter(target_id=str(appeal.pk), action="update", changes__topic=[before, "0102"]).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["", "01", "0999", "abc"])
def test_a_correction_needs_a_level_two_class(register, clerk, as_principal, code):
    appeal = register(clerk)
    with pytest.raises(Invalid) as exc:
        services.appeal_topic_set(actor=as_principal(clerk), appeal=appeal, code=code)
    assert exc.value.field == "code" and exc.value.message == "请选择诉求分类（二级分类）"
    appeal.refresh_from_db()
    assert appeal.topic_by == "rule" and not appeal.events.filter(kind="topic").exists()


@pytest.mark.django_db
def test_correction_through_the_api_and_the_page(client, login, register, clerk, guxi_clerk):
    appeal = register(clerk)
    login(guxi_clerk)
    r = client.post(f"/api/v1/appeals/{appeal.number}/topic", {"code": "0102"}, content_type="application/json")
    assert r.status_code == 404
    login(clerk)
    bad = client.post(f"/api/v1/appeals/{appeal.number}/topic", {"code": "01"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["field"] == "code"
    ok = client.post(f"/api/v1/appeals/{appeal.number}/topic", {"code": "0102"}, content_type="application/json")
    assert ok.status_code == 200 and (ok.json()["topic_code"], ok.json()["topic_by"]) == ("0102", "staff")
    page = client.post(f"/appeals/{appeal.number}/", {"action": "topic", "code": "0105", "text": ""})
    assert page.status_code == 302
    appeal.refresh_from_db()
    assert appeal.topic.code == "0105"
    html = client.get(f"/appeals/{appeal.number}/").content.decode()
    assert "多次跑腿（0105，人工更正）" in html and 'name="action" value="topic"' in html


# --- analysis ----------------------------------------------------------------------------------------

def _at(year, month, day=10):
    return timezone.make_aware(dt.datetime(year, month, day, 10))


@pytest.fixture
def year_of_appeals(register, clerk, make_user, areas):
    """Queueing complaints in three months of 2026 (2 in March, 1 in May, 3 in November), one
    material question in May, one in 鼓西 in November, one in December 2025 (outside the year)."""
    guxi = make_user("window_clerk", GUXI)
    plan = [((2026, 3), "社保窗口排队时间长", clerk, GUDONG), ((2026, 3), "取号后等候一上午", clerk, GUDONG),
            ((2026, 5), "排队太久", clerk, GUDONG), ((2026, 5), "需要什么材料", clerk, GUDONG),
            ((2026, 11), "排队两个小时", clerk, GUDONG), ((2026, 11), "窗口排队", clerk, GUDONG),
            ((2026, 11), "叫号太慢排队久", clerk, GUDONG), ((2026, 11), "鼓西排队", guxi, GUXI),
            ((2025, 12), "排队", clerk, GUDONG)]
    for (year, month), title, user, code in plan:
        a = register(user, title=title, content=title, area=areas[code])
        Appeal.objects.filter(pk=a.pk).update(registered_at=_at(year, month))


@pytest.mark.django_db
def test_twelve_monthly_periods_per_class(year_of_appeals, district, as_principal, areas):
    periods, trends = selectors.appeal_class_trends(as_principal(district), area=areas[GULOU],
                                                    end=dt.date(2026, 11, 20))
    assert [p[0] for p in periods] == [dt.date(2025, 12, 1)] + [dt.date(2026, m, 1) for m in range(1, 12)]
    assert periods[-1] == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    by = {t.key: t.counts for t in trends}
    assert by["0103"] == [1, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 4]
    assert by["0101"] == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert [t.key for t in trends] == ["0103", "0101"]  # most appeals first
    _p, groups = selectors.appeal_class_trends(as_principal(district), area=areas[GULOU], end=dt.date(2026, 11, 20),
                                               level=1)
    assert [(t.key, t.label, t.total) for t in groups] == [("01", "政务服务", 9)]


@pytest.mark.django_db
def test_weekly_periods_and_the_scope(year_of_appeals, manager, as_principal, areas):
    periods, trends = selectors.appeal_class_trends(as_principal(manager), area=areas[GUDONG],
                                                    end=dt.date(2026, 11, 12), unit="week")
    assert len(periods) == 12 and periods[-1] == (dt.date(2026, 11, 9), dt.date(2026, 11, 15))
    assert all(p[0].weekday() == 0 for p in periods)
    assert {t.key: t.counts[-1] for t in trends} == {"0103": 3}  # 鼓东's three on the 10th; not 鼓西's
    with pytest.raises(NotFound):
        selectors.appeal_class_trends(as_principal(manager), area=areas[GUXI], end=dt.date(2026, 11, 12))
    with pytest.raises(NotFound) as exc:
        selectors.appeal_class_trends(as_principal(manager), area=areas[GUDONG], end=dt.date(2026, 11, 12), unit="day")
    assert exc.value.field == "unit"


@pytest.mark.django_db
def test_trends_through_the_api_and_the_page(client, login, year_of_appeals, district, manager):
    login(district)
    r = client.get(f"/api/v1/appeals/class-trends?area_code={GULOU}&end=2026-11-20")
    assert r.status_code == 200
    body = r.json()
    assert body["periods"][0] == "2025-12-01" and len(body["periods"]) == 12
    assert body["classes"][0] == {"code": "0103", "name": "排队与等候", "counts": [1, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 4],
                                  "total": 8}
    bad = client.get(f"/api/v1/appeals/class-trends?area_code={GULOU}&unit=year")
    assert bad.status_code == 404 and bad.json()["field"] == "unit"
    page = client.get(f"/appeals/analysis/?area={GULOU}&start=2026-11-01&end=2026-11-20")
    html = page.content.decode()
    assert page.status_code == 200 and "诉求分类趋势（近12个月）" in html and "0103 排队与等候" in html
    assert "<polyline" in html
    classes = client.get("/api/v1/appeals/topic-classes").json()
    assert classes[0]["code"] == "01" and classes[0]["classes"][2]["name"] == "排队与等候"
    login(manager)
    assert client.get(f"/api/v1/appeals/class-trends?area_code={GULOU}").status_code == 404


# --- the classification as data -------------------------------------------------------------------

@pytest.mark.django_db
def test_a_city_loads_its_own_classification_by_code(tmp_path):
    own = tmp_path / "topics.csv"
    own.write_text("# 本市分类\ncode,name,parent,keywords\n01,政务服务,,\n0103,排队等候,01,排队、排长队*6\n"
                   "10,教育,,\n1001,入学,10,入学*5、学位*4\n", encoding="utf-8")
    call_command("load_topics", str(own), verbosity=0)
    assert TopicClass.objects.get(code="0103").name == "排队等候"
    assert TopicClass.objects.get(code="1001").parent.code == "10"
    assert topics.classify("孩子入学", "学位紧张").code == "1001"
    broken = tmp_path / "bad.csv"
    broken.write_text("code,name,parent,keywords\n1101,某类,11,词\n", encoding="utf-8")
    with pytest.raises(CommandError, match="上级分类“11”不存在"):
        call_command("load_topics", str(broken), verbosity=0)
    assert not TopicClass.objects.filter(code="1101").exists()
