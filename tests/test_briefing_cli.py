"""`python -m briefing`: the command-line contract (files, exit codes, one-line messages, 期号)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import docx
import pytest

from briefing.__main__ import main
from briefing.period import last_full_week, week
from monitor.briefing_store import BriefingStore
from monitor.queries import beijing_today
from monitor.store import Store
from tests.test_briefing_build import seed

# argparse's and the old messages' English wording; staff read Chinese only.
_ENGLISH = re.compile(r"\b(error|not found|must|cannot|give|got|expected|invalid|required|unrecognized|folder|argument)\b",
                      re.I)
ROOT = Path(__file__).resolve().parent.parent
SOURCES_TOML = "".join(f'[[sources]]\nname = "{n}"\nurl = "https://{i}.example/feed"\n{extra}\n'
                       for i, (n, extra) in enumerate((("源甲", ""), ("源乙", ""), ("源丙", ""), ("本局网站", "own = true"))))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    label = last_full_week(beijing_today())
    db = seed(tmp / "opinion.db", week(label, beijing_today()).start)
    (tmp / "sources.toml").write_text(SOURCES_TOML, encoding="utf-8")
    return tmp, db, label


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "briefing", *args], cwd=ROOT, capture_output=True, text=True,
                          encoding="utf-8", timeout=180)


def test_weekly_by_subprocess_writes_a_numbered_briefing(setup):
    tmp, db, label = setup
    out = tmp / "周报.docx"
    done = run("weekly", "--week", label, "--db", str(db), "--sources", str(tmp / "sources.toml"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "第1期" in done.stdout and "信息 11 条，负面 3 条" in done.stdout and "采集不完整" in done.stdout
    d = docx.Document(str(out))
    texts = [p.text for p in d.paragraphs]
    assert texts[1] == "知识产权舆情周报" and texts[2].endswith("年第1期")
    assert "五、正面宣传与成效" in texts and len(d.inline_shapes) == 4
    assert "本局自有渠道发布信息1条，被其他来源转载2次。" in texts


def test_bad_input_by_subprocess_is_one_line_exit_2_and_no_file(setup):
    tmp, db, _ = setup
    out = tmp / "future.docx"
    future = week(last_full_week(beijing_today() + timedelta(days=21)), beijing_today() + timedelta(days=21))
    done = run("weekly", "--week", future.label, "--db", str(db), "--out", str(out))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "晚于今天" in done.stderr
    assert not out.exists()


def _bad(capsys, argv: list[str], needle: str, out: Path) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and err.count("\n") == 1 and needle in err, err
    assert not _ENGLISH.search(err), err
    assert not out.exists()


def test_bad_inputs(setup, capsys):
    tmp, db, label = setup
    out = tmp / "bad.docx"
    today = beijing_today()
    common = ["--db", str(db), "--out", str(out)]
    _bad(capsys, ["weekly", "--week", "2025-W53", *common], "2025 年没有第 53 周", out)
    _bad(capsys, ["weekly", "--week", "W47", *common], "YYYY-Www", out)
    _bad(capsys, ["weekly", "--from", "2026-11-20", "--to", "2026-11-01", *common], "晚于结束日期", out)
    _bad(capsys, ["weekly", "--from", str(today), "--to", str(today + timedelta(days=3)), *common], "晚于今天", out)
    _bad(capsys, ["daily", "--date", str(today + timedelta(days=1)), *common], "晚于今天", out)
    _bad(capsys, ["daily", "--date", "2026-02-30", *common], "YYYY-MM-DD", out)
    _bad(capsys, ["weekly", "--week", label, "--from", "2026-11-01", "--to", "2026-11-02", *common], "只能二选一", out)
    _bad(capsys, ["weekly", "--from", "2026-11-01", *common], "--to", out)
    _bad(capsys, ["weekly", "--week", label, "--db", str(tmp / "missing.db"), "--out", str(out)],
         "数据库不存在", out)
    assert not (tmp / "missing.db").exists()
    _bad(capsys, ["weekly", "--week", label, "--db", str(db), "--out", str(tmp / "no" / "such" / "x.docx")],
         "输出文件夹不存在", out)
    _bad(capsys, ["weekly", "--week", label, "--db", str(db), "--out", str(tmp / "x.pdf")], "应以 .docx 结尾", out)
    (tmp / "edits.json").write_text('{"title": "x"}', encoding="utf-8")
    _bad(capsys, ["weekly", "--week", label, *common, "--edits", str(tmp / "edits.json")], "应为 JSON 对象", out)
    _bad(capsys, ["weekly", "--week", label, *common, "--edits", str(tmp / "nope.json")], "无法读取 --edits 文件", out)
    _bad(capsys, ["monthly", "--out", str(out)], "子命令不能是 'monthly'（可选：weekly、daily、template、list）", out)
    # argparse's own refusals, in Chinese and on one line, exit 2 as before
    _bad(capsys, ["daily", "--db", str(db)], "缺少必需的参数：--date、--out", out)
    _bad(capsys, ["weekly", "--week", label, *common, "--bogus"], "无法识别的参数：--bogus", out)
    _bad(capsys, ["weekly", "--week", label, "--db", str(db), "--out"], "参数 --out 后面需要一个值", out)
    _bad(capsys, ["list", "--year", "abc"], "参数 --year 的值 'abc' 无效（应为整数）", out)
    _bad(capsys, [], "缺少必需的参数：子命令", out)


def test_edits_daily_series_and_reissue_keep_numbers(setup, capsys):
    tmp, db, label = setup
    start = week(label, beijing_today()).start
    text = '研判 <a href="x">&</a> 😀\n第二段'
    (tmp / "edits.json").write_text(json.dumps({"assessment": text}, ensure_ascii=False), encoding="utf-8")
    args = ["--db", str(db), "--sources", str(tmp / "sources.toml")]
    assert main(["daily", "--date", str(start + timedelta(days=1)), *args, "--out", str(tmp / "d1.docx")]) == 0
    assert main(["daily", "--date", str(start + timedelta(days=2)), *args, "--out", str(tmp / "d2.docx"),
                 "--edits", str(tmp / "edits.json")]) == 0
    d2 = [p.text for p in docx.Document(str(tmp / "d2.docx")).paragraphs]
    assert d2[2].endswith("年第2期")  # the daily series is numbered on its own
    i = d2.index("四、研判与建议")
    assert d2[i + 1:i + 3] == ['研判 <a href="x">&</a> 😀', "第二段"]
    # a corrected re-issue of the first day keeps its number
    assert main(["daily", "--date", str(start + timedelta(days=1)), *args, "--out", str(tmp / "d1b.docx")]) == 0
    assert [p.text for p in docx.Document(str(tmp / "d1b.docx")).paragraphs][2].endswith("年第1期")
    capsys.readouterr()
    with Store(db, readonly=True) as s:
        issued = BriefingStore(s).issued(kind="daily")
    assert [r["number"] for r in issued] == [2, 1]
    assert issued[0]["edits"] == {"assessment": text}
    assert main(["list", "--db", str(db)]) == 0
    assert "日报" in capsys.readouterr().out


def test_no_record_takes_no_number(setup, capsys):
    tmp, db, label = setup
    start = week(label, beijing_today()).start
    out = tmp / "draft.docx"
    assert main(["daily", "--date", str(start + timedelta(days=5)), "--db", str(db), "--out", str(out),
                 "--no-record"]) == 0
    with Store(db, readonly=True) as s:
        bs = BriefingStore(s)
        assert bs.find("daily", start + timedelta(days=5), start + timedelta(days=5)) is None


def test_template_command(tmp_path, capsys):
    out = tmp_path / "t.docx"
    assert main(["template", "--out", str(out)]) == 0
    d = docx.Document(str(out))
    assert d.sections[0].footer.paragraphs[0].text.startswith("— ")
    assert all(not p.text for p in d.paragraphs)


def test_output_that_cannot_be_written_takes_no_number(setup, capsys):
    """A folder where the .docx should go: one line, exit 2, and the day is still unnumbered."""
    tmp, db, label = setup
    day = week(label, beijing_today()).start + timedelta(days=6)
    blocked = tmp / "blocked.docx"
    blocked.mkdir()
    assert main(["daily", "--date", str(day), "--db", str(db), "--out", str(blocked)]) == 2
    err = capsys.readouterr().err
    assert "未占用期号" in err and "文件夹" in err and len(err.strip().splitlines()) == 1
    with Store(db, readonly=True) as s:
        assert BriefingStore(s).find("daily", day, day) is None
    assert main(["template", "--out", str(blocked)]) == 2
    assert "无法写入" in capsys.readouterr().err


def test_help_and_warnings_are_chinese(setup, capsys, tmp_path):
    tmp, db, label = setup
    assert main(["weekly", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：python -m briefing weekly") and "选项：" in out and "显示本帮助并退出" in out
    assert "show this help" not in out and "options:" not in out
    assert main(["weekly", "--week", label, "--db", str(db), "--out", str(tmp_path / "w.docx"), "--no-record",
                 "--sources", str(tmp_path / "missing.toml")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("警告：未能读取信息源配置") and "附录只列出本期运行过的信息源" in err


def test_list_names_a_range_briefing_as_its_title_does(setup, capsys):
    """`list` calls an issued --from/--to briefing 专报, the word its title (知识产权舆情专报) uses."""
    from briefing.build import TITLES
    from briefing.period import KIND_LABELS
    tmp, db, label = setup
    start = week(label, beijing_today()).start
    assert main(["weekly", "--from", str(start), "--to", str(start + timedelta(days=2)), "--db", str(db),
                 "--out", str(tmp / "range.docx")]) == 0
    capsys.readouterr()
    assert main(["list", "--db", str(db)]) == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if f"{start}~{start + timedelta(days=2)}" in x]
    assert lines and lines[0].startswith("专报 ") and "专期" not in lines[0]
    assert all(TITLES[k].endswith(KIND_LABELS[k]) for k in TITLES)
