"""The Judge: text -> Judgement, combining the domain model, the lexicons and the SnowNLP signal."""
from __future__ import annotations

import functools
import logging
import os
import threading
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from sentiment.features import Analysis, Analyzer
from sentiment.judgement import Judgement
from sentiment.lexicon import load_lexicon, make_tokenizer
from sentiment.model import MODEL_FILE, LinearModel, ModelError
from sentiment.snowsignal import SnowSignal
from sentiment.stacker import stack_features

log = logging.getLogger(__name__)

# Off-topic items are never flagged; their p_negative is capped well below any threshold.
OFF_TOPIC_P_CAP = 0.1
# The topic head decides relevance; without a single IP word from the lexicon it must be surer.
TOPIC_THRESHOLD = 0.5
TOPIC_THRESHOLD_NO_TERMS = 0.6
# Flagging needs a surer topic vote than counting as IP opinion (CV on 956 items: off-topic
# flags 17 -> 12 for -0.005 negative F1).
FLAG_TOPIC_MIN = 0.8
# ... except for a text that names an IP wrong from the dictionary (假货, 盗版, 山寨, 抢注 …) and complains
# clearly (complaint cues >= 2): consumer complaints about fakes read as half off-topic to the topic head
# ("消费者投诉假货泛滥，维权难，市场监管部门迟迟没有处理": P(topic) 0.76). Out-of-fold on 2,015 items
# (2026-11-26): negative F1 0.818 -> 0.819 outside the hard cases, off-topic flags unchanged (8 and 24).
CLEAR_COMPLAINT_TOPIC_MIN = 0.6
# When the publicity cues (查获, 判处 … 万元, 发布典型案例 …) outweigh the complaint, victim and doubt
# cues, a flag needs p_negative this much above the threshold: the office's own good news must not flood
# the queue. Out-of-fold on 2,015 items (2026-11-26): publicity FP 0.033 -> 0.015 and accuracy 0.877 ->
# 0.882 outside the hard cases for negative F1 0.819 -> 0.818 (the threshold re-chosen: 0.32 -> 0.40).
PUBLICITY_LED_MARGIN = 0.2
# Cue weight of other rights and other trouble (名誉权, 肖像权, 诈骗, 学术不端 ...) that blocks a flag
# unless a clear IP term (weight >= 2) is also present.
OTHER_RIGHTS_BLOCK = 2.0
MAX_REASONS = 5
# Dictionary weight (one strong term such as 商标/版权/专利 is 2) from which the dictionary names the IP type.
DICT_TYPE_MIN = 2.0

CUE_NAMES = {
    "x:complaint": "投诉/问题用语", "x:title_complaint": "标题含投诉/问题用语",
    "x:publicity": "执法宣传/成效用语", "x:title_publicity": "标题含执法宣传/成效用语",
    "x:victim": "受害/维权方视角", "x:title_victim": "标题为受害/维权方视角",
    "x:doubt": "质问/追责语气", "x:title_doubt": "标题为质问语气",
    "x:negated_complaint": "被否定的问题用语", "x:authority_action": "主体为执法/司法机关的行动",
    "x:ip_terms": "知识产权用语", "x:title_ip_terms": "标题含知识产权用语",
    "x:no_ip_terms": "无知识产权用语", "x:question": "含问句", "x:exclaim": "含感叹",
    "x:snow_neg": "SnowNLP通用情感", "x:offtopic": "非知识产权话题用语",
}
# Function words (的, 有, 上 …) carry the style of a text (commentary vs release) and the model uses
# them (removing them cost held-out F1 0.774 -> 0.764 and polarity 0.754 -> 0.738), but "词「的」" is
# no reason a reader can act on: their pushes are shown together as one style reason.
FUNCTION_CHARS = frozenset("的了是在和有也就都而及与或上下中这那之其等对为以于将把让向从到个一我你他她它们着过还又很更最"
                           "已并但却则即如由此该各每日年月")
STYLE_WORDS = frozenset({"我们", "他们", "已经", "如果", "因为", "所以", "由于"})

CUE_WORDS = {"x:complaint": "complaint", "x:title_complaint": "complaint", "x:publicity": "publicity",
             "x:title_publicity": "publicity", "x:victim": "victim", "x:title_victim": "victim",
             "x:doubt": "doubt", "x:title_doubt": "doubt", "x:offtopic": "offtopic"}


@dataclass(frozen=True)
class Gate:
    """What the lexicons say about an item before the heads vote on it (see `gate()`)."""
    has_ip_terms: bool = True
    blocked: bool = False                  # about another kind of right or trouble: never flagged
    flag_min: float = FLAG_TOPIC_MIN       # the topic probability a flag needs
    margin: float = 0.0                    # added to the threshold a flag needs


