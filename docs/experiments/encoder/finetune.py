"""Step 3 (encoder venv: torch, transformers, scikit-learn): fine-tune m3e-small on the training rows.

One encoder, mean-pooled, with three heads trained together: negative (the flag), 3-class tone on on-topic rows,
topic. Writes the probabilities for every non-training row after each epoch and prints AP/F1 per set.
Usage: [SEED=0] [EP=4] [LR=5e-5] [ML=160] [TRS=train] python finetune.py TAG
TRS lists the splits trained on (e.g. train,fresh_ad,fresh_eg to train on round 5 and judge round 6).
"""
import json
import os
import sys
import time

import numpy as np
import torch
from sklearn.metrics import accuracy_score, average_precision_score, f1_score
from transformers import AutoModel, AutoTokenizer

from common import SETS, WORK, model_dir, read_rows, text_of

SEED = int(os.environ.get("SEED", "0"))
EPOCHS, LR, MAX_LEN = int(os.environ.get("EP", "4")), float(os.environ.get("LR", "5e-5")), int(os.environ.get("ML", "160"))
BATCH = 16
TONES = {"negative": 0, "neutral": 1, "positive": 2}
torch.manual_seed(SEED)
torch.set_num_threads(os.cpu_count() or 1)
tag = sys.argv[1]
tok = AutoTokenizer.from_pretrained(model_dir())
enc = AutoModel.from_pretrained(model_dir())
rows = read_rows()
texts = [text_of(r) for r in rows]
split = np.array([r["split"] for r in rows])
y = np.array([r["label"] == "negative" for r in rows], dtype=np.float32)
y_tone = np.array([TONES.get(r["polarity3"], -1) if r["topic"] != "off" else -1 for r in rows])
y_topic = np.array([r["topic"] != "off" for r in rows], dtype=np.float32)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.enc, self.drop = enc, torch.nn.Dropout(0.1)
        self.head = torch.nn.Linear(enc.config.hidden_size, 1 + 3 + 1)

    def forward(self, b):
        h = self.enc(**b).last_hidden_state
        m = b["attention_mask"].unsqueeze(-1).float()
        return self.head(self.drop((h * m).sum(1) / m.sum(1)))


def batch(idx):
    return tok([texts[i] for i in idx], padding=True, truncation=True, max_length=MAX_LEN, return_tensors="pt")


def predict(idx):
    net.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(idx), 64):
            o = net(batch(idx[i:i + 64]))
            out.append(torch.cat([torch.sigmoid(o[:, :1]), torch.softmax(o[:, 1:4], 1), torch.sigmoid(o[:, 4:])], 1).numpy())
    net.train()
    return np.concatenate(out)


net = Net()
train_idx = np.flatnonzero(np.isin(split, os.environ.get("TRS", "train").split(",")))
eval_idx = np.flatnonzero(split != "train")
opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=0.01)
steps = EPOCHS * -(-len(train_idx) // BATCH)
# linear warm-up over the first 10 % of steps, then linear decay to zero
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min(1.0, k / (0.1 * steps)) * max(0.0, (steps - k) / (0.9 * steps)))
rng = np.random.default_rng(SEED)
t0 = time.time()
bce, ce = torch.nn.functional.binary_cross_entropy_with_logits, torch.nn.functional.cross_entropy
for ep in range(1, EPOCHS + 1):
    total = 0.0
    order = rng.permutation(train_idx)
    for k in range(0, len(order), BATCH):
        idx = order[k:k + BATCH]
        o = net(batch(idx))
        loss = bce(o[:, 0], torch.tensor(y[idx]))
        tone = torch.tensor(y_tone[idx])
        if (tone >= 0).any():
            loss = loss + 0.5 * ce(o[tone >= 0, 1:4], tone[tone >= 0])
        loss = loss + 0.3 * bce(o[:, 4], torch.tensor(y_topic[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        total += float(loss.detach())
    P = predict(eval_idx)
    np.save(WORK / f"pred_{tag}_ep{ep}.npy", P)
    report = {"epoch": ep, "loss": round(total / -(-len(order) // BATCH), 4), "seconds": round(time.time() - t0)}
    for s in SETS:
        m = split[eval_idx] == s
        p, g = P[m, 0], y[eval_idx][m]
        report[s] = {"ap": round(average_precision_score(g, p), 4), "f1": round(f1_score(g, p > 0.5), 4),
                     "acc": round(accuracy_score(g, p > 0.5), 4)}
    print(tag, json.dumps(report), flush=True)
