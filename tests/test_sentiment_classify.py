"""`python -m sentiment classify`: the JSON Lines contract, run as a real subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDED = ["negative", "p_negative", "polarity", "ip_type", "region", "reasons", "topic", "channel"]


def run(args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sentiment", "classify", *args], input=stdin,
                          capture_output=True, cwd=ROOT, timeout=120)


def line(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")


def test_adds_judgement_and_passes_other_keys_in_order(tmp_path):
    rows = [{"id": 7, "zeta": [1, 2], "text": "网友投诉盗版网站屡禁不止，维权难", "title": "盗版猖獗", "alpha": None},
            {"text": "合肥海关查获侵权商品", "source": "安徽日报"}]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(line(r) for r in rows))
    out = tmp_path / "out.jsonl"
    p = run(["--in", str(src), "--out", str(out)])
    assert p.returncode == 0, p.stderr.decode()
    got = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(got) == 2
    for r, g in zip(rows, got):
        assert list(g)[: len(r)] == list(r)                       # order preserved, added keys after
        assert {k: g[k] for k in r} == r                          # unchanged values
        assert sorted(set(g) - set(r)) == sorted(ADDED)
        assert isinstance(g["negative"], bool) and 0 <= g["p_negative"] <= 1
        assert g["polarity"] in ("negative", "neutral", "positive")
        assert isinstance(g["reasons"], list) and all(isinstance(x, str) for x in g["reasons"])
    assert got[0]["negative"] is True and got[1]["negative"] is False
    assert got[1]["region"] == "安徽合肥" and got[1]["channel"] == "海关"


def test_stdin_to_stdout_by_default():
    p = run([], stdin=line({"text": "商标被抢注"}))
    assert p.returncode == 0
    assert json.loads(p.stdout.decode("utf-8"))["ip_type"] == "商标"


def test_bad_lines_reported_with_number_skipped_and_exit_1():
    data = b"".join([
        line({"id": 1, "text": "盗版泛滥"}),
        b"{not json\n",
        line([1, 2, 3]),
        line({"id": 4, "title": "no text"}),
        b'{"id": 5, "text": "\xff\xfe invalid utf-8"}\n',
        b"\n",
        line({"id": 7, "text": 42}),
        line({"id": 8, "text": "查获假冒商品"}),
    ])
    p = run([], stdin=data)
    assert p.returncode == 1
    out = [json.loads(x) for x in p.stdout.decode("utf-8").splitlines()]
    assert [o["id"] for o in out] == [1, 8]
    err = p.stderr.decode("utf-8")
    for n in (2, 3, 4, 5, 7):
        assert f"line {n}:" in err
    assert "line 6:" not in err and "line 1:" not in err and "line 8:" not in err


def test_missing_input_file_is_a_clear_error(tmp_path):
    p = run(["--in", str(tmp_path / "nope.jsonl")])
    assert p.returncode == 2
    assert "nope.jsonl" in p.stderr.decode()


def test_half_a_utf16_pair_is_replaced_not_fatal():
    """JSON may spell a lone surrogate ("\\ud800"); it cannot be written as UTF-8, so it becomes U+FFFD."""
    data = b'{"id": 1, "text": "\\ud800\xe7\x9b\x97\xe7\x89\x88\xe6\xb3\x9b\xe6\xbb\xa5", "note": ["\\udfff"]}\n' + \
        line({"id": 2, "text": "查获假冒商品"})
    p = run([], stdin=data)
    assert p.returncode == 0, p.stderr.decode()
    out = [json.loads(x) for x in p.stdout.decode("utf-8").splitlines()]
    assert [o["id"] for o in out] == [1, 2]
    assert out[0]["text"] == "\ufffd盗版泛滥" and out[0]["note"] == ["\ufffd"]
