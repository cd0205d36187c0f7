"""The shared PDF renderer embeds a Chinese TrueType font, so Chinese shows on any reader."""

import re

from bianmin.core import pdf


def _font_objects(data: bytes) -> list[bytes]:
    return re.findall(rb"/BaseFont\s*/([A-Za-z0-9+_-]+)", data)


def test_pdf_embeds_the_cjk_font_file():
    data = pdf.simple_pdf("业务卷宗", ["受理编号：测试-001", ("h", "材料清单"), [["序号", "材料"], ["1", "身份证复印件"]]])
    assert data.startswith(b"%PDF")
    # An embedded TrueType font carries a FontFile2 stream; STSong-Light (not embedded) would not.
    assert b"/FontFile2" in data
    names = _font_objects(data)
    assert names, "the PDF declares fonts"
    assert not any(b"STSong" in n for n in names)
    # Subset font names are 6 capital letters + '+' + the face name.
    assert any(re.match(rb"[A-Z]{6}\+", n) for n in names)


def test_pdf_declares_no_font_without_chinese_glyphs():
    data = pdf.simple_pdf("办件", ["群众满意"], footer="便民")
    # Body, headings and the page footer all draw with the embedded font: no base-14 font
    # (Helvetica has no Chinese glyphs) and no unembedded CID font is declared.
    names = _font_objects(data)
    assert names and all(b"WenQuanYi" in n for n in names), names


def test_user_text_is_escaped_not_markup():
    # A name with markup characters must render literally, not break the paragraph parser.
    data = pdf.simple_pdf("标题<b>", ["<font name='x'>张三 & 李四</font>"])
    assert data.startswith(b"%PDF")


def test_font_file_ships_inside_the_package():
    assert pdf.FONT_FILE.exists()
    assert pdf.FONT_FILE.is_relative_to(pdf.Path(pdf.__file__).parent)


def test_tables_declare_no_font_without_chinese_glyphs():
    # A Table sets its style's font on the canvas even when every cell is a paragraph.
    data = pdf.simple_pdf("整改通知", [pdf.key_values([("通知编号", "ZGTZ1")]), [["序号", "材料"], ["1", "身份证"]]])
    names = _font_objects(data)
    assert names and all(b"WenQuanYi" in n for n in names), names
