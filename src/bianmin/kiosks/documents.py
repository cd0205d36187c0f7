"""The certificate as a PDF (core.pdf: embedded CJK font) with its QR code (core.qr) to the
public verification page."""

from __future__ import annotations

import io

from django.urls import reverse
from django.utils import timezone
from reportlab.lib.units import mm
from reportlab.platypus import Image, Spacer, Table, TableStyle

from bianmin.core import pdf, qr
from bianmin.core.public_url import public_url


def verification_url(number: str, code: str) -> str:
    return public_url(reverse("kiosk:verify", args=[number, code]))


def render(*, number: str, verify_code: str, title: str, holder_name: str, holder_id_number: str, found,
           issued_at, valid_until, terminal_label: str) -> bytes:
    """The certificate: the holder, the registry's facts and statement, the issuing body, issue
    time and validity, and a QR code with the verification address and code."""
    url = verification_url(number, verify_code)
    local = timezone.localtime(issued_at)
    flow: list = [pdf.para(title, "title"), pdf.para(f"证明编号：{number}", "subtitle")]
    facts = [("姓名", holder_name), ("公民身份号码", holder_id_number)]
    facts += [(label, value) for label, value in found.facts if label not in ("姓名", "公民身份号码")]
    flow += [pdf.key_values(facts), Spacer(1, 4 * mm), pdf.para(found.statement)]
    if found.extra_rows:
        flow += [Spacer(1, 3 * mm), pdf.table(found.extra_rows)]
    flow += [Spacer(1, 6 * mm), pdf.para(f"出具单位：{found.issuer}"),
             pdf.para(f"出具时间：{local:%Y年%m月%d日 %H:%M}"),
             pdf.para(f"有效期至：{valid_until:%Y年%m月%d日}"),
             Spacer(1, 6 * mm)]
    code_image = Image(io.BytesIO(qr.qr_png(url, scale=6)), width=32 * mm, height=32 * mm)
    note = pdf.para(
        f"核验：用手机扫描左侧二维码，或访问 {url}\n"
        f"核验码：{verify_code}。核验页面显示本证明的持证人（部分隐藏）、出具日期、有效期及是否已撤销；"
        "上传本文件可核对内容是否被改动。", "small")
    box = Table([[code_image, note]], colWidths=[36 * mm, None])
    box.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    flow.append(box)
    return pdf.document(flow, title=f"{title} {number}", footer=f"本证明由“e福州”自助服务终端 {terminal_label} 自助打印")
