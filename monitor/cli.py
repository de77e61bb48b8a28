"""What every command does with the errors no command handles itself: one line on stderr and an exit
code, never a traceback.

Commands refuse bad input themselves, with messages that say what to change. What is left are the
machine's answers: a database that cannot be opened or written (read-only file, full disk, a folder
given as --db), a path that is a folder or cannot be written, a file that is not UTF-8, and a reader
that closed the pipe (`... | head`). Each `python -m <package>` entry point runs its command through
`run_command`.
"""
from __future__ import annotations

import contextlib
import errno
import getpass
import os
import sys
from typing import Any, Callable

from monitor.store import DatabaseError, StoreError

EXIT_ERROR = 2
REASONS = {errno.EISDIR: "这是一个文件夹，不是文件", errno.ENOENT: "文件或文件夹不存在",
           errno.ENOTDIR: "路径中有一段不是文件夹", errno.EACCES: "没有权限", errno.EPERM: "不允许的操作（没有权限）",
           errno.ENOSPC: "磁盘已满", errno.EROFS: "只读文件系统"}


def cli_actor() -> str:
    """Who runs a command, as the audit log records it: `cli:<system user>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def os_error_message(e: OSError) -> str:
    """An OSError in Chinese with the path it concerns ("文件或文件夹不存在：x.csv"), never "[Errno 2] …"."""
    where = f"：{e.filename}" if e.filename else ""
    return f"{REASONS.get(e.errno, e.strerror or str(e))}{where}"


def _say(message: str) -> None:
    print(" ".join(message.split()), file=sys.stderr, flush=True)


def run_command(func: Callable[[Any], int], args: Any, *, exit_code: int = EXIT_ERROR) -> int:
    try:
        return func(args)
    except BrokenPipeError:
        # stdout closed early: not an error; keep the interpreter's final flush quiet too (best effort).
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except StoreError as e:
        _say(f"错误：数据库不可用：{e}")
    except DatabaseError as e:
        _say(f"错误：数据库操作失败：{e}（请检查数据库文件是否可写、磁盘是否已满）")
    except UnicodeError as e:
        _say(f"错误：文件不是 UTF-8 编码：{e}")
    except OSError as e:
        _say(f"错误：{os_error_message(e)}")
    return exit_code
