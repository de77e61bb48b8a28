"""Chinese full-text search: the tokens the index stores and the MATCH expression a query becomes.

SQLite's FTS5 cannot segment Chinese, so the store indexes text already cut by
the product's one jieba dictionary (the IP user dictionary included), and a
query is cut by the same dictionary before it reaches MATCH. No SQL here: the
store writes the index, the read side runs the query.

Index tokens are those of jieba's cut_for_search, reordered: the words of the
precise cut come first, in text order, so that a phrase query matches adjacent
words; the shorter dictionary words found inside longer ones (专利 and 侵权
inside 专利侵权) follow, so a 2-character word still finds the longer one.

Query syntax staff may use:
  专利 侵权          both words (AND)
  商标侵权           an unspaced string is a phrase: its words must be adjacent
  "商标 侵权"        a quoted phrase (spaces inside are ignored)
  专利 OR 商标       either (也可写 或 / |)
  专利 -宣传         exclude a word (也可写 NOT 宣传)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import unicodedata

from sentiment.segment import _BLOCK, Segmenter
from sentiment.text import has_content, to_simplified

# Long pages index their head: feeds give snippets, and a pasted 1 MB text must not stall the writer.
MAX_INDEX_CHARS = 10_000
MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 16

_OR = {"OR", "或", "|"}
_AND = {"AND", "与", "&"}
_NOT = {"NOT", "非"}
_UNSUPPORTED = re.compile(r"[*^(){}:：（）\[\]]|\bNEAR\b")
_TOKEN = re.compile(r'-?"[^"]*"|[^\s"]+|"')
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class SearchSyntaxError(ValueError):
    """A query the search cannot read; the message (Chinese) tells staff how to write it."""


@lru_cache(maxsize=1)
def tokenizer():
    """The product's one jieba dictionary (IP user dictionary and lexicon terms), loaded once per process
    and shared with the judge."""
    from sentiment.judge import shared_tokenizer
    return shared_tokenizer()


@lru_cache(maxsize=1)
def _segmenter() -> Segmenter:
    return Segmenter(tokenizer())


def normalise(s: str, limit: int) -> str:
    """Stored text is plain text (collectors strip HTML): fold width and traditional forms only,
    so "<script>" typed by staff finds the title that literally contains it."""
    s = unicodedata.normalize("NFKC", str(s)[: limit * 2].encode("utf-8", "ignore").decode("utf-8"))
    return " ".join(to_simplified(s).split())[:limit]


def _words(s: str) -> list[str]:
    # HMM off: only dictionary words, so the same string is cut the same way in a
    # document and in a query (HMM guesses new words from context).
    # Segmenter.cut is tokenizer.lcut(s, HMM=False), word for word, about twice as fast.
    return [w.lower() for w in _segmenter().cut(s) if has_content(w)]


def index_text(title: str | None, text: str | None, reading=None) -> str:
    """The space-separated tokens stored in the full-text index for one item (title, then text).

    `reading` (sentiment.judge.Reading, optional) is what the judge read of this item:
    when it read exactly the text the index would, its words are reused instead of
    cutting the text a second time. The result is the same either way.
    """
    if reading is not None:
        reused = _reuse(title or "", text or "", reading)
        if reused is not None:
            return f"{_with_inner(reused[0])} {_with_inner(reused[1])}".strip()
    return f"{_segment(title or '')} {_segment(text or '')}".strip()


def _reuse(title: str, text: str, reading) -> tuple[list[str], list[str]] | None:
    """(title words, text words) taken from the judge's words; None when they may differ from the index's.

    The judge cut its title and its body (the text, or what follows a leading copy
    of the title) with the same segmenter and kept every word with content, title
    words first. A text that is the title, a block boundary (space, punctuation)
    and the body is cut into the title's words followed by the body's, because
    segmentation never joins characters across such a boundary.
    """
    t = normalise(title, MAX_INDEX_CHARS)
    x = normalise(text, MAX_INDEX_CHARS)
    body = reading.body
    # The judge cleans differently (markup, length caps): reuse only when it read the strings the index reads.
    if not body or reading.title != t or "\u0130" in x or "\u0130" in t:   # İ: lower() adds an "i"
        return None
    if x == body:
        with_title = False
    elif t and x.startswith(t) and x[len(t):].lstrip() == body and (
            x[len(t)] == " " or not (_BLOCK.fullmatch(t[-1]) and _BLOCK.fullmatch(body[0]))):
        with_title = True
    else:
        return None
    words = [w for w in reading.tokens if has_content(w)]
    # The title's words are those that cover the title up to its last letter, digit or Han character.
    lowered = t.lower()
    end = _content_end(lowered)
    pos = k = 0
    while pos < end:
        if k == len(words) or (at := lowered.find(words[k], pos)) < 0 or has_content(lowered[pos:at]):
            return None
        pos = at + len(words[k])
        k += 1
    if pos != end and has_content(lowered[pos:]):
        return None
    title_words = words[:k]
    return title_words, (title_words if with_title else []) + words[k:]


def _content_end(s: str) -> int:
    """One past the last letter, digit or Han character of s (0 when it has none)."""
    for i in range(len(s) - 1, -1, -1):
        if has_content(s[i]):
            return i + 1
    return 0


@lru_cache(maxsize=8192)
def _segment(raw: str) -> str:
    # Cached per title and per text: reposts repeat both, and a bulk load recombines few texts.
    return _with_inner(_words(normalise(raw, MAX_INDEX_CHARS)))


def _with_inner(words: list[str]) -> str:
    freq = tokenizer().FREQ
    inner = []
    for w in words:
        # As jieba.cut_for_search does: dictionary 2- and 3-grams inside longer words.
        for n in (2, 3):
            if len(w) > n:
                inner.extend(g for i in range(len(w) - n + 1) if freq.get(g := w[i:i + n]))
    return " ".join(words + inner)


@dataclass(frozen=True)
class ParsedQuery:
    match: str                 # the FTS5 MATCH expression
    terms: tuple[str, ...]     # what was searched, for the page ("专利", "商标 侵权")
    notes: tuple[str, ...] = ()


def _quote(tokens: list[str]) -> str:
    return '"' + " ".join(t.replace('"', '""') for t in tokens) + '"'


def parse_query(raw: str) -> ParsedQuery:
    """A staff query -> an FTS5 MATCH expression over the index tokens, or SearchSyntaxError."""
    notes: list[str] = []
    q = " ".join(str(raw or "").split())
    if len(q) > MAX_QUERY_CHARS:
        raise SearchSyntaxError(f"检索式过长（{len(q)} 字），请不超过 {MAX_QUERY_CHARS} 字：粘贴整段文字请改为挑几个关键词。")
    if not q:
        raise SearchSyntaxError("请输入检索词。")
    if q.count('"') % 2:
        raise SearchSyntaxError("引号不成对：短语请用一对英文双引号括起来，例如 \"商标 侵权\"。")
    if m := _UNSUPPORTED.search(q):
        raise SearchSyntaxError(f"不支持检索符号「{m.group(0)}」：可用空格（同时包含）、OR（或）、"
                                "-词（排除）和双引号短语。")
    clauses: list[list[tuple[bool, str, str]]] = [[]]
    negate = False
    dangling_and = False
    shown: list[str] = []
    single: list[str] = []
    for tok in _TOKEN.findall(q):
        upper = tok.upper()
        if upper in _OR:
            if negate or not clauses[-1]:
                raise SearchSyntaxError("“OR/或” 两边都需要有检索词，例如：专利 OR 商标。")
            clauses.append([])
            continue
        if upper in _AND:
            if negate or not clauses[-1] or dangling_and:
                raise SearchSyntaxError("“AND/与” 两边都需要有检索词；词之间用空格即可表示同时包含。")
            dangling_and = True
            continue
        dangling_and = False
        if upper in _NOT:
            if negate:
                raise SearchSyntaxError("“NOT” 后面需要一个检索词。")
            negate = True
            continue
        if tok.startswith("-") and len(tok) > 1:
            if negate:
                raise SearchSyntaxError("“NOT” 后面需要一个检索词。")
            negate, tok = True, tok[1:]
        elif tok == "-":
            raise SearchSyntaxError("“-” 后面需要紧跟要排除的词，例如：专利 -宣传。")
        body = tok[1:-1] if tok.startswith('"') else tok
        if tok.startswith('"') and not body.strip():
            raise SearchSyntaxError("引号中间没有检索词。")
        words = _words(normalise(body, MAX_QUERY_CHARS))
        if not words:
            notes.append(f"「{body}」中没有可检索的文字，已忽略。")
            negate = False
            continue
        match = _quote(words)
        if len(words) == 1 and len(words[0]) == 1 and _HAN.match(words[0]):
            # One character is rarely a word of its own (侵, 皖, 滁): match the words it begins (侵权, 皖北,
            # 滁州). Inside a word (安徽's 徽) it cannot be found: the note says to search the word.
            match += "*"
            if (w := words[0]) not in single:
                single.append(w)
        clauses[-1].append((negate, match, " ".join(words)))
        shown.append(("-" if negate else "") + " ".join(words))
        negate = False
    if single:
        notes.append(f"单字「{'、'.join(single)}」按词首检索（如「侵」找到“侵权”“侵犯”），"
                     "不含字在词中的用法（如“安徽”的“徽”）：请尽量用词语检索。")
    if negate:
        raise SearchSyntaxError("“NOT/-” 后面需要一个检索词。")
    if dangling_and:
        raise SearchSyntaxError("“AND/与” 两边都需要有检索词；词之间用空格即可表示同时包含。")
    if not clauses[-1] and len(clauses) > 1:
        raise SearchSyntaxError("“OR/或” 两边都需要有检索词，例如：专利 OR 商标。")
    clauses = [c for c in clauses if c]
    if not clauses:
        raise SearchSyntaxError("检索词中没有可检索的文字（只有标点或符号）。")
    if sum(len(c) for c in clauses) > MAX_QUERY_TERMS:
        raise SearchSyntaxError(f"检索词过多，请不超过 {MAX_QUERY_TERMS} 个。")
    parts = []
    for clause in clauses:
        pos = [m for neg, m, _ in clause if not neg]
        neg = [m for n, m, _ in clause if n]
        if not pos:
            raise SearchSyntaxError("不能只有排除词：请至少给出一个要包含的词，例如：专利 -宣传。")
        expr = " AND ".join(pos) + "".join(f" NOT {m}" for m in neg)
        parts.append(f"({expr})" if len(clauses) > 1 else expr)
    return ParsedQuery(match=" OR ".join(parts), terms=tuple(shown), notes=tuple(notes))
