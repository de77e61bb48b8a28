"""Ordered schema migrations, applied on open. Append only: never edit or rename a released step.

Each step is (unique name, SQL); the store records applied names in
`schema_migrations` and applies the missing ones in list order. Name steps
"NNNN_what" so the order is visible.
"""
from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    ("0001_items_runs_feed_state", """
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,          -- canonical URL, or sha1:<content hash> without a link
            content_hash TEXT NOT NULL,
            url TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            platform TEXT NOT NULL DEFAULT '',
            author TEXT NOT NULL DEFAULT '',
            published_at TEXT NOT NULL,        -- UTC, ISO 8601 with +00:00
            published_estimated INTEGER NOT NULL DEFAULT 0,
            fetched_at TEXT NOT NULL,
            is_sample INTEGER NOT NULL DEFAULT 0,
            negative INTEGER,
            p_negative REAL,
            polarity TEXT,
            topic TEXT,
            ip_type TEXT,
            ip_types TEXT NOT NULL DEFAULT '[]',
            channel TEXT,
            province TEXT NOT NULL DEFAULT '',
            city TEXT NOT NULL DEFAULT '',
            region TEXT NOT NULL DEFAULT '',
            reasons TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX ix_items_published ON items(published_at);
        CREATE INDEX ix_items_negative ON items(negative, published_at);
        CREATE INDEX ix_items_source ON items(source, published_at);
        CREATE INDEX ix_items_hash ON items(content_hash, source);

        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',   -- running | ok | error | not_modified
            fetched INTEGER NOT NULL DEFAULT 0,
            new INTEGER NOT NULL DEFAULT 0,
            duplicate INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );
        CREATE INDEX ix_runs_source ON runs(source, started_at);

        CREATE TABLE feed_state (
            source TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            updated_at TEXT NOT NULL
        );
    """),
]