# At most 16 different gates exist: each item gets a shared (immutable) one instead of a new instance.
_shared_gate = functools.lru_cache(maxsize=None)(Gate)


def gate(a: Analysis) -> Gate:
    st = a.tags.stance.get          # .get: 0 for an absent category without Counter.__missing__
    ip_weight = _ip_weight(a)
    complaint = st("complaint", 0)
    clear_complaint = ip_weight >= 1.0 and complaint >= 2
    publicity_led = st("publicity", 0) > complaint + st("victim", 0) + st("doubt", 0)
    return _shared_gate(has_ip_terms=bool(a.tags.topic_hits), blocked=_blocked(a, ip_weight),
                        flag_min=CLEAR_COMPLAINT_TOPIC_MIN if clear_complaint else FLAG_TOPIC_MIN,
                        margin=PUBLICITY_LED_MARGIN if publicity_led else 0.0)


def decide(z, g: Gate, model: LinearModel, x=None, p_stack: float | None = None
           ) -> tuple[bool, float, str, bool, float]:
    """Raw head scores -> (negative, p_negative, polarity, on_topic, p_topic). Training uses it too.

    With the model's second stage (`model.stacker`) and its inputs `x` (stacker.stack_features), the
    trees decide among the items the gate lets through; training passes their out-of-fold
    probability as `p_stack` instead. Without them, the first-stage rule decides (threshold + margin).
    """
    p_topic, on_topic, can_flag = _topic_gate(z, g, model)
    # P(negative) = P(about IP) * P(negative | about IP): both heads are calibrated.
    p_negative = model.calibrated("negative", float(z[0])) * p_topic
    stacker = model.stacker
    if stacker is not None and (x is not None or p_stack is not None):
        if can_flag:
            p_negative = p_stack if p_stack is not None else stacker.proba(x)
        negative = can_flag and p_negative >= stacker.threshold_p
    else:
        negative = can_flag and p_negative >= model.threshold + g.margin
    if not on_topic:
        p_negative = min(p_negative, OFF_TOPIC_P_CAP)
    pol = z[2:5]
    if negative:
        polarity = "negative"
    elif on_topic:
        polarity = ("neutral", "positive")[_argmax(pol[1:])]
    else:
        polarity = ("negative", "neutral", "positive")[_argmax(pol)]
    return negative, p_negative, polarity, on_topic, p_topic


def flaggable(z, g: Gate, model: LinearModel) -> bool:
    """Whether the gate lets an item be flagged at all (on topic, not another right, sure enough of IP)."""
    return _topic_gate(z, g, model)[2]


def _topic_gate(z, g: Gate, model: LinearModel) -> tuple[float, bool, bool]:
    """(P(topic), on topic, flaggable): the one place the topic vote and the gate meet."""
    p_topic = model.calibrated("topic", float(z[1]))
    on_topic = p_topic >= (TOPIC_THRESHOLD if g.has_ip_terms else TOPIC_THRESHOLD_NO_TERMS)
    return p_topic, on_topic, on_topic and not g.blocked and p_topic >= g.flag_min


def _argmax(xs) -> int:
    """np.argmax for a few finite scores (the first of equal maxima), on a list or an array."""
    return max(range(len(xs)), key=xs.__getitem__)


def _ip_weight(a: Analysis) -> float:
    """The weight of the strongest IP-type term in the text (0 without one)."""
    return max([w for _, w in a.tags.ip_types], default=0.0)


def _blocked(a: Analysis, ip_weight: float) -> bool:
    return a.tags.stance.get("offtopic", 0) >= OTHER_RIGHTS_BLOCK and not ip_weight >= 2.0


def choose_ip_type(a: Analysis, z, model: LinearModel) -> tuple[str, tuple[str, ...]]:
    """A clear dictionary term decides; otherwise the learned IP-type head does."""
    dict_type, ranked = a.tags.ip_type()
    strength = sum(w for t, w in a.tags.ip_types if t == dict_type)
    if strength >= DICT_TYPE_MIN:
        return dict_type, ranked
    learned = model.learned_type(z)
    return learned, (learned,) + tuple(t for t in ranked if t != learned)


@dataclass(frozen=True)
class Reading:
    """What the judge read of one item, for callers that would otherwise segment it again (the search index).

    `title` and `body` are the cleaned strings it read (the body without a leading copy
    of the title); `tokens` are the words it cut them into, the title's then the body's,
    lower-case, spaces and punctuation dropped. Never stored.
    """
    title: str
    body: str
    tokens: tuple[str, ...]


def is_style(name: str) -> bool:
    """A word or bigram feature made of function words only (see FUNCTION_CHARS)."""
    kind, _, key = name.partition(":")
    if kind == "w":
        return key in STYLE_WORDS or (len(key) == 1 and key in FUNCTION_CHARS)
    if kind == "c":
        return all(ch in FUNCTION_CHARS for ch in key) or ("的" in key)
    return False


