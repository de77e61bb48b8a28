"""Releases: the .docx read back with python-docx, the web versions, and the refusals."""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import docx
import pytest

from casebook.__main__ import main
from casebook import publication
from casebook.publication import ReleaseError, cn_ordinal, make_release
from casebook.workflow import create_case, move
from monitor.case_store import CaseStore
from monitor.store import Store

ROOT = Path(__file__).resolve().parent.parent

# Three real cases from the seed corpus (our paraphrases of the releases).
CASES = [
    {"title": "芜湖市市场监管局查处仿冒“米稀”注册商标专用权案", "ip_type": "trademark", "channel": "administrative",
     "authority": "安徽省芜湖市市场监督管理局", "region": "安徽芜湖", "year": 2025,
     "facts": "芜湖某网店经营主体委托外地食品企业代工生产“猴头菇山药米稀”7270罐，将他人注册商标“米稀”作为商品名称使用。",
     "outcome": "没收涉案产品，对三家公司分别罚款63052.93元、34567.26元、24471.5元。",
     "significance": "明确将他人注册商标作为商品通用名称使用构成侵权。"},
    {"title": "重复套牌侵权应承担惩罚性赔偿责任——涉“丹玉405号”玉米植物新品种侵权纠纷案", "ip_type": "plant_variety",
     "channel": "judicial-civil", "authority": "最高人民法院", "region": "辽宁/山东", "year": 2023,
     "case_number": "(2022)最高法知民终13号",
     "facts": "被告曾因套牌销售被行政处罚，此后继续以其他品种名义销售“丹玉405号”种子。",
     "outcome": "一审酌定赔偿100万元；二审适用1倍惩罚性赔偿，全额支持300万元。",
     "significance": "对重复侵权适用惩罚性赔偿，体现种业知识产权严保护。"},
    {"title": "刘某生等侵犯著作权案", "ip_type": "copyright", "channel": "judicial-criminal",
     "authority": "上海市第三中级人民法院", "region": "上海", "year": 2023,
     "facts": "被告人自2019年起自制可避开技术措施的软件，经二手交易平台销售。",
     "outcome": "刘某生有期徒刑三年二个月，并处罚金70万元；刘某有期徒刑一年、缓刑一年，并处罚金8万元。",
     "significance": "明确规避技术措施软件的刑事责任。"},
]
SOURCE = [{"url": "https://www.example.gov.cn/release.html", "note": "发布"}]
TITLE = "2026年度安徽省知识产权保护典型案例"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _approved(cs: CaseStore, values: dict) -> str:
    cid = create_case(cs, dict(values, sources=SOURCE), actor="甲")
    move(cs, cid, "submit", actor="甲", role="editor")
    move(cs, cid, "approve", actor="乙", role="reviewer")
    return cid


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "cases.db"
    with Store(path) as store:
        cs = CaseStore(store)
        ids = [_approved(cs, c) for c in CASES]
        draft = create_case(cs, dict(CASES[0], title="征求意见中的案件<script>alert(1)</script>", sources=SOURCE),
                            actor="甲")
    return path, ids, draft


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def _cli(capsys):
    """`python -m casebook …` in-process (the entry point's main), with its exit code and output."""
    def run(*args, db_path):
        code = main([*args, "--db", str(db_path)])
        out, err = capsys.readouterr()
        return Run(code, out, err)
    return run


def _ea(rpr) -> str | None:
    rfonts = rpr.find(f"{W}rFonts") if rpr is not None else None
    return rfonts.get(f"{W}eastAsia") if rfonts is not None else None


