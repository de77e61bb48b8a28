"""Word segmentation: jieba's exact mode without HMM, over jieba's own dictionary, in one tight loop.

`Tokenizer.lcut(s, HMM=False)` spends about half its time in generator hops,
a dict-of-lists DAG and a log() per candidate through `max()` over a generator.
`Segmenter.cut` runs the same algorithm (build the candidate words from the
prefix dictionary, pick the maximum-probability route from the right, glue
single Latin letters and digits) in one loop over the same `FREQ` table, and
returns exactly the same words (tests/test_sentiment_judge.py checks this on
the labelled items) 1.4-2x faster.
"""
from __future__ import annotations

import math
import re

import jieba

# jieba's own block and whitespace patterns (re_han_default, re_skip_default).
_BLOCK = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+)")
_SPACE = re.compile(r"(\r\n|\s)")
_MISSING = object()
_ENG = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class Segmenter:
    def __init__(self, tokenizer: jieba.Tokenizer):
        tokenizer.check_initialized()
        self.tokenizer = tokenizer
        self.freq = tokenizer.FREQ
        self.logtotal = math.log(tokenizer.total)
        # log P(word) once per dictionary entry instead of once per candidate in every text (the cut's
        # hottest line); prefixes that are not words map to None. The same subtraction as before, so the
        # same floats and the same routes.
        lt = self.logtotal
        # Words of one frequency share one float object: a few thousand floats instead of ~140k, so
        # reading a word's value rarely misses the CPU cache.
        by_freq: dict[int, float] = {}
        self.logp = {w: (by_freq.setdefault(f, math.log(f) - lt) if f else None) for w, f in self.freq.items()}

    def cut(self, s: str) -> list[str]:
        """The same list as `tokenizer.lcut(s, HMM=False)`."""
        out: list[str] = []
        # split() with one capturing group alternates: text between blocks at even indices, blocks at
        # odd ones, so no block needs matching again.
        for i, blk in enumerate(_BLOCK.split(s)):
            if not blk:
                continue
            if i & 1:
                if len(blk) == 1:
                    out.append(blk)         # one character is one word, whatever the dictionary says
                else:
                    self._block(blk, out)
            elif "\r\n" in blk:
                for x in _SPACE.split(blk):
                    if _SPACE.match(x):
                        out.append(x)
                    else:
                        out.extend(x)
            else:
                # Without "\r\n" (jieba's one two-character separator) every character is its own word.
                out.extend(blk)
        return out

    def _block(self, s: str, out: list[str]) -> None:
        n = len(s)
        logp = self.logp.get
        lt = self.logtotal
        score = [0.0] * (n + 1)
        end = list(range(n))            # last character of the word starting at each position
        missing = _MISSING
        last = n - 1
        # From the right: score[k] = best log-probability of s[k:], as jieba's calc(). Every prefix of a
        # dictionary word is in FREQ (None here when it is not a word itself), so a missing fragment ends
        # the candidates at k. Most positions start no word longer than one character: the one- and
        # two-character fragments are looked at before the general loop (~5 % fewer instructions).
        for k in range(last, -1, -1):
            lp = logp(s[k], missing)
            if lp is missing:           # not even a prefix: a lone character, as jieba scores it
                score[k] = -lt + score[k + 1]
                continue
            lp2 = missing if k == last else logp(s[k:k + 2], missing)
            if lp2 is missing:          # the single character is the only candidate
                score[k] = (-lt if lp is None else lp) + score[k + 1]
                continue
            best = None if lp is None else lp + score[k + 1]
            # ">=": jieba's max() over (score, end) tuples prefers the longer word on ties.
            if lp2 is not None:
                sc = lp2 + score[k + 2]
                if best is None or sc >= best:
                    best = sc
                    end[k] = k + 1
            i = k + 2
            while i < n:
                lp = logp(s[k:i + 1], missing)
                if lp is missing:
                    break
                if lp is not None:
                    sc = lp + score[i + 1]
                    if best is None or sc >= best:
                        best = sc
                        end[k] = i
                i += 1
            score[k] = -lt + score[k + 1] if best is None else best
        x = 0
        buf = ""
        while x < n:
            y = end[x] + 1
            if y - x == 1 and s[x] in _ENG:
                buf += s[x]
            else:
                if buf:
                    out.append(buf)
                    buf = ""
                out.append(s[x:y])
            x = y
        if buf:
            out.append(buf)
