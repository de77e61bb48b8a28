"""研判模型 page through AppTest on a real SQLite file and a models directory of its own: what staff
read (quality, corrections waiting, the comparison with the previous model) and what only admins may
do (re-judge stored items, roll the model back), each audited."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from monitor import handling, users
from monitor.store import Store
from sentiment import judge as judge_mod, versions
from sentiment.model import CARD_FILE, MODEL_FILE, LinearModel
from tests.conftest import role_accounts
from tests.test_ui_roles import run as run_page
from tests.test_ui_workflows import seed
from ui import widgets

PAGE = Path(__file__).resolve().parent.parent / "ui" / "pages" / "model.py"
OLD, NEW = "2026-10-01T00:00:00+00:00", "2026-11-20T00:00:00+00:00"


def _put_model(d: Path, trained_at: str, threshold: float, previous: dict | None = None) -> None:
    d.mkdir(parents=True, exist_ok=True)
    model = LinearModel.load(MODEL_FILE)
    model.threshold = threshold
    model.save(d / MODEL_FILE.name)
    card = json.loads(CARD_FILE.read_text(encoding="utf-8")) | {"trained_at": trained_at}
    card.pop("previous", None)
    if previous:
        card["previous"] = previous
    (d / CARD_FILE.name).write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def env(tmp_path, monkeypatch):
    db = tmp_path / "opinion.db"
    seed(db)
    monkeypatch.setenv("OPINION_DB", str(db))
    models = tmp_path / "models"
    _put_model(models / versions.PREVIOUS, OLD, 0.40)
    card = json.loads(CARD_FILE.read_text(encoding="utf-8"))
    # How the replaced model scored on the same rows when this one was trained: worse on fresh F1 and AP.
    previous = {"trained_at": OLD, "heldout": card["heldout"],
                "fresh": card["fresh"] | {"f1": round(card["fresh"]["f1"] - 0.05, 4),
                                          "average_precision": round(card["fresh"]["average_precision"] - 0.02, 4)}}
    _put_model(models, NEW, 0.54, previous)
    monkeypatch.setattr(versions, "MODELS_DIR", models)
    monkeypatch.setattr(judge_mod, "MODEL_FILE", models / MODEL_FILE.name)
    monkeypatch.setattr(judge_mod, "_cached", None)
    monkeypatch.setattr(judge_mod, "_cached_stamp", None)
    with Store(db) as s:
        accounts = role_accounts(s)
    return db, models, accounts


def run(user: users.User) -> AppTest:
    return run_page(PAGE, user)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def frame_with(at: AppTest, column: str):
    [df] = [d.value for d in at.dataframe if column in d.value.columns]
    return df


def text_of(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info", "success", "warning")
                    for e in getattr(at, kind))


def test_staff_see_the_model_its_quality_and_the_comparison(env):
    db, models, accounts = env
    at = run(accounts["viewer"])
    assert metric(at, "训练时间（北京时间）") == "2026-11-20 08:00"
    assert metric(at, "待学习的更正与确认") == "0"
    quality = frame_with(at, "留出集（训练时未用）")
    card = json.loads(CARD_FILE.read_text(encoding="utf-8"))
    by = quality.set_index("指标")
    assert by.loc["负面 F1", "新收集条目（从未用于训练）"] == f"{card['fresh']['f1']:.3f}"
    assert by.loc["条数", "留出集（训练时未用）"] == str(card["heldout"]["n"])
    assert by.loc["无关条目误判为负面（条）", "新收集条目（从未用于训练）"] == str(card["fresh"]["off_topic_flagged"])
    if "average_precision" not in card["heldout"]:
        assert by.loc["排序质量 AP", "留出集（训练时未用）"] == "—"
    # Fresh F1 and AP rose well past the retrain noise: better, shown as a chart and a table.
    assert any("比上一版更好" in str(s.value) for s in at.success)
    [chart] = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    # One panel per figure, the two models side by side for each set (no row facet: with one, Vega-Lite
    # misplaced panels when the older card lacked a figure on one set).
    assert (spec["encoding"]["column"]["field"], spec["encoding"]["x"]["field"],
            spec["encoding"]["xOffset"]["field"]) == ("指标", "数据", "模型")
    table = frame_with(at, "变化")
    row = table[(table["数据"] == "新收集条目") & (table["指标"] == "负面 F1")].iloc[0]
    assert row["变化"] == "+0.050（更好）"
    # Viewers may not act.
    assert not any(b.key in ("model_rejudge", "model_rollback") for b in at.button)
    assert "只有管理员" in text_of(at)


def test_corrections_since_training_ask_for_a_retrain(env):
    db, models, accounts = env
    with Store(db) as s:
        item = next(s.iter_items())["id"]
        s.apply_correction(item, "negative", "no", "张三")
        s.apply_correction(item, "ip_type", "商标", "张三")
        negative = next(r["id"] for r in s.iter_items() if r["negative"] and r["id"] != item)
        handling.transition(s, negative, "assign", "李四", unit="合肥市局", due="3d")
    at = run(accounts["handler"])
    assert metric(at, "待学习的更正与确认") == "3"
    assert "共 3 条更正与确认，其中 3 条尚未学习（是否负面 1 条，知识产权类型 1 条，负面处置交办确认 1 条）" in text_of(at)
    assert any("python -m sentiment train" in str(i.value) for i in at.info)
    # Whoever retrains reads the corrections first, newest first, with who made them.
    waiting = frame_with(at, "更正人")
    assert list(waiting["更正"]) == ["知识产权类型：商标", "是否负面：否"]
    assert set(waiting["更正人"]) == {"张三"}


def test_admin_rejudges_stored_items_and_corrections_stay(env):
    db, models, accounts = env
    with Store(db) as s:
        rows = list(s.iter_items())
        corrected = next(r["id"] for r in rows if r["negative"])
        s.apply_correction(corrected, "negative", "no", "张三", "误判")
        total = s.count_items()
    at = run(accounts["admin"])
    at.button(key="model_rejudge").click().run()
    assert not at.exception, [e.value for e in at.exception]
    msg = " ".join(str(s.value) for s in at.success)
    assert f"已重新判定 {total} 条" in msg and "1 条保留人工更正" in msg
    with Store(db) as s:
        assert next(r for r in s.iter_items() if r["id"] == corrected)["negative"] is False
        entry = users.audit_log(s, action="model.rejudge")[0]
        assert entry["actor"] == "admin1" and entry["detail"]["judged"] == total


def test_admin_rolls_the_model_back_after_confirming(env):
    db, models, accounts = env
    at = run(accounts["admin"])
    assert not any(b.key == "model_rollback" for b in at.button)      # only after the confirmation box
    at.checkbox(key="model_rollback_confirm").check().run()
    at.button(key="model_rollback").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("已恢复训练于 2026-10-01 08:00 的模型" in str(s.value) and "重新判定" in str(s.value) for s in at.success)
    # the confirmation does not stay ticked: a second click must be confirmed again
    assert at.checkbox(key="model_rollback_confirm").value is False
    assert not any(b.key == "model_rollback" for b in at.button)
    assert versions.read_card(models)["trained_at"] == OLD
    assert versions.read_card(versions.previous_dir(models))["trained_at"] == NEW
    assert json.loads((models / MODEL_FILE.name).read_text(encoding="utf-8"))["threshold"] == 0.40
    assert judge_mod.load_judge().model.threshold == 0.40        # the next judgement uses it
    with Store(db) as s:
        entry = users.audit_log(s, action="model.rollback")[0]
    assert entry["actor"] == "admin1" and entry["detail"] == {"replaced": NEW}


def test_the_comparison_chart_shows_both_models_per_figure():
    rows = [{"set": "fresh", "figure": "f1", "previous": 0.70, "new": 0.75, "delta": 0.05, "change": "better"}]
    data = widgets.model_comparison_chart(rows).data
    assert data.to_dict("records") == [{"数据": "新收集条目", "指标": "负面 F1", "模型": "上一版", "得分": 0.70},
                                       {"数据": "新收集条目", "指标": "负面 F1", "模型": "当前", "得分": 0.75}]
