"""`python -m sentiment evaluate` and the metric functions."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment.evaluate import EvalDataError, _scores, is_publicity, read_eval
from sentiment.judgement import REVIEW_P
from sentiment.metrics import average_precision, binary_report, macro_f1

ROOT = Path(__file__).resolve().parent.parent


def test_binary_report_counts():
    gold = [True, True, True, False, False, False, False, False]
    pred = [True, True, False, True, False, False, False, False]
    r = binary_report(gold, pred)
    assert r["confusion"] == {"tp": 2, "fp": 1, "fn": 1, "tn": 4}
    assert r["accuracy"] == pytest.approx(6 / 8)
    assert r["precision"] == pytest.approx(2 / 3) and r["recall"] == pytest.approx(2 / 3)
    assert r["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_macro_f1_counts_a_class_never_predicted_as_zero():
    assert macro_f1(["a", "b", "c"], ["a", "b", "b"], ("a", "b", "c")) == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_average_precision_matches_scikit_learn_with_ties():
    from sklearn.metrics import average_precision_score
    import random
    for seed in range(50):
        r = random.Random(seed)
        gold = [r.random() < 0.4 for _ in range(r.randint(2, 40))]
        if not any(gold):
            continue
        p = [round(r.random(), 1) for _ in gold]          # rounded: many tied scores
        assert average_precision(gold, p) == pytest.approx(average_precision_score(gold, p))


def test_average_precision_reads_the_ranking_not_a_threshold():
    gold = [True, False, False, False]
    assert average_precision(gold, [0.9, 0.2, 0.1, 0.0]) == 1.0
    assert average_precision(gold, [0.51, 0.5, 0.5, 0.5]) == 1.0       # same ranking, any threshold
    assert average_precision(gold, [0.0, 0.2, 0.3, 0.4]) == pytest.approx(0.25)
    assert average_precision(gold, [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.25)  # one tie: no order at all
    assert average_precision([False, False], [0.3, 0.7]) is None


ROWS = [
    {"text": "盗版网站屡禁不止，作者维权难", "label": "negative", "polarity3": "negative", "topic": "ip", "ip_type": "copyright"},
    {"text": "合肥海关查获侵权商品1万件", "label": "non-negative", "polarity3": "positive", "topic": "ip", "ip_type": "trademark"},
    {"text": "法院审理一起专利纠纷", "label": "non-negative", "polarity3": "neutral", "topic": "ip", "ip_type": "patent"},
    {"text": "明天有暴雨", "label": "non-negative", "polarity3": "neutral", "topic": "off", "ip_type": "none"},
    {"text": "法院判决", "label": "non-negative", "publicity": False},
]


def _write(tmp_path, rows) -> Path:
    p = tmp_path / "eval.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return p


def test_publicity_items_come_from_the_data(tmp_path):
    pairs = read_eval(_write(tmp_path, ROWS))
    assert [is_publicity(e, r) for e, r in pairs] == [False, True, False, False, False]


def test_suspect_band_counts_what_the_flag_missed(tmp_path):
    pairs = read_eval(_write(tmp_path, ROWS))
    examples, rows = [e for e, _ in pairs], [r for _, r in pairs]
    # Row 0 (the only negative) is missed but sits in the band; row 2 is in the band and not negative;
    # row 1 is flagged, so it is not "suspect" however high its p.
    neg = [False, True, False, False, False]
    p = [REVIEW_P + 0.05, 0.9, REVIEW_P, REVIEW_P - 0.01, 0.0]
    m = _scores(examples, rows, neg, p, None, None, None)
    assert (m["suspect_items"], m["suspect_negative"]) == (2, 1)
    assert m["recall"] == 0 and m["recall_with_suspect"] == 1.0
    m = _scores(examples, rows, [True] + neg[1:], p, None, None, None)
    assert (m["suspect_items"], m["suspect_negative"], m["recall_with_suspect"]) == (1, 0, 1.0)


def test_bad_eval_file_names_the_line(tmp_path):
    p = _write(tmp_path, ROWS[:2] + [{"text": "x"}])
    with pytest.raises(EvalDataError, match="line 3"):
        read_eval(p)


def test_cli_json_side_by_side_with_snownlp(tmp_path):
    p = subprocess.run([sys.executable, "-m", "sentiment", "evaluate", "--data", str(_write(tmp_path, ROWS)), "--json"],
                       capture_output=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    out = json.loads(p.stdout)
    assert out["n"] == 5
    m, s = out["model"], out["snownlp"]
    assert m["publicity_items"] == 1 and m["off_topic_items"] == 1 and m["ip_type_items"] == 3
    for key in ("accuracy", "precision", "recall", "f1", "macro_f1", "confusion", "publicity_fp_rate",
                "polarity_macro_f1", "topic_accuracy", "ip_type_accuracy", "average_precision"):
        assert key in m
    assert 0 < m["average_precision"] <= 1 and 0 < s["average_precision"] <= 1
    assert sum(m["confusion"].values()) == 5 == sum(s["confusion"].values())
    assert "topic_accuracy" not in s and "ip_type_accuracy" not in s      # SnowNLP has no such heads


def test_cli_table_and_missing_file(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "sentiment", "evaluate", "--data", str(_write(tmp_path, ROWS)),
                         "--no-snownlp"], capture_output=True, cwd=ROOT, timeout=120)
    assert ok.returncode == 0
    text = ok.stdout.decode("utf-8")
    assert "negative F1" in text and "publicity FP rate" in text and "confusion (model)" in text
    assert "avg precision (p_neg)" in text
    assert "suspect band (model" in text
    bad = subprocess.run([sys.executable, "-m", "sentiment", "evaluate", "--data", str(tmp_path / "nope.jsonl")],
                         capture_output=True, cwd=ROOT, timeout=60)
    assert bad.returncode == 2 and b"nope.jsonl" in bad.stderr
