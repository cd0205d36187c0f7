"""Monthly and quarterly reports (月报、季报): the cockpit of an area over a month or a quarter as
an xlsx workbook (overview, children, series, rankings) and a PDF (the same tables with two
charts drawn by reportlab, the CJK font embedded through core.pdf), made by the worker, archived
under ``BIANMIN_VAR/reports``, downloadable by whoever sees the area, made again on request.

The daily job makes the last month's reports (and the last quarter's, in a quarter's first
days) for the city and every district when they do not exist yet."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bianmin.core.audit import audit
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Invalid
from bianmin.core.models import AuditEntry
from bianmin.core.principal import Grant, Principal
from bianmin.core.scoping import require

from .models import Report

log = logging.getLogger(__name__)


def period_of(kind: str, start: date) -> tuple[date, date]:
    """The month or quarter starting on (or containing) `start`."""
    if kind == Report.Kind.MONTHLY:
        first = start.replace(day=1)
        nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        return first, nxt - timedelta(days=1)
    if kind == Report.Kind.QUARTERLY:
        first = date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
        m = first.month + 3
        nxt = date(first.year + (m > 12), (m - 1) % 12 + 1, 1)
        return first, nxt - timedelta(days=1)
    raise Invalid("报告类型无效", field="kind")


def report_dir() -> Path:
    path = Path(settings.VAR_DIR) / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def report_request(*, actor: Principal, kind: str, area, start: date) -> Report:
    """Ask for a report (new, or made again): the worker makes it after commit."""
    from .tasks import report_make

    require(actor, Cap.VIEW, area)
    if kind not in Report.Kind.values:
        raise Invalid("报告类型无效", field="kind")
    first, last = period_of(kind, start)
    if first > timezone.localdate():
        raise Invalid("报告期间尚未开始", field="month")
    with transaction.atomic():
        report, created = Report.objects.select_for_update().get_or_create(
            kind=kind, area=area, period_start=first,
            defaults={"period_end": last, "requested_by": actor.user})
        if not created:
            report.status = Report.Status.PENDING
            report.requested_by = actor.user
            report.requested_at = timezone.now()
            report.error = ""
            report.save(update_fields=["status", "requested_by", "requested_at", "error"])
        audit(actor=actor, action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE, target=report,
              area_code=area.code, changes={"kind": kind, "period_start": first.isoformat(), "regenerate": not created})
        transaction.on_commit(lambda: report_make.enqueue(report.pk))
    return report


def report_download(*, actor: Principal, report_id: int, fmt: str) -> tuple[Path, str]:
    """The file of a ready report for someone who sees its area (audited: reports leave the platform)."""
    from bianmin.core.errors import NotFound

    report = Report.objects.select_related("area").filter(pk=report_id).first()
    if report is None or not actor.sees_area(report.area) or not actor.can(Cap.VIEW, report.area):
        raise NotFound("未找到该报告")
    name = report.pdf_path if fmt == "pdf" else report.xlsx_path
    path = report_dir() / name if name else None
    if report.status != Report.Status.READY or path is None or not path.exists():
        raise NotFound("报告尚未生成")
    audit(actor=actor, action=AuditEntry.Action.EXPORT, target=report, area_code=report.area.code,
          changes={"format": fmt, "version": report.version})
    return path, f"{report.title}.{fmt}"


def _system(area) -> Principal:
    return Principal(label="统计报告任务", grants=[Grant(path=area.path, capabilities=frozenset({Cap.VIEW}))])


def report_build(*, report_id: int) -> Report | None:
    """Make the files of one report (idempotent: the files are replaced, the version counts)."""
    report = Report.objects.select_related("area").filter(pk=report_id).first()
    if report is None:
        return None
    try:
        data = _data(report)
        xlsx, pdf = _xlsx(report, data), _pdf(report, data)
        base = f"{report.pk}-{report.kind}-{report.area.code}-{report.period_start:%Y%m}"
        (report_dir() / f"{base}.xlsx").write_bytes(xlsx)
        (report_dir() / f"{base}.pdf").write_bytes(pdf)
        Report.objects.filter(pk=report.pk).update(
            status=Report.Status.READY, xlsx_path=f"{base}.xlsx", pdf_path=f"{base}.pdf", made_at=timezone.now(),
            version=report.version + 1, error="")
    except Exception as exc:  # recorded for the page; the job itself stays done
        log.exception("figures: report %s failed", report_id)
        Report.objects.filter(pk=report.pk).update(status=Report.Status.FAILED, error=str(exc)[:500])
    report.refresh_from_db()
    return report


def reports_due_make(*, today: date | None = None) -> int:
    """The last month's (and, in a quarter's first month, the last quarter's) reports of the city
    and every district that do not exist yet, made now. Returns how many were made."""
    from bianmin.regions.models import Area

    today = today or timezone.localdate()
    last_month = today.replace(day=1) - timedelta(days=1)
    due = [(Report.Kind.MONTHLY, last_month.replace(day=1))]
    if today.month in (1, 4, 7, 10):
        due.append((Report.Kind.QUARTERLY, period_of(Report.Kind.QUARTERLY, last_month)[0]))
    made = 0
    for area in Area.objects.filter(level__in=("city", "district")).order_by("code"):
        for kind, start in due:
            if Report.objects.filter(kind=kind, area=area, period_start=start).exists():
                continue
            report = Report.objects.create(kind=kind, area=area, period_start=start,
                                           period_end=period_of(kind, start)[1])
            report_build(report_id=report.pk)
            made += 1
    return made


# --- the content --------------------------------------------------------------------------------

def _data(report: Report):
    from .cockpit import Place, cockpit, ranked

    actor = _system(report.area)
    c = cockpit(actor=actor, place=Place(report.area), start=report.period_start, end=report.period_end,
                grain="day" if report.kind == Report.Kind.MONTHLY else "month")
    return {"c": c, "top": ranked(c.rankings, "satisfaction")[:10]}


RATE_KEYS = ("participation", "satisfaction", "followup", "rectification", "on_time", "case_on_time", "handled_here",
             "appeal_on_time", "appeal_satisfaction", "fu_satisfaction")
COUNTS = [("受理件数", "received"), ("办结件数", "completed"), ("超期办结", "late"), ("跑多趟", "multi_trip"),
          ("主动评价办件", "evaluated"), ("默认好评办件", "defaulted"), ("差评", "bad"), ("诉求件数", "appeals"),
          ("发现问题", "rect_found"), ("整改完成", "rect_done")]


def _overview_rows(c) -> list[list]:
    rows = [[label, c.counts.get(key, 0)] for label, key in COUNTS]
    rows += [[r.label, r.percent, f"{r.numerator}/{r.denominator}"] for r in c.rates if r.key in RATE_KEYS]
    return rows


def _child_rows(c) -> list[list]:
    keys = ("participation", "satisfaction", "followup", "rectification", "case_on_time", "appeal_on_time")
    out = []
    for ch in c.children:
        out.append([ch.name, ch.counts["received"], ch.counts["completed"],
                    *[ch.rate(k).percent for k in keys]])
    return out


CHILD_HEADER = ["名称", "受理", "办结", "参评率", "满意率", "差评回访率", "差评整改率", "按时办结率", "诉求按时答复率"]


def _xlsx(report: Report, data) -> bytes:
    # Through the one writer (core.xlsx): area and site names are typed by staff, and a name
    # starting with "=" must stay text in the report.
    from bianmin.core.xlsx import Sheet, books

    c = data["c"]
    return books(
        Sheet("总览", [report.title, f"{report.period_start} 至 {report.period_end}"], _overview_rows(c)),
        Sheet((f"下级{c.child_kind}" if c.child_kind else "下级")[:31], CHILD_HEADER, _child_rows(c)),
        Sheet("趋势", ["日期", "办结", "主动评价", "差评", "参评率", "满意率"],
              [[p.isoformat(), cnt["completed"], cnt["evaluated"], cnt["bad"],
                next(r.percent for r in rs if r.key == "participation"),
                next(r.percent for r in rs if r.key == "satisfaction")]
               for p, cnt, rs in c.series]),
        Sheet("满意率排名", ["名次", c.ranking_kind or "单位", "满意率", "主动评价办件"],
              [[i, ch.name, ch.rate("satisfaction").percent, ch.counts["evaluated"]]
               for i, ch in enumerate(data["top"], 1)]),
    )


def _charts(c):
    """Two reportlab drawings: 办结 per period (bars) and each child's 满意率 (bars)."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    from bianmin.core.pdf import register_font

    font = register_font()
    out = []
    for title, labels, values, vmax in (
            ("办结件数趋势", [p.strftime("%m-%d" if c.grain == "day" else "%Y-%m") for p, _c, _r in c.series],
             [cnt["completed"] for _p, cnt, _r in c.series], None),
            (f"下级{c.child_kind}满意率（%）", [ch.name for ch in c.children],
             [round((ch.rate("satisfaction").value or 0) * 100, 1) for ch in c.children], 100)):
        if not values:
            continue
        d = Drawing(460, 210)
        # The chart renderer starts a drawing in reportlab's default font (Helvetica, never
        # embedded) unless the drawing names its own: start it in the embedded CJK font, as every
        # PDF of the platform does (no global default changed for other drawings).
        d.initialFontName = font
        d.add(String(230, 196, title, fontName=font, fontSize=11, textAnchor="middle"))
        bc = VerticalBarChart()
        bc.x, bc.y, bc.width, bc.height = 40, 50, 400, 135
        bc.data = [values]
        bc.bars[0].fillColor = colors.HexColor("#b3261e")
        bc.valueAxis.valueMin = 0
        # An explicit top: reportlab's own choice let the tallest bars run above the plot.
        top = vmax or max(max(values) * 1.15, 1)
        bc.valueAxis.valueMax = top
        bc.valueAxis.valueStep = _step(top)
        bc.barLabels.fontName = font  # no reference to an unembedded Helvetica
        bc.valueAxis.labels.fontName = font
        bc.valueAxis.labels.fontSize = 7
        bc.categoryAxis.categoryNames = labels
        bc.categoryAxis.labels.fontName = font
        bc.categoryAxis.labels.fontSize = 6 if len(labels) > 12 else 7
        bc.categoryAxis.labels.angle = 45 if len(labels) > 6 else 0
        bc.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 6 else "n"
        d.add(bc)
        out.append(d)
    return out


