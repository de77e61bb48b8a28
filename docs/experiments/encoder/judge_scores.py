"""Step 2 (project venv): the committed judge's p_negative, flag, tone and topic for every exported row."""
import json
import sys
import time

from common import JUDGE, REPO, read_rows

sys.path.insert(0, str(REPO))
from sentiment import load_judge  # noqa: E402

judge = load_judge()
rows = read_rows()
t0 = time.perf_counter()
out = {}
for r in rows:
    j = judge.judge(r["title"], r["text"])
    out[r["id"]] = dict(p=j.p_negative, neg=j.negative, pol=j.polarity, topic=j.topic)
dt = time.perf_counter() - t0
JUDGE.write_text(json.dumps(out))
print(f"judge: {len(rows)} rows in {dt:.1f} s = {len(rows) / dt:.0f} items/s")
