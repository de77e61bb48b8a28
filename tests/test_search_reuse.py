"""The search index reuses the judge's words: the stored tokens must be exactly those it cuts itself."""
from __future__ import annotations

import random

import pytest

from monitor import search
from monitor.search import index_text
from sentiment import load_judge
from sentiment.text import has_content

CASES = [
    ("合肥专利侵权案件宣判", "法院判决被告赔偿原告经济损失一百万元。"),
    ("合肥专利侵权案件宣判", "合肥专利侵权案件宣判 法院判决被告赔偿原告经济损失。"),     # text repeats the title
    ("合肥专利侵权案件宣判", "合肥专利侵权案件宣判。法院判决被告赔偿。"),               # title, punctuation, body
    ("合肥专利侵权案件宣判", "合肥专利侵权案件宣判法院判决被告赔偿。"),                 # no boundary after the title
    ("iPhone15 商标案", "iPhone15 商标案ABC-12 a.b 100% R&D"),
    ("<b>知识产权</b>讲座", "盗版网课泛滥 &amp; 维权成本高"),                            # markup the judge strips
    ("İstanbul 专利", "İİ 商标侵权"),
    ("", "只有正文的微博：商标侵权！"),
    ("只有标题的商标侵权快讯", ""),
    ("全角ＡＢＣ１２３商标", "全角ＡＢＣ１２３商标 繁體專利侵權"),
    ("长文", "专利侵权纠纷。" * 400),                                                    # beyond the judge's cap
    ("“维权难”？", "——“维权难”？！…… 商标 维权"),
]
ALPHABET = (list("专利商标侵权维权执法假冒知识产权合肥芜湖的了是在国發") + list("abcXYZ019-_.%#+&，。！？“”、：（）《》【】@~ ")
            + ["ＡＢ１", "İ", "<b>", "</b>", "&amp;"])


@pytest.fixture(scope="module")
def judge():
    return load_judge()


def _random_pairs(n: int, seed: int = 20261125) -> list[tuple[str, str]]:
    r = random.Random(seed)

    def text(k):
        return "".join(r.choice(ALPHABET) for _ in range(r.randrange(k)))

    out = []
    for _ in range(n):
        title = text(20)
        kind = r.random()
        if kind < 0.5:
            out.append((title, title + r.choice(["", " ", "，", "a", "专"]) + text(40)))
        else:
            out.append((title, text(60)))
    return out


def test_index_with_the_judges_words_equals_the_index_without(judge):
    pairs = CASES + _random_pairs(1500)
    reused = 0
    for (title, text), (_, reading) in zip(pairs, judge.judge_many_read(pairs)):
        assert index_text(title, text, reading) == index_text(title, text), (title, text)
        reused += search._reuse(title, text, reading) is not None
    # Not a vacuous pass: many pairs took the reuse path (markup and entities in the others make it decline).
    assert reused > len(pairs) // 10


def test_reuse_declines_when_the_judge_read_other_text(judge):
    for title, text in [CASES[3], CASES[5], CASES[6], CASES[10]]:
        (_, reading), = judge.judge_many_read([(title, text)])
        assert search._reuse(title, text, reading) is None, (title, text)


def test_judge_many_read_judges_as_judge_many(judge):
    pairs = CASES[:6]
    assert [j for j, _ in judge.judge_many_read(pairs)] == judge.judge_many(pairs)


def test_index_words_are_jiebas_own_cut():
    """The fast segmenter the index uses gives jieba's own words (HMM off), so queries still match."""
    tk = search.tokenizer()
    for title, text in CASES + _random_pairs(300, seed=7):
        for s in (title, text):
            s = search.normalise(s, search.MAX_INDEX_CHARS)
            assert search._words(s) == [w.lower() for w in tk.lcut(s, HMM=False) if has_content(w)]
