"""Training sets its operating point on rows drawn like the stream, not on the hard-case file."""
from __future__ import annotations

import json
import random

from sentiment import dataset
from sentiment.metrics import binary_report
from sentiment.train import PUBLICITY_FP_MAX, UNSEEN_MARGIN, stack_threshold, train


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_hard_cases_are_trained_on_but_do_not_set_the_threshold(tmp_path, monkeypatch):
    fresh = [json.loads(x) for x in dataset.FRESH_FILE.read_text(encoding="utf-8").splitlines()[:60]]
    monkeypatch.setattr(dataset, "FRESH_FILE", _write(tmp_path / "fresh.jsonl", fresh))
    dev = [json.loads(x) for x in dataset.DEV_FILE.read_text(encoding="utf-8").splitlines()[:150]]
    hard = [json.loads(x) for x in dataset.HARD_FILE.read_text(encoding="utf-8").splitlines()[:150]]
    paths = [_write(tmp_path / dataset.DEV_FILE.name, dev),
             _write(tmp_path / dataset.HARD_FILE.name, hard)]
    card = train(out_dir=tmp_path / "model", data_paths=paths, refresh_tables=False, log=lambda *_: None)

    train_ids = set(r["id"] for r in dev + hard) - set(card["data"]["heldout_ids"])
    n_dev_train = sum(1 for r in dev if r["id"] in train_ids)
    assert card["cv"]["n"] == len(train_ids)                      # every train row is trained on
    assert card["cv_without_hard_cases"]["n"] == n_dev_train      # only these set the operating point
    assert card["cv_without_hard_cases"]["n"] < card["cv"]["n"]
    assert set(card["heldout_by_file"]) == {dataset.DEV_FILE.name, dataset.HARD_FILE.name}
    assert dataset.HARD_FILE.name in card["threshold_rule"]
    # The flag sits the margin for unseen items above the threshold chosen out of fold.
    st = card["stacker"]
    assert st["threshold_out_of_fold"] is not None
    assert st["threshold"] == round(st["threshold_out_of_fold"] + UNSEEN_MARGIN, 2)
    # The fresh items are judged by the new model and reported, never trained on.
    assert card["fresh"]["file"] == "fresh.jsonl" and card["fresh"]["n"] == len(fresh)


def _calibrated(n: int, seed: int) -> tuple[list[bool], list[float]]:
    """Scores that mean what they say: an item with score p is negative with probability p."""
    rng = random.Random(seed)
    p = [rng.random() ** 1.5 for _ in range(n)]
    return [rng.random() < q for q in p], p


def test_second_stage_threshold_is_half_the_best_f1_not_the_noisy_peak():
    gold, p = _calibrated(3000, 1)
    can = [True] * len(p)
    t = stack_threshold(gold, can, p, pub=[])
    best = max(binary_report(gold, [q >= x / 100 for q in p])["f1"] for x in range(20, 81))
    assert t == round(best / 2, 2)
    # Another draw of the same kind of data: the peak of the flat curve may move, the rule barely does.
    gold2, p2 = _calibrated(3000, 2)
    assert abs(stack_threshold(gold2, can, p2, pub=[]) - t) <= 0.02


def test_second_stage_threshold_rises_to_keep_the_publicity_cap():
    gold, p = _calibrated(2000, 3)
    can = [True] * len(p)
    free = stack_threshold(gold, can, p, pub=[])
    # Non-negative items scored up to 0.6 are publicity: below about 0.6 too many of them would be flagged.
    pub = [i for i, (g, q) in enumerate(zip(gold, p)) if not g and q < 0.6]
    capped = stack_threshold(gold, can, p, pub=pub)
    flagged_pub = sum(p[i] >= capped for i in pub) / len(pub)
    assert capped > free and flagged_pub <= PUBLICITY_FP_MAX
    # No threshold at all when even the highest one flags too much publicity.
    assert stack_threshold([True, False], [True, True], [0.9, 0.95], pub=[1]) is None
