"""`classify`: JSON Lines in, the same objects with the judgement added, out.

Contract (issue 2, extended by issue 3): each input line is a JSON object with
`text` (optional `title`, `id`, any other keys). Output adds `negative`,
`p_negative`, `polarity`, `ip_type`, `region`, `reasons`, `topic`, `channel`;
other keys pass through unchanged, in order. A bad line (invalid UTF-8, not
JSON, not an object, no string `text`) is reported on stderr with its line
number and skipped; the run then returns 1, and every good line is still written.
"""
from __future__ import annotations

import json
import re
from typing import Any, BinaryIO, TextIO

from sentiment.judge import Judge

ADDED_KEYS = ("negative", "p_negative", "polarity", "ip_type", "region", "reasons", "topic", "channel")


# A JSON escape can spell half of a UTF-16 pair ("\ud800"); it could not be written out as UTF-8.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value


class BadLine(ValueError):
    """One input line that is not a JSON object with a usable `text`; reported and skipped."""


def parse_line(raw: bytes) -> dict | None:
    """One input line -> object, None for a blank line, BadLine otherwise."""
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadLine(f"invalid UTF-8 at byte {e.start}") from None
    s = s.strip().lstrip("\ufeff")
    if not s:
        return None
    try:
        obj = _scrub(json.loads(s))
    except ValueError as e:
        raise BadLine(f"not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise BadLine(f"not a JSON object but {type(obj).__name__}")
    if not isinstance(obj.get("text"), str):
        raise BadLine("missing string field 'text'")
    if "title" in obj and obj["title"] is not None and not isinstance(obj["title"], str):
        raise BadLine("field 'title' is not a string")
    return obj


def annotate(obj: dict, judge: Judge) -> dict:
    j = judge.judge(obj.get("title") or "", obj["text"])
    added = {"negative": j.negative, "p_negative": j.p_negative, "polarity": j.polarity,
             "ip_type": j.ip_type, "region": j.region, "reasons": list(j.reasons),
             "topic": j.topic, "channel": j.channel}
    out = dict(obj)
    out.update(added)
    return out


def classify_stream(inp: BinaryIO, out: TextIO, err: TextIO, judge: Judge) -> int:
    """Returns the exit code: 0 when every line was good, 1 when any was skipped."""
    bad = 0
    for n, raw in enumerate(inp, start=1):
        try:
            obj = parse_line(raw)
        except BadLine as e:
            bad += 1
            err.write(f"line {n}: {e}; skipped\n")
            continue
        if obj is None:
            continue
        out.write(json.dumps(annotate(obj, judge), ensure_ascii=False) + "\n")
    out.flush()
    if bad:
        err.write(f"{bad} bad line(s) skipped\n")
    return 1 if bad else 0