def test_final_release_docx_reads_back_in_the_official_shape(db, tmp_path, _cli):
    db_path, ids, _ = db
    order = [ids[1], ids[0], ids[2]]
    out = tmp_path / "release.docx"
    run = _cli("release", "--cases", ",".join(order), "--title", TITLE, "--out", str(out), "--date", "2026-04-26",
               "--preface", "为发挥典型案例示范作用，现发布本批案例。", db_path=db_path)
    assert run.returncode == 0, run.stderr
    d = docx.Document(str(out))

    s = d.sections[0]
    assert (round(s.page_width.mm), round(s.page_height.mm)) == (210, 297)
    assert [round(x.mm) for x in (s.top_margin, s.bottom_margin, s.left_margin, s.right_margin)] == [37, 35, 28, 26]

    paras = [p for p in d.paragraphs if p.text.strip()]
    texts = [p.text for p in paras]
    assert paras[0].style.name == "Title" and paras[0].text == TITLE
    assert texts[1] == "编者按：为发挥典型案例示范作用，现发布本批案例。"
    toc = texts.index("目　录")
    by_id = {cid: c for cid, c in zip(ids, CASES)}
    expected_titles = [by_id[i]["title"] for i in order]
    assert texts[toc + 1:toc + 4] == [f"{cn_ordinal(n)}、{t}" for n, t in enumerate(expected_titles, 1)]
    headings = [p.text for p in paras if p.style.name == "Heading 1" and p.text != "目　录"]
    assert headings == [f"{cn_ordinal(n)}、{t}" for n, t in enumerate(expected_titles, 1)]
    # Each case: heading, 办案机关 and 案号 each on its own line (side by side Word broke the case number),
    # then the three labelled sections in order.
    for n, cid in enumerate(order, 1):
        start = texts.index(f"{cn_ordinal(n)}、{by_id[cid]['title']}", toc + 4)
        numbered = bool(by_id[cid].get("case_number"))
        block = texts[start + 1:start + 5 + numbered]
        assert block[0] == f"办案机关：{by_id[cid]['authority']}"
        if numbered:
            assert block.pop(1) == f"案号：{by_id[cid]['case_number']}"
        assert block[1] == "【基本案情】" + by_id[cid]["facts"]
        assert block[2] == "【处理结果】" + by_id[cid]["outcome"]
        assert block[3] == "【典型意义】" + by_id[cid]["significance"]
    assert texts[-2:] == ["安徽省知识产权局", "2026年4月26日"]
    assert "征求意见稿" not in "\n".join(texts)

    # Fonts: GB/T 9704 faces on the styles; w:eastAsia on every style and every run; zh-CN language.
    st = d.styles
    assert _ea(st["Title"].element.rPr) == "方正小标宋简体" and st["Title"].font.size.pt == 22
    assert _ea(st["Normal"].element.rPr) == "仿宋_GB2312" and st["Normal"].font.size.pt == 16
    assert _ea(st["Heading 1"].element.rPr) == "黑体"
    assert _ea(st["Heading 2"].element.rPr) == "楷体_GB2312"
    for style in st.element.findall(f"{W}style"):
        if style.get(f"{W}type") != "numbering":
            assert _ea(style.find(f"{W}rPr")), style.get(f"{W}styleId")
    runs = d.element.body.iter(f"{W}r")
    assert all(_ea(r.find(f"{W}rPr")) for r in runs)
    label_run = next(p for p in paras if p.text.startswith("【基本案情】")).runs[0]
    assert (label_run.text, _ea(label_run._element.rPr)) == ("【基本案情】", "黑体")
    lang = st.element.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
    assert lang.get(f"{W}eastAsia") == "zh-CN"
    footer_xml = s.footer._element.xml
    assert "PAGE" in footer_xml and "— " in footer_xml

    # The web versions are written beside the .docx; the cases are now published and the release recorded.
    assert out.with_suffix(".html").exists() and out.with_suffix(".md").exists()
    with Store(db_path) as store:
        cs = CaseStore(store)
        assert [cs.get(i)["state"] for i in order] == ["published"] * 3
        rel = cs.releases()[0]
        assert (rel["title"], rel["draft"], rel["cases"]) == (TITLE, False, [[i, 1] for i in order])


def test_draft_release_may_include_unapproved_cases_and_changes_nothing(db, tmp_path, _cli):
    db_path, ids, draft = db
    out = tmp_path / "draft.docx"
    run = _cli("release", "--cases", f"{ids[0]},{draft}", "--title", TITLE, "--out", str(out), "--draft",
               db_path=db_path)
    assert run.returncode == 0, run.stderr
    d = docx.Document(str(out))
    assert d.paragraphs[0].text == "征求意见稿"
    assert "征求意见稿" in d.sections[0].header.paragraphs[0].text
    html = out.with_suffix(".html").read_text(encoding="utf-8")
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in md
    with Store(db_path) as store:
        cs = CaseStore(store)
        assert cs.get(ids[0])["state"] == "approved" and cs.get(draft)["state"] == "draft"
        assert cs.releases() == []


