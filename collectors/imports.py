"""Imports of what cannot be pulled: platform exports (CSV, XLSX, JSON, JSON Lines) and manual entries.

Exports from other platforms and commercial 舆情 systems differ only in their
column names, so one reader maps columns to `Item` fields. The mapping is
detected from common Chinese and English header names, may be overridden, and
is remembered per format: the sorted header names are the format's signature,
stored in `data/import_mappings.toml`, so the second export from the same system
needs no questions.

A bad row becomes an error naming its row number and the others are kept; a
file that is not an export at all gives one clear error and no items.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .base import EARLIEST_PUBLISHED, FUTURE_SLACK, FetchResult, Item, is_web_url, utcnow
from .govsite import BEIJING, parse_cn_datetime

FIELDS = ("url", "title", "text", "published_at", "source", "platform", "author")
FIELD_LABELS = {"url": "链接", "title": "标题", "text": "正文", "published_at": "发布时间",
                "source": "来源", "platform": "平台", "author": "作者"}
# Header names seen in exports, most specific first: the first alias present wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "url": ("原文链接", "原文地址", "文章链接", "新闻链接", "链接", "网址", "url", "link", "href", "地址",
            "链接地址", "页面地址", "原文url"),
    "title": ("标题", "文章标题", "新闻标题", "title", "headline", "主题", "微博标题"),
    "text": ("正文", "全文", "内容", "文章内容", "新闻内容", "微博内容", "博文内容", "text", "content",
             "body", "content_text", "摘要", "summary", "描述", "description", "snippet", "简介"),
    "published_at": ("发布时间", "发布日期", "发文时间", "发表时间", "published_at", "published", "date_published",
                     "pubdate",
                     "pub_date", "时间", "日期", "date", "time", "datetime", "创建时间", "created_at"),
    "source": ("来源", "来源网站", "媒体", "媒体名称", "站点", "站点名称", "网站", "网站名称", "信源", "source",
               "site", "media", "outlet"),
    "platform": ("平台", "来源平台", "媒体类型", "信源类型", "渠道", "platform", "channel", "媒体类别"),
    "author": ("作者", "发布者", "发布人", "博主", "用户名", "昵称", "账号", "author", "user", "screen_name"),
}
CSV_SUFFIXES = (".csv", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
JSON_SUFFIXES = (".json",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
EXPORT_SUFFIXES = CSV_SUFFIXES + XLSX_SUFFIXES + JSON_SUFFIXES + JSONL_SUFFIXES
# Commercial exports often put a report title or filter summary above the header row.
HEADER_SEARCH_ROWS = 10
MAX_FIELD_CHARS = 20000
MAX_TITLE_CHARS = 300
# csv's default 128 KiB per cell would reject a whole export for one long article body.
csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
DEFAULT_MAPPINGS = Path(__file__).resolve().parent.parent / "data" / "import_mappings.toml"


# Platform names used by exports → the platform codes sources use (collectors.registry.PLATFORMS),
# so imported items filter together with collected ones. Unknown names are kept as written.
PLATFORM_NAMES = {
    "news": ("新闻", "网媒", "新闻网站", "网站", "网页", "客户端", "新闻客户端", "app", "报刊", "纸媒", "平媒", "报纸",
             "电子报", "广播", "电视", "门户"),
    "social": ("微博", "社交", "社交媒体", "小红书", "自媒体", "weibo"),
    "wechat": ("微信", "公众号", "微信公众号", "wechat"),
    "forum": ("论坛", "贴吧", "社区", "问答", "知乎", "博客", "留言板", "投诉平台", "黑猫投诉"),
    "video": ("视频", "短视频", "抖音", "快手", "b站", "哔哩哔哩", "bilibili", "西瓜视频"),
    "government": ("政务", "政务网站", "政府网站", "政府", "政务新媒体"),
}
_PLATFORM_CODES = {_n: code for code, names in PLATFORM_NAMES.items() for _n in (*names, code)}


def normalise_platform(value: str) -> str:
    v = (value or "").strip()
    return _PLATFORM_CODES.get(v.casefold(), v)


class ManualEntryError(ValueError):
    """A manually entered item is incomplete or invalid; the message lists each problem in Chinese."""


# ---------------------------------------------------------------- mapping

def _key(header: str) -> str:
    return re.sub(r"[\s_\-:：()（）\[\]【】]+", "", unicodedata.normalize("NFKC", str(header))).casefold()


def format_signature(headers: Iterable[str]) -> str:
    """Sorted, de-duplicated non-empty header names: the same export layout gives the same signature."""
    return "\u241f".join(sorted({str(h).strip() for h in headers if str(h).strip()}))


def detect_mapping(headers: Sequence[str]) -> dict[str, str]:
    """Field → header, from known header names. A header is used for one field only."""
    by_key: dict[str, str] = {}
    for h in headers:
        if str(h).strip():
            by_key.setdefault(_key(h), str(h))
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for fld in FIELDS:
        for alias in ALIASES[fld]:
            h = by_key.get(_key(alias))
            if h is not None and h not in used:
                mapping[fld] = h
                used.add(h)
                break
    return mapping


def _check_mapping(mapping: Mapping[str, str], headers: Sequence[str]) -> list[str]:
    problems = []
    present = {str(h) for h in headers}
    for fld, h in mapping.items():
        if fld not in FIELDS:
            problems.append(f"未知字段 {fld!r}（可用: {', '.join(FIELDS)}）")
        elif h and h not in present:
            problems.append(f"{FIELD_LABELS[fld]}({fld}) 对应的列「{h}」不在文件里")
    if not (mapping.get("title") or mapping.get("text")):
        problems.append("找不到标题或正文列：请指定列对应关系（至少标题或正文之一）")
    return problems


def load_mappings(path: str | os.PathLike | None = None) -> dict[str, dict[str, str]]:
    """Remembered mappings by format signature. A missing file means none remembered yet."""
    path = Path(path) if path else DEFAULT_MAPPINGS
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"列对应关系文件 {path} 格式有误: {e}") from None
    out: dict[str, dict[str, str]] = {}
    for fmt in data.get("formats", []):
        headers, mapping = fmt.get("headers"), fmt.get("mapping")
        if isinstance(headers, list) and isinstance(mapping, dict):
            out[format_signature(headers)] = {k: str(v) for k, v in mapping.items() if k in FIELDS and v}
    return out


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)   # a JSON string is a valid TOML basic string


def remember_mapping(headers: Sequence[str], mapping: Mapping[str, str], *, name: str = "",
                     path: str | os.PathLike | None = None) -> None:
    """Store (or replace) the mapping for this header layout; the file is rewritten atomically."""
    problems = _check_mapping(mapping, headers)
    if problems:
        raise ValueError("；".join(problems))
    path = Path(path) if path else DEFAULT_MAPPINGS
    existing: list[dict] = []
    if path.exists():
        try:
            existing = tomllib.loads(path.read_text(encoding="utf-8")).get("formats", [])
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            # never overwrite a file someone edited by hand and broke: they would lose every mapping
            raise ValueError(f"列对应关系文件 {path} 格式有误，未保存: {e}") from None
    sig = format_signature(headers)
    entry = {"name": name or "", "headers": sorted(sig.split("\u241f")),
             "mapping": {k: mapping[k] for k in FIELDS if mapping.get(k)}}
    formats = [f for f in existing if format_signature(f.get("headers", [])) != sig] + [entry]
    lines = ["# Column mappings for imported exports, one [[formats]] per header layout.",
             "# Written by `collectors.imports.remember_mapping`; safe to edit by hand.", ""]
    for f in formats:
        lines.append("[[formats]]")
        if f.get("name"):
            lines.append(f"name = {_toml_str(f['name'])}")
        lines.append("headers = [" + ", ".join(_toml_str(h) for h in f["headers"]) + "]")
        pairs = ", ".join(f"{k} = {_toml_str(v)}" for k, v in f["mapping"].items())
        lines.append(f"mapping = {{ {pairs} }}")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mappings-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("\n".join(lines))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- reading files

class NotAnExport(ValueError):
    """The file cannot be read as a table of items (one clear message)."""


@dataclass
class Table:
    headers: list[str]
    # (row number as staff see it in the file: 1-based line/row, or array index + 1 for JSON, values)
    rows: list[tuple[int, dict[str, Any]]]
    errors: list[str] = field(default_factory=list)
    unit: str = "行"      # how staff count rows in this file: 行 (table/line) or 条 (JSON array entry)
    # A spreadsheet (CSV/XLSX): a bare number in a date column is an Excel serial date (46000.5).
    spreadsheet: bool = False


def _decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise NotAnExport("文件以 UTF-16 标记开头，但内容不是有效的 UTF-16 文本") from None
    for codec in ("utf-8", "gb18030"):   # GB18030 is a superset of GB2312/GBK (WPS and Excel defaults)
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    raise NotAnExport("文件既不是 UTF-8 也不是 GBK/GB18030 编码的文本")


def _looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff"))


def _header_row(rows: list[list[Any]]) -> int:
    """Index of the first row that names a title or text column within the first rows, else 0."""
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        m = detect_mapping([str(c) if c is not None else "" for c in row])
        if "title" in m or "text" in m:
            return i
    return 0


def _table_from_rows(rows: list[list[Any]], first_number: int = 1) -> Table:
    if not rows:
        raise NotAnExport("文件里没有任何行")
    h = _header_row(rows)
    headers = [str(c).strip() if c is not None else "" for c in rows[h]]
    out: list[tuple[int, dict[str, Any]]] = []
    for offset, row in enumerate(rows[h + 1:], start=h + 1):
        if all(c is None or str(c).strip() == "" for c in row):
            continue
        # cells beyond the header (a trailing comma, a stray note) have no field to go to
        values = {headers[i]: row[i] for i in range(min(len(headers), len(row))) if headers[i]}
        out.append((offset + first_number, values))
    return Table(headers=[x for x in headers if x], rows=out, spreadsheet=True)


# Delimiters exports use; the one whose header row names known columns wins (see _pick_delimiter).
CSV_DELIMITERS = ("\t", ";", ",", "|")


def _header_score(rows: list[list[str]]) -> int:
    """How many known fields the header row (the first naming a title or text column) maps; 0 when none."""
    for row in rows[:HEADER_SEARCH_ROWS]:
        m = detect_mapping(row)
        if "title" in m or "text" in m:
            return len(m)
    return 0


def _pick_delimiter(sample: str) -> str:
    """The delimiter under which the header row names the most known columns (标题, 正文, 链接 …).

    csv.Sniffer alone guesses from character counts: it gives up on a report title line above the
    header and picks ',' for a ';' file whose cells hold commas. Only when no delimiter yields a
    known header (a layout staff map by hand) does the Sniffer, then tab-or-comma, decide.
    """
    # Whole lines only: a cut-off last line could hold an unclosed quote.
    lines = sample.splitlines(keepends=True)
    head = "".join(lines[:HEADER_SEARCH_ROWS + 1]) if len(lines) > 1 else sample
    best, best_score = None, 0
    for delimiter in CSV_DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        score = _header_score(rows)
        if score > best_score:
            best, best_score = delimiter, score
    if best is not None:
        return best
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(CSV_DELIMITERS)).delimiter
    except csv.Error:
        return "\t" if sample.count("\t") > sample.count(",") else ","


def read_csv_table(data: bytes) -> Table:
    if _looks_binary(data):
        raise NotAnExport("这是二进制文件，不是 CSV")
    text = _decode_text(data)
    delimiter = _pick_delimiter(text[:8192])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as e:
        raise NotAnExport(f"CSV 无法解析: {e}") from None
    return _table_from_rows(rows)


def read_xlsx_table(data: bytes) -> Table:
    try:
        import openpyxl
    except ImportError:
        raise NotAnExport("读取 .xlsx 需要 openpyxl（pip install openpyxl）") from None
    import zipfile
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise NotAnExport(f"不是有效的 .xlsx 文件（{type(e).__name__}）") from None
    try:
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            if any(any(c is not None and str(c).strip() for c in r) for r in rows):
                return _table_from_rows(rows)
    finally:
        wb.close()
    raise NotAnExport("工作簿里没有任何数据")


def _records_from_json(obj: Any) -> list[Any]:
    if isinstance(obj, list):
        return obj
    if isinstance(obj, dict):
        # Many APIs and exports wrap the list: {"data": [...]} or {"data": {"list": [...]}}.
        for k in ("data", "items", "list", "records", "rows", "results", "result"):
            v = obj.get(k)
            if isinstance(v, list):
                return v
            if isinstance(v, dict):
                inner = _records_from_json(v)
                if inner:
                    return inner
    raise NotAnExport("JSON 不是条目数组（应为 [{...}, ...] 或 {\"data\": [...]}）")


def _table_from_records(records: Iterable[tuple[int, Any]], errors: list[str], unit: str = "行") -> Table:
    headers: list[str] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, rec in records:
        if not isinstance(rec, dict):
            errors.append(f"第{n}{unit}: 不是对象（{type(rec).__name__}），已跳过")
            continue
        for k in rec:
            if str(k) not in headers:
                headers.append(str(k))
        rows.append((n, {str(k): v for k, v in rec.items()}))
    return Table(headers=headers, rows=rows, errors=errors, unit=unit)


def read_json_table(data: bytes) -> Table:
    text = _decode_text(data)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        # A .json file holding JSON Lines is common enough to accept.
        if "\n{" in text.strip() or text.lstrip().startswith("{"):
            t = read_jsonl_table(data)
            if t.rows:
                return t
        raise NotAnExport(f"JSON 无法解析（第{e.lineno}行第{e.colno}列）: {e.msg}") from None
    table = _table_from_records(enumerate(_records_from_json(obj), 1), [], unit="条")
    return table


def read_jsonl_table(data: bytes) -> Table:
    text = _decode_text(data)
    errors: list[str] = []
    good: list[tuple[int, Any]] = []
    bad = 0
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            good.append((n, json.loads(line)))
        except json.JSONDecodeError as e:
            bad += 1
            errors.append(f"第{n}行: 不是有效的 JSON（{e.msg}），已跳过")
    if not good:
        raise NotAnExport("没有一行是有效的 JSON 对象" if bad else "文件是空的")
    return _table_from_records(good, errors)


def read_table(path: str | os.PathLike, data: bytes | None = None) -> Table:
    """Any supported export as headers + numbered rows; raises NotAnExport with one clear message."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise NotAnExport("不支持旧版 .xls：请在 Excel/WPS 中另存为 .xlsx 或 CSV（UTF-8）后再导入")
    if suffix not in EXPORT_SUFFIXES:
        raise NotAnExport(f"不支持的文件类型 {suffix or '(无扩展名)'}；支持 CSV、XLSX、JSON、JSON Lines")
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise NotAnExport(f"无法读取文件 {path.name}: {e.strerror or e}") from None
    if not data.strip():
        raise NotAnExport("文件是空的")
    if suffix in XLSX_SUFFIXES:
        table = read_xlsx_table(data)
    elif suffix in JSON_SUFFIXES:
        table = read_json_table(data)
    elif suffix in JSONL_SUFFIXES:
        table = read_jsonl_table(data)
    elif data.startswith(b"PK\x03\x04"):
        table = read_xlsx_table(data)   # an .xlsx saved with a .csv name
    else:
        table = read_csv_table(data)
    if not table.rows and table.errors:
        raise NotAnExport("没有可导入的行：" + "；".join(table.errors[:3]))
    if not table.rows:                  # a header alone imported "0 条" and read as a success
        raise NotAnExport("文件里没有数据行" + (f"（只有表头：{'、'.join(table.headers[:6])}）" if table.headers else ""))
    return table


