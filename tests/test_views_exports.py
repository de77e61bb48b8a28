"""Saved views, item marks, corrections through the store, and the CSV/XLSX export of a view."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook

from collectors.base import Item
from monitor import exports, mark_store, queries, view_store
from monitor.queries import ItemFilter
from monitor.search import SearchSyntaxError
from sentiment.judgement import Judgement

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
def store(fresh_store):
    rows = [("专利维权难", "=HYPERLINK(\"http://evil\")", True), ("商标宣传\x01周", "@SUM(A1)", False),
            ("<script>alert(1)</script>", "-1+2", False)]
    fresh_store.add_items([(Item(source="源", url=f"https://example.com/{i}", title=t, text=x, published_at=NOW,
                                 fetched_at=NOW, platform="news"),
                            Judgement(negative=n, p_negative=0.9 if n else 0.1,
                                      polarity="negative" if n else "neutral", reasons=("理由一", "理由二")))
                           for i, (t, x, n) in enumerate(rows)])
    return fresh_store


def test_saved_views_round_trip(store):
    f = ItemFilter(start=date(2026, 11, 1), end=date(2026, 11, 20), polarities=("negative",), keyword="专利",
                   sources=("源",), handling=("pending",))
    assert view_store.save_view(store, "  负面 专利  ", f, "甲", time_preset="custom") == "负面 专利"
    view_store.save_view(store, "负面 专利", f, "乙", time_preset="custom")   # overwrite by name
    (v,) = view_store.views(store)
    assert v["filter"] == f and v["time"] == "custom" and v["created_by"] == "甲"
    for bad in ("", "   ", "名" * 41, "a\x00b"):
        with pytest.raises(view_store.ViewError):
            view_store.save_view(store, bad, f, "甲")
    assert view_store.delete_view(store, "负面 专利") and view_store.views(store) == []


def test_marks_and_corrections(store):
    assert mark_store.set_mark(store, 1, "important", "甲")
    assert not mark_store.set_mark(store, 1, "important", "甲")       # already set
    assert queries.item_list(store, ItemFilter(important_only=True), now=NOW).rows["id"].tolist() == [1]
    assert mark_store.set_mark(store, 1, "important", "乙", on=False)  # anyone clears the office flag
    with pytest.raises(ValueError):
        mark_store.set_mark(store, 1, "starred", "甲")
    with pytest.raises(KeyError):
        mark_store.set_mark(store, 99, "read", "甲")
    store.apply_correction(1, "negative", "no", "甲", "误判：正常报道")
    d = queries.item_detail(store, 1)
    assert d["negative"] is False and d["corrections"][0]["user"] == "甲"
    before = queries.item_detail(store, 2)
    with pytest.raises(ValueError):
        store.apply_correction(2, "polarity", "angry", "甲")
    with pytest.raises(ValueError):
        store.apply_correction(2, "polarity", "negative", "")
    assert queries.item_detail(store, 2)["polarity"] == before["polarity"] and not store.corrections(2)


def test_export_csv_and_xlsx_are_the_whole_view_and_defuse_formulas(store):
    data, notes = exports.export_view(store, ItemFilter(), "csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "发布时间", "标题"] and len(rows) == 4
    body = {r[2]: r for r in rows[1:]}
    text_col = rows[0].index("正文摘要")
    assert body["专利维权难"][text_col].startswith("'=") and body["专利维权难"][rows[0].index("判定理由")] == "理由一；理由二"
    assert body["<script>alert(1)</script>"][text_col] == "'-1+2"
    # as staff would write them: Beijing time without seconds, the platform's name, not its code
    assert body["专利维权难"][1] == "2026-11-20 17:30" and body["专利维权难"][rows[0].index("平台")] == "新闻网站"
    xdata, _ = exports.export_view(store, ItemFilter(keyword="宣传"), "xlsx")
    ws = load_workbook(io.BytesIO(xdata)).active
    values = list(ws.values)
    assert len(values) == 2 and values[1][2] == "商标宣传周" and values[1][3] == "'@SUM(A1)"
    with pytest.raises(SearchSyntaxError):
        exports.export_view(store, ItemFilter(keyword='"专利'), "csv")
    with pytest.raises(ValueError):
        exports.export_view(store, ItemFilter(), "pdf")


def test_scheme_filter_and_detail_where_the_store_has_schemes(store):
    # items.schemes is filled by the collector's monitoring schemes; set it directly here.
    assert queries.filter_options(store)["schemes"] == []
    with store.atomic() as c:
        c.execute("""UPDATE items SET schemes = '["安徽专利", "商标监测"]' WHERE id = 1""")
        c.execute("""UPDATE items SET schemes = '["商标监测"]' WHERE id = 2""")
    assert sorted(queries.filter_options(store)["schemes"]) == sorted(["商标监测", "安徽专利"])
    got = queries.item_list(store, ItemFilter(schemes=("安徽专利",)), now=NOW).rows["id"].tolist()
    assert got == [1]
    assert queries.item_detail(store, 1)["schemes"] == ["安徽专利", "商标监测"]
    frame, _ = queries.view_records(store, ItemFilter(schemes=("商标监测",)), now=NOW)
    assert sorted(frame["id"]) == [1, 2] and "商标监测" in set(frame["schemes"])


def test_an_estimated_time_is_marked_in_the_export(fresh_store):
    fresh_store.add_items([(Item(source="源", url="https://example.com/x", title="无日期的帖子", fetched_at=NOW),
                            Judgement(negative=False, p_negative=0.1, polarity="neutral"))])
    rows = list(csv.reader(io.StringIO(exports.export_view(fresh_store, ItemFilter(), "csv")[0].decode("utf-8-sig"))))
    assert rows[1][1] == "2026-11-20 17:30（估）" and "published_estimated" not in rows[0]


def test_a_dashboard_export_does_not_wait_for_the_shared_connection(store):
    """Exports run on their own read-only connection: while another session holds the shared one (here: its
    lock taken), the export still finishes, and others are not kept waiting for the export either."""
    import threading

    from ui import state
    out: dict = {}
    with state._LOCK:
        worker = threading.Thread(target=lambda: out.update(r=state.export_view(str(store.path), ItemFilter(), "csv")))
        worker.start()
        worker.join(30)
        assert not worker.is_alive()
    data, _ = out["r"]
    assert len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))) == 1 + len(queries.view_records(store, ItemFilter())[0])
