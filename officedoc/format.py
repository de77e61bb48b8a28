"""The GB/T 9704-2012 official-document format as numbers and font names.

Font names are the ones Chinese Word installations have; `FALLBACKS` is written
into the document's font table (w:altName) so Word substitutes sensibly where
the first choice is missing, and data/fonts.conf maps them for LibreOffice.
"""
from __future__ import annotations

from docx.shared import Mm, Pt

PAGE_WIDTH = Mm(210)
PAGE_HEIGHT = Mm(297)
MARGIN_TOP = Mm(37)
MARGIN_BOTTOM = Mm(35)
MARGIN_LEFT = Mm(28)
MARGIN_RIGHT = Mm(26)

# Chinese point sizes (字号).
SIZE_2 = Pt(22)       # 二号: title
SIZE_3 = Pt(16)       # 三号: body and headings
SIZE_4 = Pt(14)       # 四号: page numbers, table text
SIZE_SMALL_4 = Pt(12)

# 22 lines a page: (297 - 37 - 35) mm = 637.8 pt / 22 lines.
LINE_PITCH = Pt(28.95)

FONT_TITLE = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_HEADING_1 = "黑体"
FONT_HEADING_2 = "楷体_GB2312"
FONT_PAGE_NUMBER = "宋体"
FONT_LATIN = "Times New Roman"

FALLBACKS = {
    FONT_TITLE: "宋体",
    FONT_BODY: "仿宋",
    FONT_HEADING_2: "楷体",
}

LANG_EAST_ASIA = "zh-CN"
