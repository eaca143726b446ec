"""The base task and OpenPackageTask in QGIS' real task manager: layers arrive, errors are told."""
from __future__ import annotations

import logging
import shutil
import threading

import pytest
from qgis.core import Qgis, QgsProject, QgsRasterLayer, QgsVectorTileLayer

from plugin.core.errors import CancelledError, PackageError
from plugin.qgis_glue.i18n import error_message
from plugin.qgis_glue.layers import human_size
from plugin.tasks import open_package as open_package_module
from plugin.tasks.base import PluginTask, TaskKeeper
from plugin.tasks.open_package import OpenPackageTask
from tests.conftest import require_shared

WAIT_MS = 30000


def _package(name: str):
    return require_shared() / "packages" / name


@pytest.fixture
def bar(qgis_iface):
    message_bar = qgis_iface.messageBar()
    message_bar.clear_messages()
    yield message_bar
    message_bar.clear_messages()


def _run(qtbot, task: PluginTask, keeper: TaskKeeper | None = None) -> list[bool]:
    keeper = keeper or TaskKeeper()
    outcome: list[bool] = []
    task.done.connect(outcome.append)
    with qtbot.waitSignal(task.done, timeout=WAIT_MS):
        keeper.start(task)
    return outcome


# -- OpenPackageTask -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["tpkutils_states_filled.tpk", "esri_runtime_android_dodge_city.vtpk"])
def test_open_package_task_adds_the_layer_and_says_so(name, tmp_path, qtbot, bar, qgis_new_project):
    task = OpenPackageTask(_package(name), cache_dir=tmp_path, message_bar=bar)
    assert _run(qtbot, task) == [True]

    layers = list(QgsProject.instance().mapLayers().values())
    assert len(layers) == 1 and layers[0].id() == task.layer.id()
    layer = layers[0]
    assert layer.isValid()
    assert isinstance(layer, QgsVectorTileLayer if name.endswith(".vtpk") else QgsRasterLayer)
    (note,) = bar.get_messages(Qgis.MessageLevel.Success)
    assert name in note and human_size(_package(name).stat().st_size) in note and layer.name() in note
    assert bar.get_messages(Qgis.MessageLevel.Warning) == []


def test_a_broken_package_is_reported_in_the_message_bar_and_adds_nothing(tmp_path, qtbot, bar, caplog,
                                                                           qgis_new_project):
    fake = tmp_path / "holiday.tpk"
    fake.write_text("not a package\n")
    task = OpenPackageTask(fake, cache_dir=tmp_path, message_bar=bar)
    with caplog.at_level(logging.WARNING):
        assert _run(qtbot, task) == [False]
    assert QgsProject.instance().mapLayers() == {}
    (note,) = bar.get_messages(Qgis.MessageLevel.Warning)
    assert "holiday.tpk" in note and "cannot be read" in note and "Details in the log." in note
    assert isinstance(task.error, PackageError)
    known = [r for r in caplog.records if "holiday.tpk" in r.getMessage()]
    assert known and all(r.exc_info is None for r in known)  # a known error is no bug: no traceback


def test_a_cancelled_open_adds_nothing_and_says_cancelled(tmp_path, qtbot, bar, monkeypatch, qgis_new_project):
    started = threading.Event()

    def slow_prepare(path, cache_dir=None, progress=None, cancel=None, native=None):
        started.set()
        for i in range(100000):
            progress(i / 100000, "working")  # raises CancelledError once the task is cancelled
            threading.Event().wait(0.001)
        raise AssertionError("never cancelled")

    monkeypatch.setattr(open_package_module, "prepare_layer_source", slow_prepare)
    task = OpenPackageTask(_package("geotools_sample_v1.tpk"), cache_dir=tmp_path, message_bar=bar)
    outcome: list[bool] = []
    task.done.connect(outcome.append)
    keeper = TaskKeeper()
    with qtbot.waitSignal(task.done, timeout=WAIT_MS):
        keeper.start(task)
        assert started.wait(10)
        keeper.cancel_all()
    assert outcome == [False]
    assert isinstance(task.error, CancelledError)
    assert QgsProject.instance().mapLayers() == {}
    (note,) = bar.get_messages(Qgis.MessageLevel.Info)
    assert "cancelled" in note and "geotools_sample_v1.tpk" in note
    assert keeper.running == []


