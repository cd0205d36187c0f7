"""PDF rendering with an embedded Chinese font.

reportlab's built-in CID font `STSong-Light` is only *referenced* in the file: a reader without a
Chinese font installed shows blanks. Documents people receive (dossiers, notices, certificates)
must carry their glyphs, so every PDF here uses the TrueType font shipped in `core/fonts/`
(文泉驿微米黑, Apache-2.0), which reportlab embeds as a subset of the characters used.

Use `document(...)` with a list of flowables built from `styles()`, or `simple_pdf(title, blocks)`
for the common "title, paragraphs, tables" document.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT_NAME = "BianminCJK"
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"


@lru_cache(maxsize=1)
def register_font() -> str:
    """Register the shipped CJK font once per process and return its reportlab name."""
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_FILE), subfontIndex=0))
    # Bold/italic map to the same face: the font has one weight, and a missing mapping would make
    # reportlab fall back to Helvetica (no Chinese glyphs) for <b> text.
    pdfmetrics.registerFontFamily(FONT_NAME, normal=FONT_NAME, bold=FONT_NAME, italic=FONT_NAME, boldItalic=FONT_NAME)
    return FONT_NAME


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    font = register_font()
    # wordWrap="CJK" lets lines break between any two Chinese characters (no spaces in Chinese).
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=10, leading=14, alignment=TA_CENTER,
                                   textColor=colors.HexColor("#555555"), spaceAfter=10),
        "heading": ParagraphStyle("heading", parent=body, fontSize=13, leading=20, spaceBefore=10, spaceAfter=4),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=12, textColor=colors.HexColor("#555555")),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9.5, leading=13),
    }


def para(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped: user data never becomes markup)."""
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), styles()[style])


def table(rows: Sequence[Sequence[str]], *, col_widths: Sequence[float] | None = None, header: bool = True) -> Table:
    """A grid table of plain-text cells, wrapped, with an optional shaded header row."""
    data = [[para(cell, "cell") for cell in row] for row in rows]
    t = Table(data, colWidths=col_widths, repeatRows=1 if header else 0)
    commands = [
        # The cells are paragraphs in the CJK font, but a Table still sets its style's font
        # (Helvetica by default) on the canvas, which declares a font with no Chinese glyphs.
        ("FONTNAME", (0, 0), (-1, -1), register_font()),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if header and rows:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")))
    t.setStyle(TableStyle(commands))
    return t


def key_values(pairs: Iterable[tuple[str, str]], *, label_width: float = 32 * mm) -> Table:
    """A two-column table of label → value, for the header facts of a document."""
    rows = [[k, v] for k, v in pairs]
    width = A4[0] - 40 * mm
    return table(rows, col_widths=[label_width, width - label_width], header=False)


def document(flowables: list, *, title: str, author: str = "便民 政务服务平台", footer: str = "") -> bytes:
    """Render flowables to A4 PDF bytes, with page numbers (第 n 页) in the footer."""
    font = register_font()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, title=title, author=author, creator="bianmin",
        leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
        # The canvas starts in Helvetica otherwise, which would be declared (unused, but a font
        # without Chinese glyphs in a Chinese document).
        initialFontName=font, initialFontSize=10.5,
    )

    def _footer(canvas, doc_):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#666666"))
        text = f"{footer}    第 {doc_.page} 页" if footer else f"第 {doc_.page} 页"
        canvas.drawCentredString(A4[0] / 2, 10 * mm, text)
        canvas.restoreState()

    doc.build(list(flowables), onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()


def simple_pdf(title: str, blocks: Iterable, *, subtitle: str = "", footer: str = "") -> bytes:
    """A document: a centred title, an optional subtitle, then blocks — strings become paragraphs,
    ("h", text) a heading, lists of rows a table, anything else is taken as a flowable."""
    flow: list = [para(title, "title")]
    if subtitle:
        flow.append(para(subtitle, "subtitle"))
    for block in blocks:
        if isinstance(block, str):
            flow.append(para(block))
        elif isinstance(block, tuple) and len(block) == 2 and block[0] == "h":
            flow.append(para(block[1], "heading"))
        elif isinstance(block, list):
            flow.append(table(block))
        else:
            flow.append(block)
        flow.append(Spacer(1, 2 * mm))
    return document(flow, title=title, footer=footer)
