"""Training sets its operating point on rows drawn like the stream, not on the hard-case file."""
from __future__ import annotations

import json

from sentiment import dataset
from sentiment.train import UNSEEN_MARGIN, train


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
