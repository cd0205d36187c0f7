"""The audit log: append-only, written for writes and unmaskings, searchable by city admins only."""

import csv
import io

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI, TAIJIANG
from openpyxl import load_workbook

from bianmin.accounts import services
from bianmin.accounts.principals import principal_for_user
from bianmin.accounts.roles import Role
from bianmin.core.audit import audit
from bianmin.core.errors import Forbidden, NotFound
from bianmin.core.models import AuditEntry


@pytest.fixture
def city_admin(make_user):
    return make_user(Role.CITY_ADMIN, CITY, username="city_admin")


def test_audit_rows_cannot_be_changed_or_deleted(db):
    row = audit(actor=None, action=AuditEntry.Action.CREATE, target_type="x.y", target_id="1")
    row.target_id = "2"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    assert AuditEntry.objects.get(pk=row.pk).target_id == "1"


# --- unmasking ------------------------------------------------------------------------------------------


def test_unmask_writes_a_row_and_returns_the_value(make_user, areas):
    agent = make_user(Role.FOLLOWUP_AGENT, GULOU, username="agent")
    target = make_user(Role.WINDOW_CLERK, GUDONG, mobile="13800001234")
    assignment = target.role_assignments.get()
    principal = principal_for_user(agent, ip="198.51.100.4")
    # A record reaching its area through a path (as other apps' records do).
    value = services.unmask(actor=principal, record=assignment, field="mobile", value=target.mobile, reason="回访")
    assert value == "13800001234"
    row = AuditEntry.objects.get(action=AuditEntry.Action.UNMASK)
    assert row.actor == agent and row.ip == "198.51.100.4" and row.area_code == GUDONG
    assert row.target_type == "accounts.roleassignment" and row.target_id == str(assignment.pk)
    assert row.changes == {"field": "mobile", "reason": "回访"}
    assert "13800001234" not in str(row.changes)


def test_unmask_out_of_scope_is_not_found_and_without_capability_forbidden(make_user):
    target = make_user(Role.WINDOW_CLERK, GUDONG)
    assignment = target.role_assignments.get()
    sibling_agent = make_user(Role.FOLLOWUP_AGENT, GUXI)
    taijiang = make_user(Role.DISTRICT_ADMIN, TAIJIANG)
    clerk = make_user(Role.WINDOW_CLERK, GUDONG)  # in scope, but clerks have no UNMASK
    with pytest.raises(NotFound):
        services.unmask(actor=principal_for_user(sibling_agent), record=assignment, field="role")
    with pytest.raises(NotFound):
        services.unmask(actor=principal_for_user(taijiang), record=assignment, field="role")
    with pytest.raises(Forbidden):
        services.unmask(actor=principal_for_user(clerk), record=assignment, field="role")
    assert not AuditEntry.objects.filter(action="unmask").exists()


def test_unmask_with_area_path(make_user, gudong_site):
    """A record whose area is reached through a relation (site__area)."""
    manager = make_user(Role.CENTER_MANAGER, GUDONG)
    window = gudong_site.windows.create(number="1", name="综合窗口")
    assert services.unmask(actor=principal_for_user(manager), record=window, field="name", area_field="site__area") == "综合窗口"
    assert AuditEntry.objects.get(action="unmask").area_code == GUDONG


# --- the page --------------------------------------------------------------------------------------------


def _seed(make_user, areas):
    gulou = make_user(Role.DISTRICT_ADMIN, GULOU, username="gulou_admin")
    p = principal_for_user(gulou, ip="10.1.1.1")
    key, _ = services.apikey_create(actor=p, name="鼓东评价器", kind="device", area=areas[GUDONG], scopes=["evaluations.device"])
    audit(actor=None, action=AuditEntry.Action.CREATE, target_type="cases.case", target_id="77", area_code=TAIJIANG, label="台江办件")
    return key


def test_audit_page_for_city_admin_with_filters(client, login, make_user, areas, city_admin):
    key = _seed(make_user, areas)
    login(city_admin)
    page = client.get("/accounts/audit/")
    body = page.content.decode()
    assert page.status_code == 200 and "审计日志" in body and "台江办件" in body and "鼓东评价器" in body
    by_area = client.get("/accounts/audit/", {"area_code": "350102"}).content.decode()
    assert "鼓东评价器" in by_area and "台江办件" not in by_area
    by_actor = client.get("/accounts/audit/", {"actor": "gulou"}).content.decode()
    assert "鼓东评价器" in by_actor and "台江办件" not in by_actor
    by_target = client.get("/accounts/audit/", {"target_type": "accounts.apikey", "target_id": str(key.pk)}).content.decode()
    assert "鼓东评价器" in by_target and "台江办件" not in by_target
    by_action = client.get("/accounts/audit/", {"action": "key"}).content.decode()
    assert "鼓东评价器" in by_action and "台江办件" not in by_action
    today = client.get("/accounts/audit/", {"date_from": "2000-01-01", "date_to": "2000-01-02"}).content.decode()
    assert "没有符合条件的记录" in today


