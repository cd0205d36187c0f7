"""The dossier (业务卷宗) of a case for inspections: a PDF with the case's facts, the materials
checklist, the pauses, the transfers, the visits and the timeline — personal data masked — and a
ZIP of several dossiers. Rendered with the shared embedded CJK font (core.pdf)."""

from __future__ import annotations

import io
import zipfile

from django.utils import timezone

from bianmin.core import pdf

from .deadlines import case_clock
from .models import Case
from .selectors import masked_applicant


def _d(value) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


def _dt(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def dossier_facts(case: Case, *, today=None) -> list[tuple[str, str]]:
    """The dossier's first table: the case's facts as (label, value)."""
    today = today or timezone.localdate()
    a = masked_applicant(case)
    clock = case_clock(case, today=today)
    person = case.applicant_kind == Case.ApplicantKind.PERSON
    facts = [
        ("受理编号", case.acceptance_number or "（未受理）"),
        ("事项", f"{case.item.standard_item.name}（{case.item.standard_item.code}）"),
        ("办理场所", case.site.name + (f"（收件：{case.received_site.name}）" if case.site_id != case.received_site_id else "")),
        ("办理方式", case.get_mode_display() + (f"（授权部门：{case.authorized_by.name}）" if case.authorized_by_id else "")),
        ("申请渠道", case.get_channel_display()),
        ("申请人", f"{a['name']}（{case.get_applicant_kind_display()}）"),
        ("证件号码", a["id_number"] if person else a["credit_code"]),
        ("联系人 / 电话", f"{a['contact_name'] or '—'} / {a['mobile']}"),
        ("状态", case.get_state_display() + (f"：{case.get_result_display()}" if case.result else "")),
        ("申请时间", _dt(case.submitted_at)),
        ("受理日期", _d(case.accepted_on)),
        ("时限", f"法定 {case.legal_limit_days} 个工作日，承诺 {case.promised_limit_days} 个工作日"),
        ("承诺办结日 / 法定办结日", f"{_d(clock.promised_due_on)} / {_d(clock.legal_due_on)}"
                                  + (f"（{clock.estimated_note}）" if clock.estimated else "")),
        ("补正暂停", f"{clock.paused_days} 个工作日" + (f"（{_d(clock.paused_since)} 起暂停中）" if clock.paused_since else "")),
        ("时限状态", clock.label),
        ("办结日期", _d(case.completed_on)),
        ("跑动次数", f"{case.visit_count} 次" + ("（跑多趟）" if case.multi_trip else "")),
    ]
    if case.reason:
        facts.append(("理由", case.reason))
    return facts


def dossier_pdf(case: Case) -> bytes:
    blocks: list = [pdf.key_values(dossier_facts(case), label_width=42 * pdf.mm)]
    materials = [["序号", "材料名称", "必要", "信任等级", "收取", "文件"]]
    for i, m in enumerate(case.materials.all(), start=1):
        materials.append([str(i), m.name, "是" if m.required else "否", m.trust_level or "—",
                          "已收" if m.received else "未收", m.file_name or "—"])
    blocks += [("h", "材料清单"), materials if len(materials) > 1 else "（无材料要求）"]
    suspensions = [["开始", "结束", "暂停工作日", "需补正材料"]]
    for s in case.suspensions.all():
        suspensions.append([_d(s.started_on), _d(s.ended_on), str(s.working_days) if s.clock_running else "未计时",
                            "、".join(s.missing_materials)])
    if len(suspensions) > 1:
        blocks += [("h", "补正记录"), suspensions]
    transfers = [["时间", "转出", "转入", "说明"]]
    for t in case.transfers.select_related("from_site", "to_site"):
        transfers.append([_dt(t.at), t.from_site.name, t.to_site.name, t.note or "—"])
    if len(transfers) > 1:
        blocks += [("h", "业务转办"), transfers]
    timeline = [["时间", "事件", "操作人", "说明"]]
    for e in case.events.select_related("actor"):
        timeline.append([_dt(e.at), str(e.get_type_display()), e.actor_shown, _event_text(e.data)])
    blocks += [("h", "办理过程"), timeline]
    return pdf.simple_pdf(
        "业务卷宗", blocks,
        subtitle=f"{case.acceptance_number or f'办件 {case.pk}'}　生成于 {timezone.localtime():%Y-%m-%d %H:%M}",
        footer=f"业务卷宗 {case.acceptance_number or case.pk}",
    )


_KEYS = {"number": "编号", "reason": "理由", "materials": "材料", "note": "说明", "result": "结果",
         "paused_days": "暂停工作日", "site": "场所", "purpose": "事由", "name": "材料", "from_site": "转出",
         "to_site": "转入", "due_on": "到期日", "promised_due_on": "承诺办结日", "owner": "经办人", "count": "第几次"}
_VALUES = {"approved": "准予", "denied": "不予批准", True: "是", False: "否"}


def _event_text(data: dict) -> str:
    parts = []
    for k, v in data.items():
        if k not in _KEYS:
            continue
        if isinstance(v, list):
            v = "、".join(map(str, v))
        v = _VALUES.get(v, v) if isinstance(v, (str, bool)) else v
        parts.append(f"{_KEYS[k]}：{v}")
    return "；".join(parts)


def dossiers_zip(cases: list[Case]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for case in cases:
            name = f"业务卷宗_{case.acceptance_number or case.pk}.pdf"
            zf.writestr(name, dossier_pdf(case))
    return buffer.getvalue()
