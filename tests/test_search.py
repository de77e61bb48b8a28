"""Full-text search over jieba tokens in FTS5: parsing, index maintenance, and search combined with filters."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from collectors.base import Item
from monitor import queries
from monitor.queries import ItemFilter
from monitor.search import SearchSyntaxError, index_text, parse_query
from monitor.store import Store
from sentiment.judgement import Judgement

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


def J(neg=False, ip_type="其他"):
    return Judgement(negative=neg, p_negative=0.9 if neg else 0.1, polarity="negative" if neg else "neutral",
                     ip_type=ip_type)


DOCS = [
    ("a", "合肥专利侵权案件宣判", "法院判决被告赔偿原告经济损失", True, "专利", "源甲"),
    ("b", "芜湖商标宣传周启动", "商标品牌建设成效显著", False, "商标", "源乙"),
    ("c", "网店销售假冒商标产品被查处", "市场监管部门查处商标侵权行为", True, "商标", "源甲"),
    ("d", "地理标志产品保护", "黄山毛峰地理标志保护工作推进", False, "地理标志", "源乙"),
    ("e", "<b>知识产权</b>讲座", "盗版网课泛滥 维权成本高", True, "著作权", "源丙"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "opinion.db"
    with Store(path) as w:
        w.add_items([(Item(source=src, url=f"https://example.com/{k}", title=t, text=x,
                           published_at=NOW - timedelta(hours=i), fetched_at=NOW), J(neg, ipt))
                     for i, (k, t, x, neg, ipt, src) in enumerate(DOCS)])
    s = Store(path, readonly=True)
    yield s
    s.close()


def found(store, q, **kw) -> set[str]:
    page = queries.item_list(store, ItemFilter(keyword=q, **kw), now=NOW)
    assert page.error is None, page.error
    return {u.rsplit("/", 1)[1] for u in page.rows["url"]}


@pytest.mark.parametrize("q, expected", [
    ("专利", {"a"}),                      # 2-character word inside 专利侵权
    ("侵权", {"a", "c"}),
    ("商标", {"b", "c"}),
    ("商标侵权", {"c"}),                  # an unspaced string is a phrase
    ('"商标 侵权"', {"c"}),               # quoted phrase
    ("商标 查处", {"c"}),                 # AND
    ("专利 OR 地理标志", {"a", "d"}),
    ("商标 -宣传", {"c"}),                # exclusion
    ("商标 NOT 宣传", {"c"}),
    ("知识产权", {"e"}),                  # markup in a title is text, still searchable
    ("維權", {"e"}),                      # traditional characters fold to simplified
    ("ＢＢＣ新闻", set()),                # no hits is an empty answer, not an error
    ("区块链", set()),
    ("侵", {"a", "c"}),                   # one character: the words it begins (侵权)
    ("侵 -宣判", {"c"}),
    ("标", {"d"}),                        # 标志 (inside 地理标志) begins with it; 商标 does not, and the page says so
])
def test_search_cases(store, q, expected):
    assert found(store, q) == expected


def test_phrase_needs_adjacent_words(store):
    # 商标 and 侵权 both occur in b+c, but only c has them side by side
    assert found(store, "商标 侵权") == {"c"}
    assert found(store, '"侵权 商标"') == set()


@pytest.mark.parametrize("q, message", [
    ('"商标 侵权', "引号不成对"),
    ("OR 专利", "OR"),
    ("专利 OR", "OR"),
    ("专利 AND", "AND"),
    ("专利*", "不支持检索符号"),
    ("NEAR(专利 侵权)", "不支持检索符号"),
    ("-专利", "不能只有排除词"),
    ("-", "排除"),
    ('""', "引号中间没有检索词"),
    ("。。。！！", "没有可检索的文字"),
    ("专" * 300, "检索式过长"),
])
def test_syntax_errors_are_messages(store, q, message):
    with pytest.raises(SearchSyntaxError, match=message):
        parse_query(q)
    if len(q) <= queries.MAX_KEYWORD:
        # the item list answers with the same message and no rows, never with an exception
        page = queries.item_list(store, ItemFilter(keyword=q), now=NOW)
        assert page.rows.empty and page.error and message in page.error


def test_item_list_reports_syntax_error(store):
    page = queries.item_list(store, ItemFilter(keyword='"专利'), now=NOW)
    assert page.error and "引号" in page.error and page.rows.empty and page.total == 0


def test_search_combines_with_filters(store):
    assert found(store, "侵权", negative_only=True, sources=("源甲",)) == {"a", "c"}
    assert found(store, "侵权", ip_types=("商标",)) == {"c"}
    assert found(store, "商标", polarities=("neutral",)) == {"b"}


def test_index_follows_updates_and_deletes(tmp_path):
    with Store(tmp_path / "x.db") as s:
        it = Item(source="源", url="https://example.com/1", title="专利新闻", text="旧内容", published_at=NOW,
                  fetched_at=NOW)
        s.add_items([(it, J())], sample=True)
        assert found(s, "专利") == {"1"}
        changed = Item(source="源", url="https://example.com/1", title="商标新闻", text="新内容", published_at=NOW,
                       fetched_at=NOW)
        assert s.add_items([(changed, J())]).updated == 1
        assert found(s, "专利") == set() and found(s, "商标") == {"1"}
        s.remove_sample_items()
        assert s.conn.execute("SELECT count(*) FROM items_fts").fetchone()[0] == 0


def test_old_database_gets_its_index_on_open(tmp_path):
    path = tmp_path / "old.db"
    with Store(path) as s:
        s.add_items([(Item(source="源", url=f"https://example.com/{i}", title=f"专利通报{i}", text="",
                           published_at=NOW, fetched_at=NOW), J()) for i in range(3)])
        s.conn.execute("DELETE FROM items_fts")   # as a database from before search
        assert s.search_index_missing()
    with Store(path, readonly=True) as ro:       # read-only: falls back to substring search, says so
        page = queries.item_list(ro, ItemFilter(keyword="专利"), now=NOW)
        assert page.total == 3 and any("全文索引尚未建立" in n for n in page.notes)
    with Store(path) as s:                       # the first writable open builds it
        assert not s.search_index_missing()
        assert len(found(s, "专利")) == 3


def test_index_tokens_put_words_first_then_inner_words():
    toks = index_text("商标侵权行为", "").split()
    assert toks[:2] == ["商标侵权", "行为"]       # the precise cut, in text order (phrases match here)
    assert set(toks[2:]) == {"商标", "侵权"}       # then the dictionary words inside longer words


def test_huge_pasted_text_is_indexed_up_to_a_cap(tmp_path):
    with Store(tmp_path / "big.db") as s:
        s.add_items([(Item(source="源", url="https://example.com/big", title="长文", text="商标侵权。" * 100_000,
                           published_at=NOW, fetched_at=NOW), J())])
        assert found(s, "商标侵权") == {"big"}


@pytest.mark.parametrize("q", ["侵权", "商标", "专利 OR 地理标志", "商标 -宣传"])
def test_common_terms_plan_gives_the_same_answer(store, monkeypatch, q):
    # Common terms are answered by walking the time index; the rows and order must not change.
    sparse = queries.item_list(store, ItemFilter(keyword=q), now=NOW)
    monkeypatch.setattr(queries, "DENSE_MATCHES", 0)
    assert queries._items_from(store, ItemFilter(keyword=q)).endswith("INDEXED BY ix_items_overview")
    dense = queries.item_list(store, ItemFilter(keyword=q), now=NOW)
    assert dense.total == sparse.total and dense.rows["id"].tolist() == sparse.rows["id"].tolist()


def test_cli_search_and_reindex(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    db = tmp_path / "cli.db"
    with Store(db) as s:
        s.add_items([(Item(source=src, url=f"https://example.com/{k}", title=t, text=x, published_at=NOW,
                           fetched_at=NOW), J(neg, ipt)) for k, t, x, neg, ipt, src in DOCS])
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "OPINION_DB"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "monitor", *args, "--db", str(db)], cwd=root, env=env,
                              capture_output=True, text=True, encoding="utf-8", timeout=120)
    r = run("reindex")
    assert r.returncode == 0 and "全文索引已重建：5 条" in r.stdout
    r = run("search", '"商标 侵权"')
    assert r.returncode == 0, r.stderr
    assert [json.loads(line)["url"] for line in r.stdout.splitlines()] == ["https://example.com/c"]
    r = run("search", '"商标 侵权')
    assert r.returncode == 2 and "引号不成对" in r.stderr and not r.stdout
    # 疑似负面: not flagged but likely negative; with --negative, both kinds.
    with Store(db) as s:
        s.add_items([(Item(source="源丁", url="https://example.com/f", title="商标被抢注 企业维权无门", text="多次投诉无果",
                           published_at=NOW, fetched_at=NOW),
                      Judgement(negative=False, p_negative=0.4, polarity="neutral", ip_type="商标"))])
    r = run("search", "商标", "--suspect")
    assert r.returncode == 0, r.stderr
    assert [json.loads(line)["url"] for line in r.stdout.splitlines()] == ["https://example.com/f"]
    r = run("search", "商标", "--suspect", "--negative")
    assert {json.loads(line)["url"] for line in r.stdout.splitlines()} == {"https://example.com/c", "https://example.com/f"}


def test_a_single_character_search_says_how_it_was_read(store):
    page = queries.item_list(store, ItemFilter(keyword="侵"), now=NOW)
    assert any("单字「侵」按词首检索" in n for n in page.notes)
    assert not any("单字" in n for n in queries.item_list(store, ItemFilter(keyword="侵权"), now=NOW).notes)
