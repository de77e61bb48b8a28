"""Every `python -m …` entry point tells a mistyped command line in one Chinese line on stderr, exit 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli_parser import translate

ROOT = Path(__file__).resolve().parent.parent


def test_parser_translates_argparse_forms():
    assert translate("the following arguments are required: --date, --out") == "缺少必需的参数：--date、--out"
    assert translate("argument command: invalid choice: 'monthly' (choose from 'weekly', 'daily')",
                     subcommand_dest="command") == "子命令不能是 'monthly'（可选：weekly、daily）"
    assert translate("argument --year: invalid int value: 'abc'") == "参数 --year 的值 'abc' 无效（应为整数）"
    assert translate("argument --x: not allowed with argument --y") == "参数 --x 不能与 --y 同时使用"
    assert translate("argument --every: 间隔分钟数应为数字") == "参数 --every：间隔分钟数应为数字"
    assert translate("argument --role: invalid choice: 'boss' (choose from 'viewer', 'admin')") == \
        "参数 --role 不能是 'boss'（可选：viewer、admin）"
    assert translate("something new") == "something new"      # an unknown form is shown, not lost


@pytest.mark.parametrize("argv, said", [
    (["collectors", "bogus"], "子命令不能是 'bogus'"),
    (["collectors", "run", "--every", "abc"], "参数 --every：间隔分钟数（MINUTES）应为数字"),
    (["sentiment", "evaluate"], "缺少必需的参数：--data"),
    (["monitor", "users", "add"], "缺少必需的参数：username、--role"),
    (["casebook", "list", "--nonsense"], "无法识别的参数：--nonsense"),
    (["briefing", "daily"], "缺少必需的参数：--date"),
])
def test_a_mistyped_command_line_is_one_chinese_line(tmp_path, argv, said):
    done = subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "OPINION_DB": str(tmp_path / "o.db"), "HOME": str(tmp_path)})
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"错误：python -m {argv[0]}") and said in line


def test_help_is_in_chinese():
    done = subprocess.run([sys.executable, "-m", "monitor", "backup", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("用法：") and "显示本帮助并退出" in done.stdout
