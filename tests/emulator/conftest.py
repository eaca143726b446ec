"""Fixtures for the emulator's own tests.

``emulator`` is one shared :class:`arcgis_emulator.emulator.Emulator` per session, reset
(configuration, faults, request log, jobs, tokens) before every test.  It serves the real sample
services (``arcgis_emulator.samples``) when that module is importable; otherwise the small stand-in
set of ``server_helpers.stand_in_services`` (same keys, tiling schemes and a tile-existence rule).
"""
from __future__ import annotations

import pytest

from arcgis_emulator.emulator import Emulator
from tests.emulator.server_helpers import stand_in_services


def _load_services():
    try:
        from arcgis_emulator.samples import load_sample_services
    except ImportError:
        return stand_in_services(), True
    return load_sample_services(), False


@pytest.fixture(scope="session")
def _emulator_session(tmp_path_factory):
    services, stand_in = _load_services()
    emu = Emulator(work_dir=tmp_path_factory.mktemp("emulator-work"), samples=services)
    emu.stand_in = stand_in
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def emulator(_emulator_session):
    _emulator_session.reset()
    yield _emulator_session
    _emulator_session.reset()