def test_opening_into_a_given_project(tmp_path, qtbot, bar, qgis_new_project):
    project = QgsProject()
    package = tmp_path / "copy.tpk"
    shutil.copy(_package("tpkutils_alt_root_name.tpk"), package)
    task = OpenPackageTask(package, cache_dir=tmp_path, project=project, message_bar=bar)
    assert _run(qtbot, task) == [True]
    assert list(project.mapLayers()) == [task.layer.id()]
    assert QgsProject.instance().mapLayers() == {}


def test_sizes_read_like_a_file_manager():
    assert [human_size(n) for n in (0, 1023, 832354, 3256548, 5 * 1024 ** 3)] == [
        "0 bytes", "1023 bytes", "812.8 KB", "3.1 MB", "5.0 GB"]


# -- the base task ---------------------------------------------------------------------------------
class _RecordingTask(PluginTask):
    def __init__(self, work) -> None:
        super().__init__("recording")
        self._work = work
        self.successes: list = []
        self.failures: list = []

    def work(self):
        return self._work(self)

    def on_success(self, result) -> None:
        self.successes.append(result)

    def on_failure(self, error) -> None:
        self.failures.append(error)


def test_base_task_reports_progress_and_status_then_hands_over_the_result(qtbot):
    def work(task):
        for i in range(4):
            task.report(i / 4, f"step {i}")
        return {"answer": 42}

    task = _RecordingTask(work)
    statuses: list[str] = []
    task.statusMessage.connect(statuses.append)
    assert _run(qtbot, task) == [True]
    assert task.successes == [{"answer": 42}] and task.failures == []
    qtbot.waitUntil(lambda: statuses == ["step 0", "step 1", "step 2", "step 3"], timeout=WAIT_MS)


def test_base_task_logs_an_unexpected_error_as_a_bug_with_its_traceback(qtbot, caplog):
    def work(_task):
        raise ZeroDivisionError("boom")

    task = _RecordingTask(work)
    with caplog.at_level(logging.ERROR):
        assert _run(qtbot, task) == [False]
    (error,) = task.failures
    assert isinstance(error, ZeroDivisionError)
    bug = [r for r in caplog.records if "bug" in r.getMessage()]
    assert bug and bug[0].exc_info is not None and "ZeroDivisionError" in caplog.text
    assert "unexpected error" in error_message(error).lower()


def test_base_task_passes_a_known_error_to_on_failure_without_a_traceback(qtbot, caplog):
    def work(_task):
        raise PackageError(path="x.tpk", reason="it is damaged")

    task = _RecordingTask(work)
    with caplog.at_level(logging.WARNING):
        assert _run(qtbot, task) == [False]
    (error,) = task.failures
    assert error_message(error) == ("The tile package x.tpk cannot be read: it is damaged. Export or download it "
                                    "again, or choose another package.")
    assert all(record.exc_info is None for record in caplog.records)


def test_an_error_in_on_success_is_reported_through_on_failure(qtbot):
    class Task(_RecordingTask):
        def on_success(self, result) -> None:
            raise PackageError(path="late.tpk", reason="QGIS refused it")

    task = Task(lambda _t: "ok")
    assert _run(qtbot, task) == [False]
    assert isinstance(task.failures[0], PackageError)


def test_keeper_holds_tasks_until_they_are_done(qtbot):
    gate = threading.Event()
    keeper = TaskKeeper()
    task = _RecordingTask(lambda _t: gate.wait(10))
    with qtbot.waitSignal(task.done, timeout=WAIT_MS):
        keeper.start(task)
        assert keeper.running == [task]
        gate.set()
    assert keeper.running == []
