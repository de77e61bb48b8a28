"""Shared fixtures: a fresh store, a fixed judge, paths to recorded fixtures.

Area-specific fixtures live in the test modules that need them.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from monitor.store import Store
from sentiment.judgement import Judgement

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"


class FixedJudge:
    """Judges by one keyword so store/collector tests do not depend on the model."""

    def judge(self, title: str, text: str) -> Judgement:
        neg = "维权难" in (title + text)
        return Judgement(negative=neg, p_negative=0.9 if neg else 0.1,
                         polarity="negative" if neg else "neutral", reasons=("维权难",) if neg else ())

    def judge_many(self, pairs):
        return [self.judge(t, x) for t, x in pairs]


@pytest.fixture
def fixed_judge() -> FixedJudge:
    return FixedJudge()


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "opinion.db"


@pytest.fixture
def fresh_store(db_path):
    store = Store(db_path)
    yield store
    store.close()


@pytest.fixture
def frozen_now() -> datetime:
    return datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


def shared_path(*parts: str) -> Path:
    """A file in ../shared, or skip: a user's fresh clone has no ../shared."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is not beside this checkout (only CI and developers have it)")
    return p


ACCOUNT_PASSWORD = "office pass 1"


def role_accounts(store: Store, password: str = ACCOUNT_PASSWORD) -> dict:
    """One account per role ("viewer1", "handler1", …) for role tests; returns {role: User}."""
    from monitor import users
    now = datetime.now(timezone.utc)
    return {role: users.add_user(store, f"{role}1", password, role, actor="cli:test", now=now)
            for role in users.ROLES}
