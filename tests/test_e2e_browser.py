"""End to end in a real headless Chromium: the dashboard server on a temp database with the sample loaded.

Drives Debian's chromium through Playwright (`executable_path`; never
`playwright install`). Logs in when the dashboard shows a login form (an admin
is created with the CLI first), waits for a metric value and a chart on the
overview, and saves a screenshot to test-artifacts/ (git-ignored).
"""
from __future__ import annotations

import contextlib
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("OPINION_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ADMIN, PASSWORD = "e2eadmin", "e2e password 1"

if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set OPINION_CHROMIUM)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (pip install playwright==1.65.2; "
                                      "no `playwright install` needed: Debian's chromium is used)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError):   # not listening yet: try again shortly
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        time.sleep(0.3)
    pytest.fail(f"streamlit did not become healthy:\n{log.read_text(errors='replace')[-2000:]}")


@pytest.fixture
def server(tmp_path):
    env = dict(os.environ, OPINION_DB=str(tmp_path / "opinion.db"), OPINION_CONFIG=str(tmp_path / "none.toml"))
    subprocess.run([sys.executable, "-m", "monitor", "sample", "load"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    subprocess.run([sys.executable, "-m", "monitor.admin_cli", "users", "add", ADMIN, "--role", "admin",
                    "--password-stdin"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=60,
                   input=PASSWORD + "\n", text=True)
    with _serve("dashboard.py", env, tmp_path / "streamlit.log") as url:
        yield url


@contextlib.contextmanager
def _serve(script: str, env: dict, log: Path):
    port = _free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", script,
                                 "--server.headless", "true", "--server.address", "127.0.0.1",
                                 "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc, log, time.monotonic() + 90)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def _page(viewport: dict | None = None):
    """A page in Debian's headless Chromium, closed afterwards."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page(viewport=viewport) if viewport else browser.new_page()
        finally:
            browser.close()


def _sign_in_if_asked(page, ready: str) -> bool:
    """Fill the login form when the dashboard shows one; True when it did."""
    page.wait_for_selector(f'{ready}, input[type="password"]', timeout=90_000)
    if not page.locator('input[type="password"]').count():
        return False
    page.get_by_label("用户名").fill(ADMIN)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    return True


def test_overview_in_headless_chromium(server):
    metric = '[data-testid="stMetricValue"]'
    chart = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg, .vega-embed'
    with _page(viewport={"width": 1400, "height": 1000}) as page:
        # an office intranet reaches nothing outside: the dashboard must not need to (its tab icon did)
        outside = []
        page.on("request", lambda r: outside.append(r.url) if urllib.parse.urlsplit(r.url).hostname not in
                ("127.0.0.1", "localhost", None) and r.url.startswith("http") else None)
        page.goto(server, wait_until="domcontentloaded")
        logged_in = _sign_in_if_asked(page, metric)
        page.wait_for_selector(metric, timeout=90_000)
        page.wait_for_selector(chart, timeout=90_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                               timeout=90_000)
        values = page.locator(metric).all_inner_texts()
        assert values and all(re.fullmatch(r"[\d,.%—-]+", v.strip()) for v in values), values
        assert any(re.fullmatch(r"[1-9][\d,]*", v.strip()) for v in values), values   # the sample is counted
        assert page.get_by_text("总览").first.is_visible()
        if logged_in:
            assert page.get_by_text(f"{ADMIN}（管理员）").first.is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "e2e-overview.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert outside == [], outside


def test_admin_rejudges_the_sample_on_the_model_page(server):
    """研判模型 as an admin reaches it from a link: signed in, still on that page; the model's figures, then
    重新判定 over the loaded sample with its result."""
    with _page(viewport={"width": 1400, "height": 1600}) as page:
        page.goto(server + "model", wait_until="domcontentloaded")
        _sign_in_if_asked(page, '[data-testid="stMetricValue"]')
        page.get_by_text("研判质量").first.wait_for(timeout=90_000)
        page.wait_for_selector('[data-testid="stMetricValue"]', timeout=90_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                               timeout=90_000)
        values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
        assert any(re.fullmatch(r"[1-9]\d{2,}", v.strip()) for v in values), values   # training items
        page.get_by_role("button", name="重新判定").click()
        page.get_by_text(re.compile(r"已重新判定 441 条")).first.wait_for(timeout=120_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "e2e-model.png"), full_page=True)


def test_saving_a_rule_keeps_the_rules_tab_open(server):
    """A message that appears above st.tabs after a save must not send the admin back to the first tab."""
    with _page(viewport={"width": 1400, "height": 1600}) as page:
        page.goto(server + "alerts", wait_until="domcontentloaded")
        _sign_in_if_asked(page, '[role="tab"]')
        page.get_by_role("tab", name="预警规则").click()
        page.get_by_label("规则名称").fill("浏览器测试规则")
        page.get_by_role("button", name="保存规则").click()
        page.get_by_text("已保存规则「浏览器测试规则」").first.wait_for(timeout=90_000)
        tab = page.get_by_role("tab", name="预警规则")
        assert tab.get_attribute("aria-selected") == "true"


def test_a_reload_keeps_the_login_until_signing_out(server):
    """F5 starts a new Streamlit session: the sign-in cookie resumes the login; after 退出登录, a reload (and
    a copy of the old cookie) asks for the password again."""
    with _page(viewport={"width": 1400, "height": 1000}) as page:
        page.goto(server + "stream", wait_until="domcontentloaded")
        assert _sign_in_if_asked(page, '[data-testid="stMetricValue"]')
        who = page.get_by_text(f"{ADMIN}（管理员）").first
        who.wait_for(timeout=90_000)
        page.wait_for_function("() => document.cookie.includes('ipow_signin=')", timeout=30_000)
        [cookie] = [c for c in page.context.cookies() if c["name"] == "ipow_signin"]
        assert cookie["sameSite"] == "Strict" and cookie["expires"] == -1      # ends with the browser
        page.reload(wait_until="domcontentloaded")
        page.get_by_text(re.compile(r"^匹配 \d+ 条")).first.wait_for(timeout=90_000)   # the same page, signed in
        assert page.get_by_text(f"{ADMIN}（管理员）").first.is_visible()
        assert not page.locator('input[type="password"]').count()
        page.get_by_role("button", name="退出登录").click()
        page.get_by_text("已退出登录").first.wait_for(timeout=90_000)
        page.wait_for_function("() => !document.cookie.includes('ipow_signin=')", timeout=30_000)
        page.context.add_cookies([cookie])                                     # a copied cookie is dead too
        page.reload(wait_until="domcontentloaded")
        page.wait_for_selector('input[type="password"]', timeout=90_000)
        page.get_by_text("登录已失效").first.wait_for(timeout=30_000)


def _signed_in_as_admin(page) -> None:
    page.get_by_text(f"{ADMIN}（管理员）").first.wait_for(timeout=90_000)


def test_an_old_tab_does_not_sign_out_a_newer_login_and_the_cookie_takes_no_space(server):
    """Two tabs of one browser. Tab 1 signs out and in again; tab 2, still holding the ended login, finds
    out at its next click and must not clear the cookie of tab 1's new login. The script that writes the
    cookie must not push the sidebar down for a run."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            one = context.new_page()
            one.goto(server + "stream", wait_until="domcontentloaded")
            assert _sign_in_if_asked(one, '[data-testid="stMetricValue"]')
            _signed_in_as_admin(one)
            one.wait_for_function("() => document.cookie.includes('ipow_signin=')", timeout=30_000)
            caption = one.get_by_text("当前用户", exact=True).first
            y_after_login = caption.bounding_box()["y"]
            two = context.new_page()
            two.goto(server + "stream", wait_until="domcontentloaded")
            _signed_in_as_admin(two)
            y_resumed = two.get_by_text("当前用户", exact=True).first.bounding_box()["y"]
            assert abs(y_after_login - y_resumed) < 2, (y_after_login, y_resumed)

            one.get_by_role("button", name="退出登录").click()
            one.get_by_text("已退出登录").first.wait_for(timeout=90_000)
            one.get_by_label("用户名").fill(ADMIN)
            one.get_by_label("密码").fill(PASSWORD)
            one.get_by_role("button", name="登录").click()
            _signed_in_as_admin(one)
            one.wait_for_timeout(1000)
            fresh = [c["value"] for c in context.cookies() if c["name"] == "ipow_signin"]

            two.get_by_role("button", name="下一条").click()                 # tab 2's next click
            two.wait_for_selector('input[type="password"]', timeout=90_000)
            two.wait_for_timeout(1000)
            assert [c["value"] for c in context.cookies() if c["name"] == "ipow_signin"] == fresh
            one.reload(wait_until="domcontentloaded")
            _signed_in_as_admin(one)
            assert not one.locator('input[type="password"]').count()
        finally:
            browser.close()


def test_a_briefing_chart_downloads_as_a_picture(server):
    """舆情简报: 下载图片 under a chart gives the PNG the Word file has (drawn by vl-convert on the click)."""
    from datetime import datetime, timedelta, timezone
    year, week_no, _ = datetime.now(timezone(timedelta(hours=8))).isocalendar()   # the sample's items are this week
    with _page(viewport={"width": 1400, "height": 1200}) as page:
        page.goto(server + "briefings", wait_until="domcontentloaded")
        _sign_in_if_asked(page, '[data-testid="stMetricValue"]')
        box = page.get_by_role("textbox", name="周次（ISO 周，如 2026-W47）")
        box.fill(f"{year}-W{week_no:02d}")
        box.press("Enter")
        page.get_by_role("button", name="下载图片").first.wait_for(timeout=90_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                               timeout=90_000)
        button = page.get_by_role("button", name="下载图片").first
        with page.expect_download(timeout=90_000) as wait:
            button.click()
        download = wait.value
        data = Path(download.path()).read_bytes()
        assert download.suggested_filename in {f"{year}-W{week_no:02d}{name}.png" for name in (
            "每日信息量及倾向", "主要信息来源", "安徽各市信息量", "知识产权类型分布")}
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_the_new_account_form_is_empty_after_a_create(server):
    """账号: after 新建账号 succeeds, no typed name or password stays on screen (the browser kept them when
    the page only dropped its own copies)."""
    with _page(viewport={"width": 1280, "height": 1200}) as page:
        page.goto(server + "accounts", wait_until="domcontentloaded")
        _sign_in_if_asked(page, '[data-testid="stDataFrame"]')
        form = page.locator('[data-testid="stForm"]').filter(has_text="初始密码")
        form.get_by_label("用户名（登录用，字母或数字开头）").fill("newstaff")
        form.get_by_label("显示名（如 王丽）").fill("新同事")
        form.get_by_label(re.compile("^初始密码")).fill("first pass 9")
        form.get_by_label("再输入一次").fill("first pass 9")
        form.get_by_role("button", name="新建账号").click()
        page.get_by_text("已新建账号 新同事（只读）").first.wait_for(timeout=90_000)
        page.wait_for_timeout(1000)
        values = [i.input_value() for i in form.locator("input[type=password], input[type=text]:not([role=combobox])").all()]
        assert values and all(v == "" for v in values), values


def test_the_new_case_form_is_empty_after_a_create(server):
    """典型案例 → 新建案例: after a create the title is gone from the screen, so a second click cannot add
    the same case twice."""
    with _page(viewport={"width": 1280, "height": 1400}) as page:
        page.goto(server + "cases", wait_until="domcontentloaded")
        _sign_in_if_asked(page, '[data-testid="stExpander"]')
        page.get_by_text("新建案例").first.click()
        form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="新建", exact=True))
        title = form.get_by_label("案件名称")
        title.fill("合肥市市场监管局查处侵犯“黄山毛峰”地理标志案")
        form.get_by_label("办案机关").fill("合肥市市场监督管理局")
        form.get_by_role("button", name="新建").click()
        page.get_by_text(re.compile("^已新建")).first.wait_for(timeout=90_000)
        page.wait_for_timeout(1000)
        if not title.is_visible():                                   # the expander may have folded
            page.get_by_text("新建案例").first.click()
        assert title.input_value() == "" and form.get_by_label("办案机关").input_value() == ""
        assert form.get_by_label("年份").input_value() == str(__import__("datetime").date.today().year)


def _open_first_story(page, server: str):
    """负面处置 with the first story chosen: (the 办理 picker, the form)."""
    page.goto(server + "handling", wait_until="domcontentloaded")
    _sign_in_if_asked(page, '[data-testid="stMetricValue"]')
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="办理").first
    picker.click()
    page.get_by_role("option").first.click()
    form = page.locator('[data-testid="stForm"]')
    form.wait_for(timeout=90_000)
    return picker, form


def _assign_to_typed_unit(page, form, unit_name: str) -> None:
    """Type a unit not in the list (Enter accepts it), 提交, and wait for the move to show."""
    unit = form.get_by_role("combobox", name=re.compile("^承办处室或城市"))
    unit.click()
    unit.fill(unit_name)
    page.keyboard.press("Enter")
    form.get_by_role("button", name="提交").click()
    page.get_by_text("待研判 → 已交办").first.wait_for(timeout=90_000)


def test_assigning_a_story_to_a_typed_unit_and_the_form_starting_over(server, tmp_path):
    """负面处置: a unit not in the list is typed in; after 提交 the form is empty for the next story."""
    with _page(viewport={"width": 1280, "height": 1400}) as page:
        picker, form = _open_first_story(page, server)
        _assign_to_typed_unit(page, form, "省局执法稽查处")
        with sqlite3.connect(tmp_path / "opinion.db") as c:
            assert c.execute("SELECT unit FROM handling_events").fetchall() == [("省局执法稽查处",)]
        # the form starts over on the rerun after the save: wait for it, not a fixed time; query the input afresh
        # on each poll (the rerun may draw a new element, and a handle to the old one never changes)
        page.wait_for_function("() => [...document.querySelectorAll('input[role=combobox]')]"
                               ".some(e => e.getAttribute('aria-label').startsWith('承办处室或城市') && e.value === '')",
                               timeout=30_000)
        assert form.get_by_role("combobox", name=re.compile("^承办处室或城市")).input_value() == ""


def test_a_note_typed_for_one_story_is_not_sent_with_another(server, tmp_path):
    """负面处置: a browser sends what was typed into a form with its next submit, whatever the server reset.
    A note typed for story A and never sent must not be stored with story B's move."""
    with _page(viewport={"width": 1280, "height": 1400}) as page:
        picker, form = _open_first_story(page, server)
        form.get_by_role("textbox", name=re.compile("^回应情况")).fill("只写给第一个事件的说明")
        picker.click()
        page.get_by_role("option").nth(1).click()
        page.wait_for_function("() => ![...document.querySelectorAll('textarea')].some(e => e.value.includes('只写给'))",
                               timeout=60_000)
        _assign_to_typed_unit(page, form, "省局执法稽查处")
        with sqlite3.connect(tmp_path / "opinion.db") as c:
            assert c.execute("SELECT unit, note FROM handling_events").fetchall() == [("省局执法稽查处", "")]


def _marks(server_db: Path, mark: str) -> int:
    with sqlite3.connect(server_db) as c:
        return c.execute("SELECT count(*) FROM item_marks WHERE mark = ?", (mark,)).fetchone()[0]


def test_triage_from_the_keyboard(server, tmp_path):
    """信息流: J / K step through the list into the detail, S marks it 重要; the same letter typed in the
    search box is text, not a command."""
    db = tmp_path / "opinion.db"
    with _page(viewport={"width": 1400, "height": 1200}) as page:
        page.goto(server + "stream", wait_until="domcontentloaded")
        _sign_in_if_asked(page, '[data-testid="stMetricValue"]')
        page.get_by_text(re.compile(r"^匹配 \d+ 条")).first.wait_for(timeout=90_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                               timeout=90_000)
        picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="查看详情").locator("input")
        page.wait_for_selector('kbd[aria-label="Shortcut J"]', timeout=60_000)
        page.get_by_role("heading", name="信息流").click()                  # focus on the page, not a field
        assert picker.input_value() == ""
        page.keyboard.press("j")
        page.get_by_text("判定理由", exact=True).first.wait_for(timeout=60_000)
        first = picker.input_value()
        assert first
        page.keyboard.press("j")
        page.wait_for_function("(t) => ![...document.querySelectorAll("
                               "'[data-testid=stSelectbox] input')].some(e => e.value === t)", arg=first,
                               timeout=60_000)
        page.keyboard.press("k")
        page.wait_for_function("(t) => [...document.querySelectorAll('[data-testid=stSelectbox] input')]"
                               ".some(e => e.value === t)", arg=first, timeout=60_000)
        page.keyboard.press("s")
        page.get_by_text("标记已保存").first.wait_for(timeout=60_000)
        assert _marks(db, "important") == 1
        search = page.get_by_role("textbox", name="全文检索")
        search.click()
        search.press_sequentially("sjk")
        page.wait_for_timeout(1500)
        assert search.input_value() == "sjk" and _marks(db, "important") == 1


