"""Errors no command handles itself end as one line and an exit code, never a traceback (monitor.cli)."""
from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import run_command

ROOT = Path(__file__).resolve().parent.parent
FEED = ROOT / "tests" / "fixtures" / "feeds" / "atom.xml"


def _raise(exc):
    def command(args):
        raise exc
    return command


@pytest.mark.parametrize("exc,message", [
    (sqlite3.OperationalError("attempt to write a readonly database"), "数据库操作失败：attempt to write a readonly"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "rules"), "这是一个文件夹，不是文件：rules"),
    (PermissionError(errno.EACCES, "Permission denied", "/srv/out.docx"), "没有权限：/srv/out.docx"),
    (OSError(errno.ENOSPC, "No space left on device"), "磁盘已满"),
    (UnicodeDecodeError("utf-8", b"\xb0", 0, 1, "invalid start byte"), "不是 UTF-8 编码"),
])
def test_machine_errors_are_one_line_and_exit_2(capsys, exc, message):
    assert run_command(_raise(exc), None) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_other_errors_are_not_swallowed():
    with pytest.raises(KeyError):
        run_command(_raise(KeyError("bug")), None)            # a bug keeps its traceback
    assert run_command(lambda args: 0, None) == 0
    assert run_command(_raise(OSError("x")), None, exit_code=1) == 1


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPINION_")}
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)


@pytest.mark.parametrize("command", [
    ["collectors", "ingest", str(FEED), "--db", "{dir}"],
    ["collectors", "sources", "--sources", "{dir}"],
    ["monitor", "export", "--db", "{dir}"],
    ["monitor", "users", "list", "--db", "{dir}"],
    ["monitor", "alerts", "load-rules", "{dir}", "--db", "{db}"],
    ["monitor", "alerts", "channels", "--config", "{dir}"],
    ["sentiment", "correct", "--id", "1", "--negative", "yes", "--user", "a", "--db", "{dir}"],
    ["briefing", "weekly", "--week", "2026-W46", "--out", "{out}", "--db", "{dir}"],
    ["casebook", "list", "--db", "{dir}"],
    ["casebook", "release", "--cases", "CB001", "--title", "T", "--out", "{out}", "--preface-file", "{dir}",
     "--db", "{db}"],
], ids=lambda c: " ".join(c[:3]))
def test_a_folder_where_a_file_belongs_is_one_line(tmp_path, command):
    folder = tmp_path / "folder"
    folder.mkdir()
    filled = [a.format(dir=folder, db=tmp_path / "o.db", out=tmp_path / "o.docx") for a in command]
    done = _run(*filled)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and ("folder" in done.stderr or "文件夹" in done.stderr)
    assert list(folder.iterdir()) == []


def test_a_closed_pipe_is_not_an_error():
    assert run_command(_raise(BrokenPipeError()), None) == 0


def test_a_reader_that_stops_early_sees_no_traceback(tmp_path):
    """`python -m briefing list | head -1`: the rest of the output has nowhere to go."""
    from datetime import date, timedelta

    from monitor.briefing_store import BriefingStore
    from monitor.store import Store
    db = tmp_path / "o.db"
    with Store(db) as s, s.atomic():
        bs = BriefingStore(s)
        for n in range(3000):                        # ~200 KB of lines: more than a pipe buffers
            d = date(2000, 1, 1) + timedelta(days=n)
            bs.issue("daily", d.year, d, d, unit="x", edits={})
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPINION_")}
    proc = subprocess.Popen([sys.executable, "-m", "briefing", "list", "--db", str(db)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()                              # the reader goes away after one line
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=60) == 0 and "Traceback" not in err, err


@pytest.mark.parametrize("command", [["casebook", "list"], ["casebook", "show", "CB001"], ["casebook", "coverage"],
                                     ["monitor", "users", "list"]], ids=" ".join)
def test_a_reading_command_does_not_create_a_database_at_a_mistyped_path(tmp_path, command):
    missing = tmp_path / "typo" / "opnion.db"
    done = _run(*command, "--db", str(missing))
    assert done.returncode == 2 and "找不到数据库" in done.stderr and not missing.parent.exists()
