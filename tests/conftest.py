"""Shared test configuration: paths, the ../shared fixtures, headless Qt."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Property tests: no per-example deadline (the machine may be busy); in CI the same examples every
# run, so a red CI is reproducible and never a roll of the dice.
settings.register_profile("default", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

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


@pytest.fixture(scope="session")
def _shared_emulator(tmp_path_factory):
    from arcgis_emulator.emulator import Emulator
    from arcgis_emulator.samples import load_sample_services

    # The samples are rendered by QGIS once into a cache (about 30 s the first time), reused after.
    emu = Emulator(work_dir=tmp_path_factory.mktemp("emulator"), samples=load_sample_services())
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def emulator(_shared_emulator):
    """The local ArcGIS Server emulator, reset (configuration, faults, request log, jobs, tokens) around
    every test."""
    _shared_emulator.reset()
    yield _shared_emulator
    _shared_emulator.reset()
