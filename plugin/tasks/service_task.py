"""Read a service's ``?f=json`` in the background, so the dock never waits on the network.

::

    task = fetch_service_task(url, authcfg, on_result=dock.show_service, on_error=dock.show_error, keeper=keeper)
    task.cancel()                                   # e.g. when the user types another URL

``on_result(ServiceInfo)`` / ``on_error(message)`` run on the main thread; a cancelled task calls
neither.  The same is available as the ``serviceReady(object)`` / ``serviceFailed(str)`` signals.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Callable

from qgis.PyQt.QtCore import pyqtSignal

from ..core.errors import CancelledError, redact
from ..core.http import CancelToken
from ..qgis_glue.engine import EngineConfig, create_exporter, engine_config
from ..qgis_glue.i18n import error_message, translator
from .base import PluginTask, TaskKeeper

log = logging.getLogger(__name__)



tr = translator("ServiceTask")  # module strings: pylupdate files them under @default

# Connect is interactive: the user waits for the answer and may be typing the next address.  One quick
# retry rides over a blip; the export's patient policy (4 retries, up to 15 s of back-off) would keep a
# refused port on "Connecting…" for more than 10 s.
INTERACTIVE_RETRIES = 1
INTERACTIVE_BACKOFF_S = 0.5
INTERACTIVE_CONNECT_TIMEOUT_S = 10.0


class ServerTask(PluginTask):
    """A short question to a server that the dock waits for (Connect, the size estimate).  ``cancel()``
    also stops the request under way (``token``); a cancelled task says nothing, any other failure
    leaves its user message in ``message`` and goes to :meth:`failed` (which emits the subclass's signal)."""

    def __init__(self, description: str, config: EngineConfig) -> None:
        super().__init__(description)
        self.config = config
        self.token = CancelToken()
        self.message = ""

    def cancel(self) -> None:
        self.token.cancel()
        super().cancel()

    def on_failure(self, error: BaseException) -> None:
        if isinstance(error, CancelledError) or self.token.cancelled:
            return
        self.message = error_message(error)
        self.failed(self.message)

    def failed(self, message: str) -> None:
        """Main thread: the user message of a failure that was not a cancel."""


class ServiceTask(ServerTask):
    """Fetches and parses a service description (``ServiceInfo``) with the engine's session.

    ``use_export_twin``: when the service does not allow export, Esri's export-enabled copy is read
    instead (ArcGIS Online basemaps).
    """

    serviceReady = pyqtSignal(object)  # ServiceInfo
    serviceFailed = pyqtSignal(str)  # the user message

    def __init__(self, url: str, config: EngineConfig, *, use_export_twin: bool = False) -> None:
        super().__init__(tr("Reading the service {url}").format(url=redact(url)), config)
        self.url = url
        self.use_export_twin = use_export_twin
        self.service: Any = None

    def work(self) -> Any:
        exporter = create_exporter(self.config)
        return exporter.fetch(self.url, cancel=self.token, use_export_twin=self.use_export_twin)

    def on_success(self, result: Any) -> None:
        self.service = result
        self.serviceReady.emit(result)

    def failed(self, message: str) -> None:
        self.serviceFailed.emit(message)


def fetch_service_task(url: str, authcfg: str = "", *, on_result: Callable[[Any], None] | None = None,
                       on_error: Callable[[str], None] | None = None, use_export_twin: bool = False,
                       keeper: TaskKeeper) -> ServiceTask:
    """A :class:`ServiceTask` for ``url`` (settings and credentials read now, on the main thread), started
    by ``keeper`` on its own threads."""
    config = engine_config(authcfg, with_store=False)
    http = replace(config.http, retries=INTERACTIVE_RETRIES, backoff=INTERACTIVE_BACKOFF_S,
                   connect_timeout=min(config.http.connect_timeout, INTERACTIVE_CONNECT_TIMEOUT_S))
    task = ServiceTask(url, replace(config, http=http), use_export_twin=use_export_twin)
    keeper.start_interactive(task, serviceReady=on_result, serviceFailed=on_error)
    return task
