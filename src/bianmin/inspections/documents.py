"""The PDFs of inspections, with the shared embedded CJK font (core.pdf): the rectification notice
(整改通知) and the materials the platform already holds for a sampled site (its published item
list with the guides, and its stationing / "应进必进" report). Dossiers come from cases.dossier."""

from __future__ import annotations

from django.utils import timezone

from bianmin.core import pdf


def notice_pdf(notice) -> bytes:
    """The notice as sent: only what was fixed when it was issued (number, problem, requirement,
    deadline), so rendering it again later gives the same document."""
    issued = timezone.localtime(notice.issued_at)
    facts = [
        ("通知编号", notice.number),
        ("整改责任单位", notice.addressee.name),
        ("被检查场所", f"{notice.site.name}（{notice.area.name}）"),
        ("检查方式", notice.finding.check_record.get_method_display() if notice.finding.check_record_id else "线上抽查"),
        ("检查方面", notice.finding.get_category_display()),
        ("下发日期", f"{notice.issued_on:%Y年%m月%d日}"),
        ("整改期限", f"{notice.deadline:%Y年%m月%d日}（{notice.working_days}个工作日，按平台工作日历计算，含调休）"
                     + ("；该年度节假日安排尚未公布，期限为预估" if notice.deadline_unconfirmed else "")),
    ]
    if notice.cycle_id:
        facts.insert(4, ("督查周期", notice.cycle.title))
    blocks = [
        f"{notice.addressee.name}：",
        f"根据{notice.organiser.name}政务服务督查工作安排，经检查，{notice.site.name}存在以下问题，"
        "请按要求限期整改，并在整改期限内通过便民服务平台答复整改情况、上传整改佐证材料。",
        pdf.key_values(facts, label_width=34 * pdf.mm),
        ("h", "一、存在问题"),
        notice.problem,
        ("h", "二、整改要求"),
        notice.requirement,
        ("h", "三、其他事项"),
        "逾期未整改或整改不到位的，将报送分管领导并在年度考核中扣分。整改情况经验收通过后本通知办结。",
        f"{notice.organiser.name}\n{issued:%Y年%m月%d日}",
    ]
    return pdf.simple_pdf("整改通知", blocks, subtitle=notice.number, footer=f"整改通知 {notice.number}")


def item_list_pdf(site, items) -> bytes:
    """本场所事项清单及办事指南: the published list, then the guides' main elements, one row an
    item (one table rather than a block per guide: a center lists a hundred and more items)."""
    from bianmin.catalog.selectors import guide_elements

    rows = [["序号", "事项编码", "事项名称", "办理方式", "承诺时限", "指南版本"]]
    guides = [["事项名称", "受理条件", "申请材料", "法定/承诺时限", "收费", "地点、电话、时间"]]
    for i, item in enumerate(items, start=1):
        el = guide_elements(item)
        rows.append([str(i), el["code"], el["name"], el["mode"], f"{el['promised_limit_days']}个工作日",
                     f"第{item.published_version}版" if item.published_version else "未发布"])
        materials = "；".join(f"{m['name']}（{m['trust_level'] or '—'}类）" for m in el["materials"]) or "无"
        guides.append([f"{i}. {el['name']}（到现场 {el['visits_needed']} 次）", el["acceptance_conditions"] or "—",
                       materials, f"{el['legal_limit_days']} / {el['promised_limit_days']} 个工作日", el["fee"] or "不收费",
                       "；".join(x for x in (el["address"], el["phone"], el["complaint_phone"] and f"投诉 {el['complaint_phone']}",
                                            el["hours"]) if x) or "—"])
    blocks: list = [("h", "一、事项清单"), rows if len(rows) > 1 else "（本场所暂无已发布事项）"]
    if len(guides) > 1:
        blocks += [("h", "二、办事指南要素"), guides]
    return pdf.simple_pdf(f"{site.name} 事项清单及办事指南", blocks,
                          subtitle=f"平台已发布数据 · 生成于 {timezone.localtime():%Y-%m-%d %H:%M}",
                          footer=f"{site.name} 事项清单")


def compliance_pdf(site, row, stationings) -> bytes:
    """The site's stationing and "应进必进" report (catalog.selectors.compliance_report's row)."""
    facts = [
        ("服务场所", f"{site.name}（{site.get_kind_display()}）"),
        ("所属区划", site.area.name),
        ("应进驻事项", f"{row.required_items if row else 0} 项，已进驻 {row.stationed_items if row else 0} 项"),
        ("未进驻的必进部门", "、".join(row.missing_departments) if row and row.missing_departments else "无"),
        ("仍单设办事场所的部门", "、".join(row.separate_offices) if row and row.separate_offices else "无"),
        ("结论", "符合“应进必进”要求" if row is None or row.compliant else "未完全落实“应进必进”"),
    ]
    blocks: list = [pdf.key_values(facts, label_width=40 * pdf.mm)]
    table = [["部门", "类别", "窗口", "进驻人数", "进驻日期", "单设场所"]]
    for st in stationings:
        table.append([st.department.name, st.department.category, f"{st.window.number}号" if st.window_id else "—",
                      str(st.staff_count), f"{st.since:%Y-%m-%d}" if st.since else "—",
                      "是" if st.keeps_separate_office else "否"])
    blocks += [("h", "部门进驻"), table if len(table) > 1 else "（无部门进驻记录）"]
    if row is not None and row.missing_items:
        blocks += [("h", "未进驻的事项"),
                   [["事项编码", "事项名称"]] + [[si.code, si.name] for si in row.missing_items]]
    return pdf.simple_pdf(f"{site.name} 进驻及“应进必进”情况", blocks,
                          subtitle=f"平台已有数据 · 生成于 {timezone.localtime():%Y-%m-%d %H:%M}",
                          footer=f"{site.name} 进驻情况")