# ---------------------------------------------------------------- rows → items

def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return re.sub(r"[ \t\r\f\v\u00a0\u3000]+", " ", str(v)).strip()


# Excel counts days from 1899-12-30 (its 1900 leap-year bug included); serials of 1990..2100.
EXCEL_EPOCH = datetime(1899, 12, 30)
EXCEL_SERIALS = (32874, 73051)


def _excel_serial(value: Any) -> datetime | None:
    """A spreadsheet cell holding an Excel serial date (46000.5 = 2025-12-09 12:00, Beijing time), else None.

    Unix timestamps are far larger, so the two never mix.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not re.fullmatch(r"\s*\d{5}(\.\d+)?\s*", value):
            return None
        value = float(value)
    if not isinstance(value, (int, float)) or not EXCEL_SERIALS[0] <= value < EXCEL_SERIALS[1]:
        return None
    local = EXCEL_EPOCH + timedelta(seconds=round(float(value) * 86400))
    return local.replace(tzinfo=BEIJING).astimezone(timezone.utc)


_ROW_MESSAGE = re.compile(r"第\d+[行条]: ")


def is_row_message(message: str) -> bool:
    """True for a message about one row ("第7行: …"), as rows_to_items and the readers write them; the
    other warnings concern the whole file (a remembered-mappings file that could not be read)."""
    return bool(_ROW_MESSAGE.match(message))


def _title_from_text(text: str) -> str:
    # Weibo-style exports have no title: the first sentence stands in for it.
    first = re.split(r"[。！？!?\n]", text, maxsplit=1)[0].strip()
    return (first or text)[:60]


@dataclass
class ExportPreview:
    """What the dashboard shows before an import: headers, a few rows, the mapping it would use."""
    headers: list[str]
    signature: str
    mapping: dict[str, str]
    remembered: bool
    sample: list[dict[str, Any]]
    row_count: int


def preview_export(path: str | os.PathLike, *, data: bytes | None = None,
                   mappings_path: str | os.PathLike | None = None, rows: int = 5) -> ExportPreview:
    table = read_table(path, data)
    sig = format_signature(table.headers)
    remembered = load_mappings(mappings_path).get(sig)
    return ExportPreview(headers=table.headers, signature=sig,
                         mapping=dict(remembered) if remembered else detect_mapping(table.headers),
                         remembered=remembered is not None,
                         sample=[dict(r) for _, r in table.rows[:rows]], row_count=len(table.rows))


def rows_to_items(table: Table, mapping: Mapping[str, str], *, source: str, platform: str = "news",
                  now: datetime | None = None) -> FetchResult:
    now = now or utcnow()
    result = FetchResult(errors=list(table.errors))
    for n, row in table.rows:
        get = lambda f: _cell(row.get(mapping[f])) if mapping.get(f) else ""  # noqa: E731
        where = f"第{n}{table.unit}"
        url, title, text = get("url"), get("title")[:MAX_TITLE_CHARS], get("text")[:MAX_FIELD_CHARS]
        if not title and not text:
            result.errors.append(f"{where}: 标题和正文都为空，已跳过")
            continue
        if url and not is_web_url(url):
            result.errors.append(f"{where}: 链接 {url[:80]!r} 不是 http/https 网址，已跳过")
            continue
        raw_time = row.get(mapping["published_at"]) if mapping.get("published_at") else None
        published = (_excel_serial(raw_time) if table.spreadsheet else None) or parse_cn_datetime(raw_time)
        # A row with a date it cannot use is kept, dated at import time and marked estimated: a warning.
        shown = repr(_cell(raw_time)[:40])
        if published is None and _cell(raw_time):
            early = parse_cn_datetime(raw_time, bounded=False)
            if early is not None and early < EARLIEST_PUBLISHED:
                result.warnings.append(f"{where}: 发布时间 {shown} 早于可接受的最早日期 "
                                       f"{EARLIEST_PUBLISHED:%Y-%m-%d}，已按导入时间记录")
            else:
                result.warnings.append(f"{where}: 发布时间 {shown} 无法识别，已按导入时间记录")
        elif published is not None and published > now + FUTURE_SLACK:
            result.warnings.append(f"{where}: 发布时间 {shown} 晚于现在，已按导入时间记录")
            published = None
        result.items.append(Item(
            source=get("source") or source, url=url, title=title or _title_from_text(text), text=text,
            published_at=published, fetched_at=now, author=get("author")[:200],
            platform=normalise_platform(get("platform")) or platform))
    return result


def read_export(path: str | os.PathLike, *, mapping: Mapping[str, str] | None = None,
                mappings_path: str | os.PathLike | None = None, remember: bool = False,
                source: str | None = None, platform: str = "news", data: bytes | None = None,
                now: datetime | None = None) -> FetchResult:
    """Read an export file into items. Never raises for bad input: problems are FetchResult.errors.

    Mapping precedence: `mapping` passed in (remembered for this layout when
    `remember` is true) → the mapping remembered for this layout → auto-detection.
    `source` defaults to the file name; a 来源 column overrides it per row, and a 平台
    column overrides `platform` (common names such as 微博 or 公众号 become platform codes).
    """
    path = Path(path)
    try:
        table = read_table(path, data)
    except NotAnExport as e:
        return FetchResult(errors=[f"{path.name}: {e}"], readable=False)
    warnings: list[str] = []
    try:
        remembered = load_mappings(mappings_path).get(format_signature(table.headers))
    except ValueError as e:
        # a broken mappings file must not block imports that need no remembered mapping
        remembered = None
        warnings.append(f"{e}；本次按列名自动识别")
    used = dict(mapping) if mapping else dict(remembered) if remembered else detect_mapping(table.headers)
    problems = _check_mapping(used, table.headers)
    if problems:
        cols = "、".join(table.headers[:15])
        return FetchResult(errors=[f"{path.name}: 不像是舆情导出文件: {'；'.join(problems)}（文件的列: {cols}）"],
                           readable=False)
    if mapping and remember:
        remember_mapping(table.headers, used, path=mappings_path)
    result = rows_to_items(table, used, source=source or f"导入:{path.name}", platform=platform, now=now)
    result.warnings[:0] = warnings
    if not result.items and table.rows:
        result.readable = False
    return result


# ---------------------------------------------------------------- manual entry

def manual_item(url: str, title: str, text: str = "", time: Any = None, platform: str = "",
                source: str = "手工录入", *, author: str = "", now: datetime | None = None) -> Item:
    """One item typed in by staff. Raises ManualEntryError listing every problem."""
    problems = []
    url, title, text = (url or "").strip(), _cell(title), (text or "").strip()
    if not url:
        problems.append("请填写链接")
    elif not is_web_url(url):
        problems.append("链接必须是以 http:// 或 https:// 开头的网址")
    if not title:
        problems.append("请填写标题")
    elif len(title) > MAX_TITLE_CHARS:
        problems.append(f"标题过长（超过 {MAX_TITLE_CHARS} 字）")
    if len(text) > MAX_FIELD_CHARS:
        problems.append(f"正文过长（超过 {MAX_FIELD_CHARS} 字）")
    # Exports keep platform names as written; one typed in by hand that means nothing is a typo.
    if (platform or "").strip() and normalise_platform(platform) not in PLATFORM_NAMES:
        problems.append(f"平台 {platform.strip()[:20]!r} 不认识（可用：{'、'.join(PLATFORM_NAMES)}，或微博、公众号等常见名称）")
    published = None
    if time not in (None, ""):
        published = parse_cn_datetime(time)
        if published is None:
            problems.append(f"发布时间 {str(time)[:40]!r} 无法识别（例: 2025-04-26 10:30）")
        elif published > (now or utcnow()).replace(microsecond=0) + FUTURE_SLACK:
            problems.append("发布时间不能晚于现在")
    if problems:
        raise ManualEntryError("；".join(problems))
    return Item(source=(source or "手工录入").strip(), url=url, title=title, text=text, published_at=published,
                fetched_at=now or utcnow(), author=(author or "").strip(),
                platform=normalise_platform(platform) or "news")


def manual_entry(url: str, title: str, text: str = "", time: Any = None, platform: str = "",
                 source: str = "手工录入", **kw: Any) -> FetchResult:
    """`manual_item` as a FetchResult, for callers that treat every input the same way."""
    try:
        return FetchResult(items=[manual_item(url, title, text, time, platform, source, **kw)])
    except ManualEntryError as e:
        return FetchResult(errors=[str(e)], readable=False)


def is_export_path(path: str | os.PathLike) -> bool:
    """True for file names `read_export` handles (the ingest command routes on this)."""
    return Path(path).suffix.lower() in EXPORT_SUFFIXES + (".xls",)
