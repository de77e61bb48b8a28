"""Model versions: the model `train` replaces is kept, compared on the same rows and can be put back;
a running process picks up a replaced model file without a restart."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment import dataset, judge as judge_mod, versions
from sentiment.model import CARD_FILE, MODEL_FILE, LinearModel
from sentiment.train import train
from tests.test_sentiment_training import _write

ROOT = Path(__file__).resolve().parent.parent


def _model_dir(tmp_path: Path, trained_at: str, threshold: float | None = None) -> Path:
    """A models directory holding a copy of the committed model, with its own card and threshold."""
    d = tmp_path / "models"
    d.mkdir(exist_ok=True)
    model = LinearModel.load(MODEL_FILE)
    if threshold is not None:
        model.threshold = threshold
    model.save(d / MODEL_FILE.name)
    card = json.loads(CARD_FILE.read_text(encoding="utf-8")) | {"trained_at": trained_at}
    card.pop("previous", None)
    (d / CARD_FILE.name).write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    return d


def _threshold(d: Path) -> float:
    return json.loads((d / MODEL_FILE.name).read_text(encoding="utf-8"))["threshold"]


def test_rollback_swaps_with_the_kept_model_and_again_undoes_it(tmp_path):
    d = _model_dir(tmp_path, "2026-10-01T00:00:00+00:00", threshold=0.41)
    with pytest.raises(versions.VersionError, match="nothing to roll back"):
        versions.rollback(d)
    assert versions.keep_previous(d) is True
    # A retrain writes a new model and card over the kept one.
    _model_dir(tmp_path, "2026-11-01T00:00:00+00:00", threshold=0.62)
    assert versions.read_card(versions.previous_dir(d))["trained_at"] == "2026-10-01T00:00:00+00:00"

    card = versions.rollback(d)
    assert card["trained_at"] == "2026-10-01T00:00:00+00:00" and _threshold(d) == 0.41
    assert versions.read_card(versions.previous_dir(d))["trained_at"] == "2026-11-01T00:00:00+00:00"
    assert versions.rollback(d)["trained_at"] == "2026-11-01T00:00:00+00:00" and _threshold(d) == 0.62
    # No temporary file is left behind by the swaps.
    assert sorted(p.name for p in d.iterdir()) == sorted([MODEL_FILE.name, CARD_FILE.name, versions.PREVIOUS])


def test_nothing_is_kept_before_the_first_model(tmp_path):
    assert versions.keep_previous(tmp_path) is False
    assert not versions.previous_dir(tmp_path).exists()


def _report(f1: float, acc: float, ap: float) -> dict:
    return {"n": 100, "f1": f1, "accuracy": acc, "average_precision": ap, "polarity_macro_f1": 0.7,
            "confusion": [[1, 2], [3, 4]]}


def test_changes_within_retraining_noise_are_not_called_better_or_worse():
    old = {"heldout": _report(0.78, 0.86, 0.82), "fresh": _report(0.75, 0.84, 0.82)}
    same = versions.compare({"heldout": _report(0.79, 0.865, 0.825), "fresh": _report(0.74, 0.835, 0.815)}, old)
    assert same["verdict"] == "same" and {r["change"] for r in same["rows"]} == {"same"}
    worse = versions.compare({"heldout": _report(0.79, 0.87, 0.83), "fresh": _report(0.70, 0.84, 0.82)}, old)
    assert worse["verdict"] == "worse"
    row = next(r for r in worse["rows"] if r["set"] == "fresh" and r["figure"] == "f1")
    assert (row["previous"], row["new"], row["delta"], row["change"]) == (0.75, 0.70, -0.05, "worse")
    better = versions.compare({"heldout": _report(0.81, 0.88, 0.84), "fresh": _report(0.75, 0.84, 0.82)}, old)
    assert better["verdict"] == "better"
    # One figure just past its noise while the rest slip (a real retrain at one commit): the same.
    slip = versions.compare({"heldout": _report(0.768, 0.863, 0.831), "fresh": _report(0.738, 0.831, 0.814)}, old)
    assert [r["change"] for r in slip["rows"] if r["figure"] == "average_precision"] == ["better", "same"]
    assert slip["verdict"] == "same"
    # A worse figure outweighs a better one: staff would rather keep what they have.
    mixed = versions.compare({"heldout": _report(0.82, 0.86, 0.82), "fresh": _report(0.75, 0.82, 0.82)}, old)
    assert mixed["verdict"] == "worse"


def test_status_counts_the_corrections_made_after_training(tmp_path):
    d = _model_dir(tmp_path, "2026-11-10T00:00:00+00:00")
    corrections = [{"field": "negative", "created_at": "2026-11-09T23:59:59+00:00"},
                   {"field": "negative", "created_at": "2026-11-10T00:00:01+00:00"},
                   {"field": "ip_type", "created_at": "2026-11-12T08:00:00+00:00"}]
    st = versions.status(corrections, d)
    assert st["current"]["trained_at"] == "2026-11-10T00:00:00+00:00"
    assert st["corrections"] == {"total": 3, "since_training": 2, "by_field": {"negative": 1, "ip_type": 1},
                                 "latest_at": "2026-11-12T08:00:00+00:00"}
    assert st["previous"] is None and st["comparison"] is None
    assert st["current"]["fresh"]["n"] == json.loads(CARD_FILE.read_text(encoding="utf-8"))["fresh"]["n"]


@pytest.fixture
def own_model_file(tmp_path, monkeypatch):
    """The process-wide judge loads from a copy of the model, and starts unloaded."""
    d = _model_dir(tmp_path, "2026-11-01T00:00:00+00:00", threshold=0.55)
    monkeypatch.setattr(judge_mod, "MODEL_FILE", d / MODEL_FILE.name)
    monkeypatch.setattr(judge_mod, "_cached", None)
    monkeypatch.setattr(judge_mod, "_cached_stamp", None)
    return d


def test_a_replaced_model_file_is_loaded_on_the_next_use(own_model_file):
    first = judge_mod.load_judge()
    assert judge_mod.load_judge() is first and first.model.threshold == 0.55
    model = LinearModel.load(own_model_file / MODEL_FILE.name)
    model.threshold = 0.66
    model.save(own_model_file / MODEL_FILE.name)
    second = judge_mod.load_judge()
    assert second is not first and second.model.threshold == 0.66
    # The judge handed out before keeps working: a swap never breaks a judgement in progress.
    assert first.judge("网友称专利维权难", "维权成本高，赔偿低").topic in ("ip", "off")


def test_a_broken_or_missing_model_file_keeps_the_judge_in_use(own_model_file, caplog):
    first = judge_mod.load_judge()
    (own_model_file / MODEL_FILE.name).write_text("{not json", encoding="utf-8")
    assert judge_mod.load_judge() is first
    assert "not loaded" in caplog.text
    (own_model_file / MODEL_FILE.name).unlink()
    assert judge_mod.load_judge() is first


def test_retraining_keeps_the_replaced_model_and_scores_both_on_the_same_rows(tmp_path, monkeypatch):
    fresh = [json.loads(x) for x in dataset.FRESH_FILE.read_text(encoding="utf-8").splitlines()[:80]]
    monkeypatch.setattr(dataset, "FRESH_FILE", _write(tmp_path / "fresh.jsonl", fresh))
    dev = [json.loads(x) for x in dataset.DEV_FILE.read_text(encoding="utf-8").splitlines()[:260]]
    out = tmp_path / "model"
    first = train(out_dir=out, data_paths=[_write(tmp_path / "a.jsonl", dev[:160])], refresh_tables=False,
                  log=lambda *_: None)
    assert "previous" not in first and not versions.previous_dir(out).exists()
    model_before = (out / MODEL_FILE.name).read_bytes()

    logged: list[str] = []
    second = train(out_dir=out, data_paths=[_write(tmp_path / "a.jsonl", dev)], refresh_tables=False,
                   log=logged.append)
    prev = versions.previous_dir(out)
    assert (prev / MODEL_FILE.name).read_bytes() == model_before
    assert versions.read_card(prev)["trained_at"] == first["trained_at"]
    # The replaced model is judged now, on the new model's held-out rows and the fresh rows.
    p = second["previous"]
    assert p["trained_at"] == first["trained_at"]
    assert p["heldout"]["n"] == second["heldout"]["n"] and p["fresh"]["n"] == second["fresh"]["n"] == len(fresh)
    assert any(line.startswith("compared with the previous model") for line in logged)
    st = versions.status([], out)
    assert st["comparison"]["previous_trained_at"] == first["trained_at"]
    assert st["comparison"]["verdict"] in ("better", "same", "worse")
    assert {r["set"] for r in st["comparison"]["rows"]} == {"heldout", "fresh"}


def test_status_command_reports_the_model_in_use(tmp_path):
    env_db = tmp_path / "none.db"
    p = subprocess.run([sys.executable, "-m", "sentiment", "status", "--db", str(env_db)],
                       capture_output=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    st = json.loads(p.stdout.decode())
    assert st["current"]["trained_at"] == json.loads(CARD_FILE.read_text(encoding="utf-8"))["trained_at"]
    assert st["corrections"]["total"] == 0


def test_rollback_command_without_a_previous_model_says_so(tmp_path):
    # A copy of the project's entry point run against an empty models directory: nothing to roll back.
    code = ("import sys; from pathlib import Path; import sentiment.versions as v; "
            f"v.MODELS_DIR = Path({str(tmp_path)!r}); from sentiment.__main__ import main; sys.exit(main(['rollback']))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=120,
                       env={**os.environ, "OPINION_DB": str(tmp_path / "none.db")})
    assert p.returncode == 2 and "nothing to roll back" in p.stderr.decode()
    assert list(tmp_path.iterdir()) == []


def test_rollback_command_is_recorded_in_the_audit_log(tmp_path, monkeypatch, capsys):
    """`python -m sentiment rollback` is in the 操作日志 like a rollback from the 研判模型 page."""
    from monitor import users
    from monitor.store import Store
    from sentiment.__main__ import main
    d = _model_dir(tmp_path, "2026-10-01T00:00:00+00:00", threshold=0.41)
    versions.keep_previous(d)
    _model_dir(tmp_path, "2026-11-01T00:00:00+00:00", threshold=0.62)
    monkeypatch.setattr(versions, "MODELS_DIR", d)
    Store(tmp_path / "o.db").close()
    assert main(["rollback", "--db", str(tmp_path / "o.db")]) == 0
    assert _threshold(d) == 0.41 and "rejudge" in capsys.readouterr().err
    with Store(tmp_path / "o.db") as s:
        [entry] = users.audit_log(s, action="model.rollback")
    assert entry["actor"].startswith("cli") and entry["detail"] == {"replaced": "2026-11-01T00:00:00+00:00"}


def test_previous_models_are_not_committed():
    ignored = subprocess.run(["git", "check-ignore", "data/models/previous/judge_model.json"], cwd=ROOT,
                             capture_output=True)
    if ignored.returncode == 128:
        pytest.skip("not a git checkout")
    assert ignored.returncode == 0, "data/models/previous/ must be git-ignored: it is a deployment's own history"


def test_model_files_are_written_whole(tmp_path):
    model = LinearModel.load(MODEL_FILE)
    model.save(tmp_path / "m.json")
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
    assert LinearModel.load(tmp_path / "m.json").threshold == model.threshold
