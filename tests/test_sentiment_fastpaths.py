"""The speed-ups in the judge must not change a single tag, word or string.

Each fast path is checked against the plain way it replaced: the trie alternation against the flat
longest-first one, the bigram gate of the phrase patterns against running every pattern, the
pre-scan of to_simplified against translate(), the segmenter's shortcuts against jieba.
"""
from __future__ import annotations

import random
import re

import pytest

from sentiment import dataset, load_judge
from sentiment.features import _HAN_RUN
from sentiment.segment import Segmenter
from sentiment.tagging import _alternation, _gate
from sentiment.text import _t2s_table, clean, to_simplified


@pytest.fixture(scope="module")
def judge():
    return load_judge()


@pytest.fixture(scope="module")
def texts():
    return [f"{e.title or ''}\n{e.text or ''}" for e in dataset.load_examples()][:300]


def _flat(terms) -> re.Pattern:
    return re.compile("|".join(re.escape(t.lower()) for t in sorted(terms, key=lambda t: (-len(t), t))))


def _spans(pat: re.Pattern, s: str) -> list[tuple[int, int]]:
    return [m.span() for m in pat.finditer(s)]


def test_trie_alternation_matches_as_the_flat_longest_first_one(judge, texts):
    lex = judge.analyzer.lex
    tables = [set(lex.ip_types) | set(lex.topic_terms), set(lex.channels), set(lex.regions), set(lex.stance)]
    rnd = random.Random(3)
    for terms in tables:
        trie, flat = _alternation(terms), _flat(terms)
        pool = sorted(terms)
        stitched = ["".join(rnd.choice([t, t[:-1], t[1:], "的", "市", " "]) for t in rnd.sample(pool, 6))
                    for _ in range(300)]
        for s in [t.lower() for t in texts] + stitched:
            assert _spans(trie, s) == _spans(flat, s), s[:40]
    # Terms that are prefixes of each other, regex metacharacters, a one-character term.
    for _ in range(300):
        terms = {"".join(rnd.choice("ab(.*") for _ in range(rnd.randint(1, 4))) for _ in range(rnd.randint(1, 9))}
        trie, flat = _alternation(terms), _flat(terms)
        for _ in range(10):
            s = "".join(rnd.choice("ab(.*x") for _ in range(rnd.randint(0, 40)))
            assert _spans(trie, s) == _spans(flat, s), (terms, s)


def test_a_pattern_gate_never_hides_a_match(judge, texts):
    patterns = [p for p, _, _ in judge.analyzer.lex.patterns] + [
        r"维权.{0,4}(难|不易)", r"被.{0,6}(抄袭|盗版)", r"(?:知识|产权)+保护", r"(问题|现象)(依然|仍)?存在",
        r"[^维]维权", r"\b维权", r"维(?=权)权利", r"(维权|诉讼)(成本|代价)", r"x?维权难", r"权利人[?？]"]
    rnd = random.Random(5)
    for p in patterns:
        need = _gate(p)
        if need is None:
            continue
        rx = re.compile(p)
        lits = re.findall(r"[\u3400-\u9fff]+", p)
        stitched = ["".join(rnd.choice(lits + ["了", "的", "很", "高", "？", " ", "1", "家"]) for _ in range(8))
                    for _ in range(400)]
        for s in [t.lower() for t in texts] + stitched:
            bigrams = {r[i:i + 2] for r in _HAN_RUN.findall(s) for i in range(len(r) - 1)}
            if rx.search(s):
                assert not bigrams.isdisjoint(need), (p, s[:40])
    # Nothing is assumed of what cannot be read as fixed strings.
    for p in [r"(?i)维权ab", r"(维权|)难", r"(a|b)cd", r".{2}"]:
        assert _gate(p) is None, p


def test_tags_are_the_same_with_and_without_the_gate(judge, texts):
    tagger = judge.analyzer.tagger
    for t in texts:
        title, _, body = t.partition("\n")
        s = clean(title, 200) + "\n" + clean(body)
        n = len(clean(title, 200))
        bigrams = {r[i:i + 2] for r in _HAN_RUN.findall(s) for i in range(len(r) - 1)}
        fast, slow = tagger.tag(s, n, bigrams), tagger.tag(s, n)
        assert [vars(x) for x in fast] == [vars(x) for x in slow], t[:40]


def test_to_simplified_prescan_gives_translate(texts):
    table = _t2s_table()
    for s in texts + ["網友投訴盜版猖獗，維權難", "简体中文", "", "abc", "余万元 臺灣"]:
        assert to_simplified(s) == s.translate(table)


def test_segmenter_shortcuts_cut_as_jieba(judge):
    tk = judge.analyzer.tk
    seg = Segmenter(tk)
    rnd = random.Random(7)
    pool = "的知识产权保护商标侵权假冒网店维权难一了是abcXY019+#&._%-，。！？ \t\n\r\u3000"
    strings = ["\r\n", "a\r\nb", "中", "。", " \r\n ", "C++", "3.14%", "中\r\n文"]
    strings += ["".join(rnd.choice(pool) for _ in range(rnd.randint(0, 30))) for _ in range(2000)]
    for s in strings:
        assert seg.cut(s) == tk.lcut(s, HMM=False), repr(s)


def test_scores_of_an_item_without_known_features_are_empty(judge):
    s = judge.model.score_parts([], [], {})
    assert list(s.names) == [] and len(s.contributions) == 0 and len(s.id_array) == 0
    a = judge.analyzer.analyze(None, "维权难")
    assert judge._reasons(a, s, False, True, 0.9) == []
