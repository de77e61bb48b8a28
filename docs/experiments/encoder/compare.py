"""Step 4 (encoder venv): the judge, the fine-tuned encoder and their average on each set, side by side.

Usage: python compare.py TAG EPOCH. "avg" is the mean of the two logits with no weight fitted, so no test row is
used to combine them. F1 and accuracy of the encoder and of the average are at p > 0.5; the judge's are its flag. "band" is a
second pass: the judge's flag, except that items the judge reads as on-topic with p_negative in BAND take
the average's verdict.
Tone macro-F1 and topic accuracy are over rows labelled on-topic (tone) or labelled at all (topic).
"""
import json
import sys

import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score, f1_score

from common import JUDGE, REPO, SETS, WORK, read_rows

sys.path.insert(0, str(REPO))
from sentiment.metrics import macro_f1  # noqa: E402

TONES = ("negative", "neutral", "positive")  # the order of finetune.py's tone head
tag, epoch = sys.argv[1], sys.argv[2]
rows = np.array([r for r in read_rows() if r["split"] != "train"], dtype=object)
judge = json.loads(JUDGE.read_text())
P = np.load(WORK / f"pred_{tag}_ep{epoch}.npy")
split = np.array([r["split"] for r in rows])
y = np.array([r["label"] == "negative" for r in rows])
p_judge = np.array([judge[r["id"]]["p"] for r in rows])
flag_judge = np.array([judge[r["id"]]["neg"] for r in rows])
p_enc = P[:, 0]


def logit(p):
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


p_avg = 1 / (1 + np.exp(-(logit(p_judge) + logit(p_enc)) / 2))
# A second pass only where the judge is unsure: the encoder is consulted for items with p_negative in BAND.
BAND = (0.2, 0.8)
# The judge's topic gate stays: items it reads as off-topic never reach the second pass.
on_topic_judge = np.array([judge[r["id"]]["topic"] == "ip" for r in rows])
in_band = (p_judge >= BAND[0]) & (p_judge <= BAND[1]) & on_topic_judge
p_band = np.where(in_band, p_avg, p_judge)
flag_band = np.where(in_band, p_avg > 0.5, flag_judge)


out = {}
for s in SETS:
    m = split == s
    r = {"n": int(m.sum()),
         "judge": {"ap": average_precision_score(y[m], p_judge[m]), "f1": f1_score(y[m], flag_judge[m]),
                   "acc": accuracy_score(y[m], flag_judge[m])}}
    for name, p in (("encoder", p_enc), ("avg", p_avg)):
        r[name] = {"ap": average_precision_score(y[m], p[m]), "f1": f1_score(y[m], p[m] > 0.5),
                   "acc": accuracy_score(y[m], p[m] > 0.5)}
    r["band"] = {"share": in_band[m].mean(), "ap": average_precision_score(y[m], p_band[m]),
                 "f1": f1_score(y[m], flag_band[m]), "acc": accuracy_score(y[m], flag_band[m])}
    off = m & np.array([x["topic"] == "off" for x in rows])
    r["judge"]["off_flagged"] = int(flag_judge[off].sum())
    r["avg"]["off_flagged"] = int((p_avg[off] > 0.5).sum())
    r["band"]["off_flagged"] = int(flag_band[off].sum())
    on = m & np.array([x["topic"] == "ip" and x["polarity3"] in TONES for x in rows])
    gold = [x["polarity3"] for x in rows[on]]
    r["judge"]["tone"] = macro_f1(gold, [judge[x["id"]]["pol"] for x in rows[on]], TONES)
    r["encoder"]["tone"] = macro_f1(gold, [TONES[k] for k in P[on, 1:4].argmax(1)], TONES)
    lab = m & np.array([x["topic"] in ("ip", "off") for x in rows])
    gold_t = [x["topic"] == "ip" for x in rows[lab]]
    r["judge"]["topic"] = accuracy_score(gold_t, [judge[x["id"]]["topic"] == "ip" for x in rows[lab]])
    r["encoder"]["topic"] = accuracy_score(gold_t, P[lab, 4] > 0.5)
    out[s] = {k: ({m2: (v2 if isinstance(v2, int) else round(float(v2), 4)) for m2, v2 in v.items()} if isinstance(v, dict) else v) for k, v in r.items()}
    print(s, json.dumps(out[s]))
(WORK / f"compare_{tag}_ep{epoch}.json").write_text(json.dumps(out, indent=1))
