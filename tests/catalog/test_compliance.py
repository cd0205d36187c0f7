""""应进必进" compliance on a hand-built case: two township centers and a village station."""

import pytest
from conftest import CITY, GULOU


@pytest.fixture
def case(areas, sites, depts, make_standard, item_at, settings):
    from bianmin.catalog.services import department_create, stationing_create

    settings.BIANMIN_MANDATORY_DEPARTMENTS = ["民政", "残联", "司法"]
    sifa = department_create(actor=None, code="D-GL-SF", name="鼓楼区司法局", category="司法", area=areas[GULOU])
    t1 = make_standard("甲事项", code="T1", levels="township")
    t2 = make_standard("乙事项", code="T2", levels="township,village")
    make_standard("涉密事项", code="T3", levels="township", is_classified=True)
    v1 = make_standard("村级事项", code="V1", levels="village")
    # 鼓东: all three departments, but 司法 keeps its own office; T1 stationed, T2 implemented but not stationed
    for d in (depts["民政"], depts["残联"], sifa):
        stationing_create(actor=None, department=d, site=sites["gudong"], keeps_separate_office=(d == sifa))
    item_at(t1, "gudong", promised_limit_days=5)
    item_at(t2, "gudong", promised_limit_days=5, stationed=False)
    # 鼓西: only 民政; both items stationed
    stationing_create(actor=None, department=depts["民政"], site=sites["guxi"])
    item_at(t1, "guxi", promised_limit_days=5, implementing_body_credit_code="A")
    item_at(t2, "guxi", promised_limit_days=5, implementing_body_credit_code="A")
    # the village station: V1 stationed, T2 missing
    item_at(v1, "station", promised_limit_days=5)
    return {"t2": t2}


def test_report_lists_missing_departments_items_and_separate_offices(case, areas, sites):
    from bianmin.catalog.selectors import compliance_report

    report = compliance_report(area=areas[CITY])
    rows = {r.site.code: r for r in report.sites}
    gudong, guxi, station = rows["C-GUDONG"], rows["C-GUXI"], rows["S-ZHONGSHAN"]
    assert gudong.missing_departments == []
    assert gudong.separate_offices == ["鼓楼区司法局"]
    assert [m.code for m in gudong.missing_items] == ["T2"]  # T3 is classified: exempt
    assert (gudong.required_items, gudong.stationed_items) == (2, 1)
    assert guxi.missing_departments == ["残联", "司法"]
    assert guxi.missing_items == []
    assert station.missing_departments == []  # stations have no mandatory departments
    assert [m.code for m in station.missing_items] == ["T2"]
    assert not any(r.compliant for r in report.sites)
    assert len(report.districts) == 1 and report.districts[0].area.code == GULOU
    d = report.districts[0]
    assert (d.sites, d.missing_departments, d.missing_items, d.required_items, d.stationed_items) == (3, 2, 2, 6, 4)
    assert d.rate == pytest.approx(66.7)
    assert report.total.sites == 3


def test_report_becomes_compliant_when_gaps_are_closed(case, areas, sites, depts):
    from bianmin.catalog.models import Item, Stationing
    from bianmin.catalog.selectors import compliance_report
    from bianmin.catalog.services import item_create, item_update, stationing_create, stationing_update

    st = Stationing.objects.get(site=sites["gudong"], department__category="司法")
    stationing_update(actor=None, stationing=st, changes={"keeps_separate_office": False})
    item_update(actor=None, item=Item.objects.get(site=sites["gudong"], standard_item=case["t2"]),
                changes={"stationed": True})
    rows = {r.site.code: r for r in compliance_report(area=areas[CITY]).sites}
    assert rows["C-GUDONG"].compliant
    assert not rows["C-GUXI"].compliant
    stationing_create(actor=None, department=depts["残联"], site=sites["guxi"])
    stationing_create(actor=None, department=Stationing.objects.get(site=sites["gudong"], department__category="司法").department,
                      site=sites["guxi"])
    item_create(actor=None, standard_item=case["t2"], area=sites["station"].area, site=sites["station"],
                promised_limit_days=1)
    report = compliance_report(area=areas[CITY])
    assert all(r.compliant for r in report.sites)
    assert report.total.rate == 100.0


def test_mandatory_list_defaults_to_the_seed():
    from bianmin.catalog.conf import mandatory_departments

    assert mandatory_departments() == ("计生", "民政", "国土", "村建", "农业", "林业", "渔业", "劳动保障", "司法", "工商", "残联")


def test_report_is_scoped(case, areas, make_user, login, client):
    from conftest import GUXI

    c = login(make_user("center_manager", GUXI))
    data = c.get("/api/v1/catalog/compliance").json()
    assert [s["site_code"] for s in data["sites"]] == ["C-GUXI"]
    assert c.get(f"/api/v1/catalog/compliance?area={CITY}").status_code == 404


def test_report_page_and_xlsx(case, make_user, login):
    import io

    from openpyxl import load_workbook

    c = login(make_user("city_admin", CITY))
    page = c.get("/catalog/staff/compliance/")
    assert page.status_code == 200
    assert "鼓西街道便民服务中心" in page.content.decode() and "残联、司法" in page.content.decode()
    resp = c.get("/catalog/staff/compliance/?format=xlsx")
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(resp.content), read_only=True)
    detail = list(wb["明细"].iter_rows(values_only=True))
    assert detail[0][4] == "未进驻的必进部门"
    assert any(r[1] == "C-GUXI" and r[4] == "残联、司法" for r in detail[1:])
