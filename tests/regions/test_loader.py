"""Area and site files: any city loads its own; bad files give clear errors and write nothing;
reloading is idempotent."""

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from bianmin.core.errors import Invalid
from bianmin.core.models import AuditEntry
from bianmin.regions.models import Area, ServiceSite, Window
from bianmin.regions.services import areas_load, read_area_file, read_site_file, sites_load

DATA = settings.BASE_DIR / "regions" / "data"

# A made-up small city, to prove nothing is Fuzhou-only.
CITY_FILE = """# 示例市区划
# 来源：测试用虚构数据
# 版本：2099
code,name,level,parent_code
990100000000,示例市,city,
990102000000,东区,district,990100000000
990103000000,西区,district,990100000000
990102001000,春风街道,township,990102000000
990102001001,桃园社区,village,990102001000
990103100000,柳镇,township,990103000000
"""
ZONE_FILE = """# 来源：测试
# 版本：2099
code,name,level,parent_code,is_functional_zone,administers
990199000000,示例高新区,district,990100000000,1,990102001000;990103100000
"""
SITE_FILE = """# 来源：测试用虚构数据
# 版本：2099-1
code,kind,venue,name,area_code,parent_site_code,address,lng,lat,phone,complaint_phone,email,hours,windows
ZX1,center,hall,春风街道便民服务中心,990102001000,,示例市东区春风路1号,119.30,26.08,0591-1,0591-2,a@city.example,周一至周五,1:综合受理窗口|2:社保医保窗口
ZD1,station,community,桃园社区便民服务站,990102001001,ZX1,桃园社区,119.301,26.081,,,,周一至周五,1:综合代办窗口
ZK1,kiosk,pharmacy,e福州自助服务终端（春风大药房）,990102001000,ZX1,春风路2号,119.302,26.082,12345,12345,,8:00-22:00,
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def city(db, tmp_path):
    call_command("load_areas", str(write(tmp_path, "city.csv", CITY_FILE)), str(write(tmp_path, "zones.csv", ZONE_FILE)))


def test_any_city_loads_its_own_file_with_source_and_edition(db, tmp_path, capsys):
    call_command("load_areas", str(write(tmp_path, "city.csv", CITY_FILE)))
    out = capsys.readouterr().out
    assert "来源：测试用虚构数据" in out and "版本：2099" in out and "新增 6 个" in out
    village = Area.objects.get(code="990102001001")
    assert village.path == "990100000000/990102000000/990102001000/990102001001/"
    assert village.parent.name == "春风街道"


def test_functional_zone_from_a_second_file_administers_townships_of_other_districts(city):
    zone = Area.objects.get(code="990199000000")
    assert zone.is_functional_zone and zone.parent.code == "990100000000"
    assert sorted(a.code for a in zone.administers.all()) == ["990102001000", "990103100000"]
    # The townships keep their official parents.
    assert Area.objects.get(code="990103100000").parent.code == "990103000000"


def test_reloading_changes_nothing_and_writes_no_audit(city, tmp_path):
    before = AuditEntry.objects.count()
    info = read_area_file(write(tmp_path, "again.csv", CITY_FILE))
    assert areas_load(rows=info.rows) == (0, 0)
    assert areas_load(rows=read_area_file(write(tmp_path, "z.csv", ZONE_FILE)).rows) == (0, 0)
    assert AuditEntry.objects.count() == before


def test_a_renamed_area_is_updated(city, tmp_path):
    info = read_area_file(write(tmp_path, "renamed.csv", CITY_FILE.replace("柳镇", "柳江镇")))
    assert areas_load(rows=info.rows) == (0, 1)
    assert Area.objects.get(code="990103100000").name == "柳江镇"


@pytest.mark.parametrize("text, fragment", [
    ("code,name,level\n990100000000,示例市,city\n", "缺少列：parent_code"),
    ("code,name,level,parent_code\n9901,示例市,city,\n", "第2行：区划代码应为12位数字"),
    ("# 来源：x\ncode,name,level,parent_code\n990100000000,示例市,town,\n", "第3行：层级应为"),
    ("code,name,level,parent_code\n990100000000,,city,\n", "名称不能为空"),
    ("code,name,level,parent_code\n990100000000,甲,city,\n990100000000,乙,city,\n", "重复"),
    ("code,name,level,parent_code\n", "没有数据行"),
])
def test_bad_area_file_gives_a_clear_chinese_error(db, tmp_path, text, fragment):
    with pytest.raises(Invalid) as exc:
        read_area_file(write(tmp_path, "bad.csv", text))
    assert fragment in exc.value.message


def test_unknown_parent_rolls_back_the_whole_file(db, tmp_path):
    text = CITY_FILE + "990104001000,孤儿街道,township,990104000000\n"
    info = read_area_file(write(tmp_path, "orphan.csv", text))
    with pytest.raises(Invalid, match="上级 990104000000 不存在"):
        areas_load(rows=info.rows)
    assert not Area.objects.exists()


def test_command_reports_bad_file_as_command_error(db, tmp_path):
    with pytest.raises(CommandError, match="区划代码应为12位数字"):
        call_command("load_areas", str(write(tmp_path, "bad.csv", "code,name,level,parent_code\nx,y,city,\n")))
    with pytest.raises(CommandError):
        call_command("load_areas", str(tmp_path / "missing.csv"))


def test_not_utf8_is_a_clear_error(db, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("code,name,level,parent_code\n990100000000,示例市,city,\n".encode("gbk"))
    with pytest.raises(Invalid, match="UTF-8"):
        read_area_file(path)


def test_fuzhou_file_holds_the_official_2023_division():
    info = read_area_file(DATA / "350100-2023.csv")
    levels = [r["level"] for r in info.rows]
    assert info.edition == "2023" and "国家统计局" in info.source
    assert levels.count("city") == 1 and levels.count("district") == 13 and levels.count("township") == 186
    towns = [r["name"] for r in info.rows if r["level"] == "township"]
    assert sum(n.endswith("街道") for n in towns) == 45


# ---------------------------------------------------------------------------------------------
# Sites

def test_site_file_loads_centers_stations_kiosks_and_windows(city, tmp_path, capsys):
    call_command("load_sites", str(write(tmp_path, "sites.csv", SITE_FILE)))
    assert "场所新增 3 个" in capsys.readouterr().out
    center = ServiceSite.objects.get(code="ZX1")
    assert center.kind == "center" and center.lng == 119.30 and center.email == "a@city.example"
    assert [(w.number, w.name) for w in center.windows.all()] == [("1", "综合受理窗口"), ("2", "社保医保窗口")]
    station = ServiceSite.objects.get(code="ZD1")
    assert station.parent_site == center and station.area.code == "990102001001"
    assert ServiceSite.objects.get(code="ZK1").venue == "pharmacy"
    assert AuditEntry.objects.filter(target_type="regions.servicesite", action="create").count() == 3


def test_reloading_the_site_file_is_idempotent(city, tmp_path):
    rows = read_site_file(write(tmp_path, "sites.csv", SITE_FILE)).rows
    sites_load(rows=rows)
    audits = AuditEntry.objects.count()
    result = sites_load(rows=rows)
    assert (result.created, result.updated, result.unchanged, result.windows_created, result.windows_updated) == (0, 0, 3, 0, 0)
    assert AuditEntry.objects.count() == audits
    assert ServiceSite.objects.count() == 3 and Window.objects.count() == 3


def test_changed_file_updates_sites_and_closes_windows_it_no_longer_lists(city, tmp_path):
    sites_load(rows=read_site_file(write(tmp_path, "v1.csv", SITE_FILE)).rows)
    v2 = SITE_FILE.replace("示例市东区春风路1号", "示例市东区春风路9号").replace("|2:社保医保窗口", "|3:民政窗口")
    result = sites_load(rows=read_site_file(write(tmp_path, "v2.csv", v2)).rows)
    assert result.updated == 1 and result.windows_created == 1 and result.windows_updated == 1
    center = ServiceSite.objects.get(code="ZX1")
    assert center.address == "示例市东区春风路9号"
    assert {w.number: w.active for w in center.windows.all()} == {"1": True, "2": False, "3": True}
    assert AuditEntry.objects.filter(action="update", target_type="regions.servicesite", target_id=str(center.pk)).exists()


@pytest.mark.parametrize("bad_line, fragment", [
    ("ZX2,hall,hall,甲,990102001000,,,,,,,,,", "第5行：类型应为"),
    ("ZX2,center,castle,甲,990102001000,,,,,,,,,", "场地类型"),
    ("ZX2,center,hall,甲,9901,,,,,,,,,", "所属区划代码应为12位数字"),
    ("ZX2,center,hall,甲,990102001000,,,119.3,,,,,,", "经度和纬度应同时填写"),
    ("ZX2,center,hall,甲,990102001000,,,东经,26,,,,,", "经纬度应为数字"),
    ("ZX2,center,hall,甲,990102001000,,,119.3,95,,,,,", "经纬度应为数字"),
    ("ZX1,center,hall,甲,990102001000,,,,,,,,,", "场所编码 ZX1 重复"),
    ("ZX2,center,hall,甲,990102001000,,,,,,,,,综合受理窗口", "窗口号:窗口名称"),
    ("ZX2,center,hall,甲,990102001000,,,,,,,,,1:甲|1:乙", "窗口号重复"),
])
def test_bad_site_file_gives_line_numbered_chinese_errors(db, tmp_path, bad_line, fragment):
    # Lines 1–2 are comments, 3 the header, 4 the good center ZX1, 5 the bad line.
    text = "\n".join(SITE_FILE.splitlines()[:4] + [bad_line]) + "\n"
    with pytest.raises(Invalid) as exc:
        read_site_file(write(tmp_path, "bad.csv", text))
    assert fragment in exc.value.message


@pytest.mark.parametrize("line, fragment", [
    ("ZX2,center,hall,甲,990102009000,,,,,,,,,", "所属区划 990102009000 不存在"),
    ("ZX2,station,community,甲,990102001001,NOPE,,,,,,,,", "上级场所 NOPE 不存在"),
    ("ZX2,station,community,甲,990103100000,ZX1,,,,,,,,", "站点所属区划应在上级便民服务中心的区划之内"),
    ("ZX2,station,community,甲,990102001001,ZK1,,,,,,,,", "上级场所应为便民服务中心"),
])
def test_site_file_with_bad_references_writes_nothing(city, tmp_path, line, fragment):
    with pytest.raises(Invalid) as exc:
        sites_load(rows=read_site_file(write(tmp_path, "bad.csv", SITE_FILE + line + "\n")).rows)
    assert fragment in exc.value.message
    assert not ServiceSite.objects.exists() and not Window.objects.exists()


def test_load_sites_command_reports_errors(city, tmp_path):
    with pytest.raises(CommandError, match="缺少列"):
        call_command("load_sites", str(write(tmp_path, "bad.csv", "code,name\nA,甲\n")))


def test_demo_site_file_matches_the_seed_figures():
    info = read_site_file(DATA / "350100-sites.csv")
    assert "演示数据" in info.source and "并非实测" in info.source
    kinds = [r["kind"] for r in info.rows]
    assert kinds.count("center") == 173  # the seed: 173 townships have a center
    assert kinds.count("kiosk") == 230  # the seed: 230 e福州 terminals
    station_townships = {r["area_code"][:9] for r in info.rows if r["kind"] == "station"}
    assert len(station_townships) >= 3
    centers = {r["code"]: r for r in info.rows if r["kind"] == "center"}
    for r in info.rows:
        if r["kind"] == "station":
            assert centers[r["parent_site_code"]]["area_code"][:9] == r["area_code"][:9]
        if r["kind"] == "center":
            assert 4 <= len(r["windows"].split("|")) <= 8
            assert r["address"].startswith("福州市") and r["hours"] and r["phone"]
    venues = {r["venue"] for r in info.rows if r["kind"] == "kiosk"}
    assert venues == {"hall", "community", "bus_station", "train_station", "convenience_store", "pharmacy"}


def test_demo_sites_load_into_the_demo_city(db):
    call_command("load_areas")
    from bianmin.regions.demo import load_demo_sites

    result = load_demo_sites()
    assert result.created == 472
    assert ServiceSite.objects.filter(kind="center").count() == 173
    zone = Area.objects.get(code="350199000000")
    assert zone.name == "高新区" and zone.administers.count() == 3
    assert load_demo_sites().created == 0


def test_functional_zone_children_and_sites_through_the_api(city, tmp_path, client):
    sites_load(rows=read_site_file(write(tmp_path, "sites.csv", SITE_FILE)).rows)
    children = client.get("/api/v1/areas/990199/children").json()
    assert [a["name"] for a in children] == ["春风街道", "柳镇"]
    assert client.get("/api/v1/areas/990199").json()["is_functional_zone"] is True
    assert [s["code"] for s in client.get("/api/v1/areas/990199/sites").json()["items"]] == ["ZX1", "ZK1", "ZD1"]
