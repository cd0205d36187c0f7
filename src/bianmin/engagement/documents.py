"""A proposal's reply as an official document (core.officialdoc: GB/T 9704-2012), with the
提案建议采纳情况及实施安排表 attached — the layout of the seed's reply to proposal 214036."""

from __future__ import annotations

from datetime import date

from bianmin.core.officialdoc import (
    AttachedTable,
    Cell,
    OfficialDocument,
    body_paragraphs,
    render_docx,
    render_pdf,
)

from .models import Reply, Suggestion

TICK = "✓"
TABLE_NOTES = [
    "注：1. “采纳情况”请填写是否采纳提案建议，以及已采纳的落实情况、未采纳的主要原因；",
    "2. “实施计划及进度安排”请填写对采纳的提案建议拟采取的办理措施。",
]


def cn_date(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


def plan_text(item) -> str:
    """One plan item as the table writes it: “1. 措施。内容 完成时限：…”."""
    head = f"{item.position}. {item.title}"
    if not head.endswith(("。", "！", "？")):
        head += "。"
    text = head + (item.content or "")
    if item.deadline_text:
        text += f" 完成时限：{item.deadline_text}"
    return text


def adoption_text(s: Suggestion) -> str:
    label = s.get_adoption_display()
    return f"{label}（{s.reason}）" if s.reason else label


def _options(choices, chosen: str) -> list[Cell]:
    return [Cell(f"{label} {TICK}" if value == chosen else str(label)) for value, label in choices]


def adoption_table(reply: Reply) -> AttachedTable:
    a = reply.assignment
    p = a.proposal
    suggestions = list(reply.suggestions.all())
    items = list(reply.plan_items.select_related("suggestion"))
    rows: list[list[Cell | None]] = [
        [Cell("提案名称", bold=True, colspan=2), None, Cell("提案编号", bold=True),
         Cell("提案委员姓名或单位名称", bold=True), Cell("承办单位", bold=True)],
        [Cell(p.title, colspan=2), None, Cell(f"{p.number}号"), Cell(p.proposer), Cell(a.unit_name)],
    ]
    # 采纳情况及实施安排: one line per suggestion, its plan items beside it (items tied to no
    # suggestion go with the first).

    rows.append([Cell("提案建议采纳情况及实施安排", bold=True, rowspan=len(suggestions) + 1),
                 Cell("建议内容", bold=True), Cell("采纳情况", bold=True), Cell("实施计划及进度安排", bold=True, colspan=2),
                 None])
    for i, s in enumerate(suggestions):
        mine = [plan_text(it) for it in items if it.suggestion_id == s.pk or (i == 0 and it.suggestion_id is None)]
        rows.append([None, Cell(s.content), Cell(adoption_text(s)), Cell(mine or [""], colspan=2, center=False), None])
    rows.append([Cell("承办单位对提案质量的评价", bold=True), *_options(Reply.Quality.choices, reply.quality_rating), None])
    # Filled in by the member on the returned form: blank here, as the seed's.
    grades = [("satisfied", "满意"), ("basic", "基本满意"), ("unsatisfied", "不满意")]
    rows.append([Cell("委员对承办单位办理提案的评价", bold=True, rowspan=2), Cell("办理态度"), *_options(grades, "")])
    rows.append([None, Cell("办理结果"), *_options(grades, "")])
    # the quality row has three options over four columns: the last spans two
    rows[-3][3] = Cell(rows[-3][3].text, colspan=2)
    rows[-3][4] = None
    return AttachedTable(
        title=reply.table_title, left_line="承办单位负责人（签字、盖章）：",
        right_line=f"填报时间：{cn_date(reply.printed_on or reply.written_on)}",
        col_widths_mm=[24, 22, 22, 44, 44], rows=rows, notes=TABLE_NOTES)


def reply_document(reply: Reply) -> OfficialDocument:
    closing = [f"{label}：{value}" for label, value in (("领导署名", reply.leader_name), ("联系人", reply.contact_name),
                                                         ("联系电话", reply.contact_phone)) if value]
    return OfficialDocument(
        org_mark=reply.org_mark, doc_number=reply.doc_number, signer=reply.signer_name,
        marks=[f"办理结果：{reply.result_class.code}类"] if reply.result_class_id else [],
        title=reply.title, addressee=f"{reply.addressee}：", body=body_paragraphs(reply.body), closing=closing,
        issuer=reply.issuer, date_text=cn_date(reply.written_on), note=reply.get_disclosure_display(),
        printer=reply.printer, printed_text=f"{cn_date(reply.printed_on or reply.written_on)}印发",
        attachment=adoption_table(reply))


def reply_docx(reply: Reply) -> bytes:
    return render_docx(reply_document(reply))


def reply_pdf(reply: Reply) -> bytes:
    return render_pdf(reply_document(reply))


def file_name(reply: Reply, ext: str) -> str:
    p = reply.assignment.proposal
    draft = "" if reply.is_signed else "（草稿）"
    return f"{p.number}号答复{draft}_{reply.assignment.unit_name}.{ext}"
