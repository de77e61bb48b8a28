"""Dictionary tagging over the cleaned text: IP type, enforcement channel, region, stance cues.

Matching is by substring (one compiled alternation per table, longest term
first), not by token: jieba may glue a lexicon term into a longer word
(侵权假冒, 侵犯著作权), and a substring scan never misses it. One scan costs a
few microseconds. A phrase pattern (stance_patterns.tsv) is only run on a text
that holds one of the Han bigrams every match of it must contain (`_gate`): a
text holds those of two or three patterns, and one set intersection costs less
than one scan (the 22 patterns: ~27 -> ~10 us an item).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

try:                                    # the regex parser `_gate` reads (Python >= 3.11)
    from re import _constants as sre_c
    from re import _parser as sre_parse
except ImportError:                     # older Pythons: no gates, every pattern runs
    sre_c = sre_parse = None

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
        # Plain dicts (insertion-ordered like Counter, without its Python-level __missing__ per new key).
        prov_score: dict[str, float] = {}
        first: dict[str, int] = {}
        for i, (prov, city) in enumerate(self.regions):
            prov_score[prov] = prov_score.get(prov, 0) + (1.0 + (0.5 if city else 0.0))
            first.setdefault(prov, i)
        prov = max(prov_score, key=lambda p: (prov_score[p], -first[p]))
        cities: dict[str, int] = {}
        first_city: dict[str, int] = {}
        for i, (p, c) in enumerate(self.regions):
            if p == prov and c:
                cities[c] = cities.get(c, 0) + 1
                first_city.setdefault(c, i)
        if not cities:
            return prov, ""
        city = max(cities, key=lambda c: (cities[c], -first_city[c]))
        return prov, city


def _ranked(hits: list[tuple[str, float]], default: str) -> tuple[str, tuple[str, ...]]:
    if not hits:
        return default, ()
    score: dict[str, float] = {}
    first: dict[str, int] = {}
    for i, (name, w) in enumerate(hits):
        score[name] = score.get(name, 0) + w
        first.setdefault(name, i)
    ranked = sorted(score, key=lambda n: (-score[n], first[n]))
    ranked = [n for n in ranked if score[n] >= 1.0] or ranked[:1]
    return ranked[0], tuple(ranked)


def _alternation(terms) -> re.Pattern:
    """One pattern matching, at each position, the longest of `terms` that starts there.

    Written as a trie (安徽|安庆 -> 安(?:徽|庆)): the regex engine tries the branches of one node, not
    every term, at each candidate position (~20 % faster scans than the flat longest-first alternation,
    same matches: a node's longer continuations are tried before ending at it)."""
    # Terms are lower-case and so is the text scanned: re.I would cost 3-4x per scan.
    trie: dict = {}
    for t in terms:
        node = trie
        for ch in t.lower():
            node = node.setdefault(ch, {})
        node[""] = {}                       # a term ends here

    def emit(node: dict) -> str:
        alts = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:                      # a term may end here: longer ones first, then this one
            return body + "?" if len(alts) == 1 and len(alts[0]) == 1 else "(?:" + body + ")?"
        return body

    return re.compile(emit(trie))


# At most this many alternative strings per literal run in `_gate` (the set test stays cheap).
GATE_MAX_ALTS = 24
_HAN = re.compile(r"[\u3400-\u9fff]{2}")


def _literals(items) -> set[str] | None:
    """The strings a parsed sequence can match, when they are a small fixed set (literals, literal
    character classes, groups and alternations of those); None for anything else (repeats, ., \\d …)."""
    out = {""}
    for op, av in items:
        if op is sre_c.LITERAL:
            x = {chr(av)}
        elif op is sre_c.IN and all(o is sre_c.LITERAL for o, _ in av):
            x = {chr(a) for _, a in av}
        elif op is sre_c.SUBPATTERN and not av[1] and not av[2]:      # a group without inline flags
            x = _literals(av[3])
        elif op is sre_c.BRANCH:
            x = set()
            for branch in av[1]:
                b = _literals(branch)
                if b is None:
                    return None
                x |= b
        else:
            return None
        if x is None or len(out) * len(x) > GATE_MAX_ALTS:
            return None
        out = {a + b for a in out for b in x}
    return out


def _gate(pattern: str) -> frozenset[str] | None:
    """Han bigrams of which every match of `pattern` contains one, or None (always run the pattern).

    The pattern's top-level items are read as runs of fixed strings: `(违法|侵权)成本(太|过)?低` gives
    the runs {违法成本, 侵权成本} and {低}; a match contains one string of each run. The run whose
    shortest string is longest is used (ties: fewer strings), by each string's first two characters,
    which must be Han (the analyzer's bigrams are Han bigrams)."""
    if sre_parse is None:
        return None
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    if parsed.state.flags & ~(re.UNICODE | re.DOTALL | re.MULTILINE):   # e.g. (?i): literals stop being literal
        return None
    runs, run = [], []
    for item in list(parsed) + [None]:
        if item is not None and _literals(run + [item]) is not None:
            run.append(item)
            continue
        if run:
            runs.append(_literals(run))
        run = [item] if item is not None and _literals([item]) is not None else []
    runs = [r for r in runs if r and all(len(x) >= 2 and _HAN.match(x) for x in r)]
    if not runs:
        return None
    best = min(runs, key=lambda r: (-min(map(len, r)), len(r)))
    return frozenset(x[:2] for x in best)


class Tagger:
    def __init__(self, lex: Lexicon):
        self.lex = lex
        self.ip_pat = _alternation(set(lex.ip_types) | set(lex.topic_terms))
        self.ip_no_newline = not any("\n" in t for t in set(lex.ip_types) | set(lex.topic_terms))
        self.channel_pat = _alternation(lex.channels)
        self.region_pat = _alternation(lex.regions)
        self.stance_pat = _alternation(t for t, (cat, _) in lex.stance.items() if cat != "negator")
        # One regex per phrase pattern: each keeps its own literal-prefix fast scan,
        # which a single alternation of all of them would lose (measured 2-4x slower).
        self.patterns = [(re.compile(p), cat, w, _gate(p)) for p, cat, w in lex.patterns]
        # Gate bigram -> the patterns it lets run; patterns without a gate always run.
        self.gated_by: dict[str, list[int]] = {}
        for i, (_, _, _, need) in enumerate(self.patterns):
            for b in need or ():
                self.gated_by.setdefault(b, []).append(i)
        self.gate_bigrams = frozenset(self.gated_by)
        self.ungated = frozenset(i for i, p in enumerate(self.patterns) if p[3] is None)

    def tag(self, s: str, title_len: int = 0, bigrams=None) -> tuple[Tags, Tags]:
        """Tags of the whole text, and of its first `title_len` characters (the title), in one pass.

        `bigrams`, when given, must be a set-like (a set or dict keys) of every Han character bigram of
        `s` (features.Analyzer has them anyway); it lets phrase patterns that cannot match be skipped."""
        if not s:
            return Tags(), Tags()
        lex = self.lex
        s = s.lower()
        # Whole-table scans in C (findall); only the stance cues below need positions.
        topic = self.ip_pat.findall(s)
        if not title_len:
            title_topic = []
        elif s[title_len:title_len + 1] == "\n" and self.ip_no_newline:
            # The title's hits are those starting in it, and none runs past the "\n" that ends it.
            title_topic = self.ip_pat.findall(s, 0, title_len)
        else:
            title_topic = [m.group() for m in self.ip_pat.finditer(s) if m.start() < title_len]
        ip_type = lex.ip_types.get        # (type, weight) tuples are truthy; filter(None) drops misses
        t = Tags(ip_types=list(filter(None, map(ip_type, topic))),
                 channels=list(map(lex.channels.__getitem__, self.channel_pat.findall(s))),
                 regions=list(map(lex.regions.__getitem__, self.region_pat.findall(s))), topic_hits=topic)
        tt = Tags(ip_types=list(filter(None, map(ip_type, title_topic))), topic_hits=title_topic)
        authority_ends = None           # found on the first publicity hit only
        hits = [(m.start(), m.group(), *lex.stance[m.group()]) for m in self.stance_pat.finditer(s)]
        if bigrams is None:
            todo = range(len(self.patterns))
        else:
            # The few patterns whose gate bigrams the text holds (one set intersection in C), in table order.
            todo = set(self.ungated)
            for b in bigrams & self.gate_bigrams:
                todo.update(self.gated_by[b])
            todo = sorted(todo)
        patterns = self.patterns
        for i in todo:
            pat, cat, weight, _ = patterns[i]
            hits += [(m.start(), m.group(), cat, weight) for m in pat.finditer(s)]
        for start, w, cat, weight in hits:
            targets = (t, tt) if start < title_len else (t,)
            if cat == "complaint" and NEGATOR.search(s[max(0, start - NEGATION_CHARS):start]):
                for tags in targets:
                    tags.negated.append(w)
                    tags.stance["negated_complaint"] += weight
                continue
            if cat == "publicity":
                if authority_ends is None:
                    authority_ends = [m.end() for m in AUTHORITY.finditer(s)]
                if any(0 <= start - e <= SUBJECT_CHARS for e in authority_ends):
                    t.authority_actions += 1
            for tags in targets:
                tags.stance[cat] += weight
                tags.cues.setdefault(cat, []).append(w)
        return t, tt
