"""The regions admin writes through the services (audited) and shows each editor only their areas."""

import pytest
from conftest import GUDONG, GULOU

from bianmin.accounts.models import User
from bianmin.accounts.roles import Role
from bianmin.core.models import AuditEntry
from bianmin.regions.models import ServiceSite, Window

INLINE = {"windows-TOTAL_FORMS": "1", "windows-INITIAL_FORMS": "0", "windows-MIN_NUM_FORMS": "0",
          "windows-MAX_NUM_FORMS": "1000"}


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", password="Root-Passw0rd!x")


def test_superuser_adds_a_site_with_a_window_through_the_services(client, superuser, areas):
    client.force_login(superuser)
    response = client.post("/admin/regions/servicesite/add/", {
        "code": "A1", "name": "鼓东街道便民服务中心", "kind": "center", "venue": "hall", "area": areas[GUDONG].pk,
        "active": "on", "address": "鼓东路1号", "lng": "119.3", "lat": "26.07", "hours": "周一至周五",
        "phone": "", "complaint_phone": "", "email": "", "parent_site": "",
        **INLINE, "windows-0-number": "1", "windows-0-name": "综合受理窗口", "windows-0-active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    site = ServiceSite.objects.get(code="A1")
    assert Window.objects.get(site=site).name == "综合受理窗口"
    assert AuditEntry.objects.filter(action="create", target_type="regions.servicesite", actor=superuser).count() == 1
    assert AuditEntry.objects.filter(action="create", target_type="regions.window", actor=superuser).count() == 1


def test_admin_rejects_bad_coordinates_with_a_chinese_message(client, superuser, areas):
    client.force_login(superuser)
    response = client.post("/admin/regions/servicesite/add/", {
        "code": "A1", "name": "甲", "kind": "center", "venue": "hall", "area": areas[GUDONG].pk, "lng": "119.3",
        "lat": "", **INLINE, "windows-TOTAL_FORMS": "0",
    })
    assert response.status_code == 200 and "经度和纬度应同时填写" in response.content.decode()
    assert not ServiceSite.objects.exists()


def test_staff_editor_sees_only_sites_of_their_areas(client, make_user, make_site):
    make_site("G1", area_code=GUDONG)
    make_site("T1", area_code="350103001000")
    editor = make_user(Role.DISTRICT_ADMIN, GULOU, is_staff=True)
    from django.contrib.auth.models import Permission

    editor.user_permissions.add(*Permission.objects.filter(codename__in=["view_servicesite", "change_servicesite"]))
    client.force_login(editor)
    html = client.get("/admin/regions/servicesite/").content.decode()
    assert "测试场所G1" in html and "测试场所T1" not in html
    other = ServiceSite.objects.get(code="T1")
    # Outside the editor's queryset: Django's admin answers as for a missing object, a redirect to
    # the admin index with "不存在" (it never shows the record).
    response = client.get(f"/admin/regions/servicesite/{other.pk}/change/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_areas_are_read_only_in_the_admin(client, superuser, areas):
    client.force_login(superuser)
    assert client.get("/admin/regions/area/", {"q": "鼓东"}).status_code == 200
    assert client.get("/admin/regions/area/add/").status_code == 403