def test_a_watched_page_shows_new_items_without_a_reload(tmp_path):
    """信息流 left open: an item that arrives (here typed in from the command line) appears by itself."""
    env = dict(os.environ, OPINION_DB=str(tmp_path / "opinion.db"), OPINION_CONFIG=str(tmp_path / "none.toml"),
               OPINION_REFRESH_SECONDS="5")
    subprocess.run([sys.executable, "-m", "monitor", "sample", "load"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    with _serve("dashboard.py", env, tmp_path / "streamlit.log") as url, _page({"width": 1400, "height": 1200}) as page:
        page.goto(url + "stream", wait_until="domcontentloaded")
        page.get_by_text(re.compile(r"^匹配 \d+ 条")).first.wait_for(timeout=90_000)
        assert page.get_by_text("有新数据时页面自动刷新").first.is_visible()
        before = page.get_by_text(re.compile(r"^匹配 \d+ 条")).first.inner_text()
        subprocess.run([sys.executable, "-m", "monitor", "intake", "add-item", "--url", "https://news.example.cn/new",
                        "--title", "芜湖企业反映专利维权难、投诉无门"], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=120)
        n = int(re.search(r"\d+", before).group())
        page.get_by_text(re.compile(rf"^匹配 {n + 1} 条")).first.wait_for(timeout=60_000)


HOSTILE_TITLE = "<b>粗</b> **芜湖** [点我](http://evil.example) 详见 www.evil.example 或 a@evil.example #话题#"


def test_hostile_titles_show_as_written_with_no_live_link(tmp_path):
    """Titles go through md_escape into st.subheader and st.markdown, as the pages show them. Chromium must
    show the text as written, with no <b>, and no link but the heading's own anchor (GFM links bare URLs
    and e-mail addresses after parsing, so escaping alone does not stop it)."""
    script = tmp_path / "titles.py"
    script.write_text("import streamlit as st\nfrom ui.widgets import md_escape\n"
                      f"st.subheader(md_escape({HOSTILE_TITLE!r}))\nst.markdown(md_escape({HOSTILE_TITLE!r}))\n",
                      encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with _serve(str(script), env, tmp_path / "streamlit.log") as url, _page() as page:
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_selector("h3", timeout=90_000)
        blocks = page.locator('[data-testid="stMarkdownContainer"]')
        page.wait_for_function("() => document.querySelectorAll('[data-testid=stMarkdownContainer]').length >= 2",
                               timeout=90_000)
        for block in blocks.all():
            assert block.inner_text().replace("\u2060", "").strip() == HOSTILE_TITLE
            hrefs = [a.get_attribute("href") or "" for a in block.locator("a").all()]
            assert all(h.startswith("#") for h in hrefs), hrefs
            assert block.locator("b, strong").count() == 0
