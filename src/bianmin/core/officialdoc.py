"""Official documents (公文) in the GB/T 9704-2012 layout, as DOCX (python-docx) and PDF (reportlab,
fonts embedded through ``core.pdf``).

A document is described once (``OfficialDocument``) and rendered by both writers, so the two
files say the same thing. The layout follows the standard's main points: A4; 天头 37 mm, 订口 28 mm,
版心 156 × 225 mm; 22 lines of 28 characters in 3号 (16 pt); 发文机关标志 in red 小标宋, centred; 发文
字号 on the left and 签发人 on the right of one line, above the red separator; 标题 in 2号 小标宋,
centred; 主送 flush left; 正文 indented two characters, with 一、 headings in 黑体 and （一） in 楷体;
发文机关署名 and 成文日期 on the right (成文日期 four characters from the edge); 附注 in parentheses,
indented two characters; 版记 (印发机关 on the left, 印发日期 on the right) between rules at the end;
page numbers “— n —” in 4号, odd pages on the right, even on the left. An attached table (附表)
follows on a new page.

Fonts: the DOCX names the standard's faces (方正小标宋简体, 仿宋_GB2312, 黑体, 楷体_GB2312), which the
reader's office installation supplies. The PDF carries its glyphs: it embeds the one CJK face
shipped with the platform (core/fonts), in the standard's sizes and colours.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

HEADING_1 = re.compile(r"^[一二三四五六七八九十]+、")
HEADING_2 = re.compile(r"^（[一二三四五六七八九十]+）")

RED = (0xE6, 0x00, 0x12)
FONT_MARK = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_H1 = "黑体"
FONT_H2 = "楷体_GB2312"

# Sizes in points: 初号 42, 小初 36, 一号 26, 二号 22, 三号 16, 四号 14, 小四 12.
SIZE_MARK = 30  # at most; a long name is set smaller to stay on one line within the 版心


def mark_size(text: str, width_pt: float = (210 - 28 - 26) / 25.4 * 72) -> float:
    """The 发文机关标志's size: 30 pt, or less so that the name fits one line of the 版心
    (GB/T 9704: centred, narrower than the 版心)."""
    return float(min(SIZE_MARK, int(width_pt / max(len(text), 1) * 0.96)))
SIZE_TITLE = 22
SIZE_BODY = 16
SIZE_RECORD = 14
SIZE_TABLE = 10.5  # 五号
LINE = 29  # 225 mm of 版心 over 22 lines

# Margins in millimetres (GB/T 9704-2012 5.2.1).
TOP, BOTTOM, LEFT, RIGHT = 37, 35, 28, 26


@dataclass
class Cell:
    """A table cell: text (a list for several paragraphs), spanning columns or rows; a cell covered
    by a span is ``None`` in the grid."""

    text: str | list[str] = ""
    colspan: int = 1
    rowspan: int = 1
    bold: bool = False
    center: bool = True


@dataclass
class AttachedTable:
    title: str
    left_line: str = ""  # e.g. 承办单位负责人（签字、盖章）：
    right_line: str = ""  # e.g. 填报时间：2021年4月24日
    col_widths_mm: list[float] = field(default_factory=list)
    rows: list[list[Cell | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class OfficialDocument:
    org_mark: str
    doc_number: str
    title: str
    addressee: str
    body: list[str]
    issuer: str
    date_text: str
    signer: str = ""
    marks: list[str] = field(default_factory=list)  # lines below the separator, e.g. 办理结果：B类
    closing: list[str] = field(default_factory=list)  # 领导署名、联系人、联系电话
    note: str = ""  # 附注, without parentheses
    printer: str = ""
    printed_text: str = ""  # e.g. 2021年4月24日印发
    attachment: AttachedTable | None = None

    def paragraphs(self) -> list[tuple[str, str]]:
        """The body as (kind, text): kind "h1", "h2" or "p"."""
        out = []
        for text in self.body:
            text = text.strip()
            if not text:
                continue
            kind = "h1" if HEADING_1.match(text) else "h2" if HEADING_2.match(text) else "p"
            out.append((kind, text))
        return out


def body_paragraphs(text: str) -> list[str]:
    """Paragraphs of a body typed in a text box: one a line (blank lines ignored)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# --- DOCX ----------------------------------------------------------------------------------------

