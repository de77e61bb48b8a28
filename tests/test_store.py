import sqlite3
from datetime import datetime, timezone

import pytest

from collectors.base import Item, canonical_url
from monitor.migrations import MIGRATIONS
from monitor.store import Store, StoreError


def _item(url="https://example.com/a?utm_source=x", title="标题", text="正文", **kw):
    return Item(source=kw.pop("source", "测试源"), url=url, title=title, text=text,
                published_at=kw.pop("published_at", datetime(2026, 11, 20, 1, tzinfo=timezone.utc)), **kw)


def test_open_applies_migrations_and_wal(fresh_store, db_path):
    assert fresh_store.schema_version == len(MIGRATIONS)
    mode = fresh_store.conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    # reopening applies nothing twice
    with Store(db_path) as again:
        assert again.schema_version == len(MIGRATIONS)


def test_round_trip_keeps_fields(fresh_store, fixed_judge):
    it = _item(title="专利维权难", text="企业反映维权难")
    counts = fresh_store.add_items([(it, fixed_judge.judge(it.title, it.text))])
    assert counts.new == 1
    (row,) = list(fresh_store.iter_items())
    assert row["url"] == it.url
    assert row["key"] == canonical_url(it.url) == "https://example.com/a"
    assert row["title"] == "专利维权难"
    assert row["published_at"] == "2026-11-20T01:00:00+00:00"
    assert row["negative"] is True and row["reasons"] == ["维权难"]


def test_reingest_same_or_retracked_adds_nothing(fresh_store, fixed_judge):
    a = _item()
    fresh_store.add_items([(a, fixed_judge.judge(a.title, a.text))])
    b = _item(url="https://EXAMPLE.com/a?utm_medium=feed#comments")
    c = fresh_store.add_items([(b, fixed_judge.judge(b.title, b.text))])
    assert (c.new, c.duplicate) == (0, 1)
    assert fresh_store.count_items() == 1


def test_same_link_new_content_updates(fresh_store, fixed_judge):
    a = _item(text="v1")
    fresh_store.add_items([(a, fixed_judge.judge(a.title, a.text))])
    b = _item(text="v2 维权难")
    c = fresh_store.add_items([(b, fixed_judge.judge(b.title, b.text))])
    assert (c.new, c.updated) == (0, 1)
    (row,) = list(fresh_store.iter_items())
    assert row["text"] == "v2 维权难" and row["negative"] is True


def test_missing_date_falls_back_to_fetch_time():
    fetched = datetime(2026, 1, 2, tzinfo=timezone.utc)
    it = Item(source="s", url="https://e.com/x", title="t", fetched_at=fetched)
    assert it.published_at == fetched and it.published_estimated


def test_naive_datetime_refused(fresh_store, fixed_judge):
    it = _item(published_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        fresh_store.add_items([(it, fixed_judge.judge(it.title, it.text))])
    assert fresh_store.count_items() == 0


def test_failed_batch_loses_nothing_already_stored(fresh_store, fixed_judge):
    good = _item()
    fresh_store.add_items([(good, fixed_judge.judge("", ""))])
    bad = [(_item(url="https://e.com/new", title="新"), fixed_judge.judge("", "")),
           (_item(url="https://e.com/naive", title="无时区", published_at=datetime(2026, 1, 1)),
            fixed_judge.judge("", ""))]
    with pytest.raises(ValueError):
        fresh_store.add_items(bad)
    assert [r["key"] for r in fresh_store.iter_items()] == ["https://example.com/a"]


def test_sample_items_removed_in_one_action(fresh_store, fixed_judge):
    fresh_store.add_items([(_item(url="https://e.com/1"), fixed_judge.judge("", ""))], sample=True)
    fresh_store.add_items([(_item(url="https://e.com/2", title="真实"), fixed_judge.judge("", ""))])
    assert fresh_store.remove_sample_items() == 1
    assert [r["url"] for r in fresh_store.iter_items()] == ["https://e.com/2"]


def test_runs_and_feed_state(fresh_store):
    run = fresh_store.start_run("人民网")
    fresh_store.finish_run(run, status="error", error="timeout")
    row = fresh_store.conn.execute("SELECT * FROM runs").fetchone()
    assert row["status"] == "error" and row["error"] == "timeout" and row["finished_at"]
    fresh_store.save_feed_state("人民网", '"abc"', "Wed, 01 Jan 2026 00:00:00 GMT")
    assert fresh_store.feed_state("人民网") == ('"abc"', "Wed, 01 Jan 2026 00:00:00 GMT")
    with pytest.raises(ValueError):
        fresh_store.finish_run(run, status="weird")


def test_not_a_database_is_a_clear_error(tmp_path):
    p = tmp_path / "x.db"
    p.write_text("this is not sqlite " * 100)
    with pytest.raises(StoreError):
        Store(p)


def test_readonly_store_cannot_write(fresh_store, db_path, fixed_judge):
    ro = Store(db_path, readonly=True)
    with pytest.raises(sqlite3.OperationalError):
        ro.add_items([(_item(), fixed_judge.judge("", ""))])
    ro.close()


def test_canonical_url_rules():
    assert canonical_url("http://A.com:80/p?b=2&a=1&utm_campaign=z#f") == "http://a.com/p?a=1&b=2"
    assert canonical_url("https://a.com/p?id=7&spm=1.2") == "https://a.com/p?id=7"
    assert canonical_url("") == ""


def test_unknown_migration_refused(db_path):
    with Store(db_path) as s:
        s.conn.execute("INSERT INTO schema_migrations VALUES ('9999_from_the_future', 'x')")
    with pytest.raises(StoreError, match="9999_from_the_future"):
        Store(db_path)


def test_migrations_have_unique_ordered_names():
    names = [n for n, _ in MIGRATIONS]
    assert len(names) == len(set(names))
    assert names == sorted(names)
