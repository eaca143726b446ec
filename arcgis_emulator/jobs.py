"""exportTiles / estimateExportTilesSize: parameter parsing and the asynchronous jobs.

A :class:`Job` builds its result in a background thread as soon as it is submitted.  What a client
*sees* is paced by polls: the first ``job_steps`` status requests answer a non-terminal status
(``esriJobSubmitted`` for the first when ``job_steps >= 2``, then ``esriJobExecuting`` with
``progress``); a poll only counts as a step when ``job_step_delay_s`` has passed since the
previous counted one.  After the steps the terminal status shows once the build has finished.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .faults import Fault, apply_package_faults
from .selection import (
    Extent,
    Grid,
    InvalidGeometryError,
    PolygonArea,
    UnsupportedSpatialReferenceError,
    count_tiles,
    point_converter,
    select_tiles,
    sr_code,
)
from .writers import write_cache_folder, zip_folder

log = logging.getLogger(__name__)

SUBMITTED = "esriJobSubmitted"
NEW = "esriJobNew"
EXECUTING = "esriJobExecuting"
SUCCEEDED = "esriJobSucceeded"
FAILED = "esriJobFailed"
TIMED_OUT = "esriJobTimedOut"
CANCELLING = "esriJobCancelling"
CANCELLED = "esriJobCancelled"
TERMINAL = frozenset({SUCCEEDED, FAILED, TIMED_OUT, CANCELLED})
_FORCED_OUTCOMES = {"job_fail": FAILED, "job_timeout": TIMED_OUT, "job_cancel": CANCELLED}  # job faults

# the "job statistics" vocabulary of ArcGIS Online (online_status_style="stats")
STATS_VOCABULARY = {NEW: "SUBMITTED", SUBMITTED: "SUBMITTED", EXECUTING: "INPROGRESS", SUCCEEDED: "DONE",
                    FAILED: "FAILED", TIMED_OUT: "ERROR", CANCELLING: "INPROGRESS", CANCELLED: "CANCELED"}

PACKAGE_EXTENSIONS = {"vtpk": ".vtpk", "tpkx": ".tpkx", "tpk": ".tpk"}
# tilePackage=false: a cache raster dataset (a cache folder) in Compact V1 or V2 storage
CACHE_V1, CACHE_V2 = "cache_v1", "cache_v2"
CACHE_KINDS = (CACHE_V1, CACHE_V2)
CACHE_ROOT = "Layers"  # the cache folder inside the job's output folder (as in .tpk and GDAL's sample)
LEVEL_TOLERANCE = 1e-4  # relative, when levels are given as scales or resolutions


class ParamError(Exception):
    """A request the server refuses up front (answered with an ArcGIS error body)."""

    def __init__(self, details: str | list[str], message: str = "Unable to complete operation.",
                 code: int = 400) -> None:
        self.code = code
        self.message = message
        self.details = [details] if isinstance(details, str) else list(details)
        super().__init__(f"{message} {'; '.join(self.details)}")


class _CancelledError(Exception):
    pass


# ----------------------------------------------------------------------------------------------
# parameter parsing
# ----------------------------------------------------------------------------------------------

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*-\s*({_NUMBER})\s*$")
_SINGLE = re.compile(rf"^\s*({_NUMBER})\s*$")


def parse_bool(value: Any, name: str, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ParamError(f"Invalid value for '{name}': {value!r} (expected true or false)")


def parse_levels(text: str | None, export_by: str | None, lods: list[dict]) -> list[int]:
    """LevelIDs from ``levels`` (``1,2,3``, ``1-4, 7-9``; or scales/resolutions with exportBy)."""
    if text is None or not str(text).strip():
        raise ParamError("'levels' is required: e.g. levels=0-5 or levels=1,2,3")
    mode = (export_by or "LevelID").strip().lower()
    if mode in ("", "levelid", "level", "levels"):
        mode = "levelid"
    elif mode not in ("scale", "resolution"):
        raise ParamError(f"Invalid exportBy {export_by!r}: use LevelID, Scale or Resolution")
    by_level = {int(lod["level"]): lod for lod in lods}
    chosen: set[int] = set()
    for item in str(text).split(","):
        if not item.strip():
            continue
        m_range, m_single = _RANGE.match(item), _SINGLE.match(item)
        if not (m_range or m_single):
            raise ParamError(f"Invalid levels value {item.strip()!r} in {text!r}")
        if mode == "levelid":
            values = [float(v) for v in (m_range.groups() if m_range else m_single.groups())]
            if any(v != int(v) for v in values):
                raise ParamError(f"Level IDs must be integers: {item.strip()!r}")
            lo, hi = sorted(int(v) for v in values) if m_range else (int(values[0]), int(values[0]))
            for level in range(lo, hi + 1):
                if level not in by_level:
                    raise ParamError(f"Level {level} is not a level of the service's tiling scheme "
                                     f"({min(by_level)}-{max(by_level)})")
                chosen.add(level)
            continue
        key = mode  # "scale" or "resolution"
        if m_range:
            lo, hi = sorted(float(v) for v in m_range.groups())
            matched = [lvl for lvl, lod in by_level.items()
                       if lo * (1 - LEVEL_TOLERANCE) <= float(lod[key]) <= hi * (1 + LEVEL_TOLERANCE)]
            if not matched:
                raise ParamError(f"No level of the service has a {key} between {lo} and {hi}")
            chosen.update(matched)
        else:
            value = float(m_single.group(1))
            best = min(by_level, key=lambda lvl: abs(float(by_level[lvl][key]) - value))
            if value <= 0 or abs(float(by_level[best][key]) - value) > LEVEL_TOLERANCE * value:
                raise ParamError(f"No level of the service has the {key} {value}")
            chosen.add(best)
    if not chosen:
        raise ParamError(f"Invalid levels value {text!r}")
    return sorted(chosen)


def _json_param(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ParamError(f"Invalid JSON in '{name}': {text[:200]!r}") from None


def _convert(area, source: int | None, target: int | None):
    try:
        return area.converted(point_converter(source, target))
    except UnsupportedSpatialReferenceError as exc:
        raise ParamError(str(exc)) from None


def parse_extent(value: str | None, full_extent: dict | None, service_sr: int | None,
                 name: str = "exportExtent") -> Extent:
    """``DEFAULT`` / ``xmin,ymin,xmax,ymax`` (service CRS) / envelope JSON with spatialReference;
    ``name`` is the parameter's name in messages (``extent`` on ArcGIS Online)."""
    text = (value or "").strip()
    try:
        if text.upper() in ("", "DEFAULT", "DEFAULTEXTENT"):
            if not full_extent:
                raise ParamError(f"The service has no fullExtent; give {name} explicitly")
            env = full_extent
        elif text.startswith("{"):
            env = _json_param(text, name)
            if not isinstance(env, dict) or not all(k in env for k in ("xmin", "ymin", "xmax", "ymax")):
                raise ParamError(f"{name} JSON must be an envelope {{xmin, ymin, xmax, ymax, spatialReference}}")
        else:
            parts = [p.strip() for p in text.split(",")]
            if len(parts) != 4:
                raise ParamError(f"Invalid {name} {text!r}: expected DEFAULT, xmin,ymin,xmax,ymax "
                                 f"or an envelope JSON")
            try:
                numbers = [float(p) for p in parts]
            except ValueError:
                raise ParamError(f"Invalid {name} {text!r}: not numbers") from None
            return Extent(*numbers)
        try:
            extent = Extent(float(env["xmin"]), float(env["ymin"]), float(env["xmax"]), float(env["ymax"]))
        except (TypeError, ValueError):
            raise ParamError(f"Invalid {name} {text[:200]!r}: coordinates must be numbers") from None
        source = sr_code(env.get("spatialReference"))
        return _convert(extent, source, service_sr)
    except (InvalidGeometryError, UnsupportedSpatialReferenceError) as exc:
        raise ParamError(f"Invalid {name}: {exc}") from None


