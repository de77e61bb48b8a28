"""The briefing as a Word file: read back with python-docx, and rendered by LibreOffice where installed."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import docx
import pytest
from docx.shared import Pt

from briefing import build as B
from briefing import docx as D
from briefing.period import day, week
from monitor import queries
from monitor.store import Store
from tests.test_briefing_build import SOURCES, WEEK, at, seed

ROOT = Path(__file__).resolve().parent.parent
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WEEKLY_HEADINGS = ["一、本期舆情概况", "二、数据统计", "三、热点事件", "四、负面舆情及处置", "五、正面宣传与成效",
                   "六、典型案例", "七、研判与建议", "八、下期关注", "附：采集情况"]
NOW = at(WEEK + timedelta(days=9), 10)
# Staff may type or paste anything: XML specials, quotes, emoji, tabs, blank lines, CRLF, a very
# long line, and characters XML cannot hold at all (dropped, and only those).
EDIT = ('研判：A&B <b>加粗?</b> "引号" \'单引号\' ]]> &amp; 😀🇨🇳\t制表符\r\n\r\n第三行 {{ tag }} {% if %}\n'
        + "很长的一段" * 2000 + "\x01\x0b\x1f\ud800尾")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return seed(tmp_path_factory.mktemp("briefing_docx") / "opinion.db")


@pytest.fixture(scope="module")
def weekly(db, tmp_path_factory):
    with Store(db, readonly=True) as s:
        data = B.build(s, week("2026-W46", NOW.date()), sources=SOURCES, now=NOW, number=7,
                       edits={"assessment": EDIT})
        expected = queries.period_overview(s, WEEK, WEEK + timedelta(days=6), NOW)
    path = tmp_path_factory.mktemp("out") / "weekly.docx"
    path.write_bytes(D.render(data))
    return data, expected, path, docx.Document(str(path))


def texts(d) -> list[str]:
    return [p.text for p in d.paragraphs]


def headings(d, level: int = 1) -> list[str]:
    return [p.text for p in d.paragraphs if p.style.name == f"Heading {level}"]


def ea(el) -> str | None:
    rpr = el.find(f"{W}rPr")
    rfonts = rpr.find(f"{W}rFonts") if rpr is not None else None
    return rfonts.get(f"{W}eastAsia") if rfonts is not None else None


def test_weekly_sections_in_order_with_the_header_block(weekly):
    data, _, _, d = weekly
    assert headings(d) == WEEKLY_HEADINGS
    t = texts(d)
    assert t[0] == "内部资料　注意保存"
    assert t[1] == "知识产权舆情周报" and d.paragraphs[1].style.name == "Title"
    assert t[2] == "2026年第7期"
    assert t[3].startswith("编制单位：安徽省知识产权局\t编制日期：2026年11月18日")
    assert t[4] == "统计时段：2026年11月9日至11月15日"
    assert "w:pBdr" in d.paragraphs[3]._p.xml  # the red rule under the header


def test_numbers_equal_the_queries(weekly):
    data, ov, _, d = weekly
    body = "\n".join(texts(d))
    assert f"本期共监测到知识产权相关信息{ov['total']}条" in body
    assert f"负面{ov['negative']}条，负面占比{ov['negative_share']:.1%}" in body
    polarity = d.tables[0]
    rows = [[c.text for c in r.cells] for r in polarity.rows]
    assert rows[0] == ["倾向", "信息量（条）", "占比"]
    assert rows[1:] == [["正面", str(ov["polarity"]["positive"]), f"{ov['polarity']['positive'] / ov['total']:.1%}"],
                        ["中性", str(ov["polarity"]["neutral"]), f"{ov['polarity']['neutral'] / ov['total']:.1%}"],
                        ["负面", str(ov["negative"]), f"{ov['negative'] / ov['total']:.1%}"],
                        ["合计", str(ov["total"]), "100.0%"]]
    # hot events as 楷体 second-level headings, in the ranking's order, with their reach
    assert headings(d, 2)[4:4 + len(data.stories)] == [f"（{D.cn_index(i)}）{s.title}"
                                                       for i, s in enumerate(data.stories, 1)]
    assert f"报道{data.stories[0].items}条，来源{data.stories[0].sources}个" in body
    tables = d.tables
    n = next(i for i, t in enumerate(tables) if t.rows[0].cells[1].text == "事件及摘要")
    whole = lambda t: [r._tr.trPr.find(f"{W}cantSplit") is not None for r in t.rows]  # noqa: E731
    assert whole(tables[n]) == [True] + [False] * (len(tables[n].rows) - 1)
    assert all(all(whole(t)) for i, t in enumerate(tables) if i != n)
    # table text is off the 28.95 pt line grid, or every table line takes a body line's height
    snap = d.styles["Table Text"].element.pPr.find(f"{W}snapToGrid")
    assert snap is not None and snap.get(f"{W}val") == "0"


def test_empty_period_is_a_valid_briefing_that_says_so(db):
    with Store(db, readonly=True) as s:
        data = B.build(s, week("2026-W30", NOW.date()), sources=SOURCES, now=NOW)
    d = docx.Document(io.BytesIO(D.render(data)))
    assert headings(d) == WEEKLY_HEADINGS
    body = "\n".join(texts(d))
    for phrase in ("未监测到知识产权相关舆情信息", "本期无数据，不作统计。", "无热点事件", "本期未发现负面舆情",
                   "本期没有审核通过或发布的典型案例", "本期无可供研判的数据", "没有任何采集运行记录"):
        assert phrase in body, phrase
    assert "2026年第__期" in body  # not issued: the number is left blank, not invented
    assert len(d.inline_shapes) == 0


def test_daily_structure(db):
    with Store(db, readonly=True) as s:
        daily = B.build(s, day((WEEK + timedelta(days=1)).isoformat(), NOW.date()), sources=SOURCES, now=NOW)
    d = docx.Document(io.BytesIO(D.render(daily)))
    assert headings(d) == ["一、舆情概况", "二、需关注的负面信息", "三、重点信息", "四、研判与建议", "附：采集情况"]
    assert texts(d)[1] == "知识产权舆情日报"
    assert daily.overview["total"] == 2 and "本期共监测到知识产权相关信息2条" in "\n".join(texts(d))


def test_template_restyled_in_word_flows_through(db, tmp_path):
    with Store(db, readonly=True) as s:  # an empty week: no charts to draw, the styles are the point
        data = B.build(s, week("2026-W30", NOW.date()), sources=SOURCES, now=NOW)
    shipped = ROOT / "data" / "templates" / "briefing.docx"
    assert shipped.exists(), "run: python -m briefing template"
    tpl = docx.Document(str(shipped))
    assert not tpl.paragraphs or all(not p.text for p in tpl.paragraphs)
    assert ea(tpl.styles["Normal"].element) == "仿宋_GB2312"
    # A member of staff changes the body size and heading font in Word and saves the template.
    tpl.styles["Normal"].font.size = Pt(15)
    tpl.styles["Heading 1"].element.rPr.rFonts.set(f"{W}eastAsia", "方正黑体_GBK")
    custom = tmp_path / "custom.docx"
    tpl.save(str(custom))
    d = docx.Document(io.BytesIO(D.render(data, template=custom)))
    assert d.styles["Normal"].font.size == Pt(15)
    assert {ea(r._element) for p in d.paragraphs if p.style.name == "Heading 1" for r in p.runs} == {"方正黑体_GBK"}
    assert headings(d) == WEEKLY_HEADINGS
    assert d.sections[0].footer.paragraphs[0].text.startswith("— ")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} not installed (Debian: libreoffice-writer-nogui, poppler-utils); render check skipped")
    return path


def test_renders_to_pdf_and_png_with_visible_pages(weekly, tmp_path):
    soffice, pdftoppm = _tool("soffice"), _tool("pdftoppm")
    from PIL import Image
    _, _, path, _ = weekly
    env = dict(os.environ, HOME=str(tmp_path))  # a private LibreOffice profile
    fonts = ROOT / "data" / "fonts.conf"
    if fonts.exists():
        env["FONTCONFIG_FILE"] = str(fonts)
    done = subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                          env=env, capture_output=True, text=True, timeout=180)
    pdf = tmp_path / "weekly.pdf"
    assert pdf.exists(), done.stderr
    subprocess.run([pdftoppm, "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3
    for page in pages:
        gray = Image.open(page).convert("L")
        dark = sum(gray.histogram()[:160])
        assert dark / (gray.width * gray.height) > 0.003, f"{page.name} looks blank"
    if shutil.which("pdffonts"):
        listed = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, timeout=60).stdout
        assert "CJK" in listed  # Chinese glyphs came from a CJK face, not boxes


def test_file_properties_name_the_briefing_and_its_unit(weekly):
    data, _, _, d = weekly
    cp = d.core_properties
    assert cp.title == "知识产权舆情周报 2026年第7期" and cp.author == data.unit == "安徽省知识产权局"
    assert cp.created.year >= 2026 and "python-docx" not in (cp.comments or "")


CELL_MARGINS_MM = 2 * 108 / 1440 * 25.4     # Word's default cell margins, left + right
FULL_WIDTH = set("（）「」『』、，。：；！？—…")


def _text_mm(line: str, size_pt: float = 14) -> float:
    """Width of one line of 4号 table text: Chinese and full-width characters 1 em, digits 0.5 em, other
    Latin characters at most 0.6 em (DejaVu Serif, which LibreOffice substitutes, is wider than Times)."""
    em = sum(1.0 if ord(ch) >= 0x2E80 or ch in FULL_WIDTH else 0.5 if ch.isdigit() else 0.6 for ch in line)
    return em * size_pt / 72 * 25.4


def _fits(line: str, width_mm: float) -> bool:
    return _text_mm(line) + CELL_MARGINS_MM <= width_mm + 0.01


def test_table_columns_hold_numbers_headers_and_states_on_one_line(weekly):
    """QA: in the negative-events table 序号 20+ broke in two, 负面条数 stood one character per line, 待研判
    wrapped. Every header line, number, date line, time and state must fit its column; only running text
    (titles, gists, source names, errors) may wrap."""
    import re
    from monitor import handling
    data, _, _, d = weekly
    short = {*handling.STATES.values(), *(v for v in B.STATUS_LABELS.values() if len(v) <= 5), "未记录", "—"}
    keep = re.compile(r"^(\d+|\d+月\d+日|\d{1,2}:\d\d|\d+(\.\d+)?%)$")
    tables = d.tables
    assert len(tables) == 5                      # polarity, platforms, negatives, own releases, collection
    for t in tables:
        widths = [c.width.mm for c in t.columns]
        assert abs(sum(widths) - 156) < 0.5
        for r, row in enumerate(t.rows):
            for c, cell in enumerate(row.cells):
                for line in cell.text.split("\n"):
                    if r == 0 or keep.match(line) or line in short:
                        assert _fits(line, widths[c]), (t.rows[0].cells[c].text, line, round(widths[c], 1))
    neg = next(t for t in tables if t.rows[0].cells[1].text == "事件及摘要")
    widths = [c.width.mm for c in neg.columns]
    assert _fits(str(B.MAX_LISTED), widths[0])  # the list goes up to 30 rows
    assert all(_fits(s, widths[-1]) for s in handling.STATES.values())
    assert _fits("12月31日", widths[2]) and _fits("23:59", widths[2])
    assert widths[1] >= 65                       # the event text keeps most of the width
    wuhu = next(r for r in neg.rows if r.cells[1].text.startswith("芜湖企业"))
    assert wuhu.cells[-1].text == "已交办\n芜湖市知识产权局"
