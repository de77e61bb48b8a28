"""Step 1 (project venv): write every labelled row with the split the committed model was judged on.

train / heldout / reference (held-out dev rows) come from the training files and the model card;
fresh_ad / fresh_eg are round 5 by gatherer (qc/round5_ids.tsv), r6 is round 6 of the fresh file.
"""
import json
import sys

from common import REPO, ROWS, WORK

sys.path.insert(0, str(REPO))
from sentiment import dataset  # noqa: E402

labelled = REPO / "data" / "labelled"
heldout = set(json.loads((REPO / "data/models/model_card.json").read_text())["data"]["heldout_ids"])
gatherer = {}
for line in (labelled / "qc/round5_ids.tsv").read_text().splitlines():
    if line.strip():
        r5_id, fresh_id = line.split("\t")
        gatherer[fresh_id] = r5_id[2]

WORK.mkdir(parents=True, exist_ok=True)
with open(ROWS, "w", encoding="utf-8") as out:
    def write(e, item_id, split, src):
        out.write(json.dumps(dict(id=item_id, title=e.title, text=e.text, label=e.label, polarity3=e.polarity3,
                                  topic=e.topic, split=split, src=src), ensure_ascii=False) + "\n")
    for e in dataset.load_examples(list(dataset.LABELLED_FILES)):
        in_ho = e.id in heldout
        write(e, e.id, ("reference" if e.source == dataset.DEV_FILE.name else "heldout") if in_ho else "train", e.source)
    for e in dataset.read_jsonl(dataset.FRESH_FILE):
        g = gatherer.get(e.id)
        write(e, "F:" + e.id, "r6" if g is None else ("fresh_ad" if g in "abcd" else "fresh_eg"), "fresh")
print("rows written to", ROWS)
