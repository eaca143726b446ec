"""Where an export writes: the default folder, a name no other export takes, a Retry or a Resume into
another folder, and the check of the folder before the server is asked for work."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from ..core import names
from ..core.errors import ArcGISOfflineTilesError, OutputFolderError, OutputFolderMissingError
from ..core.output import check_output_folder, output_folder
from ..core.request import ExportRequest
from ..core.tilecache import TILE_CACHE
from ..qgis_glue import settings
from ..qgis_glue.i18n import error_message, translator

log = logging.getLogger(__name__)

tr = translator("ExportDestination")  # module strings: pylupdate files them under @default


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


def folder_problem(request: ExportRequest, *, resuming: bool = False) -> str:
    """What is wrong with the folder ``request`` writes into, for the user ("" when it can take it);
    ``resuming``: said of an export that stopped there, which can move to another folder."""
    folder = target_folder(request)
    try:
        check_output_folder(folder)
    except OutputFolderMissingError as exc:
        if not resuming:
            return error_message(exc)
        return tr("The folder {folder} no longer exists. Choose another folder to resume the export in: it "
                  "continues there.").format(folder=folder)
    except OutputFolderError as exc:
        if not resuming:
            return error_message(exc)
        reason = exc.params.get("reason") or exc.details
        return tr("The export cannot continue in {folder} ({reason}). Choose another folder to resume it in: "
                  "what it has downloaded moves there.").format(folder=folder, reason=reason)
    except ArcGISOfflineTilesError as exc:
        return error_message(exc)
    return ""


def relocation_problem(request: ExportRequest, folder: str) -> str:
    """Why a stopped export cannot resume in ``folder`` ("" when it can): the folder's check, or a file
    of the export's name already there (a move never overwrites)."""
    moved = moved_to(request, folder)
    problem = folder_problem(moved)
    if problem:
        return problem
    target = Path(moved.output_path)
    if target != target_folder(moved) and target != Path(request.output_path) and target.exists():
        return tr("{name} already exists in {folder}. Choose another folder, or move that file away first.").format(
            name=target.name, folder=target_folder(moved))
    return ""


def target_folder(request: ExportRequest) -> Path:
    """The folder that must exist and take the export: a tile cache's parent (the export makes the
    cache's folder), else the package's folder."""
    if request.output_kind == TILE_CACHE and request.output_path:
        return Path(request.output_path).parent
    return output_folder(request.output_path or str(Path.home()))