def _step(top: float) -> float:
    """A round axis step giving about five ticks up to `top`."""
    raw = top / 5
    magnitude = 10 ** max(0, len(str(int(raw))) - 1)
    return max(1, -(-raw // magnitude) * magnitude)


def _pdf(report: Report, data) -> bytes:
    from bianmin.core.pdf import simple_pdf

    c = data["c"]
    blocks: list = [("h", "一、总体情况"), [["指标", "数值", "分子/分母"]] + [
        [str(x) for x in (row + [""])[:3]] for row in _overview_rows(c)]]
    blocks.append("统计口径：办件按办结日期成批，评价无论何时作出都计入其办件的办结期间；整改按发现日期、诉求按登记日期计。")
    charts = _charts(c)
    if charts:
        blocks.append(("h", "二、图表"))
        blocks.extend(charts)
    if c.children:
        blocks.append(("h", f"三、下级{c.child_kind}"))
        blocks.append([CHILD_HEADER] + [[str(v) for v in row] for row in _child_rows(c)])
    if data["top"]:
        blocks.append(("h", f"四、{c.ranking_kind}满意率排名（前十）"))
        blocks.append([["名次", "名称", "满意率", "主动评价办件"]] + [
            [str(i), ch.name, ch.rate("satisfaction").percent, str(ch.counts["evaluated"])]
            for i, ch in enumerate(data["top"], 1)])
    return simple_pdf(report.title, blocks, subtitle=f"统计期间：{report.period_start} 至 {report.period_end}",
                      footer=report.title)