@pytest.mark.parametrize("which,message", [("unknown", "不存在"), ("draft", "未通过")])
def test_bad_selection_is_a_clear_error_with_exit_2_and_no_file(db, tmp_path, which, message, _cli):
    db_path, ids, draft = db
    out = tmp_path / "bad.docx"
    bad = "CB999" if which == "unknown" else draft
    run = _cli("release", "--cases", f"{ids[0]},{bad}", "--title", TITLE, "--out", str(out), db_path=db_path)
    assert run.returncode == 2
    assert message in run.stderr and bad in run.stderr
    assert not out.exists() and not out.with_suffix(".html").exists()
    with Store(db_path) as store:
        assert CaseStore(store).get(ids[0])["state"] == "approved"


@pytest.mark.parametrize("blocked", ["release.docx", "release.html"])
def test_release_that_cannot_be_written_publishes_nothing(db, tmp_path, blocked, _cli):
    """A folder where one of the files should go: exit 2, no case published, no file left half-way."""
    db_path, ids, _ = db
    (tmp_path / blocked).mkdir()
    out = tmp_path / "release.docx"
    run = _cli("release", "--cases", ids[0], "--title", TITLE, "--out", str(out), db_path=db_path)
    assert run.returncode == 2 and ("案例未发布" in run.stderr or "文件夹" in run.stderr), run.stderr
    assert "Traceback" not in run.stderr
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "cases.db" and not p.name.startswith("cases.db"))
    assert left == [blocked]
    with Store(db_path) as store:
        cs = CaseStore(store)
        assert cs.get(ids[0])["state"] == "approved" and cs.releases() == []
    run = _cli("release", "--cases", ids[0], "--title", TITLE, "--out", str(tmp_path / "ok.docx"), db_path=db_path)
    assert run.returncode == 0, run.stderr
    with Store(db_path) as store:
        assert CaseStore(store).get(ids[0])["state"] == "published"


def test_open_flag_blocks_final_release(db):
    db_path, ids, _ = db
    with Store(db_path) as store:
        cs = CaseStore(store)
        with cs.atomic():
            cs.add_flag(ids[2], 1, field="outcome", kind="person", text="刘某生", suggestion="刘某某")
        with pytest.raises(ReleaseError, match="脱敏"):
            make_release(store, [ids[2]], title=TITLE, actor="甲")
        assert cs.get(ids[2])["state"] == "approved"
        out = make_release(store, [ids[2]], title=TITLE, draft=True, issued_on=date(2026, 4, 26))
        assert out.docx[:2] == b"PK" and "2026年4月26日" in out.markdown


@pytest.mark.parametrize("n,text", [(1, "一"), (9, "九"), (10, "十"), (12, "十二"), (20, "二十"), (35, "三十五")])
def test_chinese_case_numbers(n, text):
    assert cn_ordinal(n) == text


def test_release_renders_to_pages_that_are_not_blank(db, tmp_path):
    """docx → PDF (LibreOffice, project fontconfig) → PNG (pdftoppm): every page carries text."""
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not (soffice and pdftoppm):
        pytest.skip("LibreOffice (soffice) and poppler-utils (pdftoppm) are not installed (Debian packages "
                    "libreoffice-writer-nogui, poppler-utils)")
    from PIL import Image

    db_path, ids, _ = db
    with Store(db_path) as store:
        out = make_release(store, ids, title=TITLE, draft=True, issued_on=date(2026, 4, 26))
    src = tmp_path / "release.docx"
    src.write_bytes(out.docx)
    env = dict(os.environ, FONTCONFIG_FILE=str(ROOT / "data" / "fonts.conf"), HOME=str(tmp_path))
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)],
                   env=env, capture_output=True, timeout=180, check=True)
    pdf = tmp_path / "release.pdf"
    assert pdf.exists() and pdf.stat().st_size > 10_000
    subprocess.run([pdftoppm, "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2, "title page and at least one page of cases"
    for page in pages:
        img = Image.open(page).convert("L")
        dark = sum(img.histogram()[:128])
        assert dark / (img.width * img.height) > 0.002, f"{page.name} looks blank"
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, timeout=60).stdout
        if "Noto" in subprocess.run(["fc-list"], capture_output=True, text=True, timeout=60).stdout:
            assert "CJK" in fonts, fonts


@pytest.mark.parametrize("title, stem", [
    ("2026年度安徽省知识产权保护典型案例", "2026年度安徽省知识产权保护典型案例"),
    ("行政/司法:典型案例?<第一批>", "行政_司法_典型案例_第一批"),
    ("  \n ", "典型案例"),
    ("长" * 100, "长" * 60),
])
def test_download_file_name_comes_from_the_release_title(title, stem):
    assert publication.file_stem(title) == stem
