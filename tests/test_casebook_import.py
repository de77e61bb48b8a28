"""Import of seed-format JSONL: bad lines reported by number and skipped, incomplete records as 线索."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from casebook.seed import import_file
from monitor.case_store import CaseStore
from monitor.store import Store
from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "casebook" / "cases.jsonl"

# Three real seed records (full, partial, title_only), abridged.
FULL = {"id": "CB005", "title": "上海市闵行区市场监管局查处侵犯“BERMAD”注册商标专用权案", "ip_type": "trademark",
        "channel": "administrative", "authority": "上海市闵行区市场监督管理局", "region": "上海", "year": 2017,
        "case_number": "", "summary": "当事人采购带有BERMAD商标的阀门改装后对外销售64台，违法经营额约187.08万元。",
        "outcome": "责令停止侵权，没收侵权阀门17台，罚款561万元。",
        "significance": "对正品进行实质性改装后仍以原商标名义销售，应认定为商标侵权。", "detail": "full",
        "source_url": "http://m.xiangyunsha.net/news/x.html", "source_release": "2017年典型案例"}
PARTIAL = {"id": "CB037", "title": "“小鲜炖”商标侵权案", "ip_type": "trademark", "channel": "judicial-civil",
           "authority": "武汉市中级人民法院", "region": "湖北武汉", "year": 2024, "case_number": "(2023)鄂01知民初481号",
           "summary": "被告在商品上突出使用与原告商标近似的标识。",
           "outcome": "认定属于商标性使用、易致混淆，构成商标侵权（赔偿数额未摘录）。", "significance": "",
           "detail": "partial", "source_url": "http://www.tyccp663.com/news_39545.html"}
TITLE_ONLY = {"id": "CB046", "title": "吴军销售假冒注册商标的商品罪案", "ip_type": "trademark",
              "channel": "judicial-criminal", "authority": "", "region": "安徽", "year": 2015, "case_number": "",
              "summary": "", "outcome": "", "significance": "", "detail": "title_only", "source_url": ""}


def _write(tmp_path, lines: list[str]) -> Path:
    p = tmp_path / "cases.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_malformed_lines_are_reported_with_numbers_and_the_rest_kept(fresh_store, tmp_path):
    path = _write(tmp_path, [
        json.dumps(FULL, ensure_ascii=False),
        '{"id": "CB900", "title": "截断的行',                                  # 2: not JSON
        json.dumps(PARTIAL, ensure_ascii=False),
        json.dumps(dict(FULL, id="CB901", ip_type="tradmark"), ensure_ascii=False),  # 4: unknown code
        "[1, 2]",                                                              # 5: not an object
        json.dumps(dict(FULL, id="CB902", year="去年"), ensure_ascii=False),    # 6: bad year
        "",
        json.dumps(TITLE_ONLY, ensure_ascii=False),
    ])
    report = import_file(fresh_store, path)
    assert [e.split(":")[0] for e in report.errors] == ["第2行", "第4行", "第5行", "第6行"]
    assert "tradmark" in report.errors[1]
    assert report.added == ["CB005", "CB037", "CB046"]
    cs = CaseStore(fresh_store)
    assert {c["id"] for c in cs.search()} == {"CB005", "CB037", "CB046"}


def test_incomplete_records_come_in_as_clues_with_their_gaps(fresh_store, tmp_path):
    import_file(fresh_store, _write(tmp_path, [json.dumps(r, ensure_ascii=False) for r in (FULL, PARTIAL, TITLE_ONLY)]))
    cs = CaseStore(fresh_store)
    full, partial, title_only = cs.get("CB005"), cs.get("CB037"), cs.get("CB046")
    assert full["state"] == "draft" and full["gaps"] == []
    assert full["amounts"] == [{"kind": "fine", "label": "罚款", "yuan": 5610000.0, "approx": "", "text": "561万元"}]
    assert full["sources"] == [{"url": FULL["source_url"], "note": "2017年典型案例"}]
    assert partial["state"] == "clue"
    assert set(partial["gaps"]) == {"significance", "outcome:需核对", "detail:部分摘录，须核对原文"}
    assert partial["case_number"] == "(2023)鄂01知民初481号"
    assert title_only["state"] == "clue"
    assert {"authority", "facts", "outcome", "significance", "sources"} <= set(title_only["gaps"])
    assert "待补：" in cs.events("CB046")[0]["note"] and "缺：" not in cs.events("CB046")[0]["note"]
    # The old release printed the defendant's full name: the check flags it at once.
    assert [(f["text"], f["suggestion"]) for f in cs.flags("CB046", 1)] == [("吴军", "吴某某")]


def test_reimport_adds_nothing(fresh_store, tmp_path):
    path = _write(tmp_path, [json.dumps(r, ensure_ascii=False) for r in (FULL, PARTIAL)])
    import_file(fresh_store, path)
    again = import_file(fresh_store, path)
    assert (again.added, again.present) == ([], ["CB005", "CB037"])
    assert len(CaseStore(fresh_store).events("CB005")) == 1


def test_an_id_held_by_another_case_does_not_block_the_record(fresh_store, tmp_path):
    """An id-less row imported first takes CB005's number; the real CB005 then comes in under the next
    free number (its history says why), an edited title still counts as the same case, and nothing is lost."""
    first = import_file(fresh_store, _write(tmp_path, [json.dumps(dict(PARTIAL, id=None), ensure_ascii=False)]))
    assert first.added == ["CB001"]
    cs = CaseStore(fresh_store)
    with cs.atomic():
        cs.conn.execute("UPDATE cases SET id = 'CB005' WHERE id = 'CB001'")   # as if it had been numbered CB005
    report = import_file(fresh_store, _write(tmp_path, [json.dumps(r, ensure_ascii=False) for r in (FULL, PARTIAL)]))
    assert report.added == ["CB006", "CB037"] and report.present == []     # an id not held is always imported
    assert cs.get("CB006")["title"] == FULL["title"] and "原编号 CB005 已被其他案例使用" in cs.events("CB006")[0]["note"]
    assert cs.get("CB005")["title"] == PARTIAL["title"]
    # the same file again: CB005 still belongs to the other case, and the renumbered one is found by title
    rerun = import_file(fresh_store, _write(tmp_path, [json.dumps(r, ensure_ascii=False) for r in (FULL, PARTIAL)]))
    assert (rerun.added, rerun.present) == ([], ["CB006", "CB037"])
    # a re-import adds nothing, though the title was edited since (same source link)
    with cs.atomic():
        cs.conn.execute("UPDATE cases SET title = '编辑改过的标题' WHERE id = 'CB006'")
    again = import_file(fresh_store, _write(tmp_path, [json.dumps(dict(FULL, id="CB006"), ensure_ascii=False)]))
    assert (again.added, again.present) == ([], ["CB006"])
    twin = import_file(fresh_store, _write(tmp_path, [json.dumps(dict(PARTIAL, id=""), ensure_ascii=False)]))
    assert (twin.added, twin.present) == ([], ["CB005"])          # no id: the same title is the same case


def test_bad_ids_encodings_and_lone_surrogates_are_reported_by_line(fresh_store, tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_bytes(json.dumps(dict(FULL, id=["x"]), ensure_ascii=False).encode() + b"\n"
                     + b'{"id": "CB777", "title": "\xb0\xb2\xbb\xd5"}\n'                       # GBK bytes
                     + json.dumps(dict(TITLE_ONLY, title="\ud800" + TITLE_ONLY["title"])).encode() + b"\n"
                     + json.dumps(PARTIAL, ensure_ascii=False).encode() + b"\n")
    report = import_file(fresh_store, path)
    assert [e.split(":")[0] for e in report.errors] == ["第1行", "第2行"]
    assert "编号 id 应为文字" in report.errors[0] and "UTF-8" in report.errors[1]
    assert report.added == ["CB046", "CB037"]
    assert CaseStore(fresh_store).get("CB046")["title"] == "\ufffd" + TITLE_ONLY["title"]


def test_cli_import_exit_codes(tmp_path):
    db = tmp_path / "c.db"
    path = _write(tmp_path, [json.dumps(FULL, ensure_ascii=False), "{oops"])
    run = subprocess.run([sys.executable, "-m", "casebook", "import", str(path), "--db", str(db), "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "第2行" in run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1])["added"] == 1
    missing = subprocess.run([sys.executable, "-m", "casebook", "import", str(tmp_path / "none.jsonl"), "--db",
                              str(db)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "不存在" in missing.stderr


def test_whole_seed_corpus_imports(tmp_path):
    seed = SEED if SEED.exists() else shared_path("casebook", "cases.jsonl")
    with Store(tmp_path / "seed.db") as store:
        report = import_file(store, seed)
        cs = CaseStore(store)
        rows = [json.loads(line) for line in seed.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert report.errors == []
        assert len(report.added) == len(rows)
        full_ids = {r["id"] for r in rows if r["detail"] == "full"}
        drafts = {c["id"] for c in cs.search(states=["draft"])}
        assert drafts <= full_ids
        assert {c["id"] for c in cs.search(states=["clue"])} == {r["id"] for r in rows} - drafts
        assert all(cs.get(i)["gaps"] for i in {r["id"] for r in rows} - drafts)
        # English seed codes are stored as codes; Chinese labels come from the models.
        assert {c["ip_type"] for c in cs.search()} <= {"patent", "trademark", "copyright", "plant_variety",
                                                      "geographical_indication", "trade_secret"}


@pytest.mark.parametrize("bad", ["", "   "])
def test_blank_lines_are_not_errors(fresh_store, tmp_path, bad):
    report = import_file(fresh_store, _write(tmp_path, [bad, json.dumps(FULL, ensure_ascii=False), bad]))
    assert report.errors == [] and report.added == ["CB005"]


@pytest.mark.parametrize("field, value, message", [
    ("source_url", "javascript:alert(1)", "source_url 不是 http/https 网页链接"),
    ("source_url", "file:///etc/passwd", "source_url 不是 http/https 网页链接"),
    ("year", 2026.7, "year 不是年份"),
])
def test_a_record_with_a_bad_link_or_a_fractional_year_is_refused(fresh_store, tmp_path, field, value, message):
    report = import_file(fresh_store, _write(tmp_path, [json.dumps(dict(FULL, **{field: value}), ensure_ascii=False),
                                                        json.dumps(PARTIAL, ensure_ascii=False)]))
    assert report.added == ["CB037"] and len(report.errors) == 1
    assert report.errors[0].startswith("第1行") and message in report.errors[0]
