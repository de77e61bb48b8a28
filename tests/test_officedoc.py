"""The shared official-document format (GB/T 9704-2012), read back with python-docx."""
from __future__ import annotations

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from lxml import etree

from officedoc import OfficialDocument

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _ea(rpr) -> str | None:
    rfonts = rpr.find(f"{W}rFonts") if rpr is not None else None
    return rfonts.get(f"{W}eastAsia") if rfonts is not None else None


def _sample(path):
    doc = OfficialDocument()
    doc.title("安徽省知识产权舆情周报")
    doc.heading("一、本期舆情概况")
    doc.paragraph("本期共监测到相关信息1,234条。")
    doc.heading("（一）负面舆情", 2)
    doc.labelled("【基本案情】", "正文。")
    doc.table(["地区", "条数"], [["合肥", 12], ["芜湖", 3]])
    doc.signature("安徽省知识产权局", "2026年11月25日")
    return docx.Document(str(doc.save(path)))


def test_page_and_margins(tmp_path):
    s = _sample(tmp_path / "a.docx").sections[0]
    assert (round(s.page_width.mm, 1), round(s.page_height.mm, 1)) == (210.0, 297.0)
    assert [round(x.mm, 1) for x in (s.top_margin, s.bottom_margin, s.left_margin, s.right_margin)] == \
           [37.0, 35.0, 28.0, 26.0]


def test_styles_fonts_sizes_and_language(tmp_path):
    d = _sample(tmp_path / "a.docx")
    expected = {"Title": ("方正小标宋简体", 22), "Normal": ("仿宋_GB2312", 16), "Heading 1": ("黑体", 16),
                "Heading 2": ("楷体_GB2312", 16)}
    for name, (font, size) in expected.items():
        st = d.styles[name]
        assert (_ea(st.element.rPr), st.font.size.pt) == (font, size), name
        rfonts = st.element.rPr.find(f"{W}rFonts")
        assert rfonts.get(f"{W}eastAsiaTheme") is None and rfonts.get(f"{W}asciiTheme") is None
    assert d.styles["Heading 1"].font.color.rgb == docx.shared.RGBColor(0, 0, 0)
    for style in d.styles.element.findall(f"{W}style"):
        if style.get(f"{W}type") != "numbering":
            assert _ea(style.find(f"{W}rPr")), style.get(f"{W}styleId")
    lang = d.styles.element.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
    assert lang.get(f"{W}eastAsia") == "zh-CN"


def test_every_run_has_an_east_asian_font_matching_its_role(tmp_path):
    d = _sample(tmp_path / "a.docx")
    runs = list(d.element.body.iter(f"{W}r"))
    assert runs and all(_ea(r.find(f"{W}rPr")) for r in runs)
    by_text = {p.text: p for p in d.paragraphs}
    assert _ea(by_text["一、本期舆情概况"].runs[0]._element.rPr) == "黑体"
    assert _ea(by_text["（一）负面舆情"].runs[0]._element.rPr) == "楷体_GB2312"
    labelled = by_text["【基本案情】正文。"].runs
    assert [(r.text, _ea(r._element.rPr)) for r in labelled] == [("【基本案情】", "黑体"), ("正文。", "仿宋_GB2312")]
    body = by_text["本期共监测到相关信息1,234条。"]
    assert body.paragraph_format.first_line_indent == Pt(32)


