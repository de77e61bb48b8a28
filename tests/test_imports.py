"""Imports of platform exports (CSV / XLSX / JSON / JSON Lines) and manual entry of one item."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest

from collectors.base import Item
from collectors.imports import (ManualEntryError, detect_mapping, format_signature, load_mappings, manual_entry,
                                manual_item, preview_export, read_export, remember_mapping)

FIX = Path(__file__).resolve().parent / "fixtures" / "imports"
NOW = datetime(2025, 4, 26, 4, 0, tzinfo=timezone.utc)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def mappings(tmp_path) -> Path:
    # never the repository's data/import_mappings.toml
    return tmp_path / "import_mappings.toml"


def test_gb18030_csv_with_report_title_and_bad_rows(mappings):
    r = read_export(FIX / "yuqing_export_gb18030.csv", mappings_path=mappings, now=NOW)
    assert r.readable
    titles = [i.title for i in r.items]
    assert titles == ["芜湖一企业商标遭抢注 负责人称维权难", "合肥市开展知识产权宣传周活动",
                      "六安茶叶地理标志保护成效显著", "宿州网友投诉：网购书籍疑似盗版，平台处理慢"]
    first, second, liuan, weibo = r.items
    assert first.url == "https://www.example-news.cn/ah/2025/0425/123.html"
    assert first.published_at == utc(2025, 4, 25, 1, 30) and not first.published_estimated
    assert (first.source, first.platform, first.author) == ("某新闻网", "news", "张记者")   # 新闻 → code
    # quoted cell with comma, doubled quotes and a line break survives
    assert '引号"示例"和换行\n第二行' in second.text
    assert second.published_at == utc(2025, 4, 24, 8, 5)
    # unreadable date: kept, marked as estimated, and reported
    assert liuan.published_estimated and liuan.published_at == NOW
    # a Weibo row without title gets its first sentence as title
    assert weibo.text.startswith("宿州网友投诉") and weibo.published_at == utc(2025, 4, 22, 12, 15)
    # skipped rows are errors; a row kept with the import time as its date is a warning
    assert r.errors == [
        "第5行: 标题和正文都为空，已跳过",
        "第6行: 链接 'javascript:alert(1)' 不是 http/https 网址，已跳过",
    ]
    assert r.warnings == ["第7行: 发布时间 '昨天' 无法识别，已按导入时间记录"]


def test_utf8_bom_csv_with_english_headers(mappings):
    r = read_export(FIX / "export_utf8_bom.csv", mappings_path=mappings, source="外部平台", platform="news")
    assert r.errors == []
    a, b = r.items
    assert a.title == "Anhui IP court rules on patent case" and a.published_at == utc(2025, 4, 21, 2, 0)
    assert (a.source, a.platform, a.author) == ("Example Daily", "news", "Reporter A")
    # empty platform/author cells fall back to the defaults given
    assert b.platform == "news" and b.source == "安庆新闻网"
    assert b.key == "https://aq.example.cn/b/2"      # tracking parameter stripped in the item key


def test_json_array_wrapped_in_data_list(mappings):
    r = read_export(FIX / "platform_export.json", mappings_path=mappings)
    assert [i.title for i in r.items] == ["马鞍山开展知识产权执法专项行动", "淮南专利转化对接会举行"]
    assert r.items[0].published_at == utc(2025, 4, 26, 2, 30)   # millisecond timestamp
    assert r.items[0].platform == "wechat" and r.items[0].source == "马鞍山日报"
    assert r.items[1].platform == "news"                          # no 平台 value: default
    assert r.errors == ["第3条: 不是对象（str），已跳过"]


def test_json_lines_with_a_truncated_line(mappings):
    r = read_export(FIX / "items.jsonl", mappings_path=mappings, source="dump")
    assert [i.title for i in r.items] == ["黄山毛峰地理标志被冒用", "池州版权保护进校园"]
    assert r.items[0].published_at == utc(2025, 4, 20, 8, 0)
    assert r.items[1].source == "dump" and r.items[1].author == "池州发布"
    assert len(r.errors) == 1 and r.errors[0].startswith("第2行: 不是有效的 JSON")


def test_xlsx_export_written_with_openpyxl(tmp_path, mappings):
    path = tmp_path / "导出.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["监测报告", None, None, None])
    ws.append(["标题", "链接", "发布时间", "摘要"])
    ws.append(["滁州查处专利侵权案", "https://cz.example.cn/1", datetime(2025, 4, 20, 9, 0), "滁州市……"])
    ws.append([None, None, None, None])                                     # blank row: ignored
    ws.append(["亳州中药材商标保护", "ftp://bz.example.cn/2", "2025-04-19", "亳州……"])  # bad URL
    ws.append([12345, "https://bz.example.cn/3", 45766.0, None])            # number title, Excel serial date
    wb.save(path)
    r = read_export(path, mappings_path=mappings)
    assert [i.title for i in r.items] == ["滁州查处专利侵权案", "12345"]
    assert r.items[0].published_at == utc(2025, 4, 20, 1, 0)
    assert r.items[0].text == "滁州市……"
    assert r.errors == ["第5行: 链接 'ftp://bz.example.cn/2' 不是 http/https 网址，已跳过"]
    # a bare number in a date column of a spreadsheet is an Excel serial date (45766 = 2025-04-19)
    assert r.items[1].published_at == utc(2025, 4, 18, 16, 0) and not r.items[1].published_estimated
    assert r.warnings == []


def test_unknown_headers_need_a_mapping_which_is_then_remembered(mappings):
    path = FIX / "custom_headers.csv"
    first = read_export(path, mappings_path=mappings)
    assert not first.readable and first.items == []
    assert len(first.errors) == 1 and "不像是舆情导出文件" in first.errors[0] and "文章名称" in first.errors[0]

    mapping = {"title": "文章名称", "url": "网页地址", "text": "文章摘要", "published_at": "采集日期"}
    second = read_export(path, mapping=mapping, remember=True, mappings_path=mappings)
    assert [i.title for i in second.items] == ["淮北开展商标侵权专项整治", "铜陵专利质押融资破亿"]
    assert second.items[1].published_at == utc(2025, 4, 16, 16, 0)

    # the same layout next time needs no mapping
    third = read_export(path, mappings_path=mappings)
    assert [i.url for i in third.items] == [i.url for i in second.items]
    assert load_mappings(mappings)[format_signature(["文章名称", "网页地址", "文章摘要", "采集日期", "备注"])] == mapping
    preview = preview_export(path, mappings_path=mappings)
    assert preview.remembered and preview.mapping == mapping and preview.row_count == 2


def test_remembering_replaces_the_mapping_for_the_same_layout(mappings):
    headers = ["a", "b"]
    remember_mapping(headers, {"title": "a"}, name="平台甲", path=mappings)
    remember_mapping(["x", "y"], {"text": "y"}, path=mappings)
    remember_mapping(["b", "a"], {"title": "b", "text": "a"}, path=mappings)
    got = load_mappings(mappings)
    assert got == {format_signature(headers): {"title": "b", "text": "a"}, format_signature(["x", "y"]): {"text": "y"}}
    with pytest.raises(ValueError, match="不在文件里"):
        remember_mapping(headers, {"title": "c"}, path=mappings)


def test_mapping_override_naming_a_missing_column_is_one_clear_error(mappings):
    r = read_export(FIX / "export_utf8_bom.csv", mapping={"title": "标题"}, mappings_path=mappings)
    assert not r.readable and r.items == [] and "「标题」不在文件里" in r.errors[0]


@pytest.mark.parametrize("name, content, expect", [
    ("not_an_export.csv", None, "不像是舆情导出文件"),
    ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "二进制"),
    ("report.xlsx", b"this is not a zip file", "不是有效的 .xlsx"),
    ("old.xls", b"\xd0\xcf\x11\xe0", "另存为 .xlsx"),
    ("feed.json", b'{"rss": "not items"}', "不是条目数组"),
    ("broken.json", b"[{\"title\": ", "JSON 无法解析"),
    ("empty.csv", b"   \n", "空的"),
    ("notes.docx", b"PK\x03\x04", "不支持的文件类型"),
])
def test_files_that_are_not_exports(tmp_path, mappings, name, content, expect):
    path = FIX / name if content is None else tmp_path / name
    if content is not None:
        path.write_bytes(content)
    r = read_export(path, mappings_path=mappings)
    assert not r.readable and r.items == []
    assert len(r.errors) == 1 and expect in r.errors[0] and path.name in r.errors[0]


@pytest.mark.parametrize("headers, expect", [
    (["标题", "原文链接", "正文", "摘要", "发布时间", "来源"],
     {"title": "标题", "url": "原文链接", "text": "正文", "published_at": "发布时间", "source": "来源"}),
    (["Title", "URL", "Summary", "Date", "Site", "Platform", "Author"],
     {"title": "Title", "url": "URL", "text": "Summary", "published_at": "Date", "source": "Site",
      "platform": "Platform", "author": "Author"}),
    (["微博内容", "博主", "发布时间 ", "链接地址"],
     {"text": "微博内容", "author": "博主", "published_at": "发布时间 ", "url": "链接地址"}),
    (["序号", "情感倾向"], {}),
])
def test_detect_mapping(headers, expect):
    assert detect_mapping(headers) == expect


# ---------------------------------------------------------------- manual entry

def test_manual_item_valid():
    item = manual_item("https://weibo.example.com/123", " 网友反映商标侵权 ", "正文", "2025-04-25 10:00", "微博",
                       "微博", now=NOW)
    assert item.title == "网友反映商标侵权" and item.platform == "social" and item.source == "微博"
    assert item.published_at == utc(2025, 4, 25, 2, 0) and not item.published_estimated
    no_time = manual_item("http://a.example.cn/1", "标题", now=NOW)
    assert no_time.published_estimated and no_time.source == "手工录入"


@pytest.mark.parametrize("args, expect", [
    (("", "标题"), "请填写链接"),
    (("javascript:alert(1)", "标题"), "http:// 或 https://"),
    (("https://a.example.cn/1", ""), "请填写标题"),
    (("https://a.example.cn/1", "标题", "", "下周"), "无法识别"),
    (("https://a.example.cn/1", "标题", "", "2030-01-01"), "不能晚于现在"),
    (("https://a.example.cn/1", "标题", "", "", "marsnet"), "平台 'marsnet' 不认识"),
])
def test_manual_item_rejects_bad_input(args, expect):
    with pytest.raises(ManualEntryError, match=expect):
        manual_item(*args, now=NOW)


def test_manual_item_lists_all_problems_and_manual_entry_never_raises():
    with pytest.raises(ManualEntryError) as e:
        manual_item("ftp://x", "", now=NOW)
    assert "http://" in str(e.value) and "请填写标题" in str(e.value)
    r = manual_entry("ftp://x", "", now=NOW)
    assert not r.readable and r.items == [] and "请填写标题" in r.errors[0]
    ok = manual_entry("https://a.example.cn/1", "标题", now=NOW)
    assert ok.readable and len(ok.items) == 1


def test_utf16_tab_separated_csv(tmp_path, mappings):
    # Excel's "Unicode text" save: UTF-16 with BOM, tab-separated
    path = tmp_path / "excel_unicode.csv"
    path.write_bytes("标题\t链接\t发布时间\n淮南查处假冒专利案\thttps://hn.example.cn/9\t2025-04-19 08:00\n".encode("utf-16"))
    r = read_export(path, mappings_path=mappings)
    assert r.errors == [] and [(i.title, i.url) for i in r.items] == [("淮南查处假冒专利案", "https://hn.example.cn/9")]
    assert r.items[0].published_at == utc(2025, 4, 19, 0, 0)


def test_a_broken_mappings_file_is_reported_not_overwritten(tmp_path):
    path = tmp_path / "import_mappings.toml"
    path.write_text("[[formats]\nheaders = [", encoding="utf-8")
    with pytest.raises(ValueError, match="格式有误"):
        remember_mapping(["标题"], {"title": "标题"}, path=path)
    assert path.read_text(encoding="utf-8") == "[[formats]\nheaders = ["
    # imports still work by auto-detection, with the problem reported
    r = read_export(FIX / "export_utf8_bom.csv", mappings_path=path)
    assert len(r.items) == 2 and r.errors == [] and len(r.warnings) == 1 and "格式有误" in r.warnings[0]


def test_a_date_after_now_is_reported_and_the_import_time_recorded(tmp_path, mappings):
    """A typo such as 2030 for 2026 would float the row above everything else; the row is kept,
    dated at import time and marked estimated, and the problem is listed."""
    now = utc(2026, 11, 26, 8, 0)
    path = tmp_path / "export.csv"
    path.write_text("标题,链接,发布时间\n商标侵权投诉无门,https://a.example/1,2030-01-01 10:00\n"
                    "专利维权难,https://a.example/2,2026-11-26 16:05\n", encoding="utf-8")   # 16:05 Beijing = 08:05 UTC
    r = read_export(path, mappings_path=mappings, now=now)
    future, skewed = r.items
    assert r.errors == [] and r.warnings == ["第2行: 发布时间 '2030-01-01 10:00' 晚于现在，已按导入时间记录"]
    assert future.published_at == now and future.published_estimated
    assert skewed.published_at == utc(2026, 11, 26, 8, 5) and not skewed.published_estimated   # within the slack


def test_collected_items_dated_after_their_fetch_take_the_fetch_time():
    fetched = utc(2026, 11, 26, 8, 0)
    late = Item(source="s", url="https://a.example/x", title="t", published_at=utc(2026, 11, 26, 16, 0),
                fetched_at=fetched)
    assert late.published_at == fetched and late.published_estimated
    fine = Item(source="s", url="https://a.example/y", title="t", published_at=utc(2026, 11, 25), fetched_at=fetched)
    assert fine.published_at == utc(2026, 11, 25) and not fine.published_estimated


def test_half_a_utf16_pair_in_a_json_export_is_replaced(tmp_path, mappings):
    path = tmp_path / "export.json"
    path.write_text('[{"标题": "\\ud800商标侵权投诉", "链接": "https://a.example/1", "正文": "x\\udc00"}]',
                    encoding="utf-8")
    r = read_export(path, mappings_path=mappings)
    (item,) = r.items
    assert (item.title, item.text) == ("\ufffd商标侵权投诉", "x\ufffd")
    assert len(item.hash) == 40


def test_semicolon_csv_with_a_report_title_line(tmp_path, mappings):
    """European-locale Excel saves ';'; a report title above the header made the Sniffer give up and
    the fallback split on commas, so the file was refused."""
    path = tmp_path / "semicolon.csv"
    path.write_text("舆情报告 2025年4月\n标题;链接;发布时间;正文\n"
                    "合肥查处商标侵权案;https://hf.example.cn/1;2025-04-20 09:00;执法人员现场查获\n"
                    "芜湖专利宣传周;https://wh.example.cn/2;2025-04-21 10:00;活动在芜湖举行\n", encoding="utf-8")
    r = read_export(path, mappings_path=mappings, now=NOW)
    assert r.readable and r.errors == []
    assert [(i.title, i.url, i.text) for i in r.items] == [
        ("合肥查处商标侵权案", "https://hf.example.cn/1", "执法人员现场查获"),
        ("芜湖专利宣传周", "https://wh.example.cn/2", "活动在芜湖举行")]


def test_utf8_bom_semicolon_csv_whose_cells_hold_commas(tmp_path, mappings):
    # A cell quoting someone between commas made the Sniffer pick ',' and split the header apart.
    path = tmp_path / "bom_semicolon.csv"
    path.write_bytes('\ufeff标题;正文;发布时间\n'
                     '商标侵权案宣判;被告称,"未侵权",将上诉;2025-04-20 09:00\n'.encode("utf-8"))
    r = read_export(path, mappings_path=mappings, now=NOW)
    assert r.readable and r.errors == []
    (item,) = r.items
    assert (item.title, item.text) == ("商标侵权案宣判", '被告称,"未侵权",将上诉')
    assert item.published_at == utc(2025, 4, 20, 1, 0)


@pytest.mark.parametrize("sep", ["|", "\t", ","])
def test_other_delimiters_are_chosen_by_their_header(tmp_path, mappings, sep):
    path = tmp_path / "pipe.csv"
    path.write_text(f"导出时间 2025-04-26\n标题{sep}链接\n淮北查处假冒专利{sep}https://hb.example.cn/3\n",
                    encoding="utf-8")
    r = read_export(path, mappings_path=mappings, now=NOW)
    assert [(i.title, i.url) for i in r.items] == [("淮北查处假冒专利", "https://hb.example.cn/3")]


def test_dates_before_1990_excel_serials_in_csv_and_placeholder_feed_dates(tmp_path, mappings):
    """1970-01-01 is a placeholder, not unreadable text: the message says the date is too early. A CSV
    cell 46000.5 is the Excel serial of 2025-12-09 12:00 (Beijing time)."""
    now = utc(2026, 1, 5, 8, 0)
    path = tmp_path / "export.csv"
    path.write_text("标题,链接,发布时间\n一,https://a.example/1,1970-01-01\n二,https://a.example/2,46000.5\n"
                    "三,https://a.example/3,不详\n", encoding="utf-8")
    r = read_export(path, mappings_path=mappings, now=now)
    early, serial, unknown = r.items
    assert r.errors == []
    assert r.warnings == ["第2行: 发布时间 '1970-01-01' 早于可接受的最早日期 1990-01-01，已按导入时间记录",
                          "第4行: 发布时间 '不详' 无法识别，已按导入时间记录"]
    assert early.published_at == now and early.published_estimated
    assert serial.published_at == utc(2025, 12, 9, 4, 0) and not serial.published_estimated
    assert unknown.published_estimated
    # JSON numbers are not spreadsheet serials
    j = tmp_path / "export.json"
    j.write_text('[{"标题": "四", "链接": "https://a.example/4", "发布时间": 46000.5}]', encoding="utf-8")
    assert read_export(j, mappings_path=mappings, now=now).items[0].published_estimated


def test_a_feed_date_before_1990_is_treated_as_missing():
    fetched = utc(2026, 1, 5, 8, 0)
    item = Item(source="s", url="https://a.example/x", title="t", published_at=utc(1900, 1, 1), fetched_at=fetched)
    assert item.published_at == fetched and item.published_estimated
    from collectors.rss import parse_feed
    feed = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>c</title>'
            '<item><title>旧日期</title><link>https://a.example/1</link>'
            '<pubDate>Mon, 01 Jan 1900 00:00:00 GMT</pubDate></item>'
            '<item><title>新日期</title><link>https://a.example/2</link>'
            '<pubDate>Sun, 04 Jan 2026 00:00:00 GMT</pubDate></item></channel></rss>').encode()
    old, new = parse_feed(feed, url="https://a.example/feed", source="s", platform="news", fetched_at=fetched).items
    assert old.published_at == fetched and old.published_estimated
    assert new.published_at == utc(2026, 1, 4) and not new.published_estimated


@pytest.mark.parametrize("name, body", [("header_only.csv", "标题,链接,发布时间\n"), ("empty_list.json", "[]")])
def test_a_file_without_data_rows_is_refused_not_reported_as_imported(tmp_path, name, body):
    """A header alone used to import '0 条' under a green success message (and an audit entry)."""
    from collectors.imports import NotAnExport, read_table
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    with pytest.raises(NotAnExport, match="没有数据行"):
        read_table(path)
