"""An official document (公文) built with python-docx in the GB/T 9704-2012 format.

python-docx only sets Latin fonts; Word then shows Chinese text in the theme
font. So every style and every run written here carries w:eastAsia explicitly,
theme-font attributes are removed, and the document language is zh-CN.

    doc = OfficialDocument()
    doc.title("2026年度安徽省知识产权行政保护典型案例")
    doc.heading("一、基本情况")
    doc.paragraph("正文……")
    doc.table(["地区", "数量"], [["合肥", "3"]])
    doc.signature("安徽省知识产权局", "2026年4月26日")
    doc.save("out.docx")

The file's properties (File → Info in Word) say what the document is: its title (the first
`title()`, unless `properties()` says otherwise), its author (the issuer of `signature()`, or the
unit given to `properties()`; empty otherwise), and when it was made. Nothing of python-docx's own
template — author "python-docx", a 2013 date, its blank thumbnail — reaches the file.

With `template=` the styles and page setup come from a .docx staff restyled in
Word; runs then take their East-Asian font from their paragraph's style.
"""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from pathlib import Path

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from lxml import etree

from officedoc import format as F

# Characters XML 1.0 cannot carry (control characters other than tab, newline, carriage return).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")

# style name → (east-asian font, size, bold, alignment, first-line indent in characters)
STYLE_SPECS = {
    "Normal": (F.FONT_BODY, F.SIZE_3, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 0),
    "Title": (F.FONT_TITLE, F.SIZE_2, False, WD_ALIGN_PARAGRAPH.CENTER, 0),
    "Subtitle": (F.FONT_HEADING_2, F.SIZE_3, False, WD_ALIGN_PARAGRAPH.CENTER, 0),
    "Heading 1": (F.FONT_HEADING_1, F.SIZE_3, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 2),
    "Heading 2": (F.FONT_HEADING_2, F.SIZE_3, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 2),
    "Heading 3": (F.FONT_BODY, F.SIZE_3, True, WD_ALIGN_PARAGRAPH.JUSTIFY, 2),
    "Header": (F.FONT_BODY, F.SIZE_4, False, WD_ALIGN_PARAGRAPH.RIGHT, 0),
    "Footer": (F.FONT_PAGE_NUMBER, F.SIZE_4, False, None, 0),
}
HEADING_STYLES = {1: "Heading 1", 2: "Heading 2", 3: "Heading 3"}


def set_run_font(run, east_asian: str, latin: str = F.FONT_LATIN, size=None, bold: bool | None = None) -> None:
    """Fonts of one run, East-Asian included (python-docx alone sets only ascii/hAnsi)."""
    run.font.name = latin
    rfonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    _set_rfonts(rfonts, east_asian, latin)
    if size is not None:
        run.font.size = size
    if bold is not None:
        run.font.bold = bold


def _set_rfonts(rfonts, east_asian: str, latin: str | None) -> None:
    for a in THEME_ATTRS:
        rfonts.attrib.pop(qn(a), None)
    if latin:
        rfonts.set(qn("w:ascii"), latin)
        rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:eastAsia"), east_asian)


def _rpr_rfonts(rpr):
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    return rfonts


