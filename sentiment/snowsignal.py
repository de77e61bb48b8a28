"""SnowNLP as one signal: its trained Bayes word model, scored over our own jieba tokens.

`SnowNLP(text).sentiments` segments with snownlp's slow character tagger and
costs ~20 ms an item; the same naive-Bayes sum over the words we already have
costs microseconds. The table (word -> log P(w|neg)/P(w|pos)) is exported from
the installed snownlp by `python -m sentiment train` into data/models/.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "data" / "models"
SNOW_FILE = MODELS_DIR / "snownlp_logodds.json"


class SnowSignal:
    def __init__(self, prior: float = 0.0, logodds: dict[str, float] | None = None):
        self.prior = prior
        # Equal values share one float object (the table holds a few thousand distinct values for ~37k
        # words): fewer cache misses when the sum reads them. Same values, same sums.
        shared: dict[float, float] = {}
        self.logodds = {w: shared.setdefault(v, v) for w, v in (logodds or {}).items()}

    @classmethod
    def load(cls, path: Path = SNOW_FILE) -> "SnowSignal":
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        return cls(d["prior"], d["logodds"])

    def p_negative(self, tokens: list[str]) -> float:
        """P(negative) under snownlp's shopping-review Bayes model; 0.5 when it knows no word."""
        s = self.prior + sum(filter(None, map(self.logodds.get, tokens)))
        s = max(-30.0, min(30.0, s))
        return 1.0 / (1.0 + math.exp(-s))


def export_snownlp_table(path: Path = SNOW_FILE, min_count: int = 3) -> dict:
    """Write snownlp's sentiment model as a word log-odds table (needs snownlp installed)."""
    from snownlp import normal
    from snownlp import sentiment as snow_sentiment

    bayes = snow_sentiment.classifier.classifier
    neg, pos = bayes.d["neg"], bayes.d["pos"]
    prior = math.log(neg.getsum()) - math.log(pos.getsum())
    table = {}
    for w in set(neg.d) | set(pos.d):
        if w in normal.stop:
            continue
        cn, cp = neg.d.get(w, neg.none), pos.d.get(w, pos.none)
        if cn + cp < min_count:
            continue
        lo = math.log(cn / neg.getsum()) - math.log(cp / pos.getsum())
        if abs(lo) >= 0.2:
            table[w] = round(lo, 3)
    out = {"source": "snownlp sentiment.marshal (shopping reviews), add-one counts; "
                     f"words with count >= {min_count} and |log-odds| >= 0.2, snownlp stopwords removed",
           "prior": round(prior, 4), "logodds": dict(sorted(table.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return out


def export_t2s_table(path: Path) -> int:
    """Write snownlp's traditional->simplified table, single characters only."""
    from snownlp.normal import zh

    # 著 stays: simplified text writes 著作权 and 显著 with it, and 着 would break both.
    keep = set("著乾")
    pairs = {k: v for k, v in zh.zh2hans.items()
             if len(k) == 1 and len(v) == 1 and k != v and k not in keep}
    path.write_text(json.dumps(dict(sorted(pairs.items())), ensure_ascii=False, indent=0), encoding="utf-8")
    return len(pairs)
