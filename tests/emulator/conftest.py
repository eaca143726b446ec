"""Fixtures for the emulator's own tests.

``emulator`` is one shared :class:`arcgis_emulator.emulator.Emulator` per session serving the sample
services of :mod:`arcgis_emulator.samples`, reset (configuration, faults, request log, jobs, tokens)
before and after every test.
"""
from __future__ import annotations

import pytest

from arcgis_emulator.emulator import Emulator
from arcgis_emulator.samples import load_sample_services


@pytest.fixture(scope="session")
def _emulator_session(tmp_path_factory):
    emu = Emulator(work_dir=tmp_path_factory.mktemp("emulator-work"), samples=load_sample_services())
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def emulator(_emulator_session):
    _emulator_session.reset()
    yield _emulator_session
    _emulator_session.reset()
