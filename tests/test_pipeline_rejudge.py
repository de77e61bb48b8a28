"""A feed read again is not judged again: only new or changed items reach the judge."""
from __future__ import annotations

from pathlib import Path

from monitor.pipeline import ingest
from monitor.search import index_text
from sentiment import load_judge

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


class CountingJudge:
    """Wraps a judge and records every (title, text) it was asked about."""

    def __init__(self, inner, with_reading: bool):
        self.inner = inner
        self.asked: list[tuple[str, str]] = []
        if with_reading:
            self.judge_many_read = self._read

    def judge(self, title, text):
        self.asked.append((title, text))
        return self.inner.judge(title, text)

    def judge_many(self, pairs):
        pairs = list(pairs)
        self.asked += pairs
        return self.inner.judge_many(pairs)

    def _read(self, pairs):
        pairs = list(pairs)
        self.asked += pairs
        return self.inner.judge_many_read(pairs)


def test_second_read_judges_only_what_changed(fresh_store, fixed_judge, tmp_path):
    judge = CountingJudge(fixed_judge, with_reading=False)
    first = ingest(FEEDS / "utf8_chinese_dates.xml", fresh_store, judge)
    assert first.new == 10 and len(judge.asked) == 10
    judge.asked.clear()
    again = ingest(FEEDS / "utf8_chinese_dates.xml", fresh_store, judge)
    assert (again.new, again.duplicate, again.updated) == (0, 10, 0)
    assert judge.asked == []
    # One item's title edited at its source: that one is judged and updated, the rest are not.
    row = next(fresh_store.iter_items())
    original = (FEEDS / "utf8_chinese_dates.xml").read_text(encoding="utf-8")
    edited = original.replace(f"<title>{row['title']}</title>", f"<title>{row['title']}（更新）</title>", 1)
    assert edited != original
    (tmp_path / "edited.xml").write_text(edited, encoding="utf-8")
    third = ingest(tmp_path / "edited.xml", fresh_store, judge)
    assert (third.new, third.duplicate, third.updated) == (0, 9, 1)
    assert [t for t, _ in judge.asked] == [row["title"] + "（更新）"]
    assert fresh_store.count_items() == 10


def test_the_real_judges_words_index_what_the_index_would_cut(fresh_store):
    judge = CountingJudge(load_judge(), with_reading=True)
    report = ingest(FEEDS / "utf8_chinese_dates.xml", fresh_store, judge)
    assert report.new == 10 and len(judge.asked) == 10
    stored = {r[0]: r[1] for r in fresh_store.conn.execute("SELECT rowid, tokens FROM items_fts")}
    for row in fresh_store.iter_items():
        assert stored[row["id"]] == index_text(row["title"], row["text"])
