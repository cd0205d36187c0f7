"""Rollout, reports, public disclosure, appraisal and coverage: on generated data, each page's
figures equal the rows, the public pages carry no personal data, the worker makes the report's
xlsx and PDF, and bad input gets a Chinese message with the right status."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI
from django.utils import timezone
from evaluations.conftest import principal

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(sites, items, calendar, areas):
    from bianmin.demo.scale import generate

    generate(240, days=50, chunk=120)
    return sites


# --- rollout ---------------------------------------------------------------------------------------

def test_rollout_against_the_two_dates(generated, areas, make_user, settings):
    from bianmin.figures.models import SiteRollout
    from bianmin.figures.rollout import rollout, summary
    from bianmin.regions.models import ServiceSite

    sites = generated
    actor = principal(make_user("district_admin", GULOU))
    SiteRollout.objects.create(site=sites["gudong"], live_on=date(2021, 5, 20))  # before 2021-06-01
    SiteRollout.objects.create(site=sites["guxi"], live_on=date(2021, 7, 1))  # late
    village = areas[GUDONG].children.order_by("code").first()
    ServiceSite.objects.create(code="S-V1", name=f"{village.name}便民服务站", kind="station", area=village,
                               parent_site=sites["gudong"])
    t = timezone.localdate()
    rows = {r.area.code: r for r in rollout(actor=actor, area=areas[GULOU], start=t - timedelta(days=60), end=t)}
    assert rows[GUDONG].status == "on_time" and rows[GUDONG].live_source == "登记"
    assert rows[GUXI].status == "late"
    assert rows[village.code].site is not None and rows[village.code].status == "missing_late"  # no case, no record
    other = areas[GUDONG].children.order_by("code")[1]
    assert rows[other.code].site is None and rows[other.code].status == "missing_late"
    # received there and handled there: the generator forwards nothing, so the whole share
    assert rows[GUDONG].received > 0 and rows[GUDONG].share == 1.0
    from bianmin.figures.cohorts import Where
    from bianmin.figures.cohorts import rows as naive

    assert rows[GUDONG].received == naive("received", Where(areas[GUDONG].path, site=sites["gudong"].pk),
                                          t - timedelta(days=60), t).count()
    by_level = {s["level"]: s for s in summary(list(rows.values()))}
    assert by_level["乡镇（街道）"]["on_time"] >= 1 and by_level["村（社区）"]["live"] == 0
    settings.BIANMIN_ROLLOUT_TOWNSHIP_TARGET = "2021-08-01"  # configurable: now 鼓西 is on time
    rows = {r.area.code: r for r in rollout(actor=actor, area=areas[GULOU], start=t - timedelta(days=60), end=t)}
    assert rows[GUXI].status == "on_time"


def test_rollout_page_and_xlsx(client, login, generated, make_user, areas):
    login(make_user("district_admin", GULOU))
    page = client.get(f"/figures/rollout/?area={GULOU}&level=township")
    assert page.status_code == 200 and "鼓东街道" in page.content.decode() and "按期上线" in page.content.decode()
    assert client.get(f"/figures/rollout/?area={GULOU}&format=xlsx")["Content-Type"].startswith(
        "application/vnd.openxmlformats")
    assert client.get(f"/figures/rollout/?area={GULOU}&level=city").status_code == 422
    assert client.get(f"/figures/rollout/?area={GULOU}&status=nope").status_code == 422


# --- public disclosure -----------------------------------------------------------------------------

def test_public_pages_show_results_and_no_personal_data(client, completed_case, generated, areas,
                                                        django_capture_on_commit_callbacks):
    from bianmin.evaluations.services import evaluation_submit
    from bianmin.figures.rollups import rebuild

    sites = generated
    day = timezone.localdate() - timedelta(days=3)
    case = completed_case(day=day, mobile="13912345678", name="欧阳娜娜")
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_submit(case_id=case.pk, grade=1, channel="web", actor=None, reasons=["slow"],
                          text="窗口工作人员李明态度差，我的身份证号350102198005010123")
    rebuild()
    for url in (f"/figures/public/sites/{sites['gudong'].code}/", f"/figures/public/districts/{GULOU}/"):
        page = client.get(url)  # no log-in
        body = page.content.decode()
        assert page.status_code == 200 and "好差评" in body and "满意率" in body
        assert "public" in page["Cache-Control"]
        for secret in ("欧阳", "娜娜", "13912345678", "5678", "李明", "350102198005010123", case.acceptance_number,
                       "态度差"):
            assert secret not in body, (url, secret)
        assert not re.search(r"1[3-9]\d\*{4}\d{4}", body)  # not even masked phones
    assert client.get("/figures/public/sites/NOPE/").status_code == 404
    assert client.get(f"/figures/public/districts/{GUDONG}/").status_code == 404  # a township is not a district


def test_the_public_rectifications_come_in_pages_and_by_status(client, generated, areas, monkeypatch):
    from bianmin.figures import views
    from bianmin.followups.models import Rectification

    monkeypatch.setattr(views, "PUBLIC_PER_PAGE", 4)
    ours = Rectification.objects.filter(source="bad_review", area__path__startswith=areas[GULOU].path)
    # The generated set's bad reviews depend on the calendar: copies make sure there are pages.
    model = ours.order_by("-found_on").first()
    copies = []
    for i in range(10):
        copy = Rectification.objects.get(pk=model.pk)
        copy.pk, copy.number, copy.source_ref = None, f"{model.number}-T{i}", f"{model.source_ref}-T{i}"
        copy.status = "done" if i % 2 else "open"
        copies.append(copy)
    Rectification.objects.bulk_create(copies)
    url = f"/figures/public/districts/{GULOU}/"
    first = client.get(url)
    assert first.status_code == 200
    page = first.context["page"]
    total = page.paginator.count
    assert total == ours.filter(found_on__gte=first.context["d"].end - timedelta(days=90)).count() > 8
    shown = []
    for number in range(1, page.paginator.num_pages + 1):
        r = client.get(f"{url}?page={number}")
        assert len(r.context["page"].object_list) <= 4
        shown += [x.number for x in r.context["page"].object_list]
    assert len(shown) == total == len(set(shown))  # every one once, newest first across the pages
    assert "下一页" in first.content.decode() and "第 1 / " in first.content.decode()
    done = client.get(f"{url}?status=done")
    assert done.context["page"].paginator.count == ours.filter(
        status="done", found_on__gte=done.context["d"].end - timedelta(days=90)).count()
    assert all(x.status == "done" for x in done.context["page"].object_list)
    bad = client.get(f"{url}?status=secret")
    assert bad.status_code == 422 and "整改状态无效" in bad.content.decode()
    assert client.get(f"{url}?page=abc").status_code == 200  # a bad page number shows the first page


def test_public_figures_equal_the_rows(client, generated, areas):
    from bianmin.figures.cohorts import Where, rows
    from bianmin.figures.disclosure import disclosure

    d = disclosure(Where(areas[GULOU].path), "鼓楼区")
    assert d.total["completed"] == rows("completed", Where(areas[GULOU].path), d.start, d.end).count()
    assert d.total["evaluated"] == rows("evaluated", Where(areas[GULOU].path), d.start, d.end).count()
    assert sum(c["completed"] for _m, c, _r in d.months) == d.total["completed"]


# --- appraisal -------------------------------------------------------------------------------------

def test_appraisal_score_breakdown_ranking_and_weights(generated, areas, make_user, settings, monkeypatch):
    from bianmin.figures import appraisal as A
    from bianmin.figures.cohorts import Where, rows

    actor = principal(make_user("city_admin", CITY))
    t = timezone.localdate()
    start = t - timedelta(days=60)
    monkeypatch.setattr(A, "MIN_EVALUATED", 5)
    units = {u.site.code: u for u in A.appraisal(actor=actor, area=areas[CITY], start=start, end=t)}
    gd = units["C-GUDONG"]
    where = Where(areas[GUDONG].path, site=generated["gudong"].pk)
    sat = rows("satisfied", where, start, t).count() / rows("evaluated", where, start, t).count()
    assert gd.parts["satisfaction"] == pytest.approx(sat)
    assert gd.parts["inspection"] is None  # no provider yet: left out, not 0
    w = A.appraisal_weights()
    have = {k: v for k, v in gd.parts.items() if v is not None and w[k] > 0}
    assert gd.score == pytest.approx(sum(w[k] * v for k, v in have.items()) * 100 / sum(w[k] for k in have))
    ranked = sorted((u for u in units.values() if u.rank), key=lambda u: u.rank)
    assert ranked and all(a.score >= b.score for a, b in zip(ranked, ranked[1:], strict=False))
    settings.BIANMIN_APPRAISAL_WEIGHTS = "satisfaction=100,participation=0,followup=0,rectification=0," \
                                         "fu_satisfaction=0,appeal_on_time=0,appeal_satisfaction=0"
    again = {u.site.code: u for u in A.appraisal(actor=actor, area=areas[CITY], start=start, end=t)}
    assert again["C-GUDONG"].score == pytest.approx(sat * 100)


def test_appraisal_takes_a_providers_inspection_score(generated, areas, make_user, monkeypatch):
    from bianmin.figures import appraisal as A

    monkeypatch.setattr(A, "appraisal_scores", lambda **kw: {generated["gudong"].pk: [80.0]})
    actor = principal(make_user("city_admin", CITY))
    t = timezone.localdate()
    units = {u.site.code: u for u in A.appraisal(actor=actor, area=areas[CITY], start=t - timedelta(days=60), end=t)}
    assert units["C-GUDONG"].parts["inspection"] == pytest.approx(0.8)


def test_appraisal_page_and_xlsx(client, login, generated, make_user):
    from openpyxl import load_workbook

    login(make_user("district_admin", GULOU))
    page = client.get(f"/figures/appraisal/?area={GULOU}")
    assert page.status_code == 200 and "综合得分" in page.content.decode() and "鼓东街道便民服务中心" in page.content.decode()
    x = client.get(f"/figures/appraisal/?area={GULOU}&format=xlsx")
    rows = list(load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "排名" and any(r[1] == "鼓东街道便民服务中心" for r in rows[1:])
    assert client.get(f"/figures/appraisal/?area={GULOU}&from=2026-1-1").status_code == 422


# --- coverage --------------------------------------------------------------------------------------

def test_coverage_finds_the_gaps_walking_and_driving(areas, sites, make_user):
    from bianmin.figures.coverage import by_district, coverage, load_points

    gd = sites["gudong"]
    gd.lng, gd.lat = 119.30, 26.07
    gd.save()
    villages = list(areas[GUDONG].children.order_by("code")[:3])
    # 0.5 km (walk 9 min), 3 km (walk 52 min, drive 10 min), 9 km (drive 29 min) east of the center
    load_points([(villages[0].code, 119.30 + 0.5 / 100, 26.07), (villages[1].code, 119.30 + 3 / 100, 26.07),
                 (villages[2].code, 119.30 + 9 / 100, 26.07)], source="测试")
    actor = principal(make_user("district_admin", GULOU))
    rows = {r.area.code: r for r in coverage(actor=actor, area=areas[GUDONG])}
    near, mid, far = (rows[v.code] for v in villages)
    assert not near.walk_gap and mid.walk_gap and not mid.drive_gap and far.drive_gap
    assert near.nearest == gd and round(near.walk_min) == 9
    unknown = [r for r in rows.values() if r.lng is None]
    assert unknown and not any(r.walk_gap for r in unknown)  # no place: unknown, not a gap, not covered
    d = by_district(list(rows.values()))[0]
    assert d["walk_gap"] == 2 and d["drive_gap"] == 1 and d["known"] == 3


def test_coverage_page_map_and_xlsx(client, login, areas, sites, make_user):
    from bianmin.figures.coverage import load_points

    village = areas[GUDONG].children.order_by("code").first()
    sites["gudong"].lng, sites["gudong"].lat = 119.30, 26.07
    sites["gudong"].save()
    load_points([(village.code, 119.40, 26.07)], source="测试")
    login(make_user("district_admin", GULOU))
    page = client.get(f"/figures/coverage/?area={GULOU}&mode=walk")
    body = page.content.decode()
    assert page.status_code == 200 and village.name in body and "echarts.min.js" in body and "合成" in body
    assert client.get(f"/figures/coverage/?area={GULOU}&mode=drive&format=xlsx").status_code == 200
    bad = client.get(f"/figures/coverage/?area={GULOU}&mode=fly")
    assert bad.status_code == 422 and "步行或驾车" in bad.content.decode()


def test_demo_points_and_rollout_register_load(areas, sites):
    from bianmin.figures.demo import load_demo_figures
    from bianmin.figures.models import AreaPoint, SiteRollout

    got = load_demo_figures()
    assert got["points"] == AreaPoint.objects.count() > 0
    assert SiteRollout.objects.count() == got["rollout"] == 3


# --- reports ---------------------------------------------------------------------------------------

def test_the_worker_makes_the_monthly_report_as_xlsx_and_pdf(client, login, generated, make_user, areas,
                                                             django_capture_on_commit_callbacks, tmp_path, settings):
    from openpyxl import load_workbook

    from bianmin.figures.models import Report
    from bianmin.figures.reports import report_request

    settings.VAR_DIR = tmp_path
    user = make_user("district_admin", GULOU)
    actor = principal(user)
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    with django_capture_on_commit_callbacks(execute=True):
        report = report_request(actor=actor, kind="monthly", area=areas[GULOU], start=month)
    from django_tasks_db.models import DBTaskResult

    from bianmin.figures.reports import report_build
    from bianmin.figures.tasks import report_make

    job = DBTaskResult.objects.get(task_path=report_make.module_path)
    assert job.args_kwargs["args"] == [report.pk]  # queued after commit for the worker
    report_build(report_id=report.pk)  # what the worker's run of it does
    report.refresh_from_db()
    assert report.status == "ready" and report.version == 1, report.error
    pdf = (tmp_path / "reports" / report.pdf_path).read_bytes()
    assert pdf.startswith(b"%PDF") and b"FontFile2" in pdf  # the CJK font embedded
    # ... and no other: the charts' renderer would otherwise declare Helvetica (not embedded)
    fonts = re.findall(rb"/BaseFont\s*/([A-Za-z0-9+_-]+)", pdf)
    assert fonts and all(b"WenQuanYi" in f for f in fonts), fonts
    book = load_workbook(io.BytesIO((tmp_path / "reports" / report.xlsx_path).read_bytes()))
    assert book.sheetnames[:3] == ["总览", "下级乡镇（街道）", "趋势"]
    overview = {r[0]: r[1] for r in book["总览"].iter_rows(min_row=2, values_only=True)}
    from bianmin.figures.cohorts import Where, rows

    assert overview["办结件数"] == rows("completed", Where(areas[GULOU].path), report.period_start,
                                        report.period_end).count()
    # downloadable by scope, regenerated on request
    login(user)
    assert client.get(f"/figures/reports/{report.pk}.pdf")["Content-Type"] == "application/pdf"
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("/figures/reports/", {"area": GULOU, "kind": "monthly", "month": month.strftime("%Y-%m")})
    assert again.status_code == 302
    report.refresh_from_db()
    assert report.status == "pending"
    report_build(report_id=report.pk)
    report.refresh_from_db()
    assert report.version == 2 and Report.objects.count() == 1
    login(make_user("center_manager", GUXI))
    assert client.get(f"/figures/reports/{report.pk}.pdf").status_code == 404
    assert client.get(f"/figures/reports/{report.pk}.exe").status_code == 404
    bad = client.post("/figures/reports/", {"area": GUXI, "kind": "monthly", "month": "2026-13"})
    assert bad.status_code == 422 and "月份格式" in bad.content.decode()
    bad = client.post("/figures/reports/", {"area": GUXI, "kind": "weekly", "month": "2026-01"})
    assert bad.status_code == 422


def test_the_daily_job_makes_last_months_reports_once(generated, areas, tmp_path, settings):
    from bianmin.figures.models import Report
    from bianmin.figures.reports import reports_due_make

    settings.VAR_DIR = tmp_path
    today = date(timezone.localdate().year, 4, 2)
    made = reports_due_make(today=today)
    n_areas = 1 + areas[CITY].children.filter(level="district").count()
    assert made == 2 * n_areas  # March's monthly and the first quarter's
    assert reports_due_make(today=today) == 0
    assert Report.objects.filter(kind="quarterly", period_start=date(today.year, 1, 1), status="ready").count() == n_areas
