"""Keeps the layers honest by reading imports (ast), not by convention.

- streamlit only in dashboard.py and ui/
- sqlite3 only in the storage layer
- httpx / feedparser only in collectors/
- collectors/ and sentiment/ libraries stay independent of the rest
  (their __main__.py entry points may wire packages together)
- no SQL text in UI code
- no raw HTML from UI code: collected text is hostile; the one script (the sign-in cookie) is ours
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("collectors", "sentiment", "monitor", "casebook", "ui", "briefing", "officedoc")
STORAGE_LAYER = {"monitor/store.py", "monitor/queries.py", "monitor/case_store.py"}
# Every monitor/<concept>_store.py is storage layer too (case_store, story_store, handling_store, ...).
STORE_MODULE = re.compile(r"monitor/\w+_store\.py")
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA)\b", re.I)


def _sources() -> list[Path]:
    files = [ROOT / "dashboard.py"]
    for pkg in PACKAGES:
        if (ROOT / pkg).is_dir():
            files += sorted((ROOT / pkg).rglob("*.py"))
    return [f for f in files if f.exists()]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


FILES = _sources()
IDS = [str(f.relative_to(ROOT)) for f in FILES]


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_layer_rules(path: Path):
    rel = path.relative_to(ROOT).as_posix()
    top = rel.split("/")[0]
    entry = path.name == "__main__.py"
    imports = _imports(path)
    if "streamlit" in imports:
        assert rel == "dashboard.py" or top == "ui", f"{rel} imports streamlit outside the UI"
    if "sqlite3" in imports:
        assert rel in STORAGE_LAYER or STORE_MODULE.fullmatch(rel), f"{rel} imports sqlite3 outside the storage layer"
    for lib in ("httpx", "feedparser"):
        if lib in imports:
            assert top == "collectors", f"{rel} imports {lib} outside collectors/"
    if top == "collectors" and not entry:
        assert not imports & {"monitor", "sentiment", "casebook", "ui", "briefing"}, rel
    if top == "sentiment" and not entry:
        assert not imports & {"monitor", "collectors", "casebook", "ui", "briefing"}, rel
    if top in ("monitor", "collectors", "sentiment", "casebook", "briefing", "officedoc"):
        assert "ui" not in imports and "streamlit" not in imports, f"{rel} reaches into the UI"


@pytest.mark.parametrize("path", [f for f in FILES if f.name == "dashboard.py" or "ui" in f.parts],
                         ids=lambda p: p.name)
def test_no_sql_in_ui(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert not SQL.match(node.value), f"SQL text in UI code {path.name}: {node.value[:60]!r}"


# Calls that put HTML or script on the page unescaped, and the one place allowed to (its input is checked).
RAW_HTML_CALLS = {"html", "unsafe_allow_html", "unsafe_allow_javascript"}
RAW_HTML_ALLOWED = {("ui/auth.py", "_cookie_script")}


def _raw_html_uses(path: Path) -> list[tuple[str, str]]:
    """(innermost function, what) for each call that could put raw HTML on the page."""
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, where: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            where = node.name
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr == "html":
                found.append((where, "html()"))
            for kw in node.keywords:
                if kw.arg in RAW_HTML_CALLS and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    found.append((where, kw.arg))
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


@pytest.mark.parametrize("path", [f for f in FILES if f.name == "dashboard.py" or "ui" in f.parts],
                         ids=lambda p: p.name)
def test_no_raw_html_in_ui(path: Path):
    rel = path.relative_to(ROOT).as_posix()
    for where, what in _raw_html_uses(path):
        assert (rel, where) in RAW_HTML_ALLOWED, f"{rel}:{where} puts raw HTML on the page ({what})"


def test_raw_html_check_sees_calls():
    assert _raw_html_uses(ROOT / "ui" / "auth.py"), "the cookie script should be found"


def test_rules_see_the_code():
    # a layering test that parses nothing would pass vacuously
    assert any(f.match("monitor/store.py") for f in FILES)
    assert "sqlite3" in _imports(ROOT / "monitor" / "store.py")
