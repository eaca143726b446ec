"""Exports as jobs: the request, the manager and the panel the dock embeds.

::

    manager = JobManager(iface)
    panel = JobsPanel(manager)
    job_id = manager.start_export(ExportRequest(service_url=..., authcfg="", area_wkt=..., area_is_rectangle=False,
                                                levels=(0, 1, 2), fmt=None, output_path="/data/basemap.vtpk"))

The pieces live in :mod:`.jobs_model` (``ExportRequest``, ``JobView``, ``JobState``, ``JobManager``) and
:mod:`.jobs_panel` (``JobsPanel``); the tasks in :mod:`..tasks`.
"""
from __future__ import annotations

from ..tasks.estimate_task import EstimateTask
from ..tasks.export_task import ExportRequest
from ..tasks.service_task import ServiceTask, fetch_service_task
from .jobs_model import JobManager, JobState, JobView
from .jobs_panel import JobCard, JobsPanel

__all__ = [
    "EstimateTask",
    "ExportRequest",
    "JobCard",
    "JobManager",
    "JobState",
    "JobView",
    "JobsPanel",
    "ServiceTask",
    "fetch_service_task",
]
