"""Releases of typical cases: the .docx in the official-document format, and web Markdown/HTML.

The shape follows real releases: title, 编者按, 目录, numbered cases (heading,
case-number line, 【基本案情】【处理结果】【典型意义】), issuing body and date.
A final release accepts only approved (or already published) cases, publishes
them in one transaction and records the release; a draft (征求意见稿) accepts
any case and changes nothing.
"""
from __future__ import annotations

import html
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from casebook.coverage import balance
from casebook.models import state_label
from casebook.workflow import WorkflowError, move
from monitor.case_store import CaseStore
from monitor.queries import beijing_today
from monitor.store import Store
from officedoc import OfficialDocument
from officedoc import format as officedoc_format

DEFAULT_ISSUER = "安徽省知识产权局"
DRAFT_MARK = "征求意见稿"
FINAL_STATES = ("approved", "published")
SECTIONS = (("keywords", "【关键词】"), ("gist", "【要旨】"), ("facts", "【基本案情】"),
            ("outcome", "【处理结果】"), ("significance", "【典型意义】"))


class ReleaseError(Exception):
    """The release cannot be built as asked; nothing was written or published."""


@dataclass
class Release:
    title: str
    cases: list[dict]
    preface: str
    issuer: str = DEFAULT_ISSUER
    issued_on: date = field(default_factory=date.today)
    draft: bool = False

    @property
    def date_text(self) -> str:
        return f"{self.issued_on.year}年{self.issued_on.month}月{self.issued_on.day}日"


@dataclass
class ReleaseOutput:
    release: Release
    docx: bytes
    markdown: str
    html: str
    release_id: int | None = None


_DIGITS = "零一二三四五六七八九"


def cn_ordinal(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (case numbers in a release)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def default_preface(title: str, cases: list[dict]) -> str:
    """A 编者按 in the usual shape: aim, selection, mix, closing; the editor rewrites it freely."""
    b = balance(cases)
    return ("为深入贯彻落实党中央、国务院关于全面加强知识产权保护的决策部署，充分发挥典型案例的示范引导作用，"
            f"经推荐、遴选和审核，现发布{title}。本批案例{b.summary()}。"
            "希望各地各部门以案释法、以案示警，进一步提升知识产权保护工作水平。")


def case_heading(case: dict) -> str:
    return (case.get("headline") or case.get("title") or "").strip()


def case_number_lines(case: dict) -> list[str]:
    """办案机关 and 案号 as separate lines: side by side, Word broke the case number across lines (〔2/026〕)."""
    parts = []
    if case.get("authority"):
        parts.append(f"办案机关：{case['authority']}")
    if case.get("case_number"):
        parts.append(f"案号：{case['case_number']}")
    return parts


def file_stem(title: str) -> str:
    """A download file name from the release title: no path or reserved characters, at most 60 characters."""
    stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", " ".join(title.split())).strip(" ._")
    return stem[:60] or "典型案例"


def _section_text(case: dict, key: str) -> str:
    v = case.get(key)
    if key == "keywords":
        return "；".join(v or [])
    return (v or "").strip() if isinstance(v, str) else ""


def prepare_release(store: Store, case_ids: list[str], *, title: str, preface: str | None = None,
                    issuer: str = DEFAULT_ISSUER, issued_on: date | None = None, draft: bool = False) -> Release:
    """Check the selection and load the cases in the editor's order; raise ReleaseError saying what is wrong."""
    title = (title or "").strip()
    if not title:
        raise ReleaseError("请填写发布标题")
    ids = [i.strip() for i in case_ids if i and i.strip()]
    if not ids:
        raise ReleaseError("请至少选择一个案例")
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ReleaseError(f"案例重复：{', '.join(dup)}")
    cs = CaseStore(store)
    cases = [cs.get(i) for i in ids]
    unknown = [i for i, c in zip(ids, cases) if c is None]
    if unknown:
        raise ReleaseError(f"案例不存在：{', '.join(unknown)}")
    if not draft:
        not_ready = [f"{c['id']}（{state_label(c['state'])}）" for c in cases if c["state"] not in FINAL_STATES]
        if not_ready:
            raise ReleaseError("正式发布只能包含已通过审核的案例；未通过：" + "、".join(not_ready) +
                               "。如需征求意见，请用 --draft")
        flagged = [c["id"] for c in cases if cs.flags(c["id"], c["rev"], status="open")]
        if flagged:
            raise ReleaseError("以下案例还有未处理的脱敏提示：" + "、".join(flagged))
    return Release(title=title, cases=cases, preface=(preface if preface is not None else
                                                      default_preface(title, cases)).strip(),
                   issuer=(issuer or DEFAULT_ISSUER).strip(), issued_on=issued_on or beijing_today(), draft=draft)


def render_docx(release: Release) -> bytes:
    doc = OfficialDocument()
    if release.draft:
        doc.header_text(DRAFT_MARK)
        doc.mark(DRAFT_MARK)
    doc.title(release.title)
    if release.preface:
        paras = [p for p in release.preface.split("\n") if p.strip()]
        doc.labelled("编者按：", paras[0].strip())
        for p in paras[1:]:
            doc.paragraph(p.strip())
    doc.heading("目　录", 1, center=True)
    for n, case in enumerate(release.cases, 1):
        doc.paragraph(f"{cn_ordinal(n)}、{case_heading(case)}")
    doc.page_break()
    for n, case in enumerate(release.cases, 1):
        doc.heading(f"{cn_ordinal(n)}、{case_heading(case)}", 1)
        if case.get("headline") and case.get("title") and case["headline"] != case["title"]:
            doc.paragraph(f"——{case['title']}", font=officedoc_format.FONT_HEADING_2)
        for line in case_number_lines(case):
            doc.paragraph(line, font=officedoc_format.FONT_HEADING_2)
        for key, label in SECTIONS:
            text = _section_text(case, key)
            if not text:
                continue
            paras = [p.strip() for p in text.split("\n") if p.strip()]
            doc.labelled(label, paras[0])
            for p in paras[1:]:
                doc.paragraph(p)
    doc.signature(release.issuer, release.date_text)
    return doc.to_bytes()


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~>!])")