def render_docx(doc: OfficialDocument) -> bytes:
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    d = Document()
    section = d.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(TOP), Mm(BOTTOM)
    section.left_margin, section.right_margin = Mm(LEFT), Mm(RIGHT)
    section.footer_distance = Mm(BOTTOM - 7 - 5)
    text_width = Mm(210 - LEFT - RIGHT)

    normal = d.styles["Normal"]
    normal.font.size = Pt(SIZE_BODY)
    normal.font.name = FONT_BODY
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT_BODY)
    pf = normal.paragraph_format
    pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(LINE)
    pf.space_before = pf.space_after = Pt(0)

    def run(p, text, *, font=FONT_BODY, size=SIZE_BODY, color=None, bold=False):
        r = p.add_run(text)
        r.font.name, r.font.size, r.bold = font, Pt(size), bold
        r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        if color:
            r.font.color.rgb = RGBColor(*color)
        return r

    def para(text="", *, align=None, indent_chars=0, right_chars=0, font=FONT_BODY, size=SIZE_BODY, color=None,
             line=LINE):
        p = d.add_paragraph()
        if align is not None:
            p.alignment = align
        f = p.paragraph_format
        f.line_spacing_rule, f.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(max(line, size + 4))
        if indent_chars:
            f.first_line_indent = Pt(size * indent_chars)
        if right_chars:
            f.right_indent = Pt(size * right_chars)
        if text:
            run(p, text, font=font, size=size, color=color)
        return p

    def border(p, side: str, *, color="000000", size=8):
        ppr = p._p.get_or_add_pPr()
        bdr = ppr.find(qn("w:pBdr"))
        if bdr is None:
            bdr = OxmlElement("w:pBdr")
            ppr.append(bdr)
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), str(size))
        el.set(qn("w:space"), "1")
        el.set(qn("w:color"), color)
        bdr.append(el)

    def two_sided(left, right, *, size=SIZE_BODY, indent_chars=1):
        p = para(size=size)
        f = p.paragraph_format
        f.left_indent = Pt(size * indent_chars)
        f.right_indent = Pt(size * indent_chars)
        f.tab_stops.add_tab_stop(text_width - Pt(size * indent_chars * 2), WD_TAB_ALIGNMENT.RIGHT)
        run(p, left, size=size)
        if right:
            run(p, "\t" + right, size=size)
        return p

    # 版头
    para(line=LINE)
    size = mark_size(doc.org_mark)
    para(doc.org_mark, align=WD_ALIGN_PARAGRAPH.CENTER, font=FONT_MARK, size=size, color=RED, line=size + 14)
    para()
    header = two_sided(doc.doc_number, f"签发人：{doc.signer}" if doc.signer else "")
    border(header, "bottom", color="".join(f"{c:02X}" for c in RED), size=12)
    for mark in doc.marks:
        para(mark, font=FONT_H1)
    # 主体
    para()
    para(doc.title, align=WD_ALIGN_PARAGRAPH.CENTER, font=FONT_MARK, size=SIZE_TITLE, line=LINE + 6)
    para()
    para(doc.addressee)
    for kind, text in doc.paragraphs():
        para(text, indent_chars=2, font=FONT_H1 if kind == "h1" else FONT_H2 if kind == "h2" else FONT_BODY)
    for line in doc.closing:
        para(line, indent_chars=2)
    para()
    para()
    para(doc.issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=2)
    para(doc.date_text, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)
    if doc.note:
        para()
        para(f"（{doc.note}）", indent_chars=2)
    # 版记
    if doc.printer:
        para()
        p = two_sided(doc.printer, doc.printed_text, size=SIZE_RECORD)
        border(p, "top", size=8)
        border(p, "bottom", size=8)
    _docx_page_numbers(section, run, para_factory=lambda: section.footer.paragraphs[0])

    if doc.attachment is not None:
        t = doc.attachment
        new = d.add_section(WD_SECTION.NEW_PAGE)
        new.footer.is_linked_to_previous = True
        para(t.title, align=WD_ALIGN_PARAGRAPH.CENTER, font=FONT_MARK, size=SIZE_TITLE - 4, line=LINE + 4)
        if t.left_line or t.right_line:
            two_sided(t.left_line, t.right_line, size=SIZE_RECORD, indent_chars=0)
        ncols = len(t.col_widths_mm)
        table = d.add_table(rows=len(t.rows), cols=ncols)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for c, w in enumerate(t.col_widths_mm):
            for row in table.rows:
                row.cells[c].width = Mm(w)
        covered: set[tuple[int, int]] = set()
        for r, row in enumerate(t.rows):
            for c, cell in enumerate(row):
                if cell is None or (r, c) in covered:
                    continue
                target = table.cell(r, c)
                if cell.colspan > 1 or cell.rowspan > 1:
                    target = target.merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
                    covered |= {(r + i, c + j) for i in range(cell.rowspan) for j in range(cell.colspan)}
                texts = cell.text if isinstance(cell.text, list) else [cell.text]
                first = target.paragraphs[0]
                for i, text in enumerate(texts):
                    p = first if i == 0 else target.add_paragraph()
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER if cell.center else WD_ALIGN_PARAGRAPH.LEFT
                    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
                    if text:
                        run(p, text, size=SIZE_TABLE, font=FONT_H1 if cell.bold else FONT_BODY)
        for note in t.notes:
            para(note, size=SIZE_TABLE, line=SIZE_TABLE + 8)

    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _docx_page_numbers(section, run, *, para_factory) -> None:
    """“— PAGE —” in 4号, right on odd pages and left on even ones (w:evenAndOddHeaders)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def page_field(p):
        run(p, "— ", size=SIZE_RECORD, font="宋体")
        r = run(p, "", size=SIZE_RECORD, font="宋体")
        for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
            if kind:
                fc = OxmlElement("w:fldChar")
                fc.set(qn("w:fldCharType"), kind)
                r._r.append(fc)
            else:
                instr = OxmlElement("w:instrText")
                instr.set(qn("xml:space"), "preserve")
                instr.text = text
                r._r.append(instr)
        run(p, " —", size=SIZE_RECORD, font="宋体")

    odd = para_factory()
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    page_field(odd)
    settings = section.part.package.main_document_part.settings.element
    if settings.find(qn("w:evenAndOddHeaders")) is None:
        settings.append(OxmlElement("w:evenAndOddHeaders"))
    even = section.even_page_footer.paragraphs[0]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    page_field(even)


# --- PDF -----------------------------------------------------------------------------------------

def render_pdf(doc: OfficialDocument, *, author: str = "") -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        CondPageBreak,
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )
    from reportlab.platypus.flowables import HRFlowable

    from .pdf import register_font

    font = register_font()
    red = colors.Color(RED[0] / 255, RED[1] / 255, RED[2] / 255)
    width = (210 - LEFT - RIGHT) * mm

    def style(name, size=SIZE_BODY, *, leading=LINE, align=TA_LEFT, indent=0, right=0, color=colors.black):
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=max(leading, size + 4), alignment=align,
                              firstLineIndent=indent * size, rightIndent=right * size, textColor=color,
                              wordWrap="CJK", allowOrphans=1, allowWidows=1)

    body = style("body", indent=2)
    flush = style("flush")
    s_mark = style("mark", mark_size(doc.org_mark), leading=mark_size(doc.org_mark) + 14, align=TA_CENTER, color=red)
    s_title = style("title", SIZE_TITLE, leading=LINE + 6, align=TA_CENTER)
    s_issuer = style("issuer", align=TA_RIGHT, right=2)
    s_date = style("date", align=TA_RIGHT, right=4)
    s_cell = style("cell", SIZE_TABLE, leading=SIZE_TABLE + 6, align=TA_CENTER)
    s_cell_left = style("cell_left", SIZE_TABLE, leading=SIZE_TABLE + 6)
    s_small = style("small", SIZE_TABLE, leading=SIZE_TABLE + 8)
    s_record = style("record", SIZE_RECORD, leading=SIZE_RECORD + 10)

    def p(text, st):
        from xml.sax.saxutils import escape

        return Paragraph(escape(text), st)

    def two_sided(left, right, st, *, pad=1):
        t = Table([[p(left, st), p(right, ParagraphStyle("r", parent=st, alignment=TA_RIGHT))]],
                  colWidths=[width / 2, width / 2])
        t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font),  # the table's default is Helvetica
                               ("LEFTPADDING", (0, 0), (-1, -1), pad * st.fontSize),
                               ("RIGHTPADDING", (0, 0), (-1, -1), pad * st.fontSize),
                               ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                               ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
        return t

    flow: list = [Spacer(1, 8 * mm), p(doc.org_mark, s_mark), Spacer(1, LINE)]
    flow.append(two_sided(doc.doc_number, f"签发人：{doc.signer}" if doc.signer else "", flush))
    flow.append(HRFlowable(width="100%", thickness=1.2, color=red, spaceBefore=4 * mm, spaceAfter=2 * mm))
    for mark in doc.marks:
        flow.append(p(mark, flush))
    flow += [Spacer(1, LINE), p(doc.title, s_title), Spacer(1, LINE / 2), p(doc.addressee, flush)]
    for _kind, text in doc.paragraphs():
        flow.append(p(text, body))
    for line in doc.closing:
        flow.append(p(line, body))
    flow += [Spacer(1, LINE * 2), p(doc.issuer, s_issuer), p(doc.date_text, s_date)]
    if doc.note:
        flow += [Spacer(1, LINE), p(f"（{doc.note}）", body)]
    if doc.printer:
        record = two_sided(doc.printer, doc.printed_text, s_record)
        flow.append(KeepTogether([Spacer(1, LINE),
                                  HRFlowable(width="100%", thickness=0.9, color=colors.black, spaceAfter=1.5 * mm),
                                  record,
                                  HRFlowable(width="100%", thickness=0.9, color=colors.black, spaceBefore=1.5 * mm)]))

    t = doc.attachment
    if t is not None:
        flow += [PageBreak(), p(t.title, style("ttitle", SIZE_TITLE - 4, leading=LINE + 4, align=TA_CENTER)),
                 Spacer(1, 4 * mm)]
        if t.left_line or t.right_line:
            flow += [two_sided(t.left_line, t.right_line, s_record, pad=0), Spacer(1, 3 * mm)]
        scale = width / (sum(t.col_widths_mm) * mm)
        data, commands = _pdf_grid(t, lambda x, center: p(x, s_cell if center else s_cell_left))
        commands += [("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("FONTNAME", (0, 0), (-1, -1), font),
                     ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                     ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4)]
        table = Table(data, colWidths=[w * mm * scale for w in t.col_widths_mm], repeatRows=0)
        table.setStyle(TableStyle(commands))
        flow.append(table)
        flow.append(CondPageBreak(LINE))
        for note in t.notes:
            flow.append(p(note, s_small))

    def page_number(canvas, d):
        canvas.saveState()
        canvas.setFont(font, SIZE_RECORD)
        text = f"— {d.page} —"
        y = (BOTTOM - 7 - 4) * mm
        if d.page % 2:
            canvas.drawRightString((210 - RIGHT - 4) * mm, y, text)
        else:
            canvas.drawString((LEFT + 4) * mm, y, text)
        canvas.restoreState()

    buffer = io.BytesIO()
    template = SimpleDocTemplate(buffer, pagesize=A4, title=doc.title, author=author or doc.issuer, creator="bianmin",
                                 leftMargin=LEFT * mm, rightMargin=RIGHT * mm, topMargin=TOP * mm,
                                 bottomMargin=BOTTOM * mm, initialFontName=font, initialFontSize=SIZE_BODY)
    template.build(flow, onFirstPage=page_number, onLaterPages=page_number)
    return buffer.getvalue()


def _pdf_grid(t: AttachedTable, paragraph) -> tuple[list[list], list[tuple]]:
    """The table's cells for reportlab, whose rows cannot break across pages: a cell of several
    paragraphs (the plan items) becomes one row per paragraph, and the other cells of its row
    span those rows, so a long plan flows over pages as Word's table does."""
    expand = [max([len(c.text) for c in row if c is not None and isinstance(c.text, list)] + [1]) for row in t.rows]
    start = [sum(expand[:r]) for r in range(len(t.rows))]
    ncols = len(t.col_widths_mm)
    data = [[[] for _ in range(ncols)] for _ in range(sum(expand))]
    commands: list[tuple] = []
    for r, row in enumerate(t.rows):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            texts = cell.text if isinstance(cell.text, list) else [cell.text]
            top = start[r]
            if len(texts) > 1:
                for i, text in enumerate(texts):
                    data[top + i][c] = [paragraph(text, cell.center)] if text else []
                    if cell.colspan > 1:
                        commands.append(("SPAN", (c, top + i), (c + cell.colspan - 1, top + i)))
                continue
            data[top][c] = [paragraph(texts[0], cell.center)] if texts and texts[0] else []
            height = sum(expand[r:r + cell.rowspan])
            if cell.colspan > 1 or height > 1:
                commands.append(("SPAN", (c, top), (c + cell.colspan - 1, top + height - 1)))
    return data, commands
