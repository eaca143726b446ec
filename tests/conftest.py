"""Shared test configuration: paths, the ../shared fixtures, headless Qt."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AOT_SHARED_DIR", REPO.parent / "shared"))
REAL_FIXTURES = SHARED / "fixtures" / "real"


def require_shared() -> Path:
    """Return ``../shared/fixtures/real`` or skip the calling test with a clear reason."""
    if not REAL_FIXTURES.is_dir():
        pytest.skip(f"../shared is absent ({REAL_FIXTURES} not found): real-fixture tests need it")
    return REAL_FIXTURES


@pytest.fixture
def real_fixtures() -> Path:
    return require_shared()