def test_audit_page_bad_dates_are_422_in_chinese(client, login, city_admin):
    login(city_admin)
    r = client.get("/accounts/audit/", {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert r.status_code == 422 and "截止日期不能早于起始日期" in r.content.decode()
    r = client.get("/accounts/audit/", {"date_from": "不是日期"})
    assert r.status_code == 422 and "查询条件有误" in r.content.decode()


def test_audit_page_paginates(client, login, city_admin):
    for n in range(55):
        audit(actor=None, action=AuditEntry.Action.CREATE, target_type="x.y", target_id=str(n))
    login(city_admin)
    first = client.get("/accounts/audit/", {"target_type": "x.y"}).content.decode()
    assert "第 1 / 2 页" in first and "下一页" in first
    second = client.get("/accounts/audit/", {"target_type": "x.y", "page": "2"}).content.decode()
    assert "第 2 / 2 页" in second


@pytest.mark.parametrize("role, code", [(Role.DISTRICT_ADMIN, GULOU), (Role.WINDOW_CLERK, GUDONG), (Role.INSPECTOR, CITY)])
def test_audit_page_refused_to_others(client, login, make_user, role, code):
    login(make_user(role, code))
    assert client.get("/accounts/audit/").status_code == 403
    assert client.get("/accounts/audit/export.csv").status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


def test_audit_page_needs_login(client):
    r = client.get("/accounts/audit/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


def test_csv_export_streams_filtered_rows_and_is_audited(client, login, make_user, areas, city_admin):
    _seed(make_user, areas)
    login(city_admin)
    r = client.get("/accounts/audit/export.csv", {"area_code": TAIJIANG})
    assert r.status_code == 200 and r.streaming
    text = b"".join(r.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["时间", "操作人", "操作"]
    assert len(rows) == 2 and rows[1][5] == "台江办件"
    row = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert row.actor == city_admin and row.changes == {"format": "csv", "filters": {"area_code": TAIJIANG}}


def test_xlsx_export(client, login, make_user, areas, city_admin):
    _seed(make_user, areas)
    login(city_admin)
    r = client.get("/accounts/audit/export.xlsx", {"action": "key"})
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(r.streaming_content)), read_only=True)
    rows = list(book["审计日志"].iter_rows(values_only=True))
    assert rows[0][0] == "时间" and len(rows) == 2 and rows[1][5].startswith("鼓东评价器")


def test_a_strangers_log_in_cannot_break_or_arm_the_audit_exports(client, login, city_admin):
    """One failed log-in as "bell\\x07user" made every xlsx covering it a 500 (openpyxl refuses
    control characters); one as "=1+2" with a "=HYPERLINK(…)" user agent became live formulas
    in the xlsx, and "=", "+", "@" went unescaped into the CSV."""
    agent = '=HYPERLINK("http://evil","点我")'
    for name in ("bell\x07user", "=1+2", "@cmd"):
        services.login_failed(username=name, user=None, ip="203.0.113.9", user_agent=agent)
    login(city_admin)
    r = client.get("/accounts/audit/export.xlsx", {"action": "login_failed"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert cells and all(c.data_type != "f" for c in cells)
    actors = {row[1] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert actors == {"belluser", "=1+2", "@cmd"}
    r = client.get("/accounts/audit/export.csv", {"action": "login_failed"})
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode("utf-8-sig"))))
    assert {row[1] for row in rows[1:]} == {"belluser", "'=1+2", "'@cmd"}
    assert {row[8] for row in rows[1:]} == {"'" + agent}


# --- what a person reads (issue 22.9) ---------------------------------------------------------------


def test_the_audit_page_shows_labelled_chinese_fields_and_names(client, login, make_user, areas):
    admin = make_user(Role.CITY_ADMIN, CITY, username="city_admin_x", display_name="王市管")
    clerk = make_user(Role.WINDOW_CLERK, GUDONG, username="gd_clerk_x", display_name="林小窗")
    assignment = clerk.role_assignments.get()
    audit(actor=None, action=AuditEntry.Action.UPDATE, target=clerk, changes={"is_active": [True, False]})
    audit(actor=principal_for_user(admin), action=AuditEntry.Action.CREATE, target=assignment,
          changes={"role": "window_clerk", "note": "新到岗"})
    login(admin)
    html = client.get("/accounts/audit/").content.decode()
    table = html[html.index("<table"):html.index("</table>")]
    assert "系统" in table and ">system<" not in table
    assert "王市管" in table and "city_admin_x" not in table
    assert "用户（编号" in table and "accounts.user" not in table and "accounts.roleassignment" not in table
    assert "是 → 否" in table and "is_active" not in table and "True" not in table
    assert "角色：窗口人员" in table and "备注：新到岗" in table and "window_clerk" not in table


def test_audit_exports_are_labelled_and_named_in_chinese(client, login, make_user, areas):
    from urllib.parse import quote

    admin = make_user(Role.CITY_ADMIN, CITY, username="city_admin_y", display_name="王市管")
    audit(actor=principal_for_user(admin), action=AuditEntry.Action.UPDATE, target=admin,
          changes={"display_name": "王市管"})
    login(admin)
    r = client.get("/accounts/audit/export.csv", {"action": "update"})
    disposition = r["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''" + quote("审计日志-"))
    assert disposition.endswith(quote(".csv"))
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode("utf-8").lstrip("\ufeff"))))
    assert rows[1][1] == "王市管" and rows[1][3] == "用户" and rows[1][9] == "姓名：王市管"
    r = client.get("/accounts/audit/export.xlsx", {"action": "update"})
    assert "filename*=utf-8''" + quote("审计日志-") in r["Content-Disposition"]