class OfficialDocument:
    def __init__(self, template: str | Path | None = None):
        self.document = docx.Document(str(template) if template else None)
        self.from_template = template is not None
        self._font_cache: dict[str, str] = {}
        self._names: set[str] | None = None
        if self.from_template:
            body = self.document.element.body
            for child in list(body):
                if child.tag != qn("w:sectPr"):
                    body.remove(child)
        else:
            self._setup_page()
            self._setup_styles()
            self._setup_font_table()
        self._ensure_east_asian_everywhere()
        if not self.from_template:
            self._setup_page_numbers()
        self._header_text = ""
        self._created = datetime.now(timezone.utc).replace(microsecond=0)
        self._title: str | None = None
        self._author: str | None = None
        self._auto_title = ""
        self._auto_author = ""

    # -- setup ---------------------------------------------------------------
    def _setup_page(self) -> None:
        s = self.document.sections[0]
        s.page_width, s.page_height = F.PAGE_WIDTH, F.PAGE_HEIGHT
        s.top_margin, s.bottom_margin = F.MARGIN_TOP, F.MARGIN_BOTTOM
        s.left_margin, s.right_margin = F.MARGIN_LEFT, F.MARGIN_RIGHT
        s.header_distance, s.footer_distance = Pt(42), Pt(36)
        grid = s._sectPr.find(qn("w:docGrid"))
        if grid is None:
            grid = OxmlElement("w:docGrid")
            s._sectPr.append(grid)
        grid.set(qn("w:type"), "lines")
        grid.set(qn("w:linePitch"), str(int(F.LINE_PITCH.pt * 20)))

    def _setup_styles(self) -> None:
        styles = self.document.styles
        defaults = styles.element.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        _set_rfonts(_rpr_rfonts(rpr), F.FONT_BODY, F.FONT_LATIN)
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:val"), "zh-CN")
        lang.set(qn("w:eastAsia"), F.LANG_EAST_ASIA)
        ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
        for sp in ppr.findall(qn("w:spacing")):
            ppr.remove(sp)
        for name, (font, size, bold, align, indent_chars) in STYLE_SPECS.items():
            style = styles[name]
            style.font.name = F.FONT_LATIN
            _set_rfonts(style.element.get_or_add_rPr().get_or_add_rFonts(), font, F.FONT_LATIN)
            style.font.size = size
            style.font.bold = bold
            style.font.italic = False
            style.font.color.rgb = RGBColor(0, 0, 0)
            color = style.element.rPr.find(qn("w:color"))
            for a in ("w:themeColor", "w:themeShade", "w:themeTint"):
                color.attrib.pop(qn(a), None)
            pf = style.paragraph_format
            if align is not None:
                pf.alignment = align
            pf.space_before = Pt(0)
            pf.space_after = Pt(0)
            pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            pf.line_spacing = F.LINE_PITCH
            pf.first_line_indent = size * indent_chars if indent_chars else None
            if name.startswith("Heading") or name in ("Title", "Subtitle"):
                pf.keep_with_next = True
            # The Title style's bottom border in the default template is not part of the format.
            ppr = style.element.find(qn("w:pPr"))
            if ppr is not None:
                for bdr in ppr.findall(qn("w:pBdr")):
                    ppr.remove(bdr)
        title = styles["Title"].paragraph_format
        title.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        title.line_spacing = Pt(36)
        title.space_after = F.LINE_PITCH
        if "Table Text" not in self._style_names():
            tt = styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH)
            self._names = None
            tt.base_style = styles["Normal"]
            tt.font.size = F.SIZE_4
            tt.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            tt.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            tt.paragraph_format.first_line_indent = None
        # Table text sits off the page's line grid: snapped, every table line takes the body's 28.95 pt
        # pitch and a table runs to twice its height. A template that says otherwise is left as it is.
        ppr = styles["Table Text"].element.get_or_add_pPr()
        if ppr.find(qn("w:snapToGrid")) is None:
            snap = OxmlElement("w:snapToGrid")
            snap.set(qn("w:val"), "0")
            ppr.insert_element_before(
                snap, "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
                "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")

    def _setup_font_table(self) -> None:
        """Declare each Chinese font with its fallback (w:altName), so Word substitutes sensibly."""
        part = next(p for p in self.document.part.package.iter_parts() if p.partname == "/word/fontTable.xml")
        root = etree.fromstring(part.blob)
        have = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
        for name in (F.FONT_TITLE, F.FONT_BODY, F.FONT_HEADING_1, F.FONT_HEADING_2, F.FONT_PAGE_NUMBER):
            if name in have:
                continue
            font = etree.SubElement(root, qn("w:font"))
            font.set(qn("w:name"), name)
            if name in F.FALLBACKS:
                etree.SubElement(font, qn("w:altName")).set(qn("w:val"), F.FALLBACKS[name])
            etree.SubElement(font, qn("w:charset")).set(qn("w:val"), "86")
            etree.SubElement(font, qn("w:family")).set(qn("w:val"), "modern" if name == F.FONT_HEADING_1 else "roman")
            etree.SubElement(font, qn("w:pitch")).set(qn("w:val"), "variable")
        part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    def _ensure_east_asian_everywhere(self) -> None:
        """Every style gets an explicit w:eastAsia (its own, its base style's, or the body font)."""
        for style in self.document.styles:
            if style.type == WD_STYLE_TYPE.LIST:
                continue
            rpr = style.element.get_or_add_rPr()
            rfonts = _rpr_rfonts(rpr)
            if rfonts.get(qn("w:eastAsia")) is None:
                _set_rfonts(rfonts, self.style_font(style.name), None)
            else:
                for a in THEME_ATTRS:
                    rfonts.attrib.pop(qn(a), None)

    def style_font(self, style_name: str) -> str:
        """The East-Asian font a paragraph style resolves to (following base styles)."""
        if style_name in self._font_cache:
            return self._font_cache[style_name]
        styles = self.document.styles
        style = styles[style_name] if style_name in self._style_names() else styles["Normal"]
        seen, font = set(), None
        while style is not None and style.name not in seen:
            seen.add(style.name)
            rpr = style.element.rPr
            if rpr is not None and rpr.rFonts is not None and rpr.rFonts.get(qn("w:eastAsia")):
                font = rpr.rFonts.get(qn("w:eastAsia"))
                break
            style = style.base_style
        if font is None:
            defaults = styles.element.find(qn("w:docDefaults"))
            ea = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}") if defaults is not None \
                else None
            font = (ea.get(qn("w:eastAsia")) if ea is not None else None) or F.FONT_BODY
        self._font_cache[style_name] = font
        return font

    def _style_names(self) -> set[str]:
        if self._names is None:
            self._names = {s.name for s in self.document.styles}
        return self._names

    def _setup_page_numbers(self) -> None:
        """'— 1 —' in 4号 宋体: odd pages at the right, even pages at the left, one character in."""
        self.document.settings.odd_and_even_pages_header_footer = True
        s = self.document.sections[0]
        for footer, align in ((s.footer, WD_ALIGN_PARAGRAPH.RIGHT), (s.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
            footer.is_linked_to_previous = False
            p = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
            p.style = self.document.styles["Footer"]
            p.alignment = align
            pf = p.paragraph_format
            if align == WD_ALIGN_PARAGRAPH.RIGHT:
                pf.right_indent = F.SIZE_4
            else:
                pf.left_indent = F.SIZE_4
            self._run(p, "— ", F.FONT_PAGE_NUMBER, F.SIZE_4)
            self._field(p, "PAGE", "1", F.FONT_PAGE_NUMBER, F.SIZE_4)
            self._run(p, " —", F.FONT_PAGE_NUMBER, F.SIZE_4)

    # -- low-level writing -------------------------------------------------
    def _run(self, paragraph, text: str, font: str | None = None, size=None, bold: bool | None = None):
        # Editor text may hold anything; only what XML cannot represent at all is dropped.
        run = paragraph.add_run(_XML_INVALID.sub("", text))
        set_run_font(run, font or self.style_font(paragraph.style.name), size=size, bold=bold)
        return run

    def _field(self, paragraph, instr: str, placeholder: str, font: str, size) -> None:
        for kind, text in (("begin", None), ("instr", instr), ("separate", None), ("text", placeholder),
                           ("end", None)):
            run = paragraph.add_run()
            set_run_font(run, font, size=size)
            if kind in ("begin", "separate", "end"):
                fc = OxmlElement("w:fldChar")
                fc.set(qn("w:fldCharType"), kind)
                run._element.append(fc)
            elif kind == "instr":
                it = OxmlElement("w:instrText")
                it.set(qn("xml:space"), "preserve")
                it.text = f" {text} "
                run._element.append(it)
            else:
                t = OxmlElement("w:t")
                t.text = text
                run._element.append(t)

    def _para(self, style: str, text: str = "", *, font: str | None = None, bold: bool | None = None,
              align=None, indent: bool | None = None):
        p = self.document.add_paragraph(style=self.document.styles[style])
        if align is not None:
            p.alignment = align
        if indent is False:
            p.paragraph_format.first_line_indent = Pt(0)
        elif indent is True:
            p.paragraph_format.first_line_indent = self._font_size(style) * 2
        if text:
            self._run(p, text, font, bold=bold)
        return p

    def _font_size(self, style: str):
        st = self.document.styles[style]
        while st is not None and st.font.size is None:
            st = st.base_style
        return st.font.size if st is not None else F.SIZE_3

    # -- content -----------------------------------------------------------
    def title(self, text: str):
        """Centred title, 小标宋 2号; line breaks in `text` become separate title lines."""
        p = self._para("Title", align=WD_ALIGN_PARAGRAPH.CENTER)
        for i, line in enumerate(text.split("\n")):
            if i:
                p.add_run().add_break()
                set_run_font(p.runs[-1], self.style_font("Title"))
            self._run(p, line)
        if not self._auto_title:
            self._auto_title = "".join(line.strip() for line in text.split("\n"))
        return p

    def subtitle(self, text: str):
        return self._para("Subtitle", text, align=WD_ALIGN_PARAGRAPH.CENTER)

    def heading(self, text: str, level: int = 1, *, center: bool = False):
        """'一、' headings (level 1, 黑体), '（一）' headings (level 2, 楷体), level 3 仿宋 bold."""
        if center:
            return self._para(HEADING_STYLES[level], text, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
        return self._para(HEADING_STYLES[level], text)

    def paragraph(self, text: str = "", *, indent: bool = True, align=None, bold: bool | None = None,
                  font: str | None = None):
        """Body text, 仿宋 3号, first line indented two characters; `font` overrides the East-Asian face."""
        return self._para("Normal", text, indent=indent, align=align, bold=bold, font=font)

    def labelled(self, label: str, text: str, *, label_font: str = F.FONT_HEADING_1):
        """A body paragraph opening with a label, e.g. '【基本案情】' in 黑体 followed by the text."""
        p = self._para("Normal", indent=True)
        self._run(p, label, label_font)
        if text:
            self._run(p, text)
        return p

    def right(self, text: str):
        return self._para("Normal", text, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)

    def signature(self, issuer: str, date: str):
        """Issuing body and date at the right, after one blank line; the issuer is the file's author."""
        self._auto_author = self._auto_author or issuer.strip()
        self.paragraph("", indent=False)
        a = self.right(issuer)
        a.paragraph_format.right_indent = F.SIZE_3 * 2
        b = self.right(date)
        b.paragraph_format.right_indent = F.SIZE_3 * 2
        return b

    def mark(self, text: str):
        """A marker at the top right of the first page (e.g. 征求意见稿), 黑体 3号."""
        return self._para("Normal", text, font=F.FONT_HEADING_1, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)

    def header_text(self, text: str) -> None:
        """Text in the page header of every page (odd and even)."""
        s = self.document.sections[0]
        for header in (s.header, s.even_page_header):
            header.is_linked_to_previous = False
            p = header.paragraphs[0] if header.paragraphs else header.add_paragraph()
            p.style = self.document.styles["Header"]
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            self._run(p, text)
        self._header_text = text

    def page_break(self) -> None:
        p = self.document.add_paragraph(style=self.document.styles["Normal"])
        run = p.add_run()
        set_run_font(run, self.style_font("Normal"))
        run.add_break(WD_BREAK.PAGE)

    def table(self, header: list[str], rows: list[list[str]], *, widths=None, split_rows: bool = False):
        """A grid table whose header row repeats on every page. Rows do not split across pages unless
        `split_rows`: a long list of tall rows would otherwise leave pages half blank."""
        style = "Table Text" if "Table Text" in self._style_names() else "Normal"
        t = self.document.add_table(rows=1 + len(rows), cols=len(header))
        if "Table Grid" in self._style_names():
            t.style = self.document.styles["Table Grid"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        for r, values in enumerate([header] + [list(map(str, row)) for row in rows]):
            row = t.rows[r]
            trpr = row._tr.get_or_add_trPr()
            if r == 0 or not split_rows:
                trpr.append(OxmlElement("w:cantSplit"))
            if r == 0:
                trpr.append(OxmlElement("w:tblHeader"))
            for c, value in enumerate(values):
                cell = row.cells[c]
                p = cell.paragraphs[0]
                p.style = self.document.styles[style]
                self._run(p, value, F.FONT_HEADING_1 if r == 0 else None)
                if widths:
                    cell.width = widths[c]
        return t

    # -- output --------------------------------------------------------------
    def properties(self, *, title: str | None = None, author: str | None = None) -> None:
        """The title and author the file's properties show (default: the first title, the signature's issuer)."""
        if title is not None:
            self._title = title
        if author is not None:
            self._author = author

    def _write_properties(self) -> None:
        cp = self.document.core_properties
        title = self._title if self._title is not None else self._auto_title
        author = self._author if self._author is not None else self._auto_author
        cp.title = _XML_INVALID.sub("", title)[:255]
        cp.author = cp.last_modified_by = _XML_INVALID.sub("", author)[:255]
        cp.comments = cp.subject = cp.keywords = cp.category = ""
        cp.revision = 1
        cp.language = F.LANG_EAST_ASIA
        # python-docx writes these as UTC ("…Z") without converting: give it UTC.
        cp.created = self._created.replace(tzinfo=None)
        cp.modified = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
        package = self.document.part.package
        for rid, rel in list(package.rels.items()):  # python-docx's template carries a blank page as thumbnail
            if rel.reltype.endswith("/metadata/thumbnail"):
                del package.rels[rid]

    def to_bytes(self) -> bytes:
        self._write_properties()
        buf = io.BytesIO()
        self.document.save(buf)
        return buf.getvalue()

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_bytes(self.to_bytes())
        return path


__all__ = ["OfficialDocument", "set_run_font"]