def _polygon_from_geometry(geometry: Any, fallback_sr: dict | None, name: str):
    if not isinstance(geometry, dict) or not isinstance(geometry.get("rings"), list):
        raise ParamError(f"'{name}' must hold polygon geometries with 'rings'")
    try:
        area = PolygonArea.from_rings([geometry["rings"]])
    except (InvalidGeometryError, TypeError, IndexError, ValueError) as exc:
        raise ParamError(f"Invalid polygon in '{name}': {exc}") from None
    return area, geometry.get("spatialReference") or fallback_sr


def parse_polygon(value: str, service_sr: int | None, name: str) -> PolygonArea:
    """An Esri polygon JSON or a FeatureSet of polygons, converted to the service CRS."""
    data = _json_param(value, name)
    parts: list[tuple[PolygonArea, dict | None]] = []
    if isinstance(data, dict) and "features" in data:
        features = data["features"]
        if not isinstance(features, list) or not features:
            raise ParamError(f"'{name}' has no features")
        for feature in features:
            geometry = feature.get("geometry") if isinstance(feature, dict) else None
            parts.append(_polygon_from_geometry(geometry, data.get("spatialReference"), name))
    else:
        parts.append(_polygon_from_geometry(data, None, name))
    polygons = []
    for area, sr in parts:
        try:
            source = sr_code(sr)
        except UnsupportedSpatialReferenceError as exc:
            raise ParamError(str(exc)) from None
        polygons.extend(_convert(area, source, service_sr).polygons)
    return PolygonArea(tuple(polygons))