def group_key(name: str) -> str:
    """The reason a feature is shown under: "style" for function words, "s:<string>" for a word or bigram
    (one reason for both), else the cue's own name."""
    if is_style(name):
        return "style"
    return "s:" + name[2:] if name[:2] in ("w:", "c:") else name


class Judge:
    def __init__(self, analyzer: Analyzer, model: LinearModel):
        self.analyzer = analyzer
        self.model = model
        # group_key of every model feature, once per process, not once per feature of every item: as a
        # number per row of model.padded_features (Scores.ids) in an array, and the keys by number. The
        # reasons group the top features by these small fresh ints; hashing a key string instead reads
        # ~20 cold string objects per item (measured ~10 us an item in the full pipeline).
        keys = [group_key(f) for f in model.features]
        number = {k: n for n, k in enumerate(dict.fromkeys(keys))}
        self._group_keys = list(number)
        self._group_of = np.array([0] + [number[k] for k in keys], dtype=np.intp)
        self._is_word = [False] + [f.startswith("w:") for f in model.features]
        # What a style feature shows: the word itself, or a bigram's function characters ("业的" -> 的).
        self._style_words = [()] + [
            ((f[2:],) if f.startswith("w:") else tuple(ch for ch in f[2:] if ch in FUNCTION_CHARS))
            if g == "style" else () for f, g in zip(model.features, keys)]

    def judge(self, title: str | None, text: str | None) -> Judgement:
        return self._decide(self.analyzer.analyze(title, text))

    def judge_many_read(self, pairs: Iterable[tuple[str | None, str | None]]) -> list[tuple[Judgement, Reading]]:
        """As `judge_many`, each judgement with what the judge read (see `Reading`)."""
        out = []
        for title, text in pairs:
            a = self.analyzer.analyze(title, text)
            out.append((self._decide(a), Reading(a.title, a.body, tuple(a.tokens))))
        return out

    def _decide(self, a: Analysis) -> Judgement:
        prov, city = a.tags.region()
        channel = a.tags.channel()
        if a.empty:
            return Judgement(negative=False, p_negative=0.0, polarity="neutral", topic="off",
                             ip_type="其他", ip_types=(), channel="其他", province="", city="",
                             reasons=("无可判断的文字内容（空白、仅标点或符号）",))
        s = self.model.score_parts(a.words, a.bigrams, a.cues)
        g = gate(a)
        z = s.z.tolist()            # the same doubles as Python floats: cheaper to read one by one
        # The second stage only reads items the gate lets through; the others are decided without it.
        x = stack_features(z, a, g) if self.model.stacker is not None and flaggable(z, g, self.model) else None
        negative, p_negative, polarity, on_topic, p_topic = decide(z, g, self.model, x)
        ip_type, ip_types = choose_ip_type(a, z, self.model)
        reasons = self._reasons(a, s, negative, on_topic, p_topic, g.blocked)
        return Judgement(
            negative=negative, p_negative=round(float(p_negative), 4), polarity=polarity,
            topic="ip" if on_topic else "off",
            ip_type=ip_type if on_topic else "其他", ip_types=ip_types if on_topic else (),
            channel=channel if on_topic else "其他", province=prov, city=city, reasons=tuple(reasons))

    def judge_many(self, pairs: Iterable[tuple[str | None, str | None]]) -> list[Judgement]:
        return [self.judge(t, x) for t, x in pairs]

    def _reasons(self, a: Analysis, s, negative: bool, on_topic: bool, p_topic: float,
                 is_blocked: bool = False) -> list[str]:
        out: list[str] = []
        if not on_topic:
            why = f"话题模型判为无关（相关概率 {p_topic:.2f}" + ("，无知识产权用语）" if not a.tags.topic_hits else "）")
            out.append(f"非知识产权话题：{why}，不计入负面")
        # Features pushing toward the decision first, strongest first; then the strongest counter-cue.
        # signed = contribution * (1 if negative else -1); strongest first = argsort of -signed.
        # Python floats from here: per-element numpy scalars cost more than the whole argsort.
        c = s.contributions
        contrib = c.tolist()
        if negative:
            top = np.argsort(-c)[:24]
            signed = contrib
        else:
            top = np.argsort(c)[:24]
            signed = (-c).tolist()
        order = top.tolist()
        names = s.names
        ids = s.ids
        # One reason per thing a reader recognises: the word and the character bigram of one string
        # ("盗版") are one reason, and function words (的, 有 …) together are one style reason.
        groups: dict[int, list[int]] = {}
        # Each group's push, summed member by member in order (the same floats as sum(), without
        # a generator per group).
        push: dict[int, float] = {}
        for i, g in zip(order, self._group_of[s.id_array[top]].tolist()):
            v = signed[i]
            if v <= 0.02:
                break
            if g in groups:
                groups[g].append(i)
                push[g] += v
            else:
                groups[g] = [i]
                push[g] = v
        seen: set[str] = set()
        # The style of writing often pushes hardest, but a reader acts on words: it is chosen like any
        # other group and shown after the words and phrases chosen with it.
        style: list[str] = []
        # Strongest push first; reverse=True keeps the first-seen order among equal pushes, as a stable
        # ascending sort on -push does.
        for g in sorted(groups, key=push.__getitem__, reverse=True):
            if len(out) + len(style) >= MAX_REASONS - 1:
                break
            key = self._group_keys[g]
            members = groups[g]
            total = sum(contrib[i] for i in members) if len(members) > 1 else contrib[members[0]]
            if key == "style":
                # A bigram such as "业的" shows as its function character "的".
                sw = self._style_words
                words = "、".join(dict.fromkeys(w for i in members for w in sw[ids[i]]))
                style.append(f"行文风格（虚词：{words}）{'↑负面' if total > 0 else '↓负面'} {abs(total):.2f}")
                continue
            elif key.startswith("s:"):
                # Named as a word when jieba cut it as one, else as a character string.
                is_word = self._is_word
                word = any(is_word[ids[i]] for i in members)
                text = self._describe(("w:" if word else "c:") + key[2:], total, a)
            else:
                text = self._describe(key, total, a)
            if text and text not in seen:
                seen.add(text)
                out.append(text)
        out += style
        # Only cues ("x:…") count here, and they come after the words and bigrams.
        against = [i for i in range(s.n_ngrams, len(signed)) if signed[i] < -0.1 and names[i].startswith("x:")]
        if against:
            i = min(against, key=signed.__getitem__)
            text = self._describe(names[i], contrib[i], a)
            if text and text not in seen:
                out.append(text)
        if a.tags.negated:
            out.append("否定表述：" + "、".join(dict.fromkeys(a.tags.negated)))
        if on_topic and not negative and is_blocked:
            words = "、".join(dict.fromkeys(a.tags.cues.get("offtopic", [])))
            out.insert(0, f"涉及其他权利或纠纷（{words}），不计入知识产权负面")
        return out[:MAX_REASONS + 1]

    def _describe(self, name: str, v: float, a: Analysis) -> str:
        arrow = "↑负面" if v > 0 else "↓负面"
        kind, _, key = name.partition(":")
        if kind == "w":
            return f"词「{key}」{arrow} {abs(v):.2f}"
        if kind == "c":
            return f"字串「{key}」{arrow} {abs(v):.2f}"
        if name == "x:bias_unit":
            return ""
        label = CUE_NAMES.get(name, name)
        cat = CUE_WORDS.get(name)
        tags = a.title_tags if name.startswith("x:title_") else a.tags
        words = list(dict.fromkeys(tags.cues.get(cat, [])))[:4] if cat else []
        detail = f"：{'、'.join(words)}" if words else ""
        return f"{label}{detail} {arrow} {abs(v):.2f}"


