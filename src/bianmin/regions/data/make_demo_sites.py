"""Generate the demo city's site file, 350100-sites.csv, from its area file. Run once (output
committed): `uv run python src/bianmin/regions/data/make_demo_sites.py`. Deterministic: the same
area file gives the same output byte for byte.

Everything here is DEMO DATA. Coordinates are plausible approximations around each district's
seat (public approximate coordinates of the seats) plus a deterministic offset per township —
not surveyed. Addresses, phone numbers and e-mail addresses are made up in a recognisable pattern.
Which townships have a center is a demo assumption chosen to match the seed's count (173 of the
186 township-level units); see NO_CENTER below.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
AREA_FILE = HERE / "350100-2023.csv"
OUT_FILE = HERE / "350100-sites.csv"

# District seat (lng, lat) and spread in km for 街道 and for 镇/乡, with the compass sector (degrees
# clockwise from north) where the district's towns lie relative to the seat.
DISTRICTS = {
    "350102": ((119.296, 26.082), 1.8, 4.0, (250, 340)),   # 鼓楼区
    "350103": ((119.314, 26.056), 1.3, 2.0, (0, 360)),     # 台江区
    "350104": ((119.310, 26.040), 2.0, 6.0, (100, 260)),   # 仓山区
    "350105": ((119.456, 25.990), 1.2, 9.0, (0, 100)),     # 马尾区
    "350111": ((119.328, 26.090), 2.0, 12.0, (320, 420)),  # 晋安区
    "350112": ((119.523, 25.962), 3.0, 12.0, (60, 260)),   # 长乐区
    "350121": ((119.131, 26.150), 2.0, 16.0, (150, 350)),  # 闽侯县
    "350122": ((119.539, 26.197), 2.0, 15.0, (0, 180)),    # 连江县
    "350123": ((119.549, 26.490), 2.0, 14.0, (180, 360)),  # 罗源县
    "350124": ((118.863, 26.221), 2.0, 18.0, (0, 360)),    # 闽清县
    "350125": ((118.932, 25.866), 2.0, 24.0, (0, 360)),    # 永泰县
    "350128": ((119.790, 25.498), 2.0, 9.0, (0, 360)),     # 平潭县
    "350181": ((119.384, 25.721), 3.0, 18.0, (90, 300)),   # 福清市
}
# A few townships whose approximate position is well known and far from the rule's guess.
KNOWN = {
    "350105102000": (119.588, 26.092),  # 琅岐镇 (island at the mouth of the Min)
    "350121102000": (119.190, 25.985),  # 南屿镇 (高新区)
    "350121106000": (119.262, 25.972),  # 南通镇 (高新区)
    "350121107000": (119.205, 26.060),  # 上街镇 (大学城, 高新区)
}
NO_CENTER = {
    # Farms, overseas-Chinese zones and the development zone: served by the township they sit in.
    "350104400000": "农场",
    "350121400000": "农场",
    "350181400000": "华侨经济区",
    "350181401000": "华侨经济区",
    "350123500000": "开发区",
    # Not administered by the mainland.
    "350122400000": "不在实际管辖范围",
    # Demo assumption: small island and mountain units served by a neighbouring center.
    "350128201000": "海岛乡，由邻近中心服务（演示假设）",
    "350128205000": "海岛乡，由邻近中心服务（演示假设）",
    "350128207000": "海岛乡，由邻近中心服务（演示假设）",
    "350125200000": "山区乡，由邻近中心服务（演示假设）",
    "350125208000": "山区乡，由邻近中心服务（演示假设）",
    "350125211000": "山区乡，由邻近中心服务（演示假设）",
    "350122205000": "山区乡，由邻近中心服务（演示假设）",
}
# Townships whose every village/community gets a station (便民服务站 / 代办点).
STATION_TOWNSHIPS = ["350102001000", "350102002000", "350102003000", "350102004000", "350103001000",
                     "350121102000", "350112102000"]
WINDOW_POOL_STREET = ["综合受理窗口", "社保医保窗口", "民政残联窗口", "计生卫健窗口", "不动产登记窗口", "司法调解窗口",
                      "市场监管窗口", "退役军人服务窗口"]
WINDOW_POOL_TOWN = ["综合受理窗口", "社保医保窗口", "民政残联窗口", "计生卫健窗口", "农业农村窗口", "国土村建窗口",
                    "林业渔业窗口", "司法调解窗口"]
HOURS_STREET = "周一至周五 8:30-12:00，14:30-17:30（法定节假日除外）"
HOURS_TOWN = "周一至周五 8:00-12:00，14:30-17:30（夏季 15:00-18:00；法定节假日除外）"
HOURS_SATURDAY = "周一至周五 8:30-12:00，14:30-17:30；周六 9:00-12:00 延时服务（法定节假日除外）"

TRAIN_STATIONS = [  # name, township code, (lng, lat)
    ("福州站", "350111002000", (119.316, 26.113)),
    ("福州南站", "350104101000", (119.391, 25.985)),
    ("福清站", "350181005000", (119.336, 25.738)),
    ("福清西站", "350181004000", (119.302, 25.706)),
    ("平潭站", "350128001000", (119.748, 25.528)),
    ("连江站", "350122100000", (119.505, 26.213)),
    ("罗源站", "350123100000", (119.569, 26.469)),
    ("闽清北站", "350124100000", (118.878, 26.255)),
]
BUS_STATIONS = [  # name, township code
    ("福州汽车北站", "350102003000"), ("福州汽车南站", "350104002000"), ("马尾汽车站", "350105001000"),
    ("长乐汽车站", "350112001000"), ("闽侯汽车站", "350121001000"), ("连江汽车站", "350122100000"),
    ("罗源汽车站", "350123100000"), ("闽清汽车站", "350124100000"), ("永泰汽车站", "350125100000"),
    ("平潭汽车站", "350128001000"), ("福清汽车站", "350181002000"), ("江阴汽车站", "350181116000"),
    ("琅岐汽车站", "350105102000"), ("大学城公交枢纽站", "350121107000"),
]
SHOP_TOWNSHIPS = ["350102001000", "350102002000", "350102004000", "350102005000", "350102006000", "350102007000",
                  "350103001000", "350103002000", "350103005000", "350103010000", "350104001000", "350104002000",
                  "350104008000", "350105001000", "350111001000", "350111002000", "350112001000", "350121001000",
                  "350181002000", "350128001000"]
PHARMACY_TOWNSHIPS = ["350102003000", "350102008000", "350102009000", "350103003000", "350103004000", "350103011000",
                      "350104003000", "350104006000", "350111003000", "350111101000", "350112002000", "350121107000",
                      "350122100000", "350181003000", "350124100000", "350125100000", "350103012000",
                      "350104004000", "350105100000", "350111102000"]
COMMUNITY_KIOSK_TOWNSHIPS = STATION_TOWNSHIPS[:5]  # communities with a kiosk: those of the urban station townships

COLUMNS = ["code", "kind", "venue", "name", "area_code", "parent_site_code", "address", "lng", "lat", "phone",
           "complaint_phone", "email", "hours", "windows"]


def h(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:12], 16)


def unit(*parts: str) -> float:
    return (h(*parts) % 1_000_000) / 1_000_000


def offset(origin, km: float, bearing_deg: float):
    lng, lat = origin
    dlat = km * math.cos(math.radians(bearing_deg)) / 111.32
    dlng = km * math.sin(math.radians(bearing_deg)) / (111.32 * math.cos(math.radians(lat)))
    return (round(lng + dlng, 5), round(lat + dlat, 5))


def stem(name: str) -> str:
    for suffix in ("畲族乡", "街道", "镇", "乡"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def short_village(name: str) -> str:
    for suffix in ("社区居委会", "居委会", "村委会", "委员会"):
        if name.endswith(suffix):
            return name[: -len(suffix)] + ("社区" if "社区" in suffix else ("村" if suffix == "村委会" else ""))
    return name


def phone(*parts: str) -> str:
    return f"0591-{2 + h(*parts) % 2 * 6}{h('p', *parts) % 10_000_000:07d}"


def main() -> None:
    text = AREA_FILE.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#")))))
    by_code = {r["code"]: r for r in rows}
    townships = [r for r in rows if r["level"] == "township"]
    villages: dict[str, list[dict]] = {}
    for r in rows:
        if r["level"] == "village":
            villages.setdefault(r["parent_code"], []).append(r)

    out: list[dict] = []
    centers: dict[str, dict] = {}
    for t in townships:
        code, name = t["code"], t["name"]
        if code in NO_CENTER:
            continue
        district = by_code[t["parent_code"]]
        seat, street_km, town_km, (b0, b1) = DISTRICTS[code[:6]]
        is_street = name.endswith("街道")
        if code in KNOWN:
            pos = KNOWN[code]
        elif is_street:
            pos = offset(seat, street_km * (0.15 + 0.85 * math.sqrt(unit(code, "r"))), 360 * unit(code, "b"))
        else:
            pos = offset(seat, town_km * (0.35 + 0.65 * math.sqrt(unit(code, "r"))), b0 + (b1 - b0) * unit(code, "b"))
        pool = WINDOW_POOL_STREET if is_street else WINDOW_POOL_TOWN
        n_windows = 4 + h(code, "w") % 5
        windows = "|".join(f"{i}:{w}" for i, w in enumerate(pool[:n_windows], start=1))
        hours = (HOURS_SATURDAY if h(code, "sat") % 4 == 0 else HOURS_STREET) if is_street else HOURS_TOWN
        row = {
            "code": f"C{code}", "kind": "center", "venue": "hall", "name": f"{name}便民服务中心",
            "area_code": code, "parent_site_code": "",
            "address": f"福州市{district['name']}{name}{stem(name)}路{1 + h(code, 'no') % 198}号",
            "lng": pos[0], "lat": pos[1], "phone": phone(code, "c"), "complaint_phone": phone(code, "t"),
            "email": f"bmfw{code[:9]}@fuzhou.example", "hours": hours, "windows": windows,
        }
        out.append(row)
        centers[code] = row

    for tcode in STATION_TOWNSHIPS:
        center = centers[tcode]
        t = by_code[tcode]
        is_street = t["name"].endswith("街道")
        for v in villages.get(tcode, []):
            vname = short_village(v["name"])
            is_community = "社区" in vname
            km = (0.25 + 0.9 * unit(v["code"], "r")) if is_street else (1.0 + 5.0 * unit(v["code"], "r"))
            pos = offset((center["lng"], center["lat"]), km, 360 * unit(v["code"], "b"))
            out.append({
                "code": f"S{v['code']}", "kind": "station", "venue": "community",
                "name": f"{vname}便民服务{'站' if is_community else '代办点'}", "area_code": v["code"],
                "parent_site_code": center["code"],
                "address": f"福州市{by_code[t['parent_code']]['name']}{t['name']}{vname}{'居委会' if is_community else '村委会'}一楼",
                "lng": pos[0], "lat": pos[1], "phone": phone(v["code"], "s"), "complaint_phone": center["complaint_phone"],
                "email": "", "hours": "周一至周五 8:30-12:00，14:30-17:30", "windows": "1:综合代办窗口",
            })

    kiosks: list[dict] = []

    def kiosk(tcode: str, venue: str, place: str, pos, hours: str, address: str, area_code: str | None = None):
        n = sum(1 for k in kiosks if k["area_code"][:9] == tcode[:9]) + 1
        center = centers.get(tcode)
        kiosks.append({
            "code": f"K{tcode}{n:02d}", "kind": "kiosk", "venue": venue, "name": f"e福州自助服务终端（{place}）",
            "area_code": area_code or tcode, "parent_site_code": center["code"] if center else "",
            "address": address, "lng": pos[0], "lat": pos[1], "phone": "12345", "complaint_phone": "12345",
            "email": "", "hours": hours, "windows": "",
        })

    for code, c in centers.items():  # a kiosk in every 街道 and 镇 center's hall
        if by_code[code]["name"].endswith(("街道", "镇")):
            kiosk(code, "hall", c["name"], offset((c["lng"], c["lat"]), 0.01, 90), "自助区 7×24 小时开放", c["address"] + " 自助服务区")
    for tcode in COMMUNITY_KIOSK_TOWNSHIPS:
        for s in [s for s in out if s["kind"] == "station" and s["area_code"].startswith(tcode[:9])][:6]:
            kiosk(tcode, "community", s["name"].replace("便民服务站", "").replace("便民服务代办点", ""), offset((s["lng"], s["lat"]), 0.01, 90),
                  "周一至周日 8:00-20:00", s["address"], area_code=s["area_code"])
    for name, tcode, pos in TRAIN_STATIONS:
        t = by_code[tcode]
        kiosk(tcode, "train_station", name, pos, "随车站营业时间开放",
              f"福州市{by_code[t['parent_code']]['name']}{name}候车大厅")
    for name, tcode in BUS_STATIONS:
        c = centers[tcode]
        t = by_code[tcode]
        pos = offset((c["lng"], c["lat"]), 0.4 + unit(name, "r"), 360 * unit(name, "b"))
        kiosk(tcode, "bus_station", name, pos, "6:00-21:00", f"福州市{by_code[t['parent_code']]['name']}{name}售票厅")
    for tcode in SHOP_TOWNSHIPS:
        c = centers[tcode]
        t = by_code[tcode]
        place = f"{stem(t['name'])}路便利店"
        pos = offset((c["lng"], c["lat"]), 0.2 + 0.8 * unit(tcode, "shop"), 360 * unit(tcode, "shopb"))
        kiosk(tcode, "convenience_store", place, pos, "24 小时",
              f"福州市{by_code[t['parent_code']]['name']}{t['name']}{stem(t['name'])}路{2 + h(tcode, 'shopno') % 150}号便利店内")
    for tcode in PHARMACY_TOWNSHIPS:
        c = centers[tcode]
        t = by_code[tcode]
        place = f"{stem(t['name'])}大药房"
        pos = offset((c["lng"], c["lat"]), 0.2 + 0.8 * unit(tcode, "ph"), 360 * unit(tcode, "phb"))
        kiosk(tcode, "pharmacy", place, pos, "8:00-22:00",
              f"福州市{by_code[t['parent_code']]['name']}{t['name']}{stem(t['name'])}路{2 + h(tcode, 'phno') % 150}号药房内")
    out.extend(kiosks)

    counts = {k: sum(1 for r in out if r["kind"] == k) for k in ("center", "station", "kiosk")}
    buf = io.StringIO()
    buf.write("# 福州市便民服务场所（演示数据）\n")
    buf.write("# 来源：演示数据，由 make_demo_sites.py 根据 350100-2023.csv 生成。坐标为各县（市）区政府驻地附近的合理近似值加确定性偏移，"
              "并非实测；地址、电话、邮箱为演示用编造值。\n")
    buf.write("# 版本：2023-demo-1\n")
    buf.write(f"# 说明：便民服务中心 {counts['center']} 个（186 个乡级单位中，农场、华侨经济区、开发区、马祖乡及 7 个演示假设由邻近中心服务的乡不设中心）；"
              f"便民服务站（代办点） {counts['station']} 个；e福州自助服务终端点 {counts['kiosk']} 个\n")
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(out)
    OUT_FILE.write_text(buf.getvalue(), encoding="utf-8")
    print(f"{OUT_FILE.name}: {counts}")


if __name__ == "__main__":
    main()
