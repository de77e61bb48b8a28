"""The fast segmenter must cut exactly as jieba's own exact mode (HMM off) over the same dictionary."""
from __future__ import annotations

import pytest

from sentiment import dataset, load_judge
from sentiment.segment import Segmenter


@pytest.fixture(scope="module")
def tokenizer():
    return load_judge().analyzer.tk


HOSTILE = [
    "", " ", "　", "a", "ABC123 iPhone15Pro 的专利", "商标\r\n侵权\t案件", "維權難：盜版網站屢禁不止",
    "知识产权-保护_2024%#&.", "😀😀 盗版!!!", "x" * 50 + "假冒注册商标" + "9" * 30, "一" * 300,
]


def test_same_words_as_jieba_on_hostile_strings(tokenizer):
    seg = Segmenter(tokenizer)
    for s in HOSTILE:
        assert seg.cut(s) == tokenizer.lcut(s, HMM=False), s


def test_same_words_as_jieba_on_labelled_items(tokenizer):
    seg = Segmenter(tokenizer)
    texts = [f"{e.title} {e.text}" for e in dataset.load_examples()][:400]
    assert len(texts) >= 100, "labelled data missing from data/labelled/"
    diff = [s for s in texts if seg.cut(s) != tokenizer.lcut(s, HMM=False)]
    assert not diff, diff[:2]
