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
    ("0002_corrections", """
        -- Staff corrections of the judgement, with who and when. No foreign key on
        -- purpose: a correction (and the text snapshot training needs) outlives the
        -- item, e.g. when sample items are removed. Append-only: retraining reads, never deletes.
        CREATE TABLE corrections (
            id INTEGER PRIMARY KEY,
            item_id INTEGER,                   -- items.id when recorded
            item_key TEXT NOT NULL,            -- items.key: stable across re-ingest
            title TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            field TEXT NOT NULL,               -- negative | ip_type | topic | polarity
            value TEXT NOT NULL,
            user TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL           -- UTC, ISO 8601 with +00:00
        );
        CREATE INDEX ix_corrections_item ON corrections(item_key, created_at);
        CREATE TRIGGER corrections_keep BEFORE DELETE ON corrections
        BEGIN
            SELECT RAISE(ABORT, 'corrections are never deleted');
        END;
    """),
    ("0003_casebook", """
        -- One row per case revision. A published revision is frozen (triggers below):
        -- changing a published case adds revision rev+1.
        CREATE TABLE cases (
            id TEXT NOT NULL,
            rev INTEGER NOT NULL DEFAULT 1,
            state TEXT NOT NULL,               -- clue | draft | review | approved | published
            title TEXT NOT NULL DEFAULT '',
            headline TEXT NOT NULL DEFAULT '',
            ip_type TEXT NOT NULL DEFAULT '',  -- patent | trademark | copyright | plant_variety | ...
            channel TEXT NOT NULL DEFAULT '',  -- administrative | judicial-civil | ... | customs | cultural-market
            authority TEXT NOT NULL DEFAULT '',
            region TEXT NOT NULL DEFAULT '',
            year INTEGER,
            case_number TEXT NOT NULL DEFAULT '',
            parties TEXT NOT NULL DEFAULT '',
            keywords TEXT NOT NULL DEFAULT '[]',
            gist TEXT NOT NULL DEFAULT '',
            facts TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL DEFAULT '',
            amounts TEXT NOT NULL DEFAULT '[]',
            significance TEXT NOT NULL DEFAULT '',
            sources TEXT NOT NULL DEFAULT '[]',   -- [{"url":..., "note":...}]
            release_name TEXT NOT NULL DEFAULT '',
            release_publisher TEXT NOT NULL DEFAULT '',
            release_date TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '',
            gaps TEXT NOT NULL DEFAULT '[]',
            notes TEXT NOT NULL DEFAULT '',
            origin TEXT NOT NULL DEFAULT '',     -- import | discovery | manual
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            published_at TEXT,
            PRIMARY KEY (id, rev)
        );
        CREATE INDEX ix_cases_state ON cases(state, year);

        CREATE TRIGGER cases_published_frozen BEFORE UPDATE ON cases
        WHEN OLD.state = 'published'
        BEGIN SELECT RAISE(ABORT, 'published case revision is frozen'); END;

        CREATE TRIGGER cases_published_kept BEFORE DELETE ON cases
        WHEN OLD.state = 'published'
        BEGIN SELECT RAISE(ABORT, 'published case revision is frozen'); END;

        CREATE TABLE case_events (
            id INTEGER PRIMARY KEY,
            case_id TEXT NOT NULL,
            rev INTEGER NOT NULL,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            role TEXT NOT NULL,
            action TEXT NOT NULL,
            from_state TEXT,
            to_state TEXT,
            note TEXT NOT NULL DEFAULT '',
            changes TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX ix_case_events_case ON case_events(case_id, id);

        CREATE TRIGGER case_events_append_only BEFORE UPDATE ON case_events
        BEGIN SELECT RAISE(ABORT, 'audit history is append-only'); END;

        CREATE TABLE case_flags (
            id INTEGER PRIMARY KEY,
            case_id TEXT NOT NULL,
            rev INTEGER NOT NULL,
            field TEXT NOT NULL,
            kind TEXT NOT NULL,                -- person | id_number | phone | company
            text TEXT NOT NULL,
            suggestion TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open',   -- open | resolved | waived
            decided_by TEXT NOT NULL DEFAULT '',
            decided_at TEXT,
            note TEXT NOT NULL DEFAULT '',
            UNIQUE (case_id, rev, field, text)
        );

        -- Links survive removal of the item (sample data) because url and title are copied.
        CREATE TABLE case_items (
            case_id TEXT NOT NULL,
            item_id INTEGER,
            url TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL DEFAULT '',
            linked_at TEXT NOT NULL,
            PRIMARY KEY (case_id, url)
        );
        CREATE INDEX ix_case_items_item ON case_items(item_id);

        CREATE TABLE case_releases (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            preface TEXT NOT NULL DEFAULT '',
            issuer TEXT NOT NULL DEFAULT '',
            issued_on TEXT NOT NULL DEFAULT '',
            draft INTEGER NOT NULL,
            cases TEXT NOT NULL,               -- [[id, rev], ...] in release order
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL DEFAULT ''
        );
    """),
    ("0004_search_views", """
        -- Full-text index over jieba tokens (monitor.search.index_text); rowid = items.id.
        -- The store fills it on add/update; deleting an item (sample removal) removes its row here.
        CREATE VIRTUAL TABLE items_fts USING fts5(tokens, tokenize = 'unicode61 remove_diacritics 0');
        CREATE TRIGGER items_fts_delete AFTER DELETE ON items
        BEGIN DELETE FROM items_fts WHERE rowid = OLD.id; END;

        -- Saved filter sets of the item list (信息流), by name.
        CREATE TABLE saved_views (
            name TEXT PRIMARY KEY,
            filter TEXT NOT NULL,              -- JSON of monitor.queries.ItemFilter fields
            created_by TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        -- 标记重要 / 已读, per item and actor.
        CREATE TABLE item_marks (
            item_id INTEGER NOT NULL,
            mark TEXT NOT NULL,                -- important | read
            actor TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (item_id, mark, actor)
        );
        CREATE TRIGGER item_marks_delete AFTER DELETE ON items
        BEGIN DELETE FROM item_marks WHERE item_id = OLD.id; END;
    """),
    ("0005_stories", """
        -- A story is a report and its reposts; story_id is the id of its first stored item.
        ALTER TABLE items ADD COLUMN story_id INTEGER;
        UPDATE items SET story_id = id;
        CREATE INDEX ix_items_story ON items(story_id, published_at);

        -- LSH band keys (monitor.dedup) of each story's first item.
        CREATE TABLE dup_bands (
            key INTEGER NOT NULL,
            item_id INTEGER NOT NULL,
            PRIMARY KEY (key, item_id)
        ) WITHOUT ROWID;
        CREATE INDEX ix_dup_bands_item ON dup_bands(item_id);
    """),
    ("0006_handling", """
        -- 负面处置: the current state of each handled story (story_id = items.story_id).
        -- A negative story without a row here is 待研判 (pending).
        CREATE TABLE handling (
            story_id INTEGER PRIMARY KEY,
            state TEXT NOT NULL,               -- pending | assigned | responded | closed | dismissed
            unit TEXT NOT NULL DEFAULT '',     -- responsible 处室 or city
            due_at TEXT,
            note TEXT NOT NULL DEFAULT '',
            link TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL DEFAULT '',
            assigned_at TEXT,
            responded_at TEXT,
            closed_at TEXT
        );
        CREATE INDEX ix_handling_state ON handling(state, due_at);

        CREATE TABLE handling_events (
            id INTEGER PRIMARY KEY,
            story_id INTEGER NOT NULL,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            from_state TEXT NOT NULL,
            to_state TEXT NOT NULL,
            unit TEXT NOT NULL DEFAULT '',
            due_at TEXT,
            note TEXT NOT NULL DEFAULT '',
            link TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX ix_handling_events_story ON handling_events(story_id, id);
        CREATE TRIGGER handling_events_append_only
        BEFORE UPDATE OF at, actor, action, from_state, to_state, unit, due_at, note, link, reason
        ON handling_events
        BEGIN SELECT RAISE(ABORT, 'handling history is append-only'); END;
        CREATE TRIGGER handling_events_kept BEFORE DELETE ON handling_events
        BEGIN SELECT RAISE(ABORT, 'handling history is append-only'); END;

        -- When a story's first item is deleted (sample removal), the story, its band keys
        -- and its handling move to the next item that remains, so nothing handled is lost.
        CREATE TRIGGER items_story_delete AFTER DELETE ON items
        WHEN OLD.story_id = OLD.id
        BEGIN
            DELETE FROM dup_bands WHERE item_id = OLD.id;
            UPDATE handling SET story_id = (SELECT min(id) FROM items WHERE story_id = OLD.id)
            WHERE story_id = OLD.id AND EXISTS (SELECT 1 FROM items WHERE story_id = OLD.id);
            UPDATE handling_events SET story_id = (SELECT min(id) FROM items WHERE story_id = OLD.id)
            WHERE story_id = OLD.id AND EXISTS (SELECT 1 FROM items WHERE story_id = OLD.id);
            UPDATE items SET story_id = (SELECT min(id) FROM items WHERE story_id = OLD.id)
            WHERE story_id = OLD.id;
        END;
    """),
    ("0007_item_schemes", """
        -- JSON list of the monitoring schemes (监测方案) an item matched when collected.
        ALTER TABLE items ADD COLUMN schemes TEXT NOT NULL DEFAULT '[]';
    """),
    ("0008_dashboard_indexes", """
        -- The overview's aggregates over a time window read only this index (covering), not the
        -- table: measured in docs/benchmarks.md.
        CREATE INDEX ix_items_overview ON items(published_at, negative, polarity, source, platform, ip_type,
                                                channel, province, city, story_id);
        -- The sample notice counts sample items on every page.
        CREATE INDEX ix_items_sample ON items(is_sample);
    """),
    ("0009_filter_indexes", """
        -- Filter-bar options are read by loose index scans (one seek per distinct value), and the
        -- handling summary finds negative items by when they were collected.
        CREATE INDEX ix_items_platform ON items(platform);
        CREATE INDEX ix_items_ip_type ON items(ip_type);
        CREATE INDEX ix_items_region ON items(province, region);
        CREATE INDEX ix_items_schemes ON items(schemes);
        CREATE INDEX ix_items_negative_fetched ON items(negative, fetched_at, story_id);
        CREATE INDEX ix_items_story_fetched ON items(story_id, fetched_at);
    """),
    ("0010_briefings", """
        -- Issued briefings (舆情周报/日报/专期): 期号 numbered per kind and year. Issuing the same
        -- period again keeps its number and stores the latest edited texts.
        CREATE TABLE briefings (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,                -- weekly | range | daily
            year INTEGER NOT NULL,
            number INTEGER NOT NULL,
            period_start TEXT NOT NULL,        -- Beijing calendar days, inclusive
            period_end TEXT NOT NULL,
            unit TEXT NOT NULL DEFAULT '',
            edits TEXT NOT NULL DEFAULT '{}',  -- {"summary": ..., "assessment": ..., "outlook": ...}
            created_at TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            UNIQUE (kind, year, number),
            UNIQUE (kind, period_start, period_end)
        );
    """),
    ("0011_collect_requests", """
        -- 立即采集: the dashboard inserts a request; the collector process (run --every) claims
        -- it, runs one pass over every enabled source and records its progress here.
        CREATE TABLE collect_requests (
            id INTEGER PRIMARY KEY,
            requested_by TEXT NOT NULL,
            requested_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',   -- pending | running | done | failed
            started_at TEXT,
            finished_at TEXT,
            total INTEGER NOT NULL DEFAULT 0,         -- sources in the pass
            done INTEGER NOT NULL DEFAULT 0,          -- sources finished so far
            new INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,        -- sources that ended in error
            message TEXT
        );
        CREATE INDEX ix_collect_requests_status ON collect_requests(status, id);
    """),
    ("0020_alerts", """
        -- Rules are edited on the 预警 page; params and delivery are JSON validated by monitor.alerts.
        CREATE TABLE alert_rules (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,                -- negative_source | spike | watchword | source_silent
            params TEXT NOT NULL DEFAULT '{}',
            delivery TEXT NOT NULL DEFAULT '{}',
            enabled INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL DEFAULT ''
        );

        -- One row per alert; rule name and item titles are copied so history survives
        -- a deleted rule or removed (sample) items.
        CREATE TABLE alert_firings (
            id INTEGER PRIMARY KEY,
            rule_id INTEGER NOT NULL,
            rule_name TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,             -- what the alert is about: story:12, source:某网, item:5
            fired_at TEXT NOT NULL,
            title TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            acknowledged_at TEXT,
            acknowledged_by TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX ix_alert_firings_subject ON alert_firings(rule_id, subject, fired_at);
        CREATE INDEX ix_alert_firings_time ON alert_firings(fired_at);

        CREATE TABLE alert_firing_items (
            firing_id INTEGER NOT NULL REFERENCES alert_firings(id) ON DELETE CASCADE,
            item_id INTEGER NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            url TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (firing_id, item_id)
        );

        -- One row per firing and channel (firing_id NULL: a test send). Failed sends stay
        -- 'queued' with a later due_at (backoff) until they succeed or run out of attempts.
        CREATE TABLE alert_deliveries (
            id INTEGER PRIMARY KEY,
            firing_id INTEGER REFERENCES alert_firings(id) ON DELETE CASCADE,
            channel TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'queued',   -- queued | sending (claimed) | sent | failed
            due_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            last_attempt_at TEXT,
            sent_at TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_alert_deliveries_due ON alert_deliveries(status, due_at);
        CREATE INDEX ix_alert_deliveries_firing ON alert_deliveries(firing_id);

        -- Rules look at what the last pass collected: keep that a range scan on large databases.
        CREATE INDEX IF NOT EXISTS ix_items_fetched ON items(fetched_at);
    """),
    ("0021_users", """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            display_name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL CHECK (role IN ('viewer', 'handler', 'editor', 'admin')),
            password_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            last_login_at TEXT
        );

        -- Every login try, kept for rate limiting and for the audit trail of sign-ins.
        CREATE TABLE login_attempts (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL COLLATE NOCASE,
            at TEXT NOT NULL,
            ok INTEGER NOT NULL
        );
        CREATE INDEX ix_login_attempts_user ON login_attempts(username, at);

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            role TEXT NOT NULL DEFAULT '',
            action TEXT NOT NULL,
            target TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX ix_audit_log_at ON audit_log(at);
        CREATE INDEX ix_audit_log_actor ON audit_log(actor, at);

        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;

        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    """),
    ("0022_dup_bands_10x3", """
        -- Story look-up keys move from MinHash 8 bands x 4 rows to 10 x 3 (monitor/dedup.py). Keys of the
        -- old layout never equal new ones, so they go; SQL cannot compute MinHash, so the first reports
        -- are re-banded in Python (story_store.rebuild_bands): on the next writable open when the
        -- database is small, otherwise by `python -m monitor rebuild-bands`. Until then a new item
        -- starts its own story.
        DELETE FROM dup_bands;
        CREATE TABLE pending_rebuilds (what TEXT PRIMARY KEY);
        INSERT INTO pending_rebuilds (what) VALUES ('dup_bands');
    """),
    ("0023_suspect_index", """
        -- 疑似负面 counts on the live overview (not flagged, p_negative >= sentiment.judgement.REVIEW_P):
        -- a partial index keeps them off a scan of every row of the period. SQLite uses it only when the
        -- query repeats the condition literally (queries._suspect writes REVIEW_P into its SQL).
        CREATE INDEX ix_items_suspect ON items(published_at) WHERE negative = 0 AND p_negative >= 0.3;
    """),
    ("0024_sign_ins", """
        -- A login that survives reloading the page: the browser keeps a random token in a cookie, the
        -- server keeps only its SHA-256 (monitor/users.py). Signing out, a password change or disabling
        -- the account deletes the rows, so a copied cookie dies with them.
        CREATE TABLE sign_ins (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            started_at TEXT NOT NULL,
            last_seen TEXT NOT NULL
        );
        CREATE INDEX ix_sign_ins_user ON sign_ins(user_id);
    """),
    ("0025_feed_state_url", """
        -- ETag/Last-Modified belong to the address they came from: after a source's URL is changed, the
        -- old validators sent to the new address could get a 304 and hide the new feed. Rows from before
        -- this step have no address ('') and are not used: one full fetch per source after the upgrade.
        ALTER TABLE feed_state ADD COLUMN url TEXT NOT NULL DEFAULT '';
    """),
    ("0026_feed_state_not_before", """
        -- A server that answers 429/503 with a long Retry-After is not asked again before this time
        -- (UTC ISO); the collector skips the source until then and the 信息源 page shows it.
        ALTER TABLE feed_state ADD COLUMN not_before TEXT;
    """),
]
