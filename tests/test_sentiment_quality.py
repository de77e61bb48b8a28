"""Quality gate: the committed model on the fixed held-out split, against pinned floors.

The held-out items are the committed labelled rows whose id hashes into the
test fifth (sentiment.dataset.is_heldout) and that the model card lists as held
out, so the model never saw them. Floors sit a little below the measured
figures (docs/judgement.md); a regression below them fails the build.
"""
from __future__ import annotations

import json

import pytest

from sentiment import dataset, load_judge
from sentiment.evaluate import evaluate
from sentiment.model import CARD_FILE

# Measured 2026-11-26 (model trained on 2,015 items; second stage over the heads, its threshold 0.54 =
# out-of-fold 0.44 + the margin for unseen items) on the 476 held-out items of all three files: accuracy
# 0.868, negative F1 0.781, macro-F1 0.843, polarity macro-F1 0.758, topic 0.941, IP type 0.915,
# publicity FP 0.059 (6 of 102), off-topic flagged 3 of 107, average precision of p_negative 0.808 (it reads
# the ranking alone, so it catches a model that ranks worse while its threshold happens to hold F1). Floors sit
# two to four items below.
FLOORS = {
    "average_precision": 0.80,
    "accuracy": 0.86,
    "f1": 0.765,
    "macro_f1": 0.83,
    "polarity_macro_f1": 0.75,
    "topic_accuracy": 0.935,
    "ip_type_accuracy": 0.905,
}
CEILINGS = {"publicity_fp_rate": 0.09, "off_topic_flagged": 5}
# The 96 held-out rows of the reference set: accuracy 0.917, F1 0.867, polarity 0.819, topic 0.969,
# IP type 0.886, publicity FP 0 of 41, off-topic flagged 0 of 9, average precision 0.955. Floors sit one to
# two items below.
REFERENCE_FLOORS = {
    "average_precision": 0.945,
    "accuracy": 0.895,
    "f1": 0.84,
    "polarity_macro_f1": 0.79,
    "topic_accuracy": 0.95,
    "ip_type_accuracy": 0.86,
}
REFERENCE_CEILINGS = {"publicity_fp_rate": 0.05, "off_topic_flagged": 1}
# The 2,205 fresh items (rounds 5 and 6: gathered and labelled by other people after the model was built,
# never trained on; round-5 gatherers a-d were read once to set the flag's margin for unseen items;
# docs/judgement.md, "Fresh items"): accuracy 0.844, F1 0.749, polarity 0.701, topic 0.900, IP type 0.869,
# publicity FP 0.038 (22 of 585), off-topic flagged 33 of 370, average precision 0.825. This is what unseen
# items get; floors sit about 1 % below, so a change that generalises worse fails here even when the held-out
# split does not notice.
FRESH_FLOORS = {
    "average_precision": 0.815,
    "accuracy": 0.835,
    "f1": 0.74,
    "polarity_macro_f1": 0.69,
    "topic_accuracy": 0.89,
    "ip_type_accuracy": 0.86,
}
FRESH_CEILINGS = {"publicity_fp_rate": 0.05, "off_topic_flagged": 38}


def _heldout_rows() -> list[dict]:
    card = json.loads(CARD_FILE.read_text(encoding="utf-8"))
    held = set(card["data"]["heldout_ids"])
    assert held and all(dataset.is_heldout(i) for i in held), "model card's held-out ids are not the fixed split"
    rows = []
    for path in dataset.LABELLED_FILES:
        if path.exists():
            rows += [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    rows = [r for r in rows if r.get("id") in held]
    assert len(rows) >= 100, "held-out split is missing from data/labelled/"
    return rows


def _evaluate(rows: list[dict], tmp_path_factory) -> dict:
    p = tmp_path_factory.mktemp("gate") / "heldout.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return evaluate(p, load_judge(), baseline=False)["model"]


@pytest.fixture(scope="module")
def heldout_result(tmp_path_factory):
    return _evaluate(_heldout_rows(), tmp_path_factory)


@pytest.fixture(scope="module")
def reference_result(tmp_path_factory):
    # The held-out rows of the reference set (ip_opinion_dev.jsonl), labelled by the team that wrote
    # the rule: the closest stand-in for the unseen items the judgement is checked on.
    return _evaluate([r for r in _heldout_rows() if r["id"].startswith("ipdev-")], tmp_path_factory)


@pytest.fixture(scope="module")
def fresh_result(tmp_path_factory):
    rows = [json.loads(x) for x in dataset.FRESH_FILE.read_text(encoding="utf-8").splitlines() if x.strip()]
    trained = {dataset.text_key(e.title, e.text) for e in dataset.load_examples()}
    assert len(rows) >= 2000
    fresh = dataset.read_jsonl(dataset.FRESH_FILE)
    assert len(fresh) == len(rows) and not [e.id for e in fresh if dataset.text_key(e.title, e.text) in trained]
    return _evaluate(rows, tmp_path_factory)


# Each gate: the fixture that evaluates it, its floors and its ceilings.
GATES = {"heldout": (FLOORS, CEILINGS), "reference": (REFERENCE_FLOORS, REFERENCE_CEILINGS),
         "fresh": (FRESH_FLOORS, FRESH_CEILINGS)}


@pytest.mark.parametrize("gate, metric", [(g, m) for g, (floors, _) in GATES.items() for m in sorted(floors)])
def test_metric_at_or_above_floor(request, gate, metric):
    value, floor = request.getfixturevalue(f"{gate}_result")[metric], GATES[gate][0][metric]
    assert value >= floor, f"{gate} {metric} {value:.4f} fell below {floor}"


@pytest.mark.parametrize("gate, metric", [(g, m) for g, (_, ceilings) in GATES.items() for m in sorted(ceilings)])
def test_error_at_or_below_ceiling(request, gate, metric):
    value, ceiling = request.getfixturevalue(f"{gate}_result")[metric], GATES[gate][1][metric]
    assert value <= ceiling, f"{gate} {metric} {value} rose above {ceiling}"


def test_model_beats_plain_snownlp_signal_alone(heldout_result):
    # Plain SnowNLP is at chance on this task (accuracy ~0.5, negative F1 ~0.4).
    assert heldout_result["f1"] > 0.6 and heldout_result["accuracy"] > 0.75
