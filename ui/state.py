"""Cached handles and cached queries: the only way pages reach the store.

- One read-only connection per database file and server process
  (`st.cache_resource`), shared by every session and thread; a lock keeps one
  query at a time on it. Writes (loading or removing the sample) open their own
  short-lived writable Store and then clear the cached queries.
- Cached queries take plain parameters: the database path as text, filter
  values, and a `tick` that changes every `refresh_seconds`. A new tick is a new
  cache key, so live panels re-query on each refresh while sessions within one
  interval share one answer.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from collectors.registry import SourceConfigError, load_sources
from monitor import exports, handling, queries, story_store, users, view_store
from monitor import sample as sample_data
from monitor.settings import Settings
from monitor.store import AddCounts, Store

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
# Entries outlive their tick only until this many seconds; keeps memory flat.
_TTL = 900


def settings() -> Settings:
    """Loaded on every run: cheap, and OPINION_DB set by a test or the shell takes effect."""
    return Settings.load()


def db_key(s: Settings) -> str:
    return str(Path(s.db_path).resolve())


def _clock() -> float:
    return time.time()


def tick(s: Settings) -> int:
    return int(_clock() // max(1, s.refresh_seconds))


@st.cache_resource(show_spinner=False)
def _store(db: str) -> Store:
    # The dashboard only reads, but a fresh install has no file yet and an old
    # file may lack new tables: one writable open creates and migrates it.
    Store(db).close()
    return Store(db, readonly=True, check_same_thread=False)


def store(db: str) -> Store:
    """Opens (and caches) the database; raises monitor.store.StoreError with a readable message."""
    return _store(db)


def _read(db: str, fn, *args, **kwargs):
    with _LOCK:
        return fn(_store(db), *args, **kwargs)


# -- cached queries ---------------------------------------------------------------

@st.cache_data(ttl=_TTL, show_spinner=False)
def item_counts(db: str, tick: int) -> dict[str, int]:
    return _read(db, queries.item_counts)


@st.cache_data(ttl=_TTL, show_spinner=False)
def overview(db: str, tick: int) -> dict[str, dict[str, Any]]:
    return _read(db, queries.overview)


@st.cache_data(ttl=_TTL, show_spinner=False)
def daily_trend(db: str, days: int, tick: int) -> pd.DataFrame:
    return _read(db, queries.daily_trend, days)


@st.cache_data(ttl=_TTL, show_spinner=False)
def top_sources(db: str, days: int, tick: int, limit: int = 10) -> pd.DataFrame:
    return _read(db, queries.top_sources, days, limit)


@st.cache_data(ttl=_TTL, show_spinner=False)
def ip_type_breakdown(db: str, days: int, tick: int) -> pd.DataFrame:
    return _read(db, queries.ip_type_breakdown, days)


@st.cache_data(ttl=_TTL, show_spinner=False)
def city_breakdown(db: str, days: int, tick: int) -> pd.DataFrame:
    return _read(db, queries.city_breakdown, days)


@st.cache_data(ttl=_TTL, show_spinner=False)
def province_breakdown(db: str, days: int, tick: int) -> pd.DataFrame:
    return _read(db, queries.province_breakdown, days)


@st.cache_data(ttl=_TTL, show_spinner=False)
def latest_negative(db: str, tick: int, limit: int = 10) -> pd.DataFrame:
    return _read(db, queries.latest_negative, limit)


@st.cache_data(ttl=_TTL, show_spinner=False)
def last_collection(db: str, stall_minutes: int, tick: int) -> dict[str, Any]:
    return _read(db, queries.last_collection, stall_minutes)


@st.cache_data(ttl=_TTL, show_spinner=False)
def filter_options(db: str, tick: int) -> dict[str, list[str]]:
    return _read(db, queries.filter_options)


@st.cache_data(ttl=_TTL, show_spinner=False, max_entries=200)
def _item_list(db: str, filter_fields: tuple, tick: int) -> queries.ItemPage:
    return _read(db, queries.item_list, queries.ItemFilter(*filter_fields))


def item_list(db: str, f: queries.ItemFilter, tick: int) -> queries.ItemPage:
    # Cached on the filter's plain field values, not on the dataclass itself.
    return _item_list(db, dataclasses.astuple(f), tick)


@st.cache_data(ttl=_TTL, show_spinner=False, max_entries=500)
def item_detail(db: str, item_id: int, tick: int) -> dict | None:
    return _read(db, queries.item_detail, item_id)


def load_source_list(path: Path, rsshub_base: str) -> tuple[list[Any], str | None]:
    """The configured sources and, if the file cannot be used, why (the page shows it)."""
    try:
        return load_sources(path, rsshub_base), None
    except SourceConfigError as e:
        return [], f"信息源配置有误：{e}"


@st.cache_data(ttl=_TTL, show_spinner=False)
def source_health(db: str, sources_file: str, rsshub_base: str, stall_minutes: int,
                  tick: int) -> tuple[pd.DataFrame, str | None]:
    sources, problem = load_source_list(Path(sources_file), rsshub_base)
    return _read(db, queries.source_health, sources, stall_minutes), problem


@st.cache_data(ttl=_TTL, show_spinner=False)
def platform_breakdown(db: str, days: int, tick: int) -> pd.DataFrame:
    return _read(db, queries.platform_breakdown, days)


@st.cache_data(ttl=_TTL, show_spinner=False)
def channel_breakdown(db: str, days: int, tick: int) -> pd.DataFrame:
    return _read(db, queries.channel_breakdown, days)


@st.cache_data(ttl=_TTL, show_spinner=False)
def top_stories(db: str, days: int, tick: int, limit: int = 10, negative_only: bool = False) -> pd.DataFrame:
    start, end = queries.window_bounds(days)
    return _read(db, story_store.top_stories, start, end, limit, negative_only)


@st.cache_data(ttl=_TTL, show_spinner=False)
def story_daily(db: str, story_ids: tuple[int, ...], days: int, tick: int) -> pd.DataFrame:
    start, end = queries.window_bounds(days)
    return _read(db, story_store.story_daily, list(story_ids), start, end)


@st.cache_data(ttl=_TTL, show_spinner=False)
def story_sources(db: str, story_id: int, tick: int) -> pd.DataFrame:
    return _read(db, story_store.story_sources, story_id)


@st.cache_data(ttl=_TTL, show_spinner=False)
def own_reach(db: str, own: tuple[str, ...], days: int, tick: int) -> pd.DataFrame:
    start, end = queries.window_bounds(days)
    return _read(db, story_store.own_reach, own, start, end)


@st.cache_data(ttl=_TTL, show_spinner=False)
def reposts_by(db: str, story_ids: tuple[int, ...], own: tuple[str, ...], tick: int):
    return _read(db, story_store.reposts_by, list(story_ids), own)


@st.cache_data(ttl=_TTL, show_spinner=False)
def saved_views(db: str, tick: int) -> list[dict]:
    return _read(db, view_store.views)


@st.cache_data(ttl=_TTL, show_spinner=False)
def handling_list(db: str, days: int, states: tuple[str, ...], tick: int) -> pd.DataFrame:
    return _read(db, handling.handling_list, days, states)


@st.cache_data(ttl=_TTL, show_spinner=False)
def handling_summary(db: str, days: int, tick: int) -> dict[str, Any]:
    start, end = queries.window_bounds(days)
    return _read(db, handling.summary, start, end)


@st.cache_data(ttl=_TTL, show_spinner=False)
def handling_units(db: str, tick: int) -> list[str]:
    return _read(db, handling.unit_options)


@st.cache_data(ttl=_TTL, show_spinner=False)
def handling_history(db: str, item_id: int, tick: int) -> list[dict]:
    return _read(db, handling.history, item_id)


@st.cache_data(ttl=_TTL, show_spinner=False)
def latest_alerts(db: str, tick: int, limit: int = 5) -> list[dict] | None:
    """The newest alert firings (issue 6's monitor.alerts), or None where alerts are not installed."""
    try:
        from monitor.alerts import recent_firings
    except ImportError:
        return None
    return _read(db, recent_firings, limit=limit)


def own_sources(s: Settings) -> tuple[tuple[str, ...], str | None]:
    """Names of the office's own sources (own = true in the sources file)."""
    sources, problem = load_source_list(Path(s.sources_file), s.rsshub_base)
    return tuple(x.name for x in sources if getattr(x, "own", False)), problem


def model_status(db: str) -> dict:
    """The judge model in use, its predecessor and the corrections waiting (not cached: the model file
    changes outside the dashboard, and the page is opened rarely)."""
    from monitor import judging
    return _read(db, judging.model_status)


def export_view(db: str, f: queries.ItemFilter, fmt: str) -> tuple[bytes, list[str]]:
    """The current view as CSV or XLSX bytes (not cached: staff export what is stored now). On its own
    read-only connection, outside the shared lock: 50,000 rows take seconds to read and write out, and every
    other session's queries waited behind them (a search took 12 s during an export)."""
    with Store(db, readonly=True) as s:
        return exports.export_view(s, f, fmt)


_CACHED = (item_counts, overview, daily_trend, top_sources, ip_type_breakdown, city_breakdown,
           province_breakdown, latest_negative, last_collection, filter_options, _item_list,
           item_detail, source_health, platform_breakdown, channel_breakdown, top_stories, story_daily,
           story_sources, own_reach, reposts_by, saved_views, handling_list, handling_summary, handling_history,
           handling_units, latest_alerts)


def data_version(db: str) -> tuple:
    """Not cached: it is what tells the cached answers they are stale."""
    return _read(db, queries.data_version)


def clear_queries() -> None:
    """After a write: every cached answer may be stale."""
    for fn in _CACHED:
        fn.clear()


# -- sample data (the dashboard's only writes) ----------------------------------------

def judge():
    """The product's judge, loaded on first use (model files are large). Not a Streamlit resource:
    `load_judge` keeps one per process and swaps in a retrained model when its file changes."""
    from sentiment import load_judge
    return load_judge()


def write(db: str, fn, *args, **kwargs):
    """Run one core write function on a short-lived writable store, then drop every cached answer.
    Exceptions (refused moves, bad input) reach the page, which shows their message."""
    with Store(db) as w:
        out = fn(w, *args, **kwargs)
    clear_queries()
    return out


def write_as(db: str, user: users.User, action: str, target: Any, detail: dict | None, fn, *args, **kwargs):
    """`write` for core functions that do not audit themselves: the write and its audit entry, all or nothing."""
    with Store(db) as w:
        with w.atomic():
            out = fn(w, *args, **kwargs)
            users.audit(w, user, action, str(target), detail or {})
    clear_queries()
    return out


def load_sample(db: str, s: Settings, user: users.User | None = None) -> AddCounts:
    """Loads the sample; a staff click (`user`) is audited, the first-run autoload is not."""
    with Store(db) as w:
        counts = sample_data.load_sample(w, judge(), s.sample_file)
        if user is not None:
            users.audit(w, user, "sample.load", str(s.sample_file), {"new": counts.new})
    clear_queries()
    return counts


def remove_sample(db: str, user: users.User | None = None) -> int:
    with Store(db) as w:
        with w.atomic():
            n = sample_data.remove_sample(w)
            if user is not None:
                users.audit(w, user, "sample.remove", "", {"removed": n})
    clear_queries()
    return n


@st.cache_resource(show_spinner=False)
def _autoload_once(db: str, sample_file: str) -> int:
    # Cached per database and server process: after staff clear the sample,
    # the next run must not load it straight back.
    if _read(db, queries.item_counts)["total"]:
        return 0
    return load_sample(db, dataclasses.replace(settings(), sample_file=Path(sample_file))).new


def autoload_sample(db: str, s: Settings) -> int:
    """Load the sample into an empty database, once per process; returns how many items were added."""
    return _autoload_once(db, str(s.sample_file))
