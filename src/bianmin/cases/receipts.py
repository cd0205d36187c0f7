"""What the applicant takes home: the 受理回执 (acceptance receipt) at 受理 and the 一次性告知书
(one-time notice of the materials to supply) at 补正, as printable pages and as PDFs with the
shared embedded CJK font (core.pdf), and the SMS texts sent at 受理 and 补正.

Both read the case's dates from the one clock (``deadlines.case_clock``), so the receipt, the
notice, the SMS and every page say the same. Personal data is masked as on the staff pages: the
paper may be left on a counter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.urls import reverse
from django.utils import timezone

from bianmin.core import pdf
from bianmin.core.public_url import public_url

from .deadlines import case_clock
from .models import Case, Suspension
from .selectors import masked_applicant


def _d(value) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else "—"


def track_url() -> str:
    return public_url(reverse("cases:track"))


@dataclass(frozen=True)
class Receipt:
    title: str
    number: str  # what the paper is filed under
    facts: list[tuple[str, str]]
    lists: list[tuple[str, list[str]]]  # headed lists (materials received, materials to supply)
    notes: list[str]
    org: str


def acceptance_receipt(case: Case, *, today: date | None = None) -> Receipt:
    """受理回执: the number to quote, the dates promised, what was handed in, how to follow it."""
    clock = case_clock(case, today=today or timezone.localdate())
    a = masked_applicant(case)
    facts = [
        ("受理编号", case.acceptance_number or "（尚未受理）"),
        ("办理事项", case.item.standard_item.name),
        ("申请人", a["name"]),
        ("联系电话", a["mobile"]),
        ("受理日期", _d(clock.accepted_on)),
        ("承诺办结日", f"{_d(clock.promised_due_on)}（{case.promised_limit_days} 个工作日）"),
        ("法定办结日", f"{_d(clock.legal_due_on)}（{case.legal_limit_days} 个工作日）"),
        ("受理人", _person(case)),
    ]
    received = [m.name for m in case.materials.all() if m.received]
    missing = [m.name for m in case.materials.all() if m.required and not m.received]
    lists = [("已收取材料", received or ["（无）"])]
    if missing:
        lists.append(("容缺受理，尚待补交的材料", missing))
    notes = [f"凭受理编号和手机号码后四位可随时查询办理进度：{track_url()}",
             "补正材料期间暂停计时，办结日相应顺延。"]
    if clock.estimated:
        notes.append(clock.estimated_note)
    return Receipt("受理回执", case.acceptance_number or str(case.pk), facts, lists, notes, _org(case))


def correction_notice(case: Case, suspension: Suspension) -> Receipt:
    """一次性告知书: every missing material at once, the date to bring them by, what happens next."""
    a = masked_applicant(case)
    facts = [
        ("受理编号", case.acceptance_number or "（尚未受理）"),
        ("办理事项", case.item.standard_item.name),
        ("申请人", a["name"]),
        ("告知日期", _d(suspension.started_on)),
        ("补正期限", f"{_d(suspension.due_on)}前" if suspension.due_on else "—"),
        ("告知人", _person(case)),
    ]
    notes = ["以上为需补正的全部材料（一次性告知），请一次补齐后送达办理场所。"]
    if suspension.clock_running:
        notes.append("补正期间暂停计时；材料收齐之日起恢复计时，办结日相应顺延。")
    else:
        notes.append("材料补齐后予以受理，受理之日起计算办理时限。")
    if suspension.reason and suspension.reason != "补正材料":
        notes.insert(0, f"说明：{suspension.reason}")
    notes.append(f"凭受理编号和手机号码后四位可查询进度：{track_url()}")
    return Receipt("一次性告知书", case.acceptance_number or str(case.pk), facts,
                   [("需补正的材料", list(suspension.missing_materials))], notes, _org(case))


def _person(case: Case) -> str:
    # The clerk's name as people read it (display name), never a log-in name.
    return str(case.owner) if case.owner_id else "—"


def _org(case: Case) -> str:
    return case.site.name + (f" · {case.window.number}号窗口" if case.window_id else "")


def receipt_pdf(receipt: Receipt) -> bytes:
    blocks: list = [pdf.key_values(receipt.facts, label_width=30 * pdf.mm)]
    for heading, items in receipt.lists:
        blocks += [("h", heading), [["序号", "材料名称"], *[[str(i), name] for i, name in enumerate(items, 1)]]]
    blocks += receipt.notes
    blocks.append(f"{receipt.org}　{_d(timezone.localdate())}")
    return pdf.simple_pdf(receipt.title, blocks, subtitle=receipt.org, footer=f"{receipt.title} {receipt.number}")


# --- SMS -------------------------------------------------------------------------------------

def accepted_sms(case: Case) -> str:
    clock = case_clock(case, today=timezone.localdate())
    return (f"【便民服务】您申请的“{case.item.standard_item.name}”已于{_d(clock.accepted_on)}受理，受理编号"
            f"{case.acceptance_number}，承诺{_d(clock.promised_due_on)}前办结。凭受理编号和手机号后四位查询进度："
            f"{track_url()}")


def correction_sms(case: Case, suspension: Suspension) -> str:
    names = "、".join(suspension.missing_materials)
    due = f"请于{_d(suspension.due_on)}前" if suspension.due_on else "请尽快"
    return (f"【便民服务】您申请的“{case.item.standard_item.name}”（{case.acceptance_number or '待受理'}）需补正材料："
            f"{names}。{due}一次性补交至{case.site.name}，材料收齐后继续办理。")
