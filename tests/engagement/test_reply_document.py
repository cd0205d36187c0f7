"""The seed is the test case: proposal 214036 entered through the services gives the seed's reply
document — its text and the GB/T 9704-2012 layout elements — as DOCX (read back with python-docx)
and PDF (text read with pypdf; the fonts embedded)."""

from __future__ import annotations

import io
import re

import pytest

from bianmin.engagement import seed_proposal as SEED

SEED_LINES = [
    "福州市行政（市民）服务中心管理委员会文件",
    "榕行政〔2021〕18号",
    "签发人：孙春影",
    "办理结果：B类",
    "关于市政协十三届五次会议 214036号提案的答复",
    "黄文真委员：",
    "《关于进一步优化福州营商环境的建议》（211023）收悉。现答复如下：",
    "一、工作情况",
    "（一）乡镇（街道）便民服务中心建设",
    "二是倾听企业意见建议。每季度召开人大代表、政协委员和企业、市民代表座谈会，倾听办事服务意见建议，了解市民办事服务需求，"
    "及时整改存在的问题，进一步提升我市政务服务能力。",
    "二、下一步工作安排",
    "再次感谢您对我市政务服务工作的关心与支持，我们将持续推进基层政务服务建设工作，为办事群众提供更舒心、便捷的服务，"
    "为福州创造更好的营商环境。",
    "领导署名：林蔡仁",
    "联系人：陈伟宏",
    "联系电话：87526763",
    "福州市行政（市民）服务中心管理委员会",
    "2021年4月24日",
    "（此件依申请公开）",
]
TABLE_LINES = [
    "市政协提案建议采纳情况及实施安排表",
    "承办单位负责人（签字、盖章）：",
    "填报时间：2021年4月24日",
]


@pytest.fixture
def reply(people, areas):
    from bianmin.engagement.demo import enter_seed_proposal

    return enter_seed_proposal(handler=people["handler"], leader=people["leader"], area=areas["350100000000"],
                               rate=False)


def _seed_text() -> str:
    """The seed's reply as the test's oracle: the document part of the seed file, copied here
    verbatim (tests do not read /work/shared)."""
    return "\n".join(SEED_LINES)


def test_docx_has_the_seeds_text_in_order(reply):
    from docx import Document

    from bianmin.engagement.documents import reply_docx

    d = Document(io.BytesIO(reply_docx(reply)))
    texts = [p.text.strip() for p in d.paragraphs if p.text.strip()]
    header = [t.replace("\t", "|") for t in texts]
    assert "榕行政〔2021〕18号|签发人：孙春影" in header
    flat = [t for line in header for t in line.split("|")]
    positions = [flat.index(line) for line in SEED_LINES]
    assert positions == sorted(positions), "the document's parts are in the seed's order"
    # every paragraph of the seed's body, as written, and the 版记
    body = SEED.BODY.splitlines()
    for line in body:
        assert line in flat
    assert flat.index(body[0]) < flat.index(body[-1]) < flat.index("领导署名：林蔡仁")
    assert "福州市行政（市民）服务中心管委会" in flat and "2021年4月24日印发" in flat
    assert flat.index("（此件依申请公开）") < flat.index("2021年4月24日印发") < flat.index(TABLE_LINES[0])


