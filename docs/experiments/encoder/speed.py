"""Step 5 (encoder venv with the project's requirements installed too): what a second pass would cost.

Times, in one process on the same exported texts: jieba.lcut, the committed judge (one item at a time, as
`classify` runs), and the encoder's forward pass (batches of 32 and one item at a time). Best of 3 for the fast
ones; the encoder runs once. Also the process's resident memory after loading the judge, then the encoder. Usage: python speed.py [--n 500]
"""
import argparse
import json
import os
import platform
import sys
import time

from common import REPO, model_dir, read_rows, text_of

sys.path.insert(0, str(REPO))
import jieba  # noqa: E402

from sentiment import load_judge  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=500)
n = ap.parse_args().n
rows = read_rows()[:n]
texts = [text_of(r) for r in rows]


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))


def best(f, k=3):
    out = []
    for _ in range(k):
        t0 = time.perf_counter()
        f()
        out.append(time.perf_counter() - t0)
    return min(out)


judge = load_judge()
[judge.judge(r["title"], r["text"]) for r in rows[:20]]
jieba.lcut(texts[0])
rss_judge = rss_mb()
t_jieba = best(lambda: [jieba.lcut(t) for t in texts])
t_judge = best(lambda: [judge.judge(r["title"], r["text"]) for r in rows])
import torch  # noqa: E402  (after the judge, so its resident memory is the judge's own)
from transformers import AutoModel, AutoTokenizer  # noqa: E402

torch.set_num_threads(os.cpu_count() or 1)
tok = AutoTokenizer.from_pretrained(model_dir())
enc = AutoModel.from_pretrained(model_dir()).eval()


def encode(bs):
    with torch.inference_mode():
        for i in range(0, len(texts), bs):
            enc(**tok(texts[i:i + bs], padding=True, truncation=True, max_length=160, return_tensors="pt"))


encode(32)
rss_encoder = rss_mb()
t_enc32 = best(lambda: encode(32), 1)
t_enc1 = best(lambda: encode(1), 1)
rate = {k: round(n / t) for k, t in (("jieba_lcut", t_jieba), ("judge", t_judge), ("encoder_batch32", t_enc32),
                                      ("encoder_single", t_enc1))}
print(json.dumps({"n": n, "items_per_s": rate, "judge_over_encoder32": round(t_enc32 / t_judge, 1),
                  "rss_mb_after_judge": round(rss_judge), "rss_mb_after_encoder": round(rss_encoder),
                  "cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
                  "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}))