@dataclass
class ExportRequest:
    operation: str  # "export" | "estimate"
    levels: list[int]
    area: Any  # Extent | PolygonArea in the service CRS
    package_kind: str | None  # "vtpk" | "tpkx" | "tpk" | "cache_v1" | "cache_v2" (None for estimates)
    optimize: bool = False
    quality: int | None = None
    params: dict[str, str] = field(default_factory=dict)


def _version_tuple(version: Any) -> float:
    try:
        return float(version)
    except (TypeError, ValueError):
        return 0.0


def parse_export_request(params: dict[str, str], document: dict, service_kind: str,
                         operation: str, online: bool = False) -> ExportRequest:
    """Validate exportTiles / estimateExportTilesSize parameters against a service document.

    ``online``: an ArcGIS Online vector service, whose documented box parameter is ``extent``; it ignores
    ``exportExtent`` as ArcGIS Server ignores ``extent`` (an unknown parameter), so a client sending the
    wrong one gets the whole service extent."""
    tile_info = document["tileInfo"]
    grid = Grid.from_tile_info(tile_info)
    levels = parse_levels(params.get("levels"), params.get("exportBy"), tile_info["lods"])
    full_extent = document.get("fullExtent")
    vector = service_kind == "VectorTileServer"
    polygon_param = "polygon" if vector else "areaOfInterest"
    if (params.get(polygon_param) or "").strip():
        area = parse_polygon(params[polygon_param], grid.spatial_reference, polygon_param)
    else:
        name = "extent" if online and vector else "exportExtent"
        area = parse_extent(params.get(name), full_extent, grid.spatial_reference, name)

    package_kind = None
    optimize = parse_bool(params.get("optimizeTilesForSize"), "optimizeTilesForSize")
    quality = None
    if operation == "export":
        if vector:
            package_kind = "vtpk"
        else:
            # tilePackage defaults to false on ArcGIS Server: a cache raster dataset (a cache folder)
            package = parse_bool(params.get("tilePackage"), "tilePackage")
            storage = (params.get("storageFormatType") or "").strip()
            key = storage.lower()
            if key in ("", "esrimapcachestoragemodecompact", "compact"):
                package_kind = "tpk" if package else CACHE_V1
            elif key in ("esrimapcachestoragemodecompactv2", "compactv2", "compact_v2"):
                if _version_tuple(document.get("currentVersion")) < 10.7:
                    raise ParamError(f"storageFormatType {storage} needs ArcGIS Server 10.7 or later "
                                     f"(this server is {document.get('currentVersion')}); "
                                     f"use esriMapCacheStorageModeCompact")
                package_kind = "tpkx" if package else CACHE_V2
            else:
                raise ParamError(f"Invalid storageFormatType {storage!r}: use esriMapCacheStorageModeCompact "
                                 f"or esriMapCacheStorageModeCompactV2")
        text = (params.get("compressionQuality") or "").strip()
        if text:
            try:
                quality = int(float(text))
            except ValueError:
                raise ParamError(f"Invalid compressionQuality {text!r}") from None
            if not 0 <= quality <= 100:
                raise ParamError(f"compressionQuality must be between 0 and 100, not {quality}")
            own = int(tile_info.get("compressionQuality") or 0)
            if optimize and own > 0 and quality > own:
                raise ParamError(f"compressionQuality {quality} is higher than the service's own compression "
                                 f"quality {own}")
    return ExportRequest(operation=operation, levels=levels, area=area, package_kind=package_kind,
                         optimize=optimize and quality is not None, quality=quality, params=dict(params))