_lock = threading.Lock()
_cached: Judge | None = None
_cached_stamp: tuple[int, int] | None = None
_tokenizer_lock = threading.Lock()
_tokenizer = None


def _stamp(path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def load_judge(model_path=None) -> Judge:
    """The process-wide Judge: tokenizer, lexicons and model load once, on first use.

    When the model file is replaced (`python -m sentiment train` or `rollback`, both atomic), the
    next call loads the new one, so a long-running collector or dashboard needs no restart. While
    the file is missing or unreadable the judge already loaded stays in use."""
    global _cached, _cached_stamp
    if model_path is not None:
        return _build(model_path)
    with _lock:
        stamp = _stamp(MODEL_FILE)
        if _cached is None or (stamp is not None and stamp != _cached_stamp):
            try:
                _cached, _cached_stamp = _build(MODEL_FILE), stamp
            except ModelError:
                if _cached is None:
                    raise
                log.exception("new model file %s not loaded; keeping the one in use", MODEL_FILE)
                _cached_stamp = stamp
        return _cached


def shared_tokenizer(lexicon=None):
    """The process's one jieba tokenizer with the IP dictionary: the judge and the search index cut with it.

    Loading a jieba dictionary takes ~0.3 s: once per process, not once per user of it.
    """
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            _tokenizer = make_tokenizer(lexicon if lexicon is not None else load_lexicon())
        return _tokenizer



def _build(model_path) -> Judge:
    lex = load_lexicon()
    analyzer = Analyzer(shared_tokenizer(lex), lex, SnowSignal.load())
    return Judge(analyzer, LinearModel.load(model_path))
