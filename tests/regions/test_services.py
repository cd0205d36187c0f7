"""site_create / site_update / window_create: validation, audit, and the scope rule for writes."""

import pytest
from conftest import GUDONG, GULOU, GUXI, TAIJIANG

from bianmin.accounts.principals import principal_for_user
from bianmin.accounts.roles import Role
from bianmin.core.errors import Forbidden, Invalid, NotFound
from bianmin.core.models import AuditEntry
from bianmin.regions.models import ServiceSite, Window
from bianmin.regions.services import site_create, site_update, window_create, window_update


def _p(user):
    return principal_for_user(user, ip="10.0.0.9")


def test_district_admin_creates_a_site_in_a_township_of_the_district_with_audit(make_user, areas):
    admin = make_user(Role.DISTRICT_ADMIN, GULOU)
    site = site_create(actor=_p(admin), code="X1", name="鼓东街道便民服务中心", kind="center", area=areas[GUDONG],
                       address="福州市鼓楼区鼓东路1号", lng=119.3, lat=26.07)
    row = AuditEntry.objects.get(action="create", target_type="regions.servicesite", target_id=str(site.pk))
    assert row.actor == admin and row.area_code == GUDONG and row.changes["address"] == "福州市鼓楼区鼓东路1号"


def test_admin_of_another_district_gets_not_found(make_user, areas):
    admin = make_user(Role.DISTRICT_ADMIN, GULOU)
    with pytest.raises(NotFound):
        site_create(actor=_p(admin), code="X1", name="甲", kind="center", area=areas[TAIJIANG])
    assert not ServiceSite.objects.exists()


def test_role_without_regions_edit_is_forbidden(make_user, areas):
    manager = make_user(Role.CENTER_MANAGER, GUDONG)
    with pytest.raises(Forbidden):
        site_create(actor=_p(manager), code="X1", name="甲", kind="center", area=areas[GUDONG])


def test_sibling_township_cannot_touch_the_other_site(make_user, make_site):
    guxi_admin = make_user(Role.DISTRICT_ADMIN, GUXI)  # a grant at a township, for the test
    site = make_site("X1", area_code=GUDONG)
    with pytest.raises(NotFound):
        site_update(actor=_p(guxi_admin), site=site, name="改名")
    with pytest.raises(NotFound):
        window_create(actor=_p(guxi_admin), site=site, number="1", name="综合受理窗口")
    assert ServiceSite.objects.get(pk=site.pk).name == "测试场所X1" and not Window.objects.exists()


@pytest.mark.parametrize("fields, fragment", [
    ({"lng": 119.3}, "经度和纬度应同时填写"),
    ({"lng": 190.0, "lat": 26.0}, "超出范围"),
    ({"kind": "shop"}, "类型"),
    ({"email": "not-an-email"}, "电子邮箱"),
])
def test_bad_site_values_are_invalid_in_chinese_and_nothing_is_written(areas, fields, fragment):
    args = {"code": "X1", "name": "甲", "kind": "center", "area": areas[GUDONG]} | fields
    with pytest.raises(Invalid) as exc:
        site_create(actor=None, **args)
    assert fragment in exc.value.message
    assert not ServiceSite.objects.exists() and not AuditEntry.objects.filter(target_type="regions.servicesite").exists()


def test_duplicate_code_is_invalid(make_site, areas):
    make_site("X1")
    with pytest.raises(Invalid, match="已存在"):
        site_create(actor=None, code="X1", name="乙", kind="center", area=areas[GUDONG])


def test_station_parent_must_be_a_center_covering_its_area(make_site):
    center = make_site("C1", area_code=GUDONG)
    kiosk = make_site("K1", kind="kiosk", area_code=GUDONG)
    make_site("S1", kind="station", area_code="350102001001", parent_site=center)
    with pytest.raises(Invalid, match="上级场所应为便民服务中心"):
        make_site("S2", kind="station", area_code="350102001001", parent_site=kiosk)
    with pytest.raises(Invalid, match="上级便民服务中心的区划之内"):
        make_site("S3", kind="station", area_code=GUXI, parent_site=center)


def test_update_writes_a_diff_and_nothing_when_unchanged(make_site):
    site = make_site("X1", hours="周一至周五")
    site_update(actor=None, site=site, hours="周一至周六")
    row = AuditEntry.objects.get(action="update", target_id=str(site.pk), target_type="regions.servicesite")
    assert row.changes == {"hours": ["周一至周五", "周一至周六"]}
    site_update(actor=None, site=site, hours="周一至周六")
    assert AuditEntry.objects.filter(action="update", target_type="regions.servicesite").count() == 1
    with pytest.raises(Invalid, match="不能修改的字段"):
        site_update(actor=None, site=site, code="X2")


def test_windows_unique_per_site_and_audited(make_site):
    site = make_site("X1")
    window = window_create(actor=None, site=site, number="1", name="综合受理窗口")
    with pytest.raises(Invalid):
        window_create(actor=None, site=site, number="1", name="重复")
    window_update(actor=None, window=window, active=False)
    assert not Window.objects.get(pk=window.pk).active
    assert AuditEntry.objects.filter(target_type="regions.window").count() == 2
