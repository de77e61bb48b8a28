"""Dictionary tagging over the cleaned text: IP type, enforcement channel, region, stance cues.

Matching is by substring (one compiled alternation per table, longest term
first), not by token: jieba may glue a lexicon term into a longer word
(侵权假冒, 侵犯著作权), and a substring scan never misses it. One scan costs a
few microseconds.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from sentiment.lexicon import Lexicon

# A negator just before a complaint word flips it ("并非泛滥"), and so does an
# enforcement verb ("整治乱象", "打击泛滥的盗版"): the problem is being handled.
NEGATOR = re.compile(r"(?:不(?![断少止仅同])|没有|未|无|并非|绝非|杜绝|遏制|防止|整治|治理|打击|根治|破解|化解|解决)$")
NEGATION_CHARS = 4
# An authority named shortly before an action makes the action its own ("海关查获").
AUTHORITY = re.compile(r"法院|检察院|检察机关|海关|公安|警方|市场监管|市场监督管理|知识产权局|国知局|版权局|"
                       r"执法人员|执法部门|工商|文化执法|综合执法|农业农村|监管部门|有关部门")
SUBJECT_CHARS = 12


@dataclass
class Tags:
    ip_types: list[tuple[str, float]] = field(default_factory=list)   # (type, weight) per hit, in order
    channels: list[tuple[str, float]] = field(default_factory=list)
    regions: list[tuple[str, str]] = field(default_factory=list)      # (province, city) per hit, in order
    stance: Counter = field(default_factory=Counter)                  # category -> weighted count
    cues: dict[str, list[str]] = field(default_factory=dict)          # category -> words seen (for reasons)
    topic_hits: list[str] = field(default_factory=list)
    negated: list[str] = field(default_factory=list)                  # complaint words under a negator
    authority_actions: int = 0

    def ip_type(self) -> tuple[str, tuple[str, ...]]:
        return _ranked(self.ip_types, default="其他")

    def channel(self) -> str:
        return _ranked(self.channels, default="其他")[0]

    def region(self) -> tuple[str, str]:
        """The most-mentioned province (first mention breaks ties) and its most-mentioned city."""
        if not self.regions:
            return "", ""
        prov_score: Counter = Counter()
        first: dict[str, int] = {}
        for i, (prov, city) in enumerate(self.regions):
            prov_score[prov] += 1.0 + (0.5 if city else 0.0)
            first.setdefault(prov, i)
        prov = max(prov_score, key=lambda p: (prov_score[p], -first[p]))
        cities = Counter(c for p, c in self.regions if p == prov and c)
        if not cities:
            return prov, ""
        first_city: dict[str, int] = {}
        for i, (p, c) in enumerate(self.regions):
            if p == prov and c:
                first_city.setdefault(c, i)
        city = max(cities, key=lambda c: (cities[c], -first_city[c]))
        return prov, city


def _ranked(hits: list[tuple[str, float]], default: str) -> tuple[str, tuple[str, ...]]:
    if not hits:
        return default, ()
    score: Counter = Counter()
    first: dict[str, int] = {}
    for i, (name, w) in enumerate(hits):
        score[name] += w
        first.setdefault(name, i)
    ranked = sorted(score, key=lambda n: (-score[n], first[n]))
    ranked = [n for n in ranked if score[n] >= 1.0] or ranked[:1]
    return ranked[0], tuple(ranked)


def _alternation(terms) -> re.Pattern:
    # Terms are lower-case and so is the text scanned: re.I would cost 3-4x per scan.
    return re.compile("|".join(re.escape(t.lower()) for t in sorted(terms, key=lambda t: (-len(t), t))))


class Tagger:
    def __init__(self, lex: Lexicon):
        self.lex = lex
        self.ip_pat = _alternation(set(lex.ip_types) | set(lex.topic_terms))
        self.channel_pat = _alternation(lex.channels)
        self.region_pat = _alternation(lex.regions)
        self.stance_pat = _alternation(t for t, (cat, _) in lex.stance.items() if cat != "negator")
        # One regex per phrase pattern: each keeps its own literal-prefix fast scan,
        # which a single alternation of all of them would lose (measured 2-4x slower).
        self.patterns = [(re.compile(p), cat, w) for p, cat, w in lex.patterns]

    def tag(self, s: str, title_len: int = 0) -> tuple[Tags, Tags]:
        """Tags of the whole text, and of its first `title_len` characters (the title), in one pass."""
        t, tt = Tags(), Tags()
        if not s:
            return t, tt
        lex = self.lex
        s = s.lower()
        for m in self.ip_pat.finditer(s):
            w = m.group()
            hit = lex.ip_types.get(w)
            for tags in (t, tt) if m.start() < title_len else (t,):
                tags.topic_hits.append(w)
                if hit:
                    tags.ip_types.append(hit)
        for m in self.channel_pat.finditer(s):
            t.channels.append(lex.channels[m.group()])
        for m in self.region_pat.finditer(s):
            t.regions.append(lex.regions[m.group()])
        authority_ends = [m.end() for m in AUTHORITY.finditer(s)]
        hits = [(m.start(), m.group(), *lex.stance[m.group()]) for m in self.stance_pat.finditer(s)]
        for pat, cat, weight in self.patterns:
            hits += [(m.start(), m.group(), cat, weight) for m in pat.finditer(s)]
        for start, w, cat, weight in hits:
            targets = (t, tt) if start < title_len else (t,)
            if cat == "complaint" and NEGATOR.search(s[max(0, start - NEGATION_CHARS):start]):
                for tags in targets:
                    tags.negated.append(w)
                    tags.stance["negated_complaint"] += weight
                continue
            if cat == "publicity" and any(0 <= start - e <= SUBJECT_CHARS for e in authority_ends):
                t.authority_actions += 1
            for tags in targets:
                tags.stance[cat] += weight
                tags.cues.setdefault(cat, []).append(w)
        return t, tt
