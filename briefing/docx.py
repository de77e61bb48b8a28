"""BriefingData → .docx bytes, in the official-document format of `officedoc`.

Styles, page setup and page numbers come from the template staff can restyle
in Word (data/templates/briefing.docx, made by `python -m briefing template`);
without it, from officedoc's built-in GB/T 9704 setup. The few things officedoc
does not offer (a picture, the red rule under the header, a line with text at
both margins) are small adapters here that keep w:eastAsia on every run.
"""
from __future__ import annotations

import io
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, RGBColor

from briefing import charts
from briefing.build import PLATFORM_LABELS, STATUS_LABELS, BriefingData, Story
from briefing.period import cn_date
from casebook.models import channel_label, ip_label
from monitor.settings import DATA_DIR
from officedoc import OfficialDocument, set_run_font

TEMPLATE = DATA_DIR / "templates" / "briefing.docx"
RED = RGBColor(0xC0, 0x00, 0x00)
TEXT_WIDTH = Mm(210 - 28 - 26)
CHART_WIDTH = Mm(150)
CN_NUMBERS = "一二三四五六七八九十"


def cn_index(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (enough for headings)."""
    if n <= 10:
        return CN_NUMBERS[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_NUMBERS[tens - 1]) + "十" + (CN_NUMBERS[ones - 1] if ones else "")


# -- adapters over officedoc ----------------------------------------------------------

def _add_run(doc: OfficialDocument, paragraph, text: str = "", font: str | None = None):
    run = paragraph.add_run(text)
    set_run_font(run, font or doc.style_font(paragraph.style.name))
    return run


def picture(doc: OfficialDocument, png: bytes, width=CHART_WIDTH):
    """A centred picture in its own paragraph."""
    p = doc.paragraph("", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE  # exact spacing would crop it in Word
    _add_run(doc, p).add_picture(io.BytesIO(png), width=width)
    return p


def red_rule(paragraph, color: str = "C00000") -> None:
    """A red line under the paragraph (the 版头 separator)."""
    ppr = paragraph._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", color)):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.insert_element_before(bdr, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                              "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
                              "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                              "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
                              "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
                              "w:rPr", "w:sectPr", "w:pPrChange")


def both_sides(doc: OfficialDocument, left: str, right: str):
    """One line with `left` at the left margin and `right` at the right margin."""
    p = doc.paragraph(left, indent=False)
    p.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH - Mm(1), WD_TAB_ALIGNMENT.RIGHT)
    _add_run(doc, p, "\t" + right)
    return p


def table(doc: OfficialDocument, header: list[str], rows: list[list], widths_mm: list[float],
          left: tuple[int, ...] = (), split_rows: bool = False):
    """officedoc's table with column widths summing to the text width (else Word squeezes them evenly);
    columns in `left` (running text) are aligned left instead of centred."""
    scale = TEXT_WIDTH.mm / sum(widths_mm)
    widths = [Mm(w * scale) for w in widths_mm]
    t = doc.table(header, rows, widths=widths, split_rows=split_rows)
    t.autofit = False
    for col, w in zip(t.columns, widths):
        col.width = w  # the grid: LibreOffice lays out by it, Word by the cell widths
    for row in t.rows[1:]:
        for c in left:
            for p in row.cells[c].paragraphs:
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    return t


def lines(doc: OfficialDocument, text: str) -> None:
    """Staff's text, one body paragraph per line (blank lines kept as empty paragraphs)."""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        doc.paragraph(line)


# -- sections -------------------------------------------------------------------------

def _header(doc: OfficialDocument, data: BriefingData) -> None:
    doc.paragraph("内部资料　注意保存", indent=False, font="黑体")
    title = doc.title(data.title)
    for r in title.runs:
        r.font.color.rgb = RED
    doc.paragraph(data.issue_label, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    red_rule(both_sides(doc, f"编制单位：{data.unit}", f"编制日期：{cn_date(data.compiled_on)}"))
    doc.paragraph(f"统计时段：{data.period.describe()}", indent=False)
    if data.overview.get("sample"):
        doc.paragraph(f"说明：本期数据含示例数据{data.overview['sample']}条（随产品附带的真实公开报道，非本单位采集）。",
                      indent=False)


def _overview(doc: OfficialDocument, data: BriefingData, heading: str) -> None:
    doc.heading(heading)
    for line in data.facts["overview"]:
        doc.paragraph(line)
    lines(doc, data.texts["summary"])


def _stats(doc: OfficialDocument, data: BriefingData, heading: str) -> None:
    doc.heading(heading)
    if data.empty:
        doc.paragraph("本期无数据，不作统计。")
        return
    ov = data.overview
    doc.heading("（一）信息量与倾向走势", 2)
    for line in data.facts["trend"]:
        doc.paragraph(line)
    if data.period.kind != "daily":
        picture(doc, charts.to_png(charts.trend_chart(data.trend)))
    pol = ov["polarity"]
    table(doc, ["倾向", "信息量（条）", "占比"],
              [[label, pol.get(key, 0), f"{pol.get(key, 0) / ov['total']:.1%}"]
               for key, label in (("positive", "正面"), ("neutral", "中性"), ("negative", "负面"))]
              + [["合计", ov["total"], "100.0%"]], [1, 1, 1])
    doc.heading("（二）来源与平台", 2)
    for line in data.facts["sources"]:
        doc.paragraph(line)
    picture(doc, charts.to_png(charts.bar_chart(data.sources, "source", "主要信息来源", "来源")))
    table(doc, ["平台", "信息量（条）", "其中负面"],
          [[PLATFORM_LABELS.get(p, p), n, neg] for p, n, neg in
           zip(data.platforms["platform"], data.platforms["count"], data.platforms["negative"])], [1, 1, 1])
    doc.heading("（三）安徽各市分布", 2)
    for line in data.facts["cities"]:
        doc.paragraph(line)
    cities = data.cities[data.cities["count"] > 0]
    if not cities.empty:
        picture(doc, charts.to_png(charts.bar_chart(cities, "city", "安徽各市信息量", "城市")))
    doc.heading("（四）知识产权类型", 2)
    for line in data.facts["ip_types"]:
        doc.paragraph(line)
    types = data.ip_types[data.ip_types["count"] > 0]
    picture(doc, charts.to_png(charts.bar_chart(types, "ip_type", "知识产权类型分布", "类型")))


def _when(story: Story, sep: str = " ") -> str:
    t = story.first_at
    return f"{t.month}月{t.day}日{sep}{t:%H:%M}"


def _source_when(story: Story) -> str:
    """A table cell: the source, then the date and the time on lines of their own."""
    return "\n".join((story.first_source, _when(story, "\n")))


def _stories(doc: OfficialDocument, data: BriefingData, heading: str) -> None:
    doc.heading(heading)
    if not data.stories:
        for line in data.facts["stories"]:
            doc.paragraph(line)
        return
    for line in data.facts["stories"]:
        doc.paragraph(line[:-1] + f"（{data.story_method}）。" if line.endswith("。") else line)
    for i, s in enumerate(data.stories, 1):
        doc.heading(f"（{cn_index(i)}）{s.title}", 2)
        doc.labelled("【传播】", f"报道{s.items}条，来源{s.sources}个；首发：{s.first_source}，{_when(s)}。")
        doc.labelled("【摘要】", s.gist)


TABLE_GIST_CHARS = 40

# Column widths in mm over the 156 mm text width. Table text is 4号 (14 pt: a Chinese character is 4.94 mm,
# a digit 2.47 mm) and a cell loses 3.81 mm to its margins, so a column of n characters needs
# 4.94·n + 3.81 mm: 序号 and two-character header lines 15, four characters (无需处置, 处置状态) 25,
# a date line "11月27日" 24, a twelve-letter domain 31 (Times New Roman; LibreOffice without it substitutes
# the wider DejaVu Serif: ten letters). Headers too long for their column are set on two
# lines at a word boundary instead of wrapping wherever the width runs out; the event text takes the rest.
NEGATIVE_HEADER = ["序号", "事件及摘要", "首发来源\n及时间", "负面\n条数", "处置状态\n责任单位"]
NEGATIVE_WIDTHS = [15, 70, 31, 15, 25]
OWN_HEADER = ["序号", "发布信息", "发布渠道\n及时间", "转载量\n（条）", "转载来源\n（个）"]
OWN_WIDTHS = [15, 65, 31, 20, 25]
RUNS_HEADER = ["信息源", "状态", "运行\n次数", "失败\n次数", "本期信息\n（条）", "最近错误"]
RUNS_WIDTHS = [30, 29, 17, 17, 25, 38]


def _short(gist: str) -> str:
    text = gist.rstrip("…")
    return gist if len(text) <= TABLE_GIST_CHARS else text[:TABLE_GIST_CHARS] + "…"


def _negatives(doc: OfficialDocument, data: BriefingData, heading: str) -> None:
    doc.heading(heading)
    if not data.negatives:
        caveat = "" if data.coverage.complete else "（本期采集不完整，仅就已采集信息而言）"
        doc.paragraph(f"本期未发现负面舆情{caveat}。")
        return
    shown = len(data.negatives)
    more = f"，列出负面信息最多的{shown}个" if data.negatives_total > shown else ""
    doc.paragraph(f"本期涉及负面的事件{data.negatives_total}个（按首发时间计入本期）{more}。处置状态和责任单位"
                  "取自负面处置记录，尚未处置的为“待研判”。")
    for line in data.facts["handling"]:
        doc.paragraph(line)
    # Up to 30 tall rows: rows may split across pages (kept whole, each pushed the next to a new page and
    # left pages half blank), the event column gets most of the width, and the gist is shorter than the
    # 热点事件 section prints. Widths (see NEGATIVE_WIDTHS): numbers, headers and states fit on their lines.
    table(doc, NEGATIVE_HEADER,
          [[i, f"{s.title}\n{_short(s.gist)}", _source_when(s), s.negative_items,
            "\n".join(x for x in (s.handling or "未记录", s.unit) if x)] for i, s in enumerate(data.negatives, 1)],
          NEGATIVE_WIDTHS, left=(1,), split_rows=True)


def _publicity(doc: OfficialDocument, data: BriefingData, heading: str) -> None:
    doc.heading(heading)
    ov = data.overview
    doc.paragraph(f"本期监测到正面信息{ov['polarity'].get('positive', 0)}条。" if ov["total"]
                  else "本期无数据。")
    if not data.own_configured:
        doc.paragraph("信息源配置中没有标注本局自有渠道（own = true），无法统计本局发布信息的传播情况。")
        return
    if not data.own:
        doc.paragraph("本期未监测到本局自有渠道发布的信息。")
        return
    reach = sum(s.items - 1 for s in data.own)
    doc.paragraph(f"本局自有渠道发布信息{len(data.own)}条，被其他来源转载{reach}次。")
    table(doc, OWN_HEADER, [[i, s.title, _source_when(s), s.items - 1, s.sources]
                            for i, s in enumerate(data.own, 1)], OWN_WIDTHS, left=(1,))


def _cases(doc: OfficialDocument, data: BriefingData, heading: str) -> None:
    doc.heading(heading)
    if not data.cases:
        doc.paragraph("本期没有审核通过或发布的典型案例。")
        return
    doc.paragraph(f"本期审核通过或发布典型案例{len(data.cases)}件。")
    for i, c in enumerate(data.cases, 1):
        doc.heading(f"（{cn_index(i)}）{c['headline'] or c['title']}", 2)
        state = "已发布" if c["moved_to"] == "published" else "审核通过"
        meta = "；".join(x for x in (ip_label(c["ip_type"]) if c["ip_type"] else "",
                                    channel_label(c["channel"]) if c["channel"] else "",
                                    c["authority"], c["region"]) if x)
        doc.labelled("【状态】", f"{state}（{c['moved_at'][:10]}）{'；' + meta if meta else ''}。")
        if c["gist"]:
            doc.labelled("【要旨】", c["gist"])


def _text_section(doc: OfficialDocument, heading: str, text: str) -> None:
    doc.heading(heading)
    lines(doc, text)


def _appendix(doc: OfficialDocument, data: BriefingData) -> None:
    doc.heading("附：采集情况")
    cov = data.coverage
    doc.paragraph(cov.statement)
    if not cov.rows:
        return
    silent = [r.name for r in cov.rows if r.status == "silent"]
    if silent:
        doc.paragraph(f"本期未运行的信息源（{len(silent)}个）：{'、'.join(silent)}。")
    fine = [r for r in cov.rows if r.status in ("ok", "idle") and r.configured]
    if fine:
        idle = sum(r.status == "idle" for r in fine)
        doc.paragraph(f"正常采集的信息源{len(fine)}个" + (f"（其中{idle}个本期无新信息）" if idle else "") +
                      f"，本期共采集信息{sum(r.items for r in fine)}条。")
    ran = sorted((r for r in cov.rows if r.status not in ("silent", "ok", "idle") or not r.configured),
                 key=lambda r: (r.status not in ("failed", "partial"), r.name))
    if ran:
        table(doc, RUNS_HEADER,
              [[r.name + ("" if r.configured else "（未在配置中）"), STATUS_LABELS[r.status], r.runs, r.errors,
                r.items, (r.last_error[:60] or "—")] for r in ran], RUNS_WIDTHS, left=(0, 5))


def render(data: BriefingData, template: str | Path | None = TEMPLATE) -> bytes:
    """The briefing as .docx bytes."""
    use = Path(template) if template and Path(template).exists() else None
    doc = OfficialDocument(template=use)
    doc.properties(title=f"{data.title} {data.issue_label}", author=data.unit)  # File → Info in Word
    _header(doc, data)
    if data.period.kind == "daily":
        _overview(doc, data, "一、舆情概况")
        _negatives(doc, data, "二、需关注的负面信息")
        _stories(doc, data, "三、重点信息")
        _text_section(doc, "四、研判与建议", data.texts["assessment"])
    else:
        _overview(doc, data, "一、本期舆情概况")
        _stats(doc, data, "二、数据统计")
        _stories(doc, data, "三、热点事件")
        _negatives(doc, data, "四、负面舆情及处置")
        _publicity(doc, data, "五、正面宣传与成效")
        _cases(doc, data, "六、典型案例")
        _text_section(doc, "七、研判与建议", data.texts["assessment"])
        _text_section(doc, "八、下期关注", data.texts["outlook"])
    _appendix(doc, data)
    return doc.to_bytes()


def blank_template() -> bytes:
    """An empty document with the briefing's styles, page setup and page numbers, for staff to restyle."""
    return OfficialDocument().to_bytes()
