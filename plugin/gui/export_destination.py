"""Where an export writes: the default folder, a name no other export takes, a Retry into another
folder, and the check of the folder before the server is asked for work."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from ..core import names
from ..core.errors import ArcGISOfflineTilesError
from ..core.output import check_output_folder, output_folder
from ..core.tilecache import TILE_CACHE
from ..qgis_glue import settings
from ..qgis_glue.i18n import error_message
from ..tasks.export_task import ExportRequest

log = logging.getLogger(__name__)


def resolved(request: ExportRequest, busy_outputs: Iterable[str]) -> ExportRequest:
    """``request`` with a destination: the chosen folder when none is given, and never an earlier
    export's file or one a running export (``busy_outputs``) writes: "name (2).tpkx", …"""
    if not request.output_path:
        folder = settings.output_folder() or str(Path.home())
        return replace(request, output_path=folder)
    target = Path(request.output_path)
    if target.is_dir() or not target.suffix:
        return request
    busy = {Path(path).with_suffix("") for path in busy_outputs if path}
    candidate = names.free_output_path(target, busy)
    if candidate != target:
        log.info("%s exists or is being written: exporting to %s", target.name, candidate.name)
    return replace(request, output_path=str(candidate))


def moved_to(request: ExportRequest, folder: str) -> ExportRequest:
    """``request`` writing into ``folder`` under the same file name (or into it, for a folder output)."""
    current = Path(request.output_path) if request.output_path else None
    if current is not None and request.output_kind == TILE_CACHE:  # the cache's own folder goes there
        return replace(request, output_path=str(Path(folder) / current.name))
    if current is None or current.is_dir() or not current.suffix:
        return replace(request, output_path=str(folder))
    return replace(request, output_path=str(Path(folder) / current.name))


def folder_problem(request: ExportRequest) -> str:
    """What is wrong with the folder ``request`` writes into, for the user ("" when it can take it)."""
    try:
        check_output_folder(target_folder(request))
    except ArcGISOfflineTilesError as exc:
        return error_message(exc)
    return ""


def target_folder(request: ExportRequest) -> Path:
    """The folder that must exist and take the export: a tile cache's parent (the export makes the
    cache's folder), else the package's folder."""
    if request.output_kind == TILE_CACHE and request.output_path:
        return Path(request.output_path).parent
    return output_folder(request.output_path or str(Path.home()))
