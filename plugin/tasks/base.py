"""The one base ``QgsTask`` of the plugin, and a keeper that holds every running task.

::

    class MyTask(PluginTask):
        def work(self):                       # worker thread: no widgets, no project
            for i, item in enumerate(items):
                self.report(i / len(items), f"item {i}")   # progress + cancel check
            return result

        def on_success(self, result): ...     # main thread: add layers, message bar
        def on_failure(self, error): ...      # main thread: error.user_message

A known error (:class:`ArcGISOfflineTilesError`) reaches ``on_failure`` as it is; anything else is a
bug: it is logged with its traceback and reaches ``on_failure`` too.  Inputs are immutable values
given to ``__init__``.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from qgis.core import QgsApplication, QgsSettings, QgsTask
from qgis.PyQt.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal

from ..core.errors import QT_TRANSLATE_NOOP, ArcGISOfflineTilesError, CancelledError

log = logging.getLogger(__name__)

TASK_CANCELLED = QT_TRANSLATE_NOOP("errors", "The task was cancelled.")


def hidden_flags() -> QgsTask.Flags:
    """Flags of a short helper task the user need not see: kept out of QGIS's task list (QGIS 3.26+)."""
    flags = QgsTask.Flag.CanCancel
    hidden = getattr(QgsTask.Flag, "Hidden", None)
    return flags | hidden if hidden is not None else flags


# QgisApp::onTaskCompleteShowNotify: QGIS's own system notification ("Task complete" / "Task failed" with the
# task's description) for a task of its task manager that ran at least this many seconds (an app setting).
SYSTEM_NOTIFICATION_KEY = "minTaskLengthForSystemNotification"
SYSTEM_NOTIFICATION_DEFAULT_S = 5
QGIS_DESKTOP = "desktop"  # QgsApplication.platform() in the QGIS application (not qgis_process, not tests)


def qgis_announces_end(task: QgsTask) -> bool:
    """Whether QGIS itself announces ``task``'s end with a system notification, as QgisApp does (read in
    ``finished()``, which QGIS runs just before it decides): a task of its task manager, in the QGIS
    desktop application, that ran at least ``minTaskLengthForSystemNotification`` seconds and is neither
    Hidden (QGIS 3.26+) nor Silent (QGIS 3.34+; QGIS before those flags announces every such task).
    The user's setting is read, never changed."""
    if QgsApplication.instance() is None or QgsApplication.platform() != QGIS_DESKTOP:
        return False
    if QgsApplication.taskManager().taskId(task) < 0:
        return False
    for name in ("Hidden", "Silent"):
        flag = getattr(QgsTask.Flag, name, None)
        if flag is not None and task.flags() & flag:
            return False
    try:
        seconds = float(QgsSettings().value(SYSTEM_NOTIFICATION_KEY, SYSTEM_NOTIFICATION_DEFAULT_S,
                                            section=QgsSettings.Section.App))
    except (TypeError, ValueError):
        seconds = SYSTEM_NOTIFICATION_DEFAULT_S
    return task.elapsedTime() >= seconds * 1000


class PluginTask(QgsTask):
    """``run()`` calls :meth:`work` and keeps its result or error; ``finished()`` calls the hooks."""

    statusMessage = pyqtSignal(str)  # Qt naming
    done = pyqtSignal(bool)  # emitted at the very end of finished(), on the main thread

    def __init__(self, description: str, flags: QgsTask.Flags | QgsTask.Flag = QgsTask.Flag.CanCancel) -> None:
        super().__init__(description, flags)
        self.result: Any = None
        self.error: BaseException | None = None
        self.started = False

    # -- worker thread -------------------------------------------------------------------------
    def work(self) -> Any:
        raise NotImplementedError

    def report(self, fraction: float, message: str = "") -> None:
        """Progress (0..1) and a status line; raises :class:`CancelledError` once the task is cancelled."""
        if self.isCanceled():
            raise CancelledError(TASK_CANCELLED)
        self.setProgress(max(0.0, min(100.0, fraction * 100.0)))
        if message:
            self.statusMessage.emit(message)

    def run(self) -> bool:
        self.started = True  # QGIS's status stays Queued for a task run beside its task manager
        try:
            self.result = self.work()
        except CancelledError as exc:
            self.error = exc
            return False
        except ArcGISOfflineTilesError as exc:
            self.error = exc
            log.warning("%s: %s%s", self.description(), exc.user_message,
                        f" ({exc.details})" if exc.details else "")
            return False
        except Exception as exc:  # a bug must not take QGIS down; it is logged
            self.error = exc
            log.exception("Unexpected error in the task %r (this is a bug; please report it)", self.description())
            return False
        if self.isCanceled():
            self.error = CancelledError(TASK_CANCELLED)
            return False
        return True

    # -- main thread ---------------------------------------------------------------------------
    def finished(self, result: bool) -> None:
        try:
            if result:
                try:
                    self.on_success(self.result)
                except ArcGISOfflineTilesError as exc:
                    self.error = exc
                    log.warning("%s: %s", self.description(), exc.user_message)
                    self.on_failure(exc)
                    result = False
            else:
                if self.error is None:  # cancelled before run() started
                    self.error = CancelledError(TASK_CANCELLED)
                self.on_failure(self.error)
        except Exception as exc:  # never let one escape into the task manager
            self.error = exc
            result = False
            log.exception("Unexpected error finishing the task %r (this is a bug; please report it)",
                          self.description())
        self.done.emit(result)

    def on_success(self, result: Any) -> None:
        """Main thread, after a successful :meth:`work`: the only place to add layers."""

    def on_failure(self, error: BaseException) -> None:
        """Main thread, after an error or a cancel: the only place to tell the user."""