def test_page_numbers_odd_right_even_left(tmp_path):
    d = _sample(tmp_path / "a.docx")
    assert d.settings.odd_and_even_pages_header_footer is True
    s = d.sections[0]
    for footer, align in ((s.footer, WD_ALIGN_PARAGRAPH.RIGHT), (s.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        p = footer.paragraphs[0]
        assert p.alignment == align
        xml = p._element.xml
        assert "PAGE" in xml and 'w:fldCharType="begin"' in xml
        assert p.text.startswith("— ") and p.text.endswith(" —")
        assert all(_ea(r._element.rPr) == "宋体" and r.font.size == Pt(14) for r in p.runs)


def test_table_header_repeats_and_rows_do_not_split(tmp_path):
    t = _sample(tmp_path / "a.docx").tables[0]
    assert [c.text for c in t.rows[0].cells] == ["地区", "条数"]
    assert [c.text for c in t.rows[2].cells] == ["芜湖", "3"]
    assert t.rows[0]._tr.trPr.find(f"{W}tblHeader") is not None
    assert all(r._tr.trPr.find(f"{W}cantSplit") is not None for r in t.rows)
    assert all(r._tr.trPr.find(f"{W}tblHeader") is None for r in t.rows[1:])
    assert _ea(t.rows[0].cells[0].paragraphs[0].runs[0]._element.rPr) == "黑体"


def test_font_table_declares_fallbacks(tmp_path):
    path = tmp_path / "a.docx"
    d = _sample(path)
    part = next(p for p in d.part.package.iter_parts() if p.partname == "/word/fontTable.xml")
    fonts = {f.get(f"{W}name"): f for f in etree.fromstring(part.blob).findall(f"{W}font")}
    alt = {n: f.find(f"{W}altName").get(f"{W}val") for n, f in fonts.items() if f.find(f"{W}altName") is not None}
    assert alt["方正小标宋简体"] == "宋体" and alt["仿宋_GB2312"] == "仿宋" and alt["楷体_GB2312"] == "楷体"
    assert "黑体" in fonts


@pytest.mark.parametrize("text,kept", [
    ("含<尖括号>与&符号", "含<尖括号>与&符号"),
    ("控制字符\x01\x0b被去掉", "控制字符被去掉"),
    ("emoji 😀 与繁體字", "emoji 😀 与繁體字"),
])
def test_any_editor_text_survives(tmp_path, text, kept):
    doc = OfficialDocument()
    doc.paragraph(text)
    d = docx.Document(str(doc.save(tmp_path / "t.docx")))
    assert d.paragraphs[-1].text == kept


def test_template_styles_are_respected(tmp_path):
    """Staff restyle a template in Word; documents built on it take their fonts from its styles."""
    base = OfficialDocument()
    base.document.styles["Title"].element.rPr.find(f"{W}rFonts").set(f"{W}eastAsia", "华文中宋")
    base.paragraph("模板里的示例文字")
    template = base.save(tmp_path / "template.docx")
    doc = OfficialDocument(template=template)
    doc.title("新标题")
    d = docx.Document(str(doc.save(tmp_path / "from_template.docx")))
    assert [p.text for p in d.paragraphs] == ["新标题"]
    assert _ea(d.paragraphs[0].runs[0]._element.rPr) == "华文中宋"
    assert round(d.sections[0].top_margin.mm) == 37


def test_file_properties_describe_the_document_not_python_docx(tmp_path):
    """Word's File → Info: the document's own title and issuer, made now; nothing from python-docx's template."""
    from datetime import datetime, timedelta, timezone
    import zipfile
    before = datetime.now(timezone.utc).replace(microsecond=0)
    path = tmp_path / "a.docx"
    _sample(path)
    cp = docx.Document(str(path)).core_properties
    assert cp.title == "安徽省知识产权舆情周报" and cp.author == "安徽省知识产权局"
    assert "python-docx" not in f"{cp.author}{cp.comments}{cp.last_modified_by}{cp.subject}{cp.keywords}"
    for when in (cp.created.replace(tzinfo=timezone.utc), cp.modified.replace(tzinfo=timezone.utc)):
        assert before - timedelta(seconds=1) <= when <= before + timedelta(minutes=5)
    assert not any("thumbnail" in n for n in zipfile.ZipFile(path).namelist())
    # without a title or signature the properties stay empty; properties() overrides both
    doc = OfficialDocument()
    doc.paragraph("正文")
    blank = docx.Document(str(doc.save(tmp_path / "b.docx"))).core_properties
    assert (blank.title, blank.author) == ("", "")
    doc.properties(title="另一个标题", author="合肥市市场监督管理局")
    named = docx.Document(str(doc.save(tmp_path / "c.docx"))).core_properties
    assert (named.title, named.author) == ("另一个标题", "合肥市市场监督管理局")
