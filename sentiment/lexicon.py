"""The domain dictionaries (data/lexicon/) and the one jieba tokenizer that knows them."""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jieba

from sentiment.text import LEXICON_DIR

USER_DICT = LEXICON_DIR / "user_dict.txt"


@dataclass(frozen=True)
class Lexicon:
    ip_types: dict[str, tuple[str, float]]      # term -> (IP type, weight)
    channels: dict[str, tuple[str, float]]      # term -> (channel, weight)
    regions: dict[str, tuple[str, str]]         # name -> (province, city)
    stance: dict[str, tuple[str, float]]        # term -> (category, weight)
    topic_terms: frozenset[str]
    patterns: tuple[tuple[str, str, float], ...] = ()   # (regex, category, weight)

    def all_terms(self) -> set[str]:
        return set(self.ip_types) | set(self.channels) | set(self.regions) | set(self.stance) | set(self.topic_terms)


def _rows(path: Path) -> list[list[str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        out.append(line.rstrip("\n").split("\t"))
    return out


def load_lexicon(directory: Path = LEXICON_DIR) -> Lexicon:
    # Keys are lower-cased: the tokens they are matched against are.
    ip_types = {r[0].lower(): (r[1], float(r[2])) for r in _rows(directory / "ip_types.tsv")}
    channels = {r[0].lower(): (r[1], float(r[2])) for r in _rows(directory / "channels.tsv")}
    regions = {r[0].lower(): (r[1], r[2] if len(r) > 2 else "") for r in _rows(directory / "regions.tsv")}
    stance = {r[0].lower(): (r[1], float(r[2])) for r in _rows(directory / "stance.tsv")}
    topic = frozenset(r[0].lower() for r in _rows(directory / "topic_terms.txt"))
    patterns = tuple((r[0], r[1], float(r[2])) for r in _rows(directory / "stance_patterns.tsv"))
    return Lexicon(ip_types, channels, regions, stance, topic, patterns)


# jieba's words rarer than this are left out of our dictionary: a third of the
# 349k entries remain, the prefix dict loads ~2.5x faster, and a rare word simply
# splits into shorter words the model sees just as well.
MIN_WORD_FREQ = 5
LEXICON_WORD_FREQ = 20000


def _core_lines() -> list[str]:
    lines = []
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as f:
        for line in f:
            parts = line.split(" ", 2)
            if len(parts) >= 2 and int(parts[1]) >= MIN_WORD_FREQ:
                lines.append(line.rstrip("\n"))
    return lines


def _domain_lines(lexicon: Lexicon) -> list[str]:
    lines = []
    if USER_DICT.exists():
        lines += [x.strip() for x in USER_DICT.read_text(encoding="utf-8").splitlines() if x.strip()]
    # Lexicon terms must come out whole so that token features see them; ASCII
    # terms are matched on lower-cased text and need no entry.
    lines += [f"{t} {LEXICON_WORD_FREQ}" for t in sorted(lexicon.all_terms()) if len(t) > 1 and not t.isascii()]
    return lines


def _dictionary_file(lexicon: Lexicon) -> Path | None:
    """Our jieba dictionary, built once into the temp dir (named by its inputs); None if it cannot be written."""
    h = hashlib.sha1(f"{jieba.__version__}|{MIN_WORD_FREQ}".encode())
    if USER_DICT.exists():
        h.update(USER_DICT.read_bytes())
    h.update("\n".join(sorted(lexicon.all_terms())).encode("utf-8"))
    path = Path(tempfile.gettempdir()) / f"ipow-jieba-{h.hexdigest()[:12]}.txt"
    if path.exists():
        return path
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ipow-jieba-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(_core_lines() + _domain_lines(lexicon)) + "\n")
        os.replace(tmp, path)
    except OSError:
        return None
    return path


def make_tokenizer(lexicon: Lexicon) -> jieba.Tokenizer:
    """One jieba Tokenizer with the IP user dictionary and every lexicon term as a word.

    The dictionary file and jieba's prefix-dict cache live in the system temp
    dir only; jieba's INFO chatter is silenced. Without a writable temp dir the
    domain words are added to jieba's full dictionary in memory (slower to load,
    nearly the same tokens).
    """
    jieba.setLogLevel(logging.WARNING)
    path = _dictionary_file(lexicon)
    if path is not None:
        tk = jieba.Tokenizer(dictionary=str(path))
        tk.tmp_dir = str(path.parent)
        tk.initialize()
        return tk
    tk = jieba.Tokenizer()
    tk.tmp_dir = tempfile.gettempdir()
    jieba.setLogLevel(logging.CRITICAL)     # its "Dump cache file failed" traceback is expected here
    try:
        tk.initialize()
    finally:
        jieba.setLogLevel(logging.WARNING)
    for line in _domain_lines(lexicon):
        parts = line.split()
        tk.add_word(parts[0], freq=int(parts[1]))
    return tk
