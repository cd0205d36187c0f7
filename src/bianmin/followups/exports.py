"""xlsx exports of the ledgers as a district office files them (openpyxl write-only: rows are
streamed into the file, memory stays flat for a year of records). Personal data is masked."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from bianmin.core.masking import mask_mobile, mask_name


def _book(title: str, header: list[str], rows) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    bold = Font(bold=True)
    cells = []
    for h in header:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        cells.append(c)
    ws.append(cells)
    for row in rows:
        ws.append(["" if v is None else v for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _d(value, fmt="%Y-%m-%d %H:%M"):
    if value is None:
        return ""
    from django.utils import timezone

    if hasattr(value, "hour"):
        value = timezone.localtime(value)
    return value.strftime(fmt)


FOLLOWUP_HEADER = ["序号", "回访日期", "回访方式", "回访原因", "受理编号", "服务场所", "回访对象", "联系电话", "第几次联系",
                   "回访结果", "满意度", "回访记录", "发现问题", "整改台账编号", "回访人"]


def followup_rows(qs):
    for i, f in enumerate(qs.iterator(chunk_size=500), start=1):
        yield [i, _d(f.done_at), f.get_method_display(), f.get_reason_display(),
               f.case.acceptance_number if f.case_id else "", f.site.name if f.site_id else "",
               mask_name(f.contact_name), mask_mobile(f.contact_phone), f.attempt, f.get_outcome_display(),
               f.get_satisfaction_display() if f.satisfaction else "", f.notes, f.problem,
               f.rectification.number if f.rectification_id else "", str(f.agent) if f.agent_id else ""]


PROBLEM_HEADER = ["序号", "发现日期", "问题来源", "所属区划", "责任场所", "存在问题", "状态"]


def problem_rows(qs):
    for i, r in enumerate(qs.iterator(chunk_size=500), start=1):
        yield [i, _d(r.found_on, "%Y-%m-%d"), r.get_source_display(), r.area.name, r.site.name if r.site_id else "",
               r.problem, r.get_status_display()]


RECT_HEADER = ["台账编号", "发现日期", "问题来源", "所属区划", "责任场所", "存在问题", "整改措施", "责任人", "整改时限（工作日）",
               "整改期限", "完成日期", "整改结果", "是否按期", "状态"]


def rect_rows(qs):
    for r in qs.iterator(chunk_size=500):
        yield [r.number, _d(r.found_on, "%Y-%m-%d"), r.get_source_display(), r.area.name, r.site.name if r.site_id else "",
               r.problem, r.measure, r.owner_name, r.working_days, _d(r.deadline, "%Y-%m-%d"),
               _d(r.done_on, "%Y-%m-%d"), r.result, "" if r.on_time is None else ("是" if r.on_time else "否"),
               r.get_status_display()]


def followup_ledger_xlsx(qs) -> bytes:
    return _book("回访台账", FOLLOWUP_HEADER, followup_rows(qs))


def problem_list_xlsx(qs) -> bytes:
    return _book("问题清单", PROBLEM_HEADER, problem_rows(qs))


def rectification_ledger_xlsx(qs) -> bytes:
    return _book("整改台账", RECT_HEADER, rect_rows(qs))


def survey_answers_xlsx(questionnaire) -> bytes:
    questions = list(questionnaire.questions.all())
    header = ["序号", "手机号码", "提交时间"] + [f"{q.position}. {q.text}" for q in questions]

    def rows():
        invs = questionnaire.invitations.filter(answered_at__isnull=False).select_related("response").order_by("answered_at")
        for i, inv in enumerate(invs, start=1):
            answers = inv.response.answers
            row = [i, mask_mobile(inv.phone), _d(inv.response.submitted_at)]
            for q in questions:
                v = answers.get(str(q.position))
                row.append("；".join(v) if isinstance(v, list) else v)
            yield row

    return _book(questionnaire.title, header, rows())
