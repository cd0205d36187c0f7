"""xlsx exports of the ledgers as a district office files them (openpyxl write-only: rows are
streamed into the file, memory stays flat for a year of records). Personal data is masked.

The rows are read a chunk at a time by keyset pagination (``bianmin.exports.streaming``), each
chunk one query with the related records joined (the selectors' select_related), never one
query per row. A small ledger downloads at once (``*_xlsx``); a large one is a background job
(导出任务) built by the exporters registered at the end of this module (``apps.ready``)."""

from __future__ import annotations

from bianmin.core.errors import Invalid
from bianmin.core.masking import mask_mobile, mask_name
from bianmin.core.xlsx import book
from bianmin.exports.registry import Export
from bianmin.exports.streaming import keyset_chunks


def _d(value, fmt="%Y-%m-%d %H:%M"):
    if value is None:
        return ""
    from django.utils import timezone

    if hasattr(value, "hour"):
        value = timezone.localtime(value)
    return value.strftime(fmt)


FOLLOWUP_HEADER = ["序号", "回访日期", "回访方式", "回访原因", "受理编号", "服务场所", "回访对象", "联系电话", "第几次联系",
                   "回访结果", "满意度", "回访记录", "发现问题", "整改台账编号", "回访人"]


def _labels(model, *fields) -> list[dict]:
    """The display labels of choice fields, translated once per export: ``get_FOO_display``
    hashes the lazy labels on every call, which was two thirds of an export's time."""
    return [{k: str(v) for k, v in model._meta.get_field(f).flatchoices} for f in fields]


def followup_rows(qs, *, first=None):
    from .models import FollowUp

    method, reason, outcome, satisfaction = _labels(FollowUp, "method", "reason", "outcome", "satisfaction")
    for i, f in enumerate(keyset_chunks(qs, first=first), start=1):
        yield [i, _d(f.done_at), method.get(f.method, f.method), reason.get(f.reason, f.reason),
               f.case.acceptance_number if f.case_id else "", f.site.name if f.site_id else "",
               mask_name(f.contact_name), mask_mobile(f.contact_phone), f.attempt, outcome.get(f.outcome, f.outcome),
               satisfaction.get(f.satisfaction, f.satisfaction) if f.satisfaction else "", f.notes, f.problem,
               f.rectification.number if f.rectification_id else "", str(f.agent) if f.agent_id else ""]


PROBLEM_HEADER = ["序号", "发现日期", "问题来源", "所属区划", "责任场所", "存在问题", "状态"]


def problem_rows(qs, *, first=None):
    from .models import Rectification

    source, status = _labels(Rectification, "source", "status")
    for i, r in enumerate(keyset_chunks(qs, first=first), start=1):
        yield [i, _d(r.found_on, "%Y-%m-%d"), source.get(r.source, r.source), r.area.name,
               r.site.name if r.site_id else "", r.problem, status.get(r.status, r.status)]


RECT_HEADER = ["台账编号", "发现日期", "问题来源", "所属区划", "责任场所", "存在问题", "整改措施", "责任人", "整改时限（工作日）",
               "整改期限", "完成日期", "整改结果", "是否按期", "状态"]


def rect_rows(qs, *, first=None):
    from .models import Rectification

    source, status = _labels(Rectification, "source", "status")
    for r in keyset_chunks(qs, first=first):
        yield [r.number, _d(r.found_on, "%Y-%m-%d"), source.get(r.source, r.source), r.area.name,
               r.site.name if r.site_id else "",
               r.problem, r.measure, r.owner_name, r.working_days, _d(r.deadline, "%Y-%m-%d"),
               _d(r.done_on, "%Y-%m-%d"), r.result, "" if r.on_time is None else ("是" if r.on_time else "否"),
               status.get(r.status, r.status)]


def followup_ledger_xlsx(qs) -> bytes:
    return book("回访台账", FOLLOWUP_HEADER, followup_rows(qs))


def problem_list_xlsx(qs) -> bytes:
    return book("问题清单", PROBLEM_HEADER, problem_rows(qs))


def rectification_ledger_xlsx(qs) -> bytes:
    return book("整改台账", RECT_HEADER, rect_rows(qs))


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

    return book(questionnaire.title, header, rows())


# --- background exports (导出任务) ------------------------------------------------------------------

def _day(params: dict, key: str):
    from bianmin.core.validators import parse_day

    day = parse_day(str(params.get(key) or ""), field=key)
    if day is None:
        raise Invalid("请选择导出的起止日期", field=key)
    return day


def _period(params: dict):
    start, end = _day(params, "from"), _day(params, "to")
    if end < start:
        raise Invalid("结束日期不能早于开始日期", field="to")
    return start, end


def _count(qs):
    return lambda: qs.order_by().select_related(None).count()


def _until(field: str, end, *, is_datetime: bool):
    """The period's end as the first chunk's bound (streaming.keyset_chunks: given in the
    queryset as well, SQLite would walk the whole period again for every chunk)."""
    from .selectors import period_end

    return period_end(field, end, is_datetime=is_datetime)


def followup_ledger_export(actor, params: dict) -> Export:
    from .selectors import followup_ledger

    start, end = _period(params)
    qs = followup_ledger(actor=actor, start=start)
    until = _until("done_at", end, is_datetime=True)
    return Export(title=f"回访台账_{start}_{end}", header=FOLLOWUP_HEADER, rows=followup_rows(qs, first=until),
                  count=_count(qs.filter(until)))


def problem_list_export(actor, params: dict) -> Export:
    from .selectors import problem_list

    start, end = _period(params)
    qs = problem_list(actor=actor, start=start)
    until = _until("found_on", end, is_datetime=False)
    return Export(title=f"问题清单_{start}_{end}", header=PROBLEM_HEADER, rows=problem_rows(qs, first=until),
                  count=_count(qs.filter(until)))


def rectification_ledger_export(actor, params: dict) -> Export:
    from .models import Rectification
    from .selectors import rectification_ledger

    start, end = _period(params)
    status = params.get("status") or None
    if status is not None and status not in Rectification.Status.values:
        raise Invalid("整改状态无效", field="status")
    source = params.get("source") or None
    if source is not None and source not in Rectification.Source.values:
        raise Invalid("问题来源无效", field="source")
    qs = rectification_ledger(actor=actor, start=start, status=status, source=source)
    until = _until("found_on", end, is_datetime=False)
    return Export(title=f"整改台账_{start}_{end}", header=RECT_HEADER, rows=rect_rows(qs, first=until),
                  count=_count(qs.filter(until)))


EXPORTERS = [
    ("followups.followups", "回访台账", followup_ledger_export),
    ("followups.problems", "问题清单", problem_list_export),
    ("followups.rectifications", "整改台账", rectification_ledger_export),
]