# Short work the user waits for (Connect, the background counts, split plans, the size estimate) runs
# beside QGIS's task manager: its thread pool has as many threads as the machine has cores, and two
# exports polling their server jobs on a two-core machine hold both for as long as they run, so a
# Connect queued behind them waited minutes.  The same PluginTask runs on a small pool of the plugin's
# own (run() in a worker thread, finished() on the main thread), out of QGIS's task list, which suits
# work that ends in seconds.
INTERACTIVE_THREADS = 2


class _Relay(QObject):
    """Lives in the main thread: a worker's ``ran`` is queued to it, so finished() runs there."""

    ran = pyqtSignal(object, bool)


class _Runnable(QRunnable):
    def __init__(self, task: PluginTask, relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the keeper drops it once finished() has run
        self.task = task
        self.relay = relay

    def run(self) -> None:
        ok = False
        try:
            ok = bool(self.task.run())
        except Exception:  # PluginTask.run catches everything; this is only a last guard
            log.exception("Unexpected error in the task %r (this is a bug; please report it)",
                          self.task.description())
        self.relay.ran.emit(self.task, ok)


class TaskKeeper:
    """Starts tasks in QGIS' task manager and holds a reference until each one has finished
    (a Python task object collected while running crashes QGIS).

    The plugin owns one keeper and passes it to the dock, the exports manager and every task starter;
    its unload cancels what is still running through it.  ``start(task, interactive=True)`` runs a short
    task the user waits for on the keeper's own threads instead (see :data:`INTERACTIVE_THREADS`)."""

    _pool: QThreadPool | None = None

    def __init__(self) -> None:
        self._tasks: list[PluginTask] = []
        self._runnables: dict[int, _Runnable] = {}
        self._relay: _Relay | None = None

    def start(self, task: PluginTask, *, interactive: bool = False) -> PluginTask:
        self._tasks.append(task)
        task.done.connect(lambda _ok, t=task: self._forget(t))
        if not interactive:
            QgsApplication.taskManager().addTask(task)
            return task
        if self._relay is None:
            self._relay = _Relay()
            self._relay.ran.connect(self._ran)
        runnable = _Runnable(task, self._relay)
        self._runnables[id(task)] = runnable
        self.interactive_pool().start(runnable)
        return task

    @classmethod
    def interactive_pool(cls) -> QThreadPool:
        if cls._pool is None:
            cls._pool = QThreadPool()
            cls._pool.setMaxThreadCount(INTERACTIVE_THREADS)
        return cls._pool

    def _ran(self, task: PluginTask, ok: bool) -> None:
        self._runnables.pop(id(task), None)
        task.finished(ok)

    def _forget(self, task: PluginTask) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    @property
    def running(self) -> list[PluginTask]:
        return list(self._tasks)

    def start_interactive(self, task: PluginTask, **handlers: Callable | None) -> PluginTask:
        """Connect each signal of ``task`` named in ``handlers`` to its handler (``None`` is left out) and
        start ``task`` on the keeper's own threads: short work the user waits for is never queued behind
        exports."""
        for signal, handler in handlers.items():
            if handler is not None:
                getattr(task, signal).connect(handler)
        return self.start(task, interactive=True)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            try:
                task.cancel()
            except RuntimeError:  # already deleted by the task manager
                self._forget(task)
