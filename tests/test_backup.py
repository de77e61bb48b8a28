"""Database backups on real SQLite files: made while a writer keeps writing, checked, kept, restored over a
live database that a reader holds open; the CLI contract; the 数据备份 page under AppTest."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from collectors.base import Item
from monitor import backup, backup_store, users
from monitor.backup import BackupError
from monitor.pipeline import collection_lock, lock_path_for
from monitor.store import Store
from sentiment.judgement import Judgement
from tests.conftest import role_accounts
from ui import auth

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "ui" / "pages" / "backups.py")
T0 = datetime(2026, 11, 20, 1, 30, tzinfo=timezone.utc)     # 09:30 in Beijing


def _items(store: Store, start: int, n: int) -> None:
    now = datetime.now(timezone.utc)
    store.add_items([(Item(source="人民网", url=f"https://news.example/{i}", title=f"专利侵权案件第{i}号通报",
                           text="某地市场监管局查处专利侵权案件。" * 20, published_at=now, fetched_at=now,
                           platform="news"), Judgement(negative=False, p_negative=0.1, polarity="positive"))
                     for i in range(start, start + n)])


def _count(path: Path) -> int:
    with Store(path, readonly=True) as s:
        return s.conn.execute("SELECT count(*) FROM items").fetchone()[0]


@pytest.fixture
def live(tmp_path) -> Path:
    path = tmp_path / "opinion.db"
    with Store(path) as s:
        _items(s, 0, 300)
    return path


def test_a_backup_taken_while_the_collector_writes_is_one_consistent_checked_file(live, tmp_path, monkeypatch):
    monkeypatch.setattr(backup_store, "PAGES_PER_STEP", 1)       # many steps, so the writer gets in between
    stop, written = threading.Event(), []

    def writer():
        with Store(live) as s:
            i = 1000
            while not stop.is_set():
                _items(s, i, 5)
                written.append(5)
                i += 5

    steps = []
    t = threading.Thread(target=writer)
    t.start()
    try:
        made = backup.create(live, tmp_path / "backups", T0, progress=lambda d, n: steps.append((d, n)))
    finally:
        stop.set()
        t.join()
    assert made.path.name == "opinion-20261120-093000.db" and made.path.is_file()
    assert len(steps) > 10 and steps[-1][0] == steps[-1][1]
    assert not list((tmp_path / "backups").glob("*.partial")) and not Path(f"{made.path}-wal").exists()
    found = backup_store.inspect(made.path)
    assert found["ok"] and found["counts"]["items"] == made.counts["items"]
    assert 300 <= made.counts["items"] <= 300 + sum(written)
    with sqlite3.connect(made.path) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "delete"   # one file, opens anywhere
    assert backup.check(made.path).counts["items"] == made.counts["items"]


def test_the_newest_are_kept_and_nothing_else_is_deleted(live, tmp_path):
    folder = tmp_path / "backups"
    for day in range(4):
        backup.create(live, folder, T0 + timedelta(days=day), keep=2)
    names = [b.name for b in backup.list_backups(folder)]
    assert names == ["opinion-20261123-093000.db", "opinion-20261122-093000.db"]
    for n in range(5):
        backup.create(live, folder, T0 + timedelta(days=5, minutes=n), keep=2, before_restore=True)
    junk = folder / "opinion-20991231-000000.db"                   # a clock set wrong once, or a stray file
    junk.write_text("not a database")
    empty = folder / "opinion-20261110-000000.db"
    empty.write_bytes(b"")
    backup.create(live, folder, T0 + timedelta(days=6), keep=2)
    found = backup.list_backups(folder)
    assert sum(b.before_restore for b in found) == 5                     # copies saved by restores all stay
    assert [b.name for b in found if b.usable(T0 + timedelta(days=6))] == [
        "opinion-20261126-093000.db", "opinion-20261123-093000.db"]
    assert junk.exists() and empty.exists()                              # not ours to delete, not counted


def test_same_second_backups_get_distinct_names_listed_in_the_order_made(live, tmp_path):
    folder = tmp_path / "backups"
    made = [backup.create(live, folder, T0, keep=20).name for _ in range(11)]
    assert made[1] == "opinion-20261120-093000-2.db" and made[10] == "opinion-20261120-093000-11.db"
    assert [b.name for b in backup.list_backups(folder)] == made[::-1]


def test_a_future_dated_or_junk_file_neither_stops_daily_backups_nor_counts_as_newest(live, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "opinion-20991231-000000.db").write_text("junk")
    real = folder / "opinion-20991230-000000.db"
    backup.create(live, tmp_path / "elsewhere", T0).path.rename(real)    # a real backup, clock set ahead
    assert backup.is_due(folder, T0)
    assert backup.maybe_create(live, folder, T0) is not None
    info = backup.overview(folder, T0 + timedelta(hours=1))
    assert info["when"] == "2026-11-20 09:30" and set(info["odd"]) == {
        "opinion-20991231-000000.db", "opinion-20991230-000000.db"}
    assert {r["类型"] for r in info["rows"]} == {"备份", "不是数据库（未计入）", "日期在未来（未计入）"}


def test_is_due_after_a_day_and_maybe_create_makes_one_then(live, tmp_path):
    folder = tmp_path / "backups"
    assert backup.is_due(folder, T0)
    assert backup.maybe_create(live, folder, T0) is not None
    assert backup.maybe_create(live, folder, T0 + timedelta(hours=23)) is None
    assert backup.maybe_create(live, folder, T0 + timedelta(hours=24)) is not None
    info = backup.overview(folder, T0 + timedelta(hours=26))
    assert not info["stale"] and (info["age"], info["when"]) == ("2 小时前", "2026-11-21 09:30")
    assert len(info["rows"]) == 2 and backup.age_text(info["latest"], T0 + timedelta(days=3)) == "2 天前"
    assert backup.overview(folder, T0 + timedelta(days=4))["stale"]
    empty = backup.overview(tmp_path / "none", T0)
    assert (empty["latest"], empty["age"], empty["stale"], empty["rows"]) == (None, "尚无备份", True, [])


def test_a_backup_that_would_not_fit_is_refused_before_copying(live, tmp_path, monkeypatch):
    size = live.stat().st_size
    monkeypatch.setattr(backup, "free_space", lambda folder: size)          # fits, but without the margin
    with pytest.raises(BackupError, match="磁盘空间不足"):
        backup.create(live, tmp_path / "backups", T0)
    assert list((tmp_path / "backups").glob("opinion-*")) == []
    info = backup.overview(tmp_path / "backups", T0, live)
    assert info["low_space"] and info["db_size"] == size
    monkeypatch.setattr(backup, "free_space", lambda folder: size * 100)
    assert not backup.overview(tmp_path / "backups", T0, live)["low_space"]
    assert backup.create(live, tmp_path / "backups", T0).path.is_file()


def test_free_space_is_read_from_the_nearest_existing_folder(tmp_path):
    assert backup.free_space(tmp_path / "not" / "yet" / "made") == backup.free_space(tmp_path) > 0


def test_an_unwritable_folder_or_a_bad_copy_gives_a_reason_and_leaves_nothing(live, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(BackupError, match="无法创建备份目录"):
        backup.create(live, blocker / "backups", T0)
    with pytest.raises(BackupError, match="没有数据库文件"):
        backup.create(tmp_path / "missing.db", tmp_path / "backups", T0)
    monkeypatch.setattr(backup_store, "inspect", lambda p: {"ok": False, "problems": ["page 7 is never used"],
                                                            "counts": {}})
    with pytest.raises(BackupError, match="完整性检查.*page 7"):
        backup.create(live, tmp_path / "backups", T0)
    assert list((tmp_path / "backups").glob("opinion-*")) == []


def test_restore_brings_back_what_was_lost_under_an_open_reader_and_keeps_what_it_replaced(live, tmp_path):
    folder = tmp_path / "backups"
    with Store(live) as s:
        admin = users.add_user(s, "admin1", "office pass 1", "admin", actor="cli:test", now=T0)
        token = users.remember(s, admin, datetime.now(timezone.utc))
    made = backup.create(live, folder, T0)
    with Store(live) as s:
        s.conn.execute("DELETE FROM items WHERE id > 100")
        users.end_session(s, {"token": token})                # signed out after the backup was taken
    reader = Store(live, readonly=True)                # the dashboard's connection stays open throughout
    try:
        assert reader.conn.execute("SELECT count(*) FROM items").fetchone()[0] == 100
        restored, saved = backup.restore(made.path, live, folder, T0 + timedelta(hours=1), actor="cli:test")
        assert reader.conn.execute("SELECT count(*) FROM items").fetchone()[0] == 300
    finally:
        reader.close()
    assert restored.path == made.path and saved.before_restore and _count(saved.path) == 100
    with Store(live) as s:
        [entry] = users.audit_log(s, action="db.restore")
    assert entry["target"] == made.name and entry["detail"]["saved_as"] == saved.name
    with Store(live) as s, pytest.raises(users.SessionExpired):
        users.resume(s, token, datetime.now(timezone.utc))      # the backup's sign-ins do not come back


def _foreign(path: Path) -> Path:
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE notes (x)")
    return path


def _damaged(src: Path, path: Path) -> Path:
    data = bytearray(src.read_bytes())
    page = 4096
    data[page * 3: page * 3 + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))
    return path


def _newer(src: Path, path: Path) -> Path:
    path.write_bytes(src.read_bytes())
    with sqlite3.connect(path) as c:
        c.execute("INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future', '2030-01-01')")
    return path


@pytest.mark.parametrize("make, reason", [
    (lambda good, d: d / "missing.db", "没有备份文件"),
    (lambda good, d: (d / "junk.db").write_bytes(b"not a database at all" * 100) and d / "junk.db", "不是可读的数据库"),
    (lambda good, d: _foreign(d / "foreign.db"), "不是本系统的数据库"),
    (lambda good, d: _damaged(good, d / "damaged.db"), "已损坏|不是可读的数据库"),
    (lambda good, d: _newer(good, d / "newer.db"), "更新版本"),
])
def test_restore_refuses_a_file_it_cannot_trust_and_changes_nothing(live, tmp_path, make, reason):
    good = backup.create(live, tmp_path / "backups", T0).path
    bad = make(good, tmp_path)
    with Store(live) as s:
        s.conn.execute("DELETE FROM items WHERE id > 250")
    with pytest.raises(BackupError, match=reason):
        backup.restore(bad, live, tmp_path / "backups", T0 + timedelta(hours=1), actor="cli:test")
    assert _count(live) == 250 and len(backup.list_backups(tmp_path / "backups")) == 1


def test_restore_waits_for_the_collector_to_stop(live, tmp_path):
    made = backup.create(live, tmp_path / "backups", T0)
    with collection_lock(lock_path_for(live)):
        with pytest.raises(BackupError, match="采集服务正在运行"):
            backup.restore(made.path, live, tmp_path / "backups", T0, actor="cli:test")
    assert len(backup.list_backups(tmp_path / "backups")) == 1


def test_a_backup_from_before_an_upgrade_is_migrated_on_restore(live, tmp_path):
    made = backup.create(live, tmp_path / "backups", T0)
    with sqlite3.connect(made.path) as c:                 # as an older release left it: no sign_ins yet
        c.execute("DROP TABLE sign_ins")
        c.execute("DELETE FROM schema_migrations WHERE name = '0024_sign_ins'")
    backup.restore(made.path, live, tmp_path / "backups", T0 + timedelta(hours=1), actor="cli:test")
    with Store(live, readonly=True) as s:
        assert "0024_sign_ins" in s.applied_migrations()
        s.conn.execute("SELECT count(*) FROM sign_ins")


# -- command line ---------------------------------------------------------------------------------------------

def _cli(*args, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPINION_")} | {"PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "monitor", "backup", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120, input=stdin)


def test_cli_create_list_restore(live, tmp_path):
    folder = tmp_path / "bk"
    done = _cli("create", "--db", live, "--dir", folder)
    assert done.returncode == 0, done.stderr
    assert "已备份到" in done.stdout and "300 条信息" in done.stdout and "备份 100%" in done.stderr
    [made] = backup.list_backups(folder)
    listed = _cli("list", "--db", live, "--dir", folder, "--check")
    assert listed.returncode == 0 and made.name in listed.stdout and "完好：300 条信息" in listed.stdout
    with Store(live) as s:
        s.conn.execute("DELETE FROM items")
    refused = _cli("restore", made.path, "--db", live, "--dir", folder)          # stdin is not a terminal
    assert refused.returncode == 2 and "--yes" in refused.stderr.splitlines()[-1] and _count(live) == 0
    restored = _cli("restore", made.path, "--db", live, "--dir", folder, "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "原数据库已另存为" in restored.stdout and _count(live) == 300
    (folder / made.name).write_bytes(b"garbage" * 1000)
    listed = _cli("list", "--db", live, "--dir", folder, "--check")
    assert listed.returncode == 2 and "不可用" in listed.stdout
    bad = _cli("restore", folder / made.name, "--db", live, "--dir", folder, "--yes")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "不是可读的数据库" in bad.stderr
    assert _count(live) == 300


@pytest.mark.parametrize("args", [("create", "--keep", "0"), ("create", "--keep", "many"), ("restore",)])
def test_cli_refuses_bad_arguments(live, tmp_path, args):
    done = _cli(*args, "--db", live, "--dir", tmp_path / "bk")
    assert done.returncode == 2 and "Traceback" not in done.stderr and not (tmp_path / "bk").exists()


# -- the 数据备份 page ---------------------------------------------------------------------------------------

@pytest.fixture
def page_db(live, tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_DB", str(live))
    monkeypatch.setenv("OPINION_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("OPINION_BACKUP_DIR", str(tmp_path / "bk"))
    with Store(live) as s:
        return role_accounts(s, "office pass 1")


def _page(user) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[auth.SESSION_KEY] = auth.session_for(user)
    return at.run()


def test_an_admin_backs_up_from_the_page_and_sees_it_listed(page_db, tmp_path):
    at = _page(page_db["admin"])
    assert not at.exception and at.metric[0].value == "尚无备份" and "还没有任何备份" in at.warning[0].value
    assert at.metric[1].value.endswith("MB") or at.metric[1].value.endswith("KB")
    at.button(key="backup_now").click().run()
    assert not at.exception
    assert "已备份：opinion-" in at.success[0].value and "300 条信息" in at.success[0].value
    assert not at.warning and at.metric[0].value == "刚刚"
    [made] = backup.list_backups(tmp_path / "bk")
    assert list(at.dataframe[0].value["文件"]) == [made.name]
    with Store(tmp_path / "opinion.db", readonly=True) as s:
        [entry] = users.audit_log(s, action="db.backup")
    assert entry["actor"] == "admin1"


def test_other_roles_see_backups_but_cannot_make_one(page_db, tmp_path):
    backup.create(tmp_path / "opinion.db", tmp_path / "bk", datetime.now(timezone.utc))
    at = _page(page_db["editor"])
    assert not at.exception and len(at.dataframe[0].value) == 1 and not at.button
    assert any("不能备份数据库" in c.value for c in at.caption)


# -- found by exploratory QA ---------------------------------------------------------------------------------

@pytest.mark.parametrize("odd", ["d#1", "d?x", "d%20y", "空 格"])
def test_paths_with_uri_characters_back_up_and_restore_the_right_file(tmp_path, odd):
    folder = tmp_path / odd
    folder.mkdir()
    db = folder / "t#1.db"
    with Store(db) as s:
        _items(s, 0, 40)
    made = backup.create(db, folder / "bk", T0)
    assert made.counts["items"] == 40 and backup.check(made.path).counts["items"] == 40
    with Store(db) as s:
        s.conn.execute("DELETE FROM items WHERE id > 10")
    with Store(db, readonly=True) as r:                   # the read-only open escapes the path too
        assert r.conn.execute("SELECT count(*) FROM items").fetchone()[0] == 10
    _, saved = backup.restore(made.path, db, folder / "bk", T0 + timedelta(hours=1), actor="cli:test")
    assert _count(db) == 40 and backup.check(saved.path).counts["items"] == 10


def test_restoring_the_oldest_of_many_deletes_nothing(live, tmp_path):
    folder = tmp_path / "backups"
    made = [backup.create(live, folder, T0 + timedelta(days=d), keep=3) for d in range(3)]
    for n in range(3):
        backup.restore(made[0].path, live, folder, T0 + timedelta(days=4, hours=n), actor="cli:test")
    assert all(m.path.exists() for m in made) and len(backup.list_backups(folder)) == 6


def test_a_symlinked_path_meets_the_same_collector_lock(live, tmp_path):
    made = backup.create(live, tmp_path / "backups", T0)
    link = tmp_path / "link.db"
    link.symlink_to(live)
    with collection_lock(lock_path_for(live)):
        with pytest.raises(BackupError, match="采集服务正在运行"):
            backup.restore(made.path, link, tmp_path / "backups", T0, actor="cli:test")


def test_restore_gives_up_on_a_database_kept_locked_and_changes_nothing(live, tmp_path, monkeypatch):
    monkeypatch.setattr(backup_store, "BUSY_GIVE_UP_S", 0.5)
    monkeypatch.setattr(backup_store, "BUSY_TIMEOUT_MS", 50)
    made = backup.create(live, tmp_path / "backups", T0)
    with Store(live) as s:
        s.conn.execute("DELETE FROM items WHERE id > 200")
    holder = sqlite3.connect(live, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")                       # another program in the middle of a write
    try:
        with pytest.raises(BackupError, match="正被其他程序写入.*数据库未改动"):
            backup.restore(made.path, live, tmp_path / "backups", T0 + timedelta(hours=1), actor="cli:test")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _count(live) == 200


def test_restoring_the_live_database_onto_itself_is_refused(live, tmp_path):
    with pytest.raises(BackupError, match="这就是当前数据库"):
        backup.restore(live, live, tmp_path / "backups", T0, actor="cli:test")
    assert not (tmp_path / "backups").exists()


def test_messages_name_the_real_problem(live, tmp_path):
    notdb = tmp_path / "notdb.db"
    notdb.write_text("hello")
    with pytest.raises(BackupError, match="数据库 .*notdb.db 无法读取或已损坏"):
        backup.create(notdb, tmp_path / "bk", T0)
    with pytest.raises(BackupError, match="是一个文件，不是文件夹"):
        backup.create(live, live, T0)
    good = backup.create(live, tmp_path / "bk", T0).path
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(BackupError, match="恢复未进行，数据库未改动：无法先另存当前数据库"):
        backup.restore(good, live, blocker, T0 + timedelta(hours=1), actor="cli:test")
    assert backup.size_text(0) == "0 KB" and backup.size_text(10) == "1 KB"
    assert backup.size_text(72_683 * 1_048_576) == "71.0 GB"


def test_checking_a_wal_mode_file_leaves_nothing_beside_it(live, tmp_path):
    folder = tmp_path / "bk"
    folder.mkdir()
    copy = folder / "opinion-20261120-093000.db"
    copy.write_bytes(live.read_bytes())                      # a WAL-mode file copied by hand
    backup.check(copy)
    assert sorted(p.name for p in folder.iterdir()) == [copy.name]


def test_a_broken_backup_folder_never_stops_collection(live, tmp_path, monkeypatch, capsys):
    from collectors import __main__ as collect

    def boom(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(backup, "maybe_create", boom)
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "x"\nurl = "https://example.invalid/feed"\nenabled = true\n',
                       encoding="utf-8")
    monkeypatch.setenv("OPINION_HOST_INTERVAL_S", "0")
    assert collect.main(["run", "--once", "--sources", str(sources), "--db", str(live)]) == 0
    assert "备份失败：没有权限" in capsys.readouterr().err


def test_an_old_leftover_that_is_a_folder_is_left_alone(live, tmp_path):
    folder = tmp_path / "bk"
    stray = folder / "opinion-20260101-000000.db.partial"
    stray.mkdir(parents=True)
    os.utime(stray, (0, 0))
    assert backup.create(live, folder, T0).path.is_file() and stray.is_dir()
