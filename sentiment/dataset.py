"""Labelled items: reading them, the fixed held-out split, and staff corrections layered on top."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

LABELLED_DIR = Path(__file__).resolve().parent.parent / "data" / "labelled"
DEV_FILE = LABELLED_DIR / "ip_opinion_dev.jsonl"
EXTRA_FILE = LABELLED_DIR / "ip_opinion_extra.jsonl"
# Hard cases gathered on purpose (calm complaints, harsh publicity, off-topic look-alikes): trained on,
# but not used to set the operating point, since their mix is not what the collectors bring in.
HARD_FILE = LABELLED_DIR / "ip_opinion_hard.jsonl"
LABELLED_FILES = (DEV_FILE, EXTRA_FILE, HARD_FILE)
# Round 5: items gathered and labelled by other people after the model was built, never trained on.
# They measure what unseen items get (docs/judgement.md, "Fresh items"); training on them is a choice
# for a later model, to be judged against a newer fresh set.
FRESH_FILE = LABELLED_DIR / "ip_opinion_fresh.jsonl"
TEST_SHARE = 5        # one item in five (by id hash) is held out

IP_TYPE_ZH = {"patent": "专利", "trademark": "商标", "copyright": "著作权", "plant_variety": "植物新品种",
              "geo_indication": "地理标志", "trade_secret": "商业秘密", "ic_layout": "集成电路布图设计",
              "none": "其他", "mixed": "mixed"}


@dataclass
class Example:
    id: str
    title: str
    text: str
    label: str                    # "negative" | "non-negative"
    polarity3: str = ""
    topic: str = ""
    ip_type: str = ""             # Chinese type, "mixed", or "" when unlabelled
    source: str = ""              # which file or "correction"
    extra: dict = field(default_factory=dict)

    @property
    def negative(self) -> bool:
        return self.label == "negative"

    @property
    def hard_case(self) -> bool:
        return self.source == HARD_FILE.name


def is_heldout(item_id: str) -> bool:
    """Fixed split: depends only on the id, so adding data never moves an item between sides."""
    return int(hashlib.sha1(item_id.encode("utf-8")).hexdigest()[:8], 16) % TEST_SHARE == 0


def text_key(title: str, text: str) -> str:
    """What makes two labelled items the same item: whitespace-free body (or title when no body)."""
    return "".join((text or title or "").split())


def from_row(row: dict, source: str) -> Example:
    ip = row.get("ip_type", "")
    title = row.get("title") or ""
    text = row.get("text") or ""
    # The team's files store text = title + ' ' + snippet; judge both as a feed would give them.
    if title and text.startswith(title):
        text = text[len(title):].lstrip()
    return Example(id=str(row.get("id", "")), title=title, text=text, label=row["label"],
                   polarity3=row.get("polarity3", ""), topic=row.get("topic", ""),
                   ip_type=IP_TYPE_ZH.get(ip, ip), source=source,
                   extra={k: row[k] for k in ("region", "platform") if k in row})


def read_jsonl(path: Path, source: str | None = None) -> list[Example]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            row = json.loads(line)
            if row.get("label") in ("negative", "non-negative") and (row.get("text") or row.get("title")):
                out.append(from_row(row, source or path.name))
    return out


def load_examples(paths: list[Path] | None = None) -> list[Example]:
    """The team's labelled items (dev set, plus the gathered sets when present), de-duplicated by text."""
    paths = paths or [p for p in LABELLED_FILES if p.exists()]
    seen: set[str] = set()
    out = []
    for p in paths:
        for ex in read_jsonl(p):
            k = text_key(ex.title, ex.text)
            if k in seen:
                continue
            seen.add(k)
            out.append(ex)
    return out


def _makes_example(c: dict) -> bool:
    """Whether a correction alone gives a text a negative label: a verdict, a tone (the store flags an
    item exactly when its tone is corrected to negative), or off-topic (never negative). A corrected IP
    type alone says nothing about the verdict."""
    return c["field"] in ("negative", "polarity") or (c["field"] == "topic" and c["value"] == "off")


def apply_corrections(examples: list[Example], corrections: list[dict]) -> tuple[list[Example], int, int]:
    """Staff corrections override labels of the same text; corrections of new texts become examples.

    A correction dict has title, text, field ("negative" | "ip_type" | "topic" | "polarity"),
    value, user, created_at. Corrections replay oldest first, as the store shows them on the item: the
    latest of a field wins, a tone sets the verdict with it, off-topic is never negative. A new text
    becomes an example when any of its corrections fixes its verdict (`_makes_example`); its other
    corrections (an IP type made before the verdict, say) then apply too. Returns (examples, overridden,
    added).
    """
    by_key = {text_key(e.title, e.text): e for e in examples}
    creatable = {text_key(c.get("title", ""), c.get("text", "")) for c in corrections if _makes_example(c)}
    overridden = added = 0
    for c in sorted(corrections, key=lambda c: c.get("created_at", "")):
        key = text_key(c.get("title", ""), c.get("text", ""))
        if not key:
            continue
        ex = by_key.get(key)
        if ex is None:
            if key not in creatable:
                continue
            ex = Example(id=f"correction-{c.get('item_id', key[:16])}", title=c.get("title", ""),
                         text=c.get("text", ""), label="non-negative", topic="ip", source="correction")
            by_key[key] = ex
            examples.append(ex)
            added += 1
        else:
            overridden += 1
        value = c["value"]
        if c["field"] == "negative":
            ex.label = "negative" if str(value).lower() in ("1", "true", "yes", "negative") else "non-negative"
            if ex.negative:
                ex.polarity3, ex.topic = "negative", "ip"
            elif ex.polarity3 == "negative" and ex.topic == "ip":
                ex.polarity3 = "neutral"
        elif c["field"] == "ip_type":
            ex.ip_type = value
        elif c["field"] == "topic":
            ex.topic = value
            if value == "off":
                ex.label = "non-negative"
                if ex.polarity3 == "negative":
                    ex.polarity3 = "neutral"
        elif c["field"] == "polarity":
            ex.polarity3 = value
            ex.label = "negative" if value == "negative" else "non-negative"
            if value == "negative":
                ex.topic = "ip"
    return examples, overridden, added


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    train = [e for e in examples if not is_heldout(e.id)]
    test = [e for e in examples if is_heldout(e.id)]
    return train, test