# ----------------------------------------------------------------------------------------------
# jobs
# ----------------------------------------------------------------------------------------------

def new_job_id(protocol: str) -> str:
    return secrets.token_hex(8) if protocol == "online" else f"j{secrets.token_hex(16)}_et"


def _ms(t: float | None) -> int | None:
    return None if t is None else int(t * 1000)


def _timestamp(t: float) -> str:
    return time.strftime("%A, %B %d, %Y %H:%M:%S", time.localtime(t))


@dataclass
class JobContext:
    """What a job needs from the service it was submitted to."""

    service_key: str
    service_name: str
    service_kind: str
    document: dict
    sample: Any  # get_tile(level,row,col), resources, tilemap
    max_tiles: int
    writer: Callable[..., Any] | None
    work_dir: Path
    cache_zip: bool = False  # tilePackage=false: the cache folder zipped instead of a folder of files


class Job:
    def __init__(self, job_id: str, protocol: str, request: ExportRequest, ctx: JobContext, *,
                 steps: int = 2, step_delay_s: float = 0.0, submit_status: str = SUBMITTED,
                 faults: list[Fault] | None = None, submit_path: str = "", output_files: int = 1) -> None:
        self.id = job_id
        self.protocol = protocol
        self.request = request
        self.operation = request.operation
        self.ctx = ctx
        self.steps = max(0, int(steps))
        self.step_delay_s = max(0.0, float(step_delay_s))
        self.submit_status = submit_status
        self.submit_path = submit_path
        self.faults = list(faults or [])
        self.output_files = max(1, int(output_files))  # packages the result is split into (by level)
        self.item_id = secrets.token_hex(16)
        self.submitted_at = time.time()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.last_poll_step_at = self.submitted_at
        self.polls = 0  # counted polls (steps taken)
        self.ended_at: float | None = None  # when a client was first shown the job's end
        self.requests = 0  # every status request
        self._lock = threading.Lock()
        self.cancel_event = threading.Event()
        self.cancel_requested_at: float | None = None
        self.done = threading.Event()  # the build thread has finished
        self.outcome: str | None = None  # SUCCEEDED / FAILED / TIMED_OUT / CANCELLED
        self.error_messages: list[str] = []
        self.level_counts: dict[int, int] = {}
        self.total_tiles = 0  # tiles the area touches (what the limit applies to)
        self.tiles_written: list[tuple[int, int, int]] = []
        self.bytes_written = 0
        self.package_path: Path | None = None  # the first (usually the only) package
        self.package_name: str | None = None
        self.package_paths: list[Path] = []
        self.package_info: Any = None
        self.estimate: dict | None = None
        self.presigned_urls: list[str] | None = None  # Online jobs: signed once, on the first success
        self.thread = threading.Thread(target=self._run, name=f"emulator-job-{job_id}", daemon=True)

    # --------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> str:
        """Ask the job to stop; returns the status to report (Cancelling or a terminal one)."""
        with self._lock:
            status = self._visible_status()
            if status in TERMINAL:
                return status
            self.cancel_requested_at = time.time()
            self.cancel_event.set()
            if self.done.is_set():  # built already but not shown yet: the result is dropped
                self.outcome = CANCELLED
                self.delete_files()
                return CANCELLED
        return CANCELLING

    def stop(self, timeout: float = 10.0) -> None:
        self.cancel_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout)

    @property
    def folder(self) -> Path:
        """Where the job builds its package(s)."""
        return self.ctx.work_dir / f"_ags_{self.id}"

    def delete_files(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the build thread is done (test helper; polls are still needed to finish)."""
        return self.done.wait(timeout)

    # --------------------------------------------------------------------------- status
    def poll(self) -> str:
        """A status request: maybe take a step, then return the status to show."""
        with self._lock:
            self.requests += 1
            now = time.time()
            if self.polls <= self.steps and now - self.last_poll_step_at >= self.step_delay_s:
                self.polls += 1
                self.last_poll_step_at = now
            status = self._visible_status()
            if status in TERMINAL and self.ended_at is None:
                self.ended_at = now
            return status

    @property
    def status(self) -> str:
        """The status a status request would show now (without taking a step)."""
        with self._lock:
            return self._visible_status()

    def _visible_status(self) -> str:
        if self.cancel_requested_at is not None:
            return CANCELLED if self.done.is_set() else CANCELLING
        if self.polls == 0:
            return self.submit_status
        if self.polls <= self.steps or not self.done.is_set():
            if self.polls == 1 and self.steps >= 2:
                return SUBMITTED
            return EXECUTING
        return self.outcome or FAILED

    def progress_percent(self) -> int:
        step = 100.0 * min(self.polls, self.steps + 1) / (self.steps + 1)
        if self.done.is_set():
            build = 100.0
        elif self.total_tiles:
            build = 100.0 * len(self.tiles_written) / self.total_tiles
        else:
            build = 0.0
        return int(min(step, build, 99.0))

    def messages(self, status: str) -> list[dict]:
        info = "esriJobMessageTypeInformative"
        out = [{"type": info, "description": "Submitted."}]
        if status in (SUBMITTED, NEW):
            return out
        out.append({"type": info, "description": "Executing..."})
        out.append({"type": info, "description": f"Start Time: {_timestamp(self.started_at or self.submitted_at)}"})
        if status == SUCCEEDED:
            if self.operation == "export":
                out.append({"type": info, "description": f"Exported {len(self.tiles_written)} tiles "
                            f"({self.bytes_written} bytes) of levels {self.request.levels}."})
            elapsed = (self.finished_at or time.time()) - self.submitted_at
            out.append({"type": info, "description": f"Succeeded at {_timestamp(self.finished_at or time.time())} "
                        f"(Elapsed Time: {elapsed:.2f} seconds)"})
        elif status in (FAILED, TIMED_OUT):
            out.extend({"type": "esriJobMessageTypeError", "description": m} for m in self.error_messages)
            out.append({"type": "esriJobMessageTypeError", "description": "Failed."})
        elif status in (CANCELLING, CANCELLED) and self.cancel_requested_at is not None:
            out.append({"type": "esriJobMessageTypeWarning", "description": "Cancel requested by the client."})
        elif status == CANCELLED:  # cancelled on the server's side (job_cancel fault)
            out.extend({"type": "esriJobMessageTypeWarning", "description": m} for m in self.error_messages)
        return out

    def gp_json(self, status: str, progress: bool = True) -> dict:
        """The GP status body; ``progress`` (10.8.1+) only while executing and when ``progress``."""
        body: dict[str, Any] = {"jobId": self.id, "jobStatus": status}
        if status == SUCCEEDED:
            body["results"] = {"out_service_url": {"paramUrl": "results/out_service_url"}}
        else:
            body["results"] = {}
        body["inputs"] = {name: {"paramUrl": f"inputs/{name}"} for name in self.input_values()}
        body["messages"] = self.messages(status)
        if status == EXECUTING and progress:
            body["progress"] = {"type": "default", "message": "Exporting tiles..." if self.operation == "export"
                                else "Estimating the export size...", "percent": self.progress_percent()}
        return body

    def input_values(self) -> dict[str, Any]:
        params = self.request.params
        values = {
            "service_url": self.ctx.service_key,
            "levels": params.get("levels", ""),
            "export_extent": params.get("exportExtent") or "DEFAULT",
            "export_by": params.get("exportBy") or "LevelID",
        }
        if self.operation == "export":
            values["tile_package"] = params.get("tilePackage", "")
            values["storage_format_type"] = params.get("storageFormatType", "")
            values["optimize_tiles_for_size"] = params.get("optimizeTilesForSize", "")
            values["compression_quality"] = params.get("compressionQuality", "")
        values["area_of_interest"] = params.get("areaOfInterest") or params.get("polygon") or ""
        return values

    def online_json(self, status: str, output_urls: list[str]) -> dict:
        envelope = self.request.area.envelope(None)
        envelope["spatialReference"] = None
        done = status in TERMINAL
        body: dict[str, Any] = {
            "jobId": self.id,
            "type": "EXPORTTILES",
            "jobStatus": status,
            "message": "; ".join(self.error_messages) if status in (FAILED, TIMED_OUT, CANCELLED) else None,
            "extent": envelope,
            "startTime": _ms(self.submitted_at),
            "lastTime": _ms(self.finished_at if done and self.finished_at else time.time()),
            "estimatedNumTiles": self.total_tiles,
            "numTiles": len(self.tiles_written),
            "estimatedTilesSize": 0,
            "tilesSize": self.bytes_written,
            "numTasks": 1,
            "numSubmittedTasks": 1 if status in (NEW, SUBMITTED) else 0,
            "numProcessingTasks": 1 if status in (EXECUTING, CANCELLING) else 0,
            "numDoneTasks": 1 if status == SUCCEEDED else 0,
            "numErrorTasks": 1 if status in (FAILED, TIMED_OUT) else 0,
            "numCanceledTasks": 1 if status == CANCELLED else 0,
            "output": {"outputUrl": output_urls if status == SUCCEEDED else [], "itemId": None},
            "levelStats": [{"level": level} for level in self.request.levels],
        }
        return body

    # --------------------------------------------------------------------------- building
    def _fail(self, outcome: str, message: str) -> None:
        self.outcome = outcome
        self.error_messages.append(message)

    def _run(self) -> None:
        self.started_at = time.time()
        try:
            forced = next((f for f in self.faults if f.kind in _FORCED_OUTCOMES), None)
            if forced is not None:
                self._fail(_FORCED_OUTCOMES[forced.kind], forced.options["message"])
                return
            grid = Grid.from_tile_info(self.ctx.document["tileInfo"])
            for level in self.request.levels:
                self._check_cancel()
                self.level_counts[level] = count_tiles(grid, level, self.request.area)
            self.total_tiles = sum(self.level_counts.values())
            if self.operation == "estimate":
                self.estimate = self._estimate(grid)
                self.outcome = SUCCEEDED
                return
            if self.total_tiles > self.ctx.max_tiles:
                self._fail(FAILED, f"ERROR 001564: Requested tile count({self.total_tiles}) exceeds the maximum "
                                   f"allowed number of tiles({self.ctx.max_tiles}) to be exported for service "
                                   f"{self.ctx.service_name}:{self.ctx.service_kind}.")
                self.error_messages.append("Failed to execute (Export Tile Cache).")
                return
            self._build(grid)
            self.outcome = SUCCEEDED
        except _CancelledError:
            self.outcome = CANCELLED
            self.delete_files()
        except Exception as exc:  # a bug or a writer failure: the job fails like a real one would
            log.exception("emulator job %s failed", self.id)
            self._fail(FAILED, f"ERROR 999999: Something unexpected caused the tool to fail. ({exc})")
            self.delete_files()
        finally:
            if self.cancel_event.is_set() and self.outcome == SUCCEEDED and self.cancel_requested_at is not None:
                self.outcome = CANCELLED
                self.delete_files()
            self.finished_at = time.time()
            self.done.set()

    def _check_cancel(self) -> None:
        if self.cancel_event.is_set():
            raise _CancelledError()

    def _tiles(self, grid: Grid, levels: list[int]) -> Iterator[tuple[int, int, int, bytes]]:
        for level in levels:
            for row, col in select_tiles(grid, level, self.request.area):
                self._check_cancel()
                if row < 0 or col < 0:  # before the grid origin: no cache holds such tiles
                    continue
                data = self.ctx.sample.get_tile(level, row, col)
                if data is None:
                    continue
                if self.request.optimize:
                    data = _recompress_jpeg(data, self.request.quality)
                self.tiles_written.append((level, row, col))
                self.bytes_written += len(data)
                yield level, row, col, data
        self._check_cancel()

    @property
    def is_cache(self) -> bool:
        return self.request.package_kind in CACHE_KINDS

    @property
    def cache_root(self) -> Path:
        """The cache folder a tilePackage=false job leaves in its output folder."""
        return self.folder / CACHE_ROOT

    def _build_cache(self, grid: Grid) -> None:
        """The cache raster dataset: ``Layers/conf.xml``, ``conf.cdi``, ``_alllayers`` in the output
        folder, and (``cache_zip``) the same folder zipped as ``<service>.zip`` beside it."""
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        sr = self.ctx.document["tileInfo"].get("spatialReference")
        storage = "esriMapCacheStorageModeCompactV2" if self.request.package_kind == CACHE_V2 else \
            "esriMapCacheStorageModeCompact"
        partial = folder / (CACHE_ROOT + ".partial")
        self.package_info = write_cache_folder(partial, self.ctx.document, self._tiles(grid, self.request.levels),
                                               extent=self.request.area.envelope(sr), storage_format=storage,
                                               max_level=max(self.request.levels))
        self._check_cancel()
        partial.replace(self.cache_root)
        paths = [self.cache_root]
        if self.ctx.cache_zip:
            stem = self.ctx.service_name.split("/")[-1]
            archive = folder / f"{stem}.zip"
            zip_folder(self.cache_root, archive, CACHE_ROOT)
            shutil.rmtree(self.cache_root)
            paths = [archive]
        self.package_paths = paths
        self.package_path = paths[0]
        self.package_name = paths[0].name

    def _build(self, grid: Grid) -> None:
        if self.is_cache:
            self._build_cache(grid)
            return
        if self.ctx.writer is None:
            raise RuntimeError("no package writer available")
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        stem = self.ctx.service_name.split("/")[-1]
        ext = PACKAGE_EXTENSIONS[self.request.package_kind]
        sr = self.ctx.document["tileInfo"].get("spatialReference")
        kwargs: dict[str, Any] = {"extent": self.request.area.envelope(sr), "title": self.ctx.service_name}
        resources = getattr(self.ctx.sample, "resources", None)
        if self.request.package_kind == "vtpk" and resources:
            kwargs["resources"] = resources
        groups = _level_groups(self.request.levels, self.output_files)
        paths = []
        for number, levels in enumerate(groups, start=1):
            name = f"{stem}{ext}" if len(groups) == 1 else f"{stem}_{number}{ext}"
            partial = folder / (name + ".partial")
            info = self.ctx.writer(self.request.package_kind, partial, self.ctx.document,
                                   self._tiles(grid, levels), **kwargs)
            self._check_cancel()
            partial.replace(folder / name)
            paths.append(folder / name)
            if self.package_info is None:
                self.package_info = info
        for path in paths:
            apply_package_faults(path, [f for f in self.faults if f.kind in ("truncate_package", "corrupt_package")])
        self.package_paths = paths
        self.package_path = paths[0]
        self.package_name = paths[0].name

    def _estimate(self, grid: Grid, samples_per_level: int = 16) -> dict:
        total_size = 0
        for level, count in self.level_counts.items():
            if count == 0:
                continue
            tiles = _spread(grid, level, self.request.area, count, samples_per_level)
            sizes = []
            for row, col in tiles:
                self._check_cancel()
                data = self.ctx.sample.get_tile(level, row, col)
                sizes.append(len(data) if data else 0)
            total_size += round(sum(sizes) / len(sizes) * count) if sizes else 0
        return {"totalSize": total_size, "totalTilesToExport": self.total_tiles}

    # --------------------------------------------------------------------------- result
    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED


def _level_groups(levels: list[int], parts: int) -> list[list[int]]:
    """``levels`` cut into ``parts`` consecutive groups (fewer when there are fewer levels)."""
    parts = max(1, min(parts, len(levels)))
    size, extra = divmod(len(levels), parts)
    groups, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        groups.append(levels[start:end])
        start = end
    return groups


def _spread(grid: Grid, level: int, area, count: int, n: int) -> list[tuple[int, int]]:
    """Up to ``n`` tiles spread over the selection (without listing a huge rectangle)."""
    if isinstance(area, Extent):
        from .selection import candidate_ranges

        r0, r1, c0, c1 = candidate_ranges(grid, level, area)
        cols = c1 - c0 + 1
        step = max(1, count // n)
        return [(r0 + i // cols, c0 + i % cols) for i in range(0, count, step)][:n]
    tiles = select_tiles(grid, level, area)
    step = max(1, math.ceil(len(tiles) / n))
    return tiles[::step]


def _recompress_jpeg(data: bytes, quality: int | None) -> bytes:
    """optimizeTilesForSize: re-encode JPEG tiles at ``quality`` (other formats unchanged)."""
    if quality is None or not data.startswith(b"\xff\xd8"):
        return data
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow ships with the Debian venv
        return data
    with contextlib.suppress(OSError), Image.open(io.BytesIO(data)) as image:
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=max(1, quality))
        return out.getvalue()
    return data
