"""Benchmark: Chinese guide search over a large catalog.

Run by hand:  uv run python bench/bench_search.py [--items 50000] [--rounds 5]

It makes a throwaway var folder (its own SQLite database, or DATABASE_URL's if set), migrates,
loads the demo city's areas, and builds N standard items: the demo catalog's real items plus
synthetic ones whose names combine the vocabulary of township services (subject × action, e.g.
渔船 + 燃油补贴申请), each with materials and conditions, indexed as the services index them, and
each synthetic item implemented in one township (so the area filter has work to do) and each real
item in every township (so a found item has hundreds of places, as in the demo city). Loading is a bulk path:
this measures reading, not loading.

Then, in the same run, for the same queries:
- baseline: a plain indexed lookup of a standard item by code (StandardItem.objects.get(code=…));
- search: catalog_search(q) for citizen queries (colloquial names, questions, a typo) and exact
  item names;
- search in a district: the same with area=<a district>;
- search + places: what `GET /api/v1/guides/search` reads, catalog_search(q) and then where each
  found item can be handled (items_of, at most 20 implementations per item).

Each line prints p50 and p95 in milliseconds and their ratio to the baseline's (the ratio is the
figure to compare between runs: these machines are noisy)."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

VAR = tempfile.mkdtemp(prefix="bench-search-")
os.environ["BIANMIN_VAR"] = VAR
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bianmin.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "catalog"))

SUBJECTS = """渔船 林木 宅基地 养老保险 医疗保险 失业保险 工伤保险 生育保险 社保卡 居住证 户口 身份证 营业执照 个体工商户 合作社
家庭农场 农机 拖拉机 收割机 畜禽 生猪 水产 滩涂 种子 农药 化肥 耕地 林地 林权 公益林 苗木 森林防火 野外用火 地质灾害
危房 农房 自建房 集镇 道路 桥梁 供水 排水 燃气 电力 通信 广播 电视 图书 文化站 体育 健身 老年人 高龄老人 失能老人
残疾人 残疾儿童 孤儿 困境儿童 留守儿童 妇女 青少年 退役军人 军属 烈属 优抚对象 低保对象 特困人员 低收入家庭 困难家庭
独生子女 计生家庭 流动人口 新生儿 孕产妇 学生 教师 医生 乡村医生 村医 卫生室 诊所 药店 食品 小餐饮 小作坊 农产品
市场 摊位 广告 招牌 门头 车辆 电动车 摩托车 船员 渔民 农民 农民工 外来务工人员 灵活就业人员 个体户 企业 社会组织
村委会 居委会 业主委员会 物业 小区 公墓 殡葬 火化 婚姻 结婚 离婚 收养 监护 遗产 继承 房屋 租赁 公积金 公租房
保障房 拆迁 征地 安置 补偿 水利 水库 河道 山塘 堤防 抗旱 防汛 台风 应急 消防 安全生产 环保 垃圾 污水 噪声 养殖
动物防疫 检疫 兽药 饲料 疫苗 狂犬病 犬只 宠物 文物 宗教 民族 侨务 台胞 港澳 统计 档案 法律援助 调解 公证 社区矫正
安置帮教 信访 劳动合同 工资 欠薪 劳动争议 职业培训 创业 贷款 贴息 补贴 津贴 奖励 救助 慰问 助学 助残 助老""".split()
ACTIONS = """登记 备案 审批 审核 核准 确认 认定 申请 申报 受理 查询 证明开具 证明 补贴申请 补贴发放 津贴申领 变更登记 注销登记
延续 换证 补证 遗失补办 迁移 转移接续 资格认证 年检 检验 检测 评估 鉴定 验收 查验 许可初审 许可 核发 发放 领取 报销
结算 缴费 参保 退保 停保 续保 信息变更 信息采集 预约 咨询 投诉 举报 调处 调解 救助申请 帮扶 慰问金申领 奖励申报
项目申报 资金申请 名录登记 档案查询 档案转递 材料补正 情况核实 隐患报告 报告受理 服务 办理 代办 上门服务 协助办理
初审 复核 公示 复查 抽查 督查 整改 验收申请 开工查验 竣工验收 使用登记 停用 恢复 撤销 更正 延期 加急 合并 分割""".split()
MATERIALS = ["居民身份证", "居民户口簿", "结婚证", "申请表", "承诺书", "营业执照", "房屋权属证明", "土地承包经营权证", "林权证",
             "银行卡", "近期一寸免冠彩色照片", "医疗费用发票", "残疾人证", "社会保障卡", "收入证明", "租赁合同", "出生医学证明"]
CONDITIONS = ["户籍在本乡镇（街道）的居民", "本市参保人员", "从事农业生产经营的农户", "符合法律法规规定条件的申请人",
              "辖区内的单位和个人", "家庭人均收入低于当地最低生活保障标准", "年满60周岁的老年人", "持证残疾人"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def build(n: int, rng: random.Random) -> tuple[list[str], list[str]]:
    from bianmin.catalog.demo_data import DEPARTMENTS, parse_blocks
    from bianmin.catalog.models import Department, Item, StandardItem
    from bianmin.catalog.services import INDEX, _search_rows
    from bianmin.core import search
    from bianmin.regions.models import Area

    city = Area.objects.get(level="city")
    townships = list(Area.objects.filter(level="township"))
    depts = Department.objects.bulk_create([Department(code=code, name=name, category=cat, area=city)
                                            for cat, code, name, _ in DEPARTMENTS])
    specs = parse_blocks()
    names: list[str] = [s["name"] for s in specs]
    seen = set(names)
    pairs = [(s, a) for s in SUBJECTS for a in ACTIONS]
    rng.shuffle(pairs)
    for s, a in pairs:
        if len(names) >= n:
            break
        if f"{s}{a}" not in seen:
            names.append(f"{s}{a}")
            seen.add(names[-1])
    k = 0
    while len(names) < n:  # more than the vocabulary gives: numbered variants
        k += 1
        names.append(f"{pairs[k % len(pairs)][0]}{pairs[k % len(pairs)][1]}（{k}）")
    search.add_words(names[:len(specs)] + [w for s in specs for w in s["aliases"].split("、") if w])
    search.add_words(SUBJECTS + ACTIONS)
    t = time.perf_counter()
    items = []
    for i, name in enumerate(names):
        spec = specs[i] if i < len(specs) else None
        aliases = spec["aliases"] if spec else ""
        conditions = spec["acceptance_conditions"] if spec else rng.choice(CONDITIONS)
        mats = [m["name"] for m in spec["materials"]] if spec else rng.sample(MATERIALS, 3)
        dept = depts[i % len(depts)]
        si = StandardItem(code=f"B{i:07d}", name=name, aliases=aliases, item_type="public_service",
                          competent_department=dept, implementing_body="乡镇人民政府（街道办事处）",
                          legal_limit_days=rng.randint(1, 20), acceptance_conditions=conditions, levels="township")
        si.search_names = name
        si.search_text = search.doc_text(name, aliases.replace("、", " "), conditions, " ".join(mats), dept.name)
        items.append(si)
    with transaction.atomic():
        StandardItem.objects.bulk_create(items, batch_size=2000)
        INDEX.upsert(_search_rows(items))
        # The demo catalog's real items are implemented in every township (as in the demo city, where
        # each is offered at 200+ sites); the synthetic ones in one township each.
        Item.objects.bulk_create([Item(standard_item=si, area=a, promised_limit_days=1,
                                       implementation_code=f"{si.code}{a.code}")
                                  for i, si in enumerate(items)
                                  for a in (townships if i < len(specs) else [rng.choice(townships)])],
                                 batch_size=2000)
    print(f"built {len(items)} standard items and {Item.objects.count()} items in {time.perf_counter() - t:.1f} s "
          f"({connection.vendor})", flush=True)
    return [si.code for si in items], names


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=50000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(42)

    call_command("migrate", verbosity=0)
    call_command("load_areas", verbosity=0)
    from test_search import QUERIES

    from bianmin.catalog.models import StandardItem
    from bianmin.catalog.selectors import catalog_search, items_of
    from bianmin.regions.models import Area

    codes, names = build(args.items, rng)
    citizen = [q for q, _ in QUERIES] + ["无房证名", "林木采伐许可正"]
    exact = rng.sample(names, 40)
    queries = citizen + exact
    district = Area.objects.get(code="350102000000")

    for q in queries:  # warm up: jieba's dictionary, the segmenter's words, SQLite's page cache
        catalog_search(q=q)
    lookups = rng.sample(codes, min(len(codes), len(queries)))
    for c in lookups:
        StandardItem.objects.get(code=c)

    base, plain, in_area, with_where, found = [], [], [], [], 0
    for _ in range(args.rounds):
        for c in lookups:
            t = time.perf_counter()
            StandardItem.objects.get(code=c)
            base.append((time.perf_counter() - t) * 1000)
        for q in queries:
            t = time.perf_counter()
            r = catalog_search(q=q)
            plain.append((time.perf_counter() - t) * 1000)
            found += bool(r)
            t = time.perf_counter()
            catalog_search(q=q, area=district)
            in_area.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            items_of(standard_items=[x.standard_item for x in catalog_search(q=q)], area=None)
            with_where.append((time.perf_counter() - t) * 1000)

    b50, b95 = statistics.median(base), pct(base, 95)
    print(f"{len(queries)} queries × {args.rounds} rounds over {args.items} items; "
          f"{found / args.rounds:.0f} of {len(queries)} queries found something")
    print(f"{'':28s} {'p50 ms':>8s} {'p95 ms':>8s} {'p50 ×':>8s} {'p95 ×':>8s}")
    for label, xs in (("lookup by code (baseline)", base), ("search", plain), ("search in a district", in_area),
                      ("search + places (API)", with_where)):
        p50, p95 = statistics.median(xs), pct(xs, 95)
        print(f"{label:28s} {p50:8.2f} {p95:8.2f} {p50 / b50:8.1f} {p95 / b95:8.1f}")


if __name__ == "__main__":
    main()