def _md(text: str) -> str:
    """Text safe inside Markdown: HTML escaped (no raw tags reach a web page) and markup neutralised."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text or "", quote=False))


def render_markdown(release: Release) -> str:
    out = [f"# {_md(release.title)}", ""]
    if release.draft:
        out += [f"**{DRAFT_MARK}**", ""]
    if release.preface:
        out += [f"**编者按**：{_md(release.preface)}", ""]
    out += ["## 目录", ""]
    out += [f"{n}. {_md(case_heading(c))}" for n, c in enumerate(release.cases, 1)] + [""]
    for n, case in enumerate(release.cases, 1):
        out += [f"## {cn_ordinal(n)}、{_md(case_heading(case))}", ""]
        if lines := case_number_lines(case):
            out += [f"*{_md('　'.join(lines))}*", ""]
        for key, label in SECTIONS:
            if text := _section_text(case, key):
                out += [f"**{label}**{_md(text)}", ""]
        urls = [s.get("url") for s in case.get("sources") or [] if s.get("url")]
        if urls:
            out += ["来源：" + "；".join(_md(u) for u in urls), ""]
    out += [_md(release.issuer), "", release.date_text, ""]
    return "\n".join(out)


def render_html(release: Release) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
             f"<title>{e(release.title)}</title></head><body>", f"<h1>{e(release.title)}</h1>"]
    if release.draft:
        parts.append(f'<p class="draft"><strong>{DRAFT_MARK}</strong></p>')
    if release.preface:
        parts += [f"<p><strong>编者按：</strong>{e(p)}</p>" for p in release.preface.split("\n") if p.strip()]
    parts.append("<h2>目录</h2><ol>")
    parts += [f'<li><a href="#case-{n}">{e(case_heading(c))}</a></li>' for n, c in enumerate(release.cases, 1)]
    parts.append("</ol>")
    for n, case in enumerate(release.cases, 1):
        parts.append(f'<section id="case-{n}"><h2>{cn_ordinal(n)}、{e(case_heading(case))}</h2>')
        if lines := case_number_lines(case):
            parts.append(f'<p class="case-number">{e("　".join(lines))}</p>')
        for key, label in SECTIONS:
            if text := _section_text(case, key):
                parts.append(f"<p><strong>{label}</strong>{e(text)}</p>")
        urls = [s.get("url") for s in case.get("sources") or [] if s.get("url")]
        if urls:
            parts.append("<p class=\"source\">来源：" + "；".join(e(u) for u in urls) + "</p>")
        parts.append("</section>")
    parts += [f'<p class="issuer">{e(release.issuer)}<br>{release.date_text}</p>', "</body></html>"]
    return "\n".join(parts)


def publish_cases(store: Store, release: Release, *, actor: str, role: str = "editor") -> int:
    """Publish every approved case of a final release and record the release, all or nothing."""
    if release.draft:
        raise ReleaseError("征求意见稿不发布案例")
    cs = CaseStore(store)
    with cs.atomic():
        revs = []
        for case in release.cases:
            if case["state"] == "approved":
                try:
                    case = move(cs, case["id"], "publish", actor=actor, role=role,
                                note=f"随《{release.title}》发布")
                except WorkflowError as e:
                    raise ReleaseError(f"{case['id']}：{e}") from e
            revs.append((case["id"], case["rev"]))
        return cs.add_release(title=release.title, preface=release.preface, issuer=release.issuer,
                              issued_on=release.issued_on.isoformat(), draft=False, cases=revs, created_by=actor)


def make_release(store: Store, case_ids: list[str], *, title: str, preface: str | None = None,
                 issuer: str = DEFAULT_ISSUER, issued_on: date | None = None, draft: bool = False,
                 actor: str = "editor", role: str = "editor", publish: bool = True) -> ReleaseOutput:
    """Build a release in every format; a final one also publishes its cases (ReleaseError on any problem).

    `publish=False` only renders, for a caller that must first put the files somewhere safe.
    """
    release = prepare_release(store, case_ids, title=title, preface=preface, issuer=issuer,
                              issued_on=issued_on, draft=draft)
    out = ReleaseOutput(release, render_docx(release), render_markdown(release), render_html(release))
    if publish and not draft:
        out.release_id = publish_cases(store, release, actor=actor, role=role)
    return out


def write_release(store: Store, case_ids: list[str], out: str | Path, *, actor: str = "editor",
                  role: str = "editor", **kw) -> ReleaseOutput:
    """`make_release`, then the .docx at `out` and the web versions beside it (.md, .html).

    The files are written beside their targets first and moved into place only once the cases are
    published, so a folder that cannot be written publishes nothing, and a release that cannot be
    published leaves no document behind.
    """
    out = Path(out)
    if out.suffix.lower() != ".docx":
        raise ReleaseError(f"输出文件应以 .docx 结尾：{out}")
    if not out.parent.exists():
        raise ReleaseError(f"输出目录不存在：{out.parent}")
    result = make_release(store, case_ids, actor=actor, role=role, publish=False, **kw)
    targets = {out: result.docx, out.with_suffix(".md"): result.markdown.encode("utf-8"),
               out.with_suffix(".html"): result.html.encode("utf-8")}
    staged: dict[Path, Path] = {}
    try:
        for target, data in targets.items():
            if target.is_dir():
                raise ReleaseError(f"输出位置是一个文件夹：{target}")
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            staged[target] = Path(tmp)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        if not result.release.draft:
            result.release_id = publish_cases(store, result.release, actor=actor, role=role)
        for target, tmp in staged.items():
            os.replace(tmp, target)
    except OSError as e:
        raise ReleaseError(f"无法写入发布文件（案例未发布）：{e}") from e
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
    return result
