"""One settings object, loaded once in an entry point and passed down.

Modules below the entry points never read environment variables themselves.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_DB = DATA_DIR / "opinion.db"
DEFAULT_SOURCES = DATA_DIR / "sources.toml"
SAMPLE_FILE = DATA_DIR / "sample" / "ip_opinion_sample.jsonl"

ENV_DB = "OPINION_DB"
ENV_SOURCES = "OPINION_SOURCES"
ENV_RSSHUB = "OPINION_RSSHUB_BASE"
ENV_REFRESH = "OPINION_REFRESH_SECONDS"
ENV_BACKUP_DIR = "OPINION_BACKUP_DIR"
ENV_BACKUP_KEEP = "OPINION_BACKUP_KEEP"
ENV_INTERNAL_HOSTS = "OPINION_INTERNAL_HOSTS"


@dataclass(frozen=True)
class Settings:
    db_path: Path = DEFAULT_DB
    sources_file: Path = DEFAULT_SOURCES
    sample_file: Path = SAMPLE_FILE
    # Base URL of the office's self-hosted RSSHub; `rsshub://` source URLs are resolved against it.
    rsshub_base: str = "http://127.0.0.1:1200"
    # How often live dashboard panels re-query, in seconds.
    refresh_seconds: int = 60
    # A collection older than this is shown as stalled on the overview.
    stall_minutes: int = 180
    # Where database backups go; None: a `backups` folder beside the database (monitor/backup.py).
    backup_dir: Path | None = None
    # How many daily backups to keep (older ones are deleted after each new one).
    backup_keep: int = 14
    # Loopback/intranet hosts staff may give as a source address from the dashboard or `intake source
    # add` (the RSSHub base's host always may); comma-separated in OPINION_INTERNAL_HOSTS.
    internal_hosts: tuple[str, ...] = ()
    user_agent: str = "IPOpinionWatch/0.1 (+https://amr.ah.gov.cn; 安徽省知识产权局宣传舆情监测)"
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, db: str | os.PathLike | None = None, env: Mapping[str, str] | None = None,
             sources: str | os.PathLike | None = None) -> "Settings":
        """Defaults, overridden by the environment, overridden by explicit arguments (CLI flags)."""
        env = os.environ if env is None else env
        s = cls()
        if env.get(ENV_DB):
            s = replace(s, db_path=Path(env[ENV_DB]))
        if env.get(ENV_SOURCES):
            s = replace(s, sources_file=Path(env[ENV_SOURCES]))
        if env.get(ENV_RSSHUB):
            s = replace(s, rsshub_base=env[ENV_RSSHUB].rstrip("/"))
        if env.get(ENV_REFRESH):
            try:
                s = replace(s, refresh_seconds=max(5, int(env[ENV_REFRESH])))
            except ValueError:
                raise ValueError(f"{ENV_REFRESH} must be a whole number of seconds, got {env[ENV_REFRESH]!r}")
        if env.get(ENV_BACKUP_DIR):
            s = replace(s, backup_dir=Path(env[ENV_BACKUP_DIR]))
        if env.get(ENV_BACKUP_KEEP):
            try:
                keep = int(env[ENV_BACKUP_KEEP])
            except ValueError:
                keep = 0
            if not 1 <= keep <= 10_000:
                raise ValueError(f"{ENV_BACKUP_KEEP} must be a whole number from 1 to 10000, "
                                 f"got {env[ENV_BACKUP_KEEP]!r}")
            s = replace(s, backup_keep=keep)
        if env.get(ENV_INTERNAL_HOSTS):
            s = replace(s, internal_hosts=tuple(h.strip() for h in env[ENV_INTERNAL_HOSTS].split(",") if h.strip()))
        if db is not None:
            s = replace(s, db_path=Path(db))
        if sources is not None:
            s = replace(s, sources_file=Path(sources))
        return s

    @property
    def backups(self) -> Path:
        """The backup folder: `backup_dir`, or `backups` beside the database."""
        return self.backup_dir or self.db_path.resolve().parent / "backups"
