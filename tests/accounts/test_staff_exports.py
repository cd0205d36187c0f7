"""账号管理 and 接口密钥管理, continued: revoking a role asks for confirmation first; the account
and key lists export to xlsx with the list's filters, in the caller's scope only, phones masked,
never a key's secret or digest, each export audited; filters survive paging; empty lists say
what to do."""

from __future__ import annotations

import io

import pytest
from conftest import GUDONG, GULOU, GUXI, TAIJIANG
from django.test import Client
from openpyxl import load_workbook

from bianmin.accounts import services
from bianmin.accounts.models import ApiKey, RoleAssignment
from bianmin.accounts.roles import Role
from bianmin.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def gulou_admin(make_user):
    return make_user(Role.DISTRICT_ADMIN, GULOU, username="gl_admin", mobile="13900009999")


def _as(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _sheet(response) -> list[list]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return [["" if v is None else v for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]


def _exports(what: str):
    return AuditEntry.objects.filter(action="export", target_type=what)


# --- role revoke: confirm first -------------------------------------------------------------------------


def test_revoking_a_role_asks_for_confirmation_naming_user_role_and_area(gulou_admin, make_user, areas):
    clerk = make_user(Role.WINDOW_CLERK, GUDONG, username="gd_clerk", display_name="陈一")
    extra = RoleAssignment.objects.create(user=clerk, role=Role.FOLLOWUP_AGENT, area=areas[GUXI])
    admin = _as(gulou_admin)

    detail = admin.get(f"/accounts/users/{clerk.pk}/").content.decode()
    url = f"/accounts/users/{clerk.pk}/roles/{extra.pk}/revoke/"
    assert f'href="{url}"' in detail
    assert f'action="{url}"' not in detail  # no one-click revoke on the account page

    confirm = admin.get(url)
    body = confirm.content.decode()
    assert confirm.status_code == 200
    assert "确定撤销 gd_clerk 在鼓西街道的“回访员”角色吗" in body and GUXI in body and "陈一" in body
    assert "仍持有：窗口人员（鼓东街道）" in body and "确认撤销" in body
    extra.refresh_from_db()
    assert extra.active  # a GET changes nothing
    assert not AuditEntry.objects.filter(target_type="accounts.roleassignment", target_id=str(extra.pk)).exists()

    done = admin.post(url)
    assert done.status_code == 302 and done["Location"] == f"/accounts/users/{clerk.pk}/"
    extra.refresh_from_db()
    assert not extra.active
    assert AuditEntry.objects.filter(target_type="accounts.roleassignment", target_id=str(extra.pk),
                                     changes__active=False).count() == 1

    gone = admin.get(url).content.decode()
    assert "该角色已撤销" in gone and "确认撤销" not in gone
    again = admin.post(url)
    assert again.status_code == 409 and "该角色分配已撤销" in again.content.decode()


def test_revoke_confirmation_of_another_district_or_user_is_404(gulou_admin, make_user):
    admin = _as(gulou_admin)
    taijiang = make_user(Role.WINDOW_CLERK, TAIJIANG)
    mine = make_user(Role.WINDOW_CLERK, GUDONG)
    theirs = taijiang.role_assignments.get()
    assert admin.get(f"/accounts/users/{taijiang.pk}/roles/{theirs.pk}/revoke/").status_code == 404
    assert admin.get(f"/accounts/users/{mine.pk}/roles/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.active


def test_last_role_warning(gulou_admin, make_user):
    clerk = make_user(Role.WINDOW_CLERK, GUDONG)
    a = clerk.role_assignments.get()
    body = _as(gulou_admin).get(f"/accounts/users/{clerk.pk}/roles/{a.pk}/revoke/").content.decode()
    assert "将不再持有任何有效角色" in body


# --- account list export ------------------------------------------------------------------------------------


def test_account_export_is_scoped_filtered_masked_and_audited(gulou_admin, make_user):
    make_user(Role.WINDOW_CLERK, GUDONG, username="gd_a", display_name="陈一", mobile="13800001111")
    make_user(Role.FOLLOWUP_AGENT, GUXI, username="gx_b", display_name="李二")
    make_user(Role.WINDOW_CLERK, TAIJIANG, username="tj_c", display_name="张三", mobile="13700002222")
    admin = _as(gulou_admin)

    list_page = admin.get(f"/accounts/users/?area={GUDONG}").content.decode()
    assert f'href="/accounts/users/export.xlsx?area={GUDONG}"' in list_page

    rows = _sheet(admin.get("/accounts/users/export.xlsx"))
    assert rows[0][:4] == ["用户名", "姓名", "手机号码", "本辖区内的角色"]
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"gd_a", "gx_b", "gl_admin"}  # 台江's clerk is not in 鼓楼's file
    assert by_name["gd_a"][2] == "138****1111" and by_name["gd_a"][3] == "窗口人员·鼓东街道"
    flat = repr(rows)
    assert "13800001111" not in flat and "13900009999" not in flat and "pbkdf2" not in flat

    filtered = _sheet(admin.get(f"/accounts/users/export.xlsx?area={GUDONG}&page=3"))
    assert [r[0] for r in filtered[1:]] == ["gd_a"]

    entries = list(_exports("accounts.user").order_by("id"))
    assert len(entries) == 2 and entries[0].actor == gulou_admin
    assert entries[0].changes == {"format": "xlsx", "filters": {}, "rows": 3} and entries[0].area_code == GULOU
    assert entries[1].changes["filters"] == {"area": GUDONG} and entries[1].changes["rows"] == 1
    assert entries[1].area_code == GUDONG


def test_account_export_bad_filter_or_no_right_exports_nothing(gulou_admin, make_user):
    admin = _as(gulou_admin)
    bad = admin.get(f"/accounts/users/export.xlsx?area={TAIJIANG}")
    assert bad.status_code == 422 and "请选择您辖区内的区划" in bad.content.decode()
    assert bad["Content-Type"].startswith("text/html")
    manager = _as(make_user(Role.CENTER_MANAGER, GUDONG))
    assert manager.get("/accounts/users/export.xlsx").status_code == 403
    assert not _exports("accounts.user").exists()


def test_too_large_an_export_is_refused_with_a_chinese_message(gulou_admin, make_user, monkeypatch):
    from bianmin.accounts import views

    make_user(Role.WINDOW_CLERK, GUDONG)
    monkeypatch.setattr(views, "EXPORT_LIMIT", 1)
    r = _as(gulou_admin).get("/accounts/users/export.xlsx")
    assert r.status_code == 422 and "请先缩小查询范围再导出" in r.content.decode()
    assert not _exports("accounts.user").exists()


# --- key list export ------------------------------------------------------------------------------------------


def test_key_export_has_no_secret_nor_digest_is_scoped_filtered_and_audited(gulou_admin, areas, site_factory):
    gd_site, tj_site = site_factory(GUDONG, name="鼓东中心"), site_factory(TAIJIANG, name="台江中心")
    kiosk, raw_kiosk = services.apikey_create(actor=None, name="鼓东自助终端", kind="device", area=areas[GUDONG],
                                              site=gd_site, scopes=["evaluations.kiosk"])
    system, raw_system = services.apikey_create(actor=None, name="鼓楼 12345 对接", kind="system", area=areas[GULOU],
                                                scopes=["appeals.12345"])
    services.apikey_create(actor=None, name="台江自助终端", kind="device", area=tj_site.area, site=tj_site,
                           scopes=["evaluations.kiosk"])
    services.apikey_revoke(actor=None, key=system)
    admin = _as(gulou_admin)

    rows = _sheet(admin.get("/accounts/keys/export.xlsx"))
    assert rows[0][:3] == ["名称", "前缀", "类型"]
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"鼓东自助终端", "鼓楼 12345 对接"}
    assert by_name["鼓东自助终端"][1] == f"{kiosk.prefix}…" and by_name["鼓东自助终端"][2] == "自助终端"
    assert by_name["鼓楼 12345 对接"][11] == "已吊销"
    flat = repr(rows)
    for secret in (raw_kiosk, raw_system, kiosk.digest, ApiKey.objects.get(pk=system.pk).digest):
        assert secret not in flat
    assert raw_kiosk.rsplit("_", 1)[-1] not in flat

    revoked = _sheet(admin.get("/accounts/keys/export.xlsx?status=revoked"))
    assert [r[0] for r in revoked[1:]] == ["鼓楼 12345 对接"]
    entries = list(_exports("accounts.apikey").order_by("id"))
    assert [e.changes["rows"] for e in entries] == [2, 1]
    assert entries[1].changes["filters"] == {"status": "revoked"}


def test_key_export_bad_filter_or_no_right(gulou_admin, make_user, site_factory):
    tj_site = site_factory(TAIJIANG)
    bad = _as(gulou_admin).get(f"/accounts/keys/export.xlsx?site={tj_site.pk}")
    assert bad.status_code == 422 and "请选择您辖区内的服务场所" in bad.content.decode()
    assert _as(make_user(Role.WINDOW_CLERK, GUDONG)).get("/accounts/keys/export.xlsx").status_code == 403
    assert not _exports("accounts.apikey").exists()


def test_a_center_manager_exports_the_keys_of_their_township_only(make_user, areas, site_factory):
    gd_site, gx_site = site_factory(GUDONG), site_factory(GUXI)
    services.apikey_create(actor=None, name="鼓东终端", kind="device", area=areas[GUDONG], site=gd_site,
                           scopes=["evaluations.kiosk"])
    services.apikey_create(actor=None, name="鼓西终端", kind="device", area=areas[GUXI], site=gx_site,
                           scopes=["evaluations.kiosk"])
    manager = _as(make_user(Role.CENTER_MANAGER, GUDONG))
    assert [r[0] for r in _sheet(manager.get("/accounts/keys/export.xlsx"))[1:]] == ["鼓东终端"]
    assert _exports("accounts.apikey").get().area_code == GUDONG


# --- the lists as a district admin uses them ------------------------------------------------------------------


def test_paging_keeps_the_filters(gulou_admin, make_user, monkeypatch):
    from bianmin.accounts import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(3):
        make_user(Role.WINDOW_CLERK, GUDONG, username=f"clerk_{i}")
    make_user(Role.FOLLOWUP_AGENT, GUDONG, username="agent_x")
    admin = _as(gulou_admin)
    first = admin.get("/accounts/users/?role=window_clerk").content.decode()
    assert 'href="?role=window_clerk&amp;page=2"' in first and "共 3 个账号" in first
    second = admin.get("/accounts/users/?role=window_clerk&page=2").content.decode()
    assert ">clerk_2<" in second and "agent_x" not in second
    assert 'href="?role=window_clerk&amp;page=1"' in second
    # the filter form keeps its values, the page number is not a filter
    assert 'value="window_clerk" selected' in second and "清除条件" in second
    assert "清除条件" not in admin.get("/accounts/users/?page=2").content.decode()
    plain = admin.get("/accounts/users/").content.decode()
    assert 'href="?page=2"' in plain


def test_empty_lists_say_what_to_do(make_user, areas):
    admin = _as(make_user(Role.DISTRICT_ADMIN, TAIJIANG))
    keys = admin.get("/accounts/keys/").content.decode()
    assert "您的辖区内还没有签发过接口密钥" in keys
    filtered = admin.get("/accounts/keys/?status=revoked").content.decode()
    assert "没有符合条件的密钥" in filtered and "清除条件" in filtered
    users = admin.get("/accounts/users/?q=不存在的人").content.decode()
    assert "没有符合条件的账号" in users


def test_an_account_whose_roles_were_all_revoked_says_so_in_the_list(gulou_admin, make_user):
    clerk = make_user(Role.WINDOW_CLERK, GUDONG, username="gone_clerk")
    admin = _as(gulou_admin)
    a = clerk.role_assignments.get()
    assert admin.post(f"/accounts/users/{clerk.pk}/roles/{a.pk}/revoke/").status_code == 302
    body = admin.get("/accounts/users/?q=gone_clerk").content.decode()
    assert ">gone_clerk<" in body and "无有效角色（已撤销）" in body
    rows = _sheet(admin.get("/accounts/users/export.xlsx?q=gone_clerk"))
    assert rows[1][3] == "无有效角色（已撤销）"


def test_the_back_link_returns_to_the_filtered_list(gulou_admin, make_user, site_factory, areas):
    clerk = make_user(Role.WINDOW_CLERK, GUDONG)
    admin = _as(gulou_admin)
    assert admin.get(f"/accounts/users/?area={GUDONG}&role=window_clerk&page=1").status_code == 200
    detail = admin.get(f"/accounts/users/{clerk.pk}/").content.decode()
    assert f'href="/accounts/users/?area={GUDONG}&amp;role=window_clerk&amp;page=1">← 账号管理' in detail
    key, _ = services.apikey_create(actor=None, name="终端", kind="device", area=areas[GUDONG],
                                    site=site_factory(GUDONG), scopes=["evaluations.kiosk"])
    assert 'href="/accounts/keys/">← 接口密钥管理' in admin.get(f"/accounts/keys/{key.pk}/").content.decode()
    admin.get("/accounts/keys/?status=active")
    assert 'href="/accounts/keys/?status=active">' in admin.get(f"/accounts/keys/{key.pk}/").content.decode()


def test_a_name_that_looks_like_a_formula_is_exported_as_text(gulou_admin, areas, site_factory):
    services.apikey_create(actor=None, name='=HYPERLINK("http://evil","点我")', kind="device", area=areas[GUDONG],
                           site=site_factory(GUDONG), scopes=["evaluations.kiosk"])
    r = _as(gulou_admin).get("/accounts/keys/export.xlsx")
    book = load_workbook(io.BytesIO(r.content))
    cell = book.worksheets[0]["A2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil","点我")'