def test_docx_layout_follows_gbt9704(reply):
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt, RGBColor

    from bianmin.engagement.documents import reply_docx

    d = Document(io.BytesIO(reply_docx(reply)))
    s = d.sections[0]
    assert (round(s.page_width.mm), round(s.page_height.mm)) == (210, 297)
    assert [round(x.mm) for x in (s.top_margin, s.bottom_margin, s.left_margin, s.right_margin)] == [37, 35, 28, 26]
    by_text = {p.text.strip(): p for p in d.paragraphs if p.text.strip()}
    mark = by_text["福州市行政（市民）服务中心管理委员会文件"]
    assert mark.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert mark.runs[0].font.color.rgb == RGBColor(0xE6, 0x00, 0x12)
    assert mark.runs[0].font.name == "方正小标宋简体"
    # the red separator under 发文字号 and 签发人
    header = by_text["榕行政〔2021〕18号\t签发人：孙春影"]
    bottom = header._p.pPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pBdr")[0]
    assert bottom.tag.endswith("bottom") and bottom.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}color") == "E60012"
    title = by_text["关于市政协十三届五次会议 214036号提案的答复"]
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER and title.runs[0].font.size == Pt(22)
    addressee = by_text["黄文真委员："]
    assert not addressee.paragraph_format.first_line_indent
    body = by_text[SEED.BODY.splitlines()[0]]
    assert body.paragraph_format.first_line_indent == Pt(32) and body.runs[0].font.size == Pt(16)
    assert by_text["一、工作情况"].runs[0].font.name == "黑体"
    assert by_text["（一）乡镇（街道）便民服务中心建设"].runs[0].font.name == "楷体_GB2312"
    assert by_text["福州市行政（市民）服务中心管理委员会"].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    date = by_text["2021年4月24日"]
    assert date.alignment == WD_ALIGN_PARAGRAPH.RIGHT and date.paragraph_format.right_indent == Pt(64)
    assert by_text["（此件依申请公开）"].paragraph_format.first_line_indent == Pt(32)
    record = by_text["福州市行政（市民）服务中心管委会\t2021年4月24日印发"]
    borders = [b.tag.rsplit("}", 1)[1] for b in record._p.pPr.find(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pBdr")]
    assert borders == ["top", "bottom"]
    # page numbers in the footers, odd on the right and even on the left
    assert "PAGE" in s.footer._element.xml and "PAGE" in s.even_page_footer._element.xml
    assert d.sections[1].start_type == 2  # the table starts a new page
    assert Mm(156) - 1000 < s.page_width - s.left_margin - s.right_margin < Mm(156) + 1000


def test_docx_table_is_the_seeds_adoption_table(reply):
    from docx import Document

    from bianmin.engagement.documents import reply_docx

    d = Document(io.BytesIO(reply_docx(reply)))
    texts = [p.text.strip() for p in d.paragraphs]
    assert TABLE_LINES[0] in texts and "承办单位负责人（签字、盖章）：\t填报时间：2021年4月24日" in texts
    (table,) = d.tables
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["提案名称", "提案名称", "提案编号", "提案委员姓名或单位名称", "承办单位"]  # the name spans two columns
    assert rows[1][1:] == ["关于进一步优化福州营商环境的建议", "214036号", "黄文真", "福州市行政（市民）服务中心管委会"]
    assert rows[2][:4] == ["提案建议采纳情况及实施安排", "建议内容", "采纳情况", "实施计划及进度安排"]
    assert rows[3][1:3] == ["建议3", "采纳"]
    plan = table.rows[3].cells[3].paragraphs
    assert [p.text for p in plan] == [
        "1. 全面应用一体化平台。在各乡镇（街道）、村居（社区）全面上线试运行政务服务管理平台，除涉密事项外，所有乡镇（街道）、"
        "村居（社区）事项均通过政务服务管理平台统一办理。 完成时限：2021年6月1日前乡镇（街道）全面应用；9月1日前村居（社区）全面应用。",
        "2. 规范事项和部门“应进必进”。指导各县（市）区、高新区全面规范各乡镇（街道）便民服务中心、村居（社区）便民服务代办点服务事项"
        "和实施主体单位进驻情况，原则上，除涉密事项外所有乡镇（街道）、村居（社区）事项均应进驻乡镇（街道）便民服务中心、村居（社区）"
        "便民服务代办点，凡与企业 and 群众密切相关的实施主体单位均应分级进驻乡镇（街道）便民服务中心、村居（社区）便民服务代办点办理。"
        " 完成时限：持续推进",
        "3. 建立健全办事“好差评”评价体系。指导各县（市）区、高新区充分利用政务服务管理平台提供的扫码评价和短信评价功能，主动宣传、"
        "引导办事群众参与办事评价。有条件的乡镇（街道）和村居（社区），应在办事窗口设置评价器，主动引导办事群众事后现场评价。"
        " 完成时限：持续推进",
        "4. 畅通民意诉求反馈渠道。指导各县（市）区、高新区乡镇（街道）、村居（社区）均应在办事大厅统一设置诉求接待室、咨询电话、监督"
        "投诉电话、电子邮箱及意见箱，对办事群众开放各类诉求反馈渠道。建立回访工作制度，采取上门回访、电话回访、问卷调查等方式，"
        "定期组织民意诉求征集活动。",
    ]
    assert rows[4][:4] == ["承办单位对提案质量的评价", "优 ✓", "良", "一般"]
    assert rows[5][1:] == ["办理态度", "满意", "基本满意", "不满意"]
    assert rows[6][1:] == ["办理结果", "满意", "基本满意", "不满意"]
    assert rows[3][0] == rows[2][0]  # 提案建议采纳情况及实施安排 spans its rows
    assert texts[-2].startswith("注：1. “采纳情况”请填写是否采纳提案建议")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_has_the_seeds_text_and_embeds_its_font(reply):
    from pypdf import PdfReader

    from bianmin.engagement.documents import reply_pdf

    data = reply_pdf(reply)
    reader = PdfReader(io.BytesIO(data))
    assert round(float(reader.pages[0].mediabox.width) / 72 * 25.4) == 210
    text = re.sub(r"\s+", "", _pdf_text(data))
    assert "—1—" in text and "—2—" in text  # page numbers; a paragraph running over a page has one inside it
    text = re.sub(r"—\d+—", "", text)
    for line in SEED_LINES + TABLE_LINES + ["214036号", "建议3", "采纳", "优✓", "2021年4月24日印发"]:
        assert re.sub(r"\s+", "", line) in text, line
    for line in SEED.BODY.splitlines():
        assert re.sub(r"\s+", "", line) in text, line[:20]
    fonts = set()
    for page in reader.pages:
        for f in page["/Resources"]["/Font"].values():
            f = f.get_object()
            descendant = f["/DescendantFonts"][0].get_object() if "/DescendantFonts" in f else f
            desc = descendant.get("/FontDescriptor")
            fonts.add((str(f["/BaseFont"]), bool(desc and any(k in desc.get_object() for k in
                                                                ("/FontFile", "/FontFile2", "/FontFile3")))))
    assert fonts and all(embedded for _name, embedded in fonts), fonts


def test_a_draft_cannot_be_signed_by_its_drafter_and_a_signed_reply_never_changes(people, areas):
    from bianmin.core.errors import Conflict, Forbidden
    from bianmin.engagement import services
    from bianmin.engagement.demo import enter_seed_proposal

    reply = enter_seed_proposal(handler=people["handler"], leader=people["leader"], area=areas["350100000000"],
                                rate=False)
    with pytest.raises(Conflict):
        services.reply_draft(actor=people["handler"], assignment_id=reply.assignment_id, body="改")
    p = services.proposal_intake(actor=people["handler"], area=areas["350100000000"], **{**SEED.PROPOSAL, "number": "1"})
    (a,) = services.proposal_assign(actor=people["handler"], proposal_id=p.pk, assigned_on=SEED.ASSIGNED_ON,
                                    units=[{"role": "lead", "area": areas["350100000000"], "unit_name": "管委会"}])
    r = services.reply_draft(actor=people["handler"], assignment_id=a.pk, result_class="B", body=SEED.BODY,
                             suggestions=SEED.SUGGESTIONS, **SEED.REPLY)
    with pytest.raises(Forbidden) as exc:
        services.reply_sign(actor=people["handler"], reply_id=r.pk)
    assert exc.value.message == "拟稿人不能签发自己起草的答复"
