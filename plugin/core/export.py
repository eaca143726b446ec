"""Export requests (parameters + validation) and the :class:`Exporter` that runs them end to end.

Typical use (dock, Processing, demo)::

    session = create_session(HttpConfig(version="1.0"), auth=make_auth(username=..., password=...))
    exporter = Exporter(session, store=ExportStore(profile / "arcgis_offline_tiles" / "jobs"))
    service = exporter.fetch(url)
    plan = exporter.prepare(service, Area.from_extent(...), levels=range(0, 15))
    print(plan.describe())                      # jobs, levels, tiles — nothing sent yet
    result = exporter.run(plan, "/data/basemap.tpkx", progress=print, cancel=token)
    result.paths                                # one package per job (several when split)

Parameters by service type and platform (reference §2): ``exportExtent`` always (envelope JSON in the
service CRS) plus ``extent`` for ArcGIS Online vector services; polygons as ``polygon`` (vector,
10.7+) or an ``areaOfInterest`` feature set (map/image); ``levels`` compact + ``exportBy=LevelID``;
map/image add ``tilePackage=true`` and ``storageFormatType`` (CompactV2 → .tpkx by default,
Compact → .tpk on request or below 10.7), and ``optimizeTilesForSize``/``compressionQuality`` for
JPEG caches only, never above the cache's own quality.  Requests with a polygon, or longer than
~1800 characters, are POSTed form-encoded.
"""
from __future__ import annotations

import json
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import jobs as jobs_mod
from . import names
from .area import Area
from .auth import bind_auth
from .cachedownload import download_cache
from .client import fetch_exportable_service, fetch_service
from .download import CHUNK_SIZE, DownloadProgress, DownloadState, download, looks_presigned
from .errors import (
    QT_TRANSLATE_NOOP,
    ArcGISOfflineTilesError,
    CancelledError,
    ExportNotAllowedError,
    InvalidRequestError,
    JobNotFoundError,
    JobTimedOutError,
    JobTimedOutOnServerError,
    PackageError,
    TooManyTilesError,
)
from .exportstore import (
    CANCELLED,
    DONE,
    DOWNLOADING,
    FAILED,
    NEW,
    PAUSED,
    SUBMITTED,
    TIMED_OUT,
    ExportStore,
    PartRecord,
)
from .http import REAL_CLOCK, CancelToken, Clock
from .jobs import Estimate, Job, JobStatus, PollPolicy
from .levels import format_levels
from .records import is_cache_record
from .split import Part, SplitPlan, plan_split
from .tilecache import PACKAGE, TILE_CACHE, cache_result_files, check_output_kind
from .tilecount import count_tiles

LOG = logging.getLogger(__name__)

VTPK, TPKX, TPK = "vtpk", "tpkx", "tpk"
STORAGE_FORMATS = {TPKX: "esriMapCacheStorageModeCompactV2", TPK: "esriMapCacheStorageModeCompact"}
JPEG_FORMATS = frozenset({"JPEG", "JPG", "MIXED"})
DEFAULT_QUALITY = 75
MAX_RESPLITS = 2


# --- service helpers (duck-typed on service.ServiceInfo) ---------------------------------------
def kind_name(info: Any) -> str:
    """``VectorTileServer`` / ``MapServer`` / ``ImageServer`` for a ServiceInfo (enum or string kind)."""
    kind = getattr(info, "kind", "")
    text = f"{getattr(kind, 'name', '')} {getattr(kind, 'value', '')} {kind}".upper()
    if "VECTOR" in text:
        return "VectorTileServer"
    if "IMAGE" in text:
        return "ImageServer"
    return "MapServer"


def is_vector(info: Any) -> bool:
    return kind_name(info) == "VectorTileServer"


def _version(info: Any) -> float:
    try:
        return float(getattr(info, "version", 0) or 0)
    except (TypeError, ValueError):
        return 0.0


def _sr_json(info: Any) -> dict:
    for sr in (getattr(info.tiling, "spatial_ref", None), getattr(info, "spatial_ref", None)):
        if sr is not None and hasattr(sr, "to_json"):
            doc = sr.to_json()
            if doc:
                return doc
    return {}


def _tile_format(info: Any) -> str:
    return str(getattr(info, "tile_format", "") or getattr(info.tiling, "format", "") or "").upper()


def package_format(info: Any, requested: str | None = None) -> str:
    """vtpk for vector services; tpk when asked or when the server predates 10.7; else tpkx."""
    if is_vector(info):
        return VTPK
    requested = (requested or "").lower().lstrip(".")
    if requested == TPK:
        return TPK
    supports = getattr(info, "supports_tpkx", None)
    if supports is False or (supports is None and 0 < _version(info) < 10.7):
        return TPK
    return TPKX


# --- parameters --------------------------------------------------------------------------------
def build_export_params(info: Any, area: Area, levels: list[int] | tuple[int, ...], *, fmt: str,
                        optimize: bool = False, quality: int | None = None,
                        warnings: list[str] | None = None, output_kind: str = PACKAGE) -> dict[str, str]:
    """The ``exportTiles`` parameters for ``info`` (``f=json`` is added when sending).

    ``output_kind`` TILE_CACHE asks map/image services for a cache raster dataset (``tilePackage=false``)
    stored as ``fmt`` says (tpkx → Compact V2, tpk → Compact)."""
    warnings = warnings if warnings is not None else []
    sr = _sr_json(info)
    envelope = json.dumps(area.to_esri_envelope(sr or None), separators=(",", ":"))
    params: dict[str, str] = {"levels": format_levels(levels), "exportBy": "LevelID", "exportExtent": envelope}
    if is_vector(info):
        if getattr(info, "is_online", False):
            params["extent"] = envelope  # ArcGIS Online's documented name
        if not area.is_rectangle:
            if getattr(info, "supports_polygon", _version(info) >= 10.7):
                params["polygon"] = json.dumps(area.to_esri_polygon(sr or None), separators=(",", ":"))
            else:
                warnings.append("This server cannot export a polygon (it predates 10.7): the "
                                "polygon's bounding box is exported instead.")
        return params
    params["tilePackage"] = "false" if output_kind == TILE_CACHE else "true"
    params["storageFormatType"] = STORAGE_FORMATS[TPK if fmt == TPK else TPKX]
    if not area.is_rectangle:
        if getattr(info, "supports_polygon", True):
            params["areaOfInterest"] = json.dumps(area.to_feature_set(sr or None), separators=(",", ":"))
        else:
            warnings.append("This server cannot export a polygon: the polygon's bounding box is exported "
                            "instead.")
    if optimize:
        fmt_name = _tile_format(info)
        own = int(getattr(info.tiling, "compression_quality", 0) or 0)
        if fmt_name not in JPEG_FORMATS:
            warnings.append(f"The tiles are {fmt_name or 'not JPEG'}: optimising for size only applies to "
                            "JPEG tiles and is skipped.")
            params["optimizeTilesForSize"] = "false"
        else:
            wanted = DEFAULT_QUALITY if quality is None else int(quality)
            if own and wanted > own:
                warnings.append(f"The quality {wanted} is above the cache's own quality {own}; "
                                f"{own} is used.")
                wanted = own
            params["optimizeTilesForSize"] = "true"
            params["compressionQuality"] = str(max(1, min(100, wanted)))
    else:
        params["optimizeTilesForSize"] = "false"
    return params


def build_estimate_params(info: Any, area: Area, levels: list[int] | tuple[int, ...]) -> dict[str, str]:
    params = build_export_params(info, area, levels, fmt=TPKX)
    for key in ("storageFormatType", "optimizeTilesForSize", "compressionQuality"):
        params.pop(key, None)
    return params


def validate_export(info: Any, area: Area, levels: list[int]) -> dict[int, int]:
    """Check the request before anything is sent; returns the exact tile counts per level."""
    if not getattr(info, "export_allowed", False):
        raise ExportNotAllowedError(name=getattr(info, "name", "") or getattr(info, "url", ""))
    if not levels:
        raise InvalidRequestError(reason="no level is selected; choose at least one level")
    scheme = info.tiling
    known = set(scheme.levels)
    missing = [lv for lv in levels if lv not in known]
    if missing:
        raise InvalidRequestError(reason=f"level(s) {format_levels(missing)} are not in the service's tiling "
                                  f"scheme (levels {format_levels(sorted(known))})")
    min_lod, max_lod = getattr(info, "min_lod", None), getattr(info, "max_lod", None)
    outside = [lv for lv in levels if (min_lod is not None and lv < min_lod)
               or (max_lod is not None and lv > max_lod)]
    if outside:
        raise InvalidRequestError(
            reason=f"level(s) {format_levels(outside)} are not cached on the server; it holds levels "
                   f"{min_lod if min_lod is not None else min(known)}-"
                   f"{max_lod if max_lod is not None else max(known)}")
    if not area.is_rectangle:
        crossing = area.find_crossing()  # ~linear in the vertex count, cached on the area
        if crossing is not None:
            # the even-odd reading of a crossing outline is ours; the server may simplify it otherwise
            raise InvalidRequestError(
                QT_TRANSLATE_NOOP("errors", "The area's outline crosses itself, so the server could read it "
                                  "differently from the tile count shown here. Redraw the area, or repair it "
                                  "with Processing Toolbox ▸ Vector geometry ▸ Fix geometries, then try again."),
                details=f"first crossing near ({crossing[0]:.6g}, {crossing[1]:.6g}) in the service CRS")
    full = getattr(info, "full_extent", None)
    if full is not None and all(hasattr(full, k) for k in ("xmin", "ymin", "xmax", "ymax")):
        xmin, ymin, xmax, ymax = area.bbox
        if xmax <= full.xmin or xmin >= full.xmax or ymax <= full.ymin or ymin >= full.ymax:
            raise InvalidRequestError(
                QT_TRANSLATE_NOOP("errors", "The export area lies outside the service's extent, so no "
                                  "tile would be exported. Check that the area is where the data is and in "
                                  "the right coordinate system."))
    return count_tiles(scheme, area, levels)


# --- plan and result ---------------------------------------------------------------------------
@dataclass
class PartRequest:
    part: Part
    params: dict[str, str]

    @property
    def tiles(self) -> int:
        return self.part.tiles


@dataclass
class ExportPlan:
    service: Any  # ServiceInfo
    area: Area
    levels: tuple[int, ...]
    format: str
    optimize: bool
    quality: int | None
    counts: dict[int, int]
    split: SplitPlan
    requests: list[PartRequest]
    warnings: list[str] = field(default_factory=list)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    output_kind: str = PACKAGE  # PACKAGE or TILE_CACHE (a cache folder; map and image services)

    @property
    def part_count(self) -> int:
        return len(self.requests)

    @property
    def requested_tiles(self) -> int:
        return sum(self.counts.values())

    @property
    def total_tiles(self) -> int:
        return self.split.total_tiles

    @property
    def duplicate_tiles(self) -> int:
        return self.split.duplicate_tiles

    @property
    def limit(self) -> int:
        return self.split.limit

    def describe(self) -> str:
        what = f".{self.format}" if self.output_kind != TILE_CACHE else \
            f"a tile cache folder ({'Compact V1' if self.format == TPK else 'Compact V2'})"
        lines = [f"{self.requested_tiles:,} tiles at levels {format_levels(self.levels)} as {what}",
                 self.split.describe()]
        lines += [f"Note: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class ExportResult:
    paths: list[Path]
    tile_count: int
    part_count: int
    records: list[PartRecord]


@dataclass(frozen=True)
class Progress:
    """What the caller shows: overall fraction (0..1 or None) and a human message."""

    fraction: float | None
    message: str
    stage: str = ""  # submit / wait / download / done
    part: int = 0  # 1-based job number
    parts: int = 1
    bytes_done: int = 0
    bytes_total: int | None = None


ProgressCb = Callable[[Progress], None]
JOB_SHARE = 0.6  # of a part's progress bar: the server job; the rest is the download


# --- the exporter ------------------------------------------------------------------------------
class Exporter:
    """Runs exports with one session; see the module docstring for the flow.

    ``store`` keeps a :class:`PartRecord` per job (resume after a crash); ``poll`` sets the polling
    back-off and the overall job timeout; ``clock`` makes tests instant; ``max_parallel`` bounds how
    many jobs of a split export run at once (1 = one after the other).
    """

    def __init__(self, session: Any, *, store: ExportStore | None = None, poll: PollPolicy | None = None,
                 clock: Clock | None = None, max_parallel: int = 1, resplit: bool = True,
                 chunk_size: int = CHUNK_SIZE) -> None:
        self.session = session
        self.store = store
        self.poll = poll or PollPolicy()
        self.clock = clock or getattr(session, "clock", REAL_CLOCK)
        self.max_parallel = max(1, int(max_parallel))
        self.resplit = resplit
        self.chunk_size = chunk_size
        self._lock = threading.Lock()

    # -- services ---------------------------------------------------------------------------
    def fetch(self, url: str, cancel: CancelToken | None = None, use_export_twin: bool = False) -> Any:
        """The service's :class:`~.service.ServiceInfo`; with ``use_export_twin``, Esri's export-enabled
        copy when the service itself does not allow export."""
        if use_export_twin:
            return fetch_exportable_service(self.session, url, cancel=cancel)
        return fetch_service(self.session, url, cancel=cancel)

    # -- planning ---------------------------------------------------------------------------
    def prepare(self, service: Any, area: Area, levels: Any, fmt: str | None = None, optimize: bool = False,
                quality: int | None = None, split: bool = True, output_kind: str | None = None) -> ExportPlan:
        """Validate and plan (no request is sent): counts, jobs, parameters per job.

        ``output_kind`` is PACKAGE (default) or TILE_CACHE (map and image services only: see
        :func:`~.tilecache.supported_output_kinds`); ``fmt`` then picks Compact V2 (tpkx) or V1 (tpk)."""
        output_kind = check_output_kind(service, output_kind)
        levels = tuple(sorted({int(lv) for lv in levels}))
        warnings: list[str] = []
        if not area.is_rectangle and not getattr(service, "supports_polygon", True):
            warnings.append("This server cannot export a polygon: its bounding box is exported instead.")
            area = Area.from_extent(*area.bbox)
        counts = validate_export(service, area, list(levels))
        fmt = package_format(service, fmt)
        limit = int(getattr(service, "max_export_tiles", 0) or 0) or 100_000
        total = sum(counts.values())
        if total > limit and not split:
            raise TooManyTilesError(count=f"{total:,}", limit=f"{limit:,}")
        plan = plan_split(service.tiling, area, levels, limit, counts=counts)
        requests = [PartRequest(part, build_export_params(service, part.area, part.levels, fmt=fmt,
                                                          optimize=optimize, quality=quality,
                                                          warnings=warnings, output_kind=output_kind))
                    for part in plan.parts]
        return ExportPlan(service, area, levels, fmt, optimize, quality, counts, plan, requests,
                          list(dict.fromkeys(warnings)), output_kind=output_kind)

    # -- estimate ---------------------------------------------------------------------------
    def estimate(self, service: Any, area: Area, levels: Any, *, cancel: CancelToken | None = None,
                 progress: ProgressCb | None = None) -> Estimate:
        """The server's own estimate (map/image only): total bytes and tiles."""
        if is_vector(service):
            raise InvalidRequestError(reason="vector tile services have no size estimate")
        levels = sorted({int(lv) for lv in levels})
        validate_export(service, area, levels)
        bind_auth(self.session, service.url)
        params = build_estimate_params(service, area, levels)
        # The submit is not interrupted by a cancel: a cancel that cut off its answer would leave a server
        # job running that nobody knows the id of; the answer is quick and bounded by the timeouts.
        job = jobs_mod.submit(self.session, service.url, params, operation=jobs_mod.ESTIMATE)

        def on_status(status: JobStatus) -> None:
            if progress is not None:
                progress(Progress(status.fraction, f"Estimating the export size: {status.message}", "wait"))

        try:
            status = jobs_mod.wait(self.session, job, policy=self.poll, clock=self.clock, cancel=cancel,
                                   progress=on_status)
        except CancelledError:
            jobs_mod.cancel_job(self.session, job)
            raise
        return jobs_mod.parse_estimate(jobs_mod.result_value(self.session, job, status, cancel))

    # -- running ----------------------------------------------------------------------------
    def run(self, plan: ExportPlan, out_path: str | Path, progress: ProgressCb | None = None,
            cancel: CancelToken | None = None) -> ExportResult:
        """Submit, wait, download every job of ``plan``; packages land next to ``out_path``.

        ``out_path`` is the wanted package file (its suffix is set to the format) or a folder (the
        service name is used).  Split exports get ``_partNNofMM`` names.
        """
        out = names.export_target(out_path, cache=plan.output_kind == TILE_CACHE, fmt=plan.format,
                                  service_name=getattr(plan.service, "name", ""))
        bind_auth(self.session, plan.service.url)
        records = [self._new_record(plan, req, out) for req in plan.requests]
        for record in records:
            self._save(record)
        tracker = _ProgressTracker(progress, [r.tiles for r in records])
        results: list[list[Path]] = [[] for _ in records]
        errors: list[BaseException] = []

        def run_one(i: int) -> None:
            try:
                results[i] = self._run_record(records[i], plan, tracker, i, cancel)
            except BaseException as exc:
                errors.append(exc)
                raise

        if self.max_parallel == 1 or len(records) == 1:
            for i in range(len(records)):
                run_one(i)
        else:
            with ThreadPoolExecutor(self.max_parallel, thread_name_prefix="aot-export") as pool:
                futures_wait([pool.submit(run_one, i) for i in range(len(records))])
            if errors:
                raise errors[0]
        paths = [p for group in results for p in group]
        tracker.done()
        return ExportResult(paths=paths, tile_count=plan.total_tiles, part_count=len(records), records=records)

    def _new_record(self, plan: ExportPlan, req: PartRequest, out: Path) -> PartRecord:
        index, count = req.part.index, plan.part_count
        return PartRecord(
            service_url=plan.service.url, service_kind=kind_name(plan.service),
            service_name=getattr(plan.service, "name", ""), params=dict(req.params),
            area=req.part.area.to_esri_polygon(_sr_json(plan.service) or None), levels=list(req.part.levels),
            format=plan.format, tiles=req.part.tiles, plan_id=plan.id, part_index=index, part_count=count,
            output_path=str(names.cache_folder(out, index + 1, count) if plan.output_kind == TILE_CACHE
                            else names.part_path(out, plan.format, index + 1, count)))

    def _save(self, record: PartRecord) -> None:
        if self.store is not None:
            with self._lock:
                self.store.save(record)

    def _run_record(self, record: PartRecord, plan: ExportPlan | None, tracker: _ProgressTracker, i: int,
                    cancel: CancelToken | None, depth: int = 0) -> list[Path]:
        """Drive one record from whatever state it is in to DONE (or a typed error)."""
        try:
            job = Job.from_dict(record.job) if record.job else None
            status: JobStatus | None = None
            if record.state == DOWNLOADING and record.result_urls:
                try:
                    return self._download_all(record, tracker, i, cancel)
                except PackageError as exc:
                    if job is None:
                        raise
                    LOG.warning("The package of job %s is damaged on the server (%s); exporting it again",
                                job.job_id, exc)
                    tracker.message(i, "The package on the server is damaged; exporting it again")
                    job = None
                except ArcGISOfflineTilesError as exc:
                    if job is None or getattr(exc, "code", 0) not in (401, 403, 404, 410):
                        raise
                    LOG.info("The download links of job %s no longer work (%s); asking the server again",
                             job.job_id, exc)
            if job is not None:
                try:
                    status = jobs_mod.fetch_status(self.session, job, cancel)
                except JobNotFoundError:
                    LOG.warning("The server no longer knows job %s; submitting the export again", job.job_id)
                    tracker.message(i, "The server no longer knows the job; submitting it again")
                    job = None
            if job is None or (status is not None and status.state in (jobs_mod.CANCELLED,)):
                tracker.update(i, 0.0, "Submitting the export", "submit")
                job = jobs_mod.submit(self.session, record.service_url, record.params, cancel=cancel)
                record.job = job.to_dict()
                record.state, record.result_urls, record.downloads = SUBMITTED, [], []
                record.set_error(None)
                self._save(record)
            record.state = SUBMITTED
            status = self._wait(record, job, tracker, i, cancel)
            if is_cache_record(record):
                files = cache_result_files(self.session, job.service_url,
                                           jobs_mod.result_value(self.session, job, status, cancel), cancel)
                record.result_files = [f.to_dict() for f in files]
                urls = [f.url for f in files]
            else:
                urls = jobs_mod.package_urls(self.session, job, status, cancel)
            record.job = job.to_dict()
            record.set_result_urls(urls)
            record.state = DOWNLOADING
            self._save(record)
            try:
                return self._download_all(record, tracker, i, cancel)
            except PackageError:
                # damaged in transit or on the server: one fresh download, then give up
                LOG.warning("Package of job %s is damaged; downloading it again", job.job_id)
                record.downloads = []
                return self._download_all(record, tracker, i, cancel)
        except TooManyTilesError as exc:
            if not (self.resplit and plan is not None and depth < MAX_RESPLITS and record.levels):
                self._fail(record, FAILED, exc)
                raise
            return self._resplit(record, plan, exc, tracker, i, cancel, depth)
        except CancelledError as exc:
            paused = cancel is not None and getattr(cancel, "paused", False)
            if record.state == SUBMITTED and record.job and not paused:
                jobs_mod.cancel_job(self.session, Job.from_dict(record.job))
            self._fail(record, PAUSED if paused or record.state == DOWNLOADING else CANCELLED, exc)
            raise
        except JobTimedOutError as exc:
            # our own patience ran out: the server job goes on and a resume polls it again; when the
            # server gave up, the job is gone and a resume submits it again (as for FAILED)
            self._fail(record, FAILED if isinstance(exc, JobTimedOutOnServerError) else TIMED_OUT, exc)
            raise
        except ArcGISOfflineTilesError as exc:
            self._fail(record, FAILED if record.state != DOWNLOADING else DOWNLOADING, exc)
            raise

    def _fail(self, record: PartRecord, state: str, exc: BaseException) -> None:
        record.state = state
        record.set_error(exc)
        self._save(record)

    def _wait(self, record: PartRecord, job: Job, tracker: _ProgressTracker, i: int,
              cancel: CancelToken | None) -> JobStatus:
        def on_status(status: JobStatus) -> None:
            if job.to_dict() != record.job:  # the working job URL form was found: remember it
                record.job = job.to_dict()
                self._save(record)
            tracker.update(i, JOB_SHARE * (status.fraction or 0.0), status.message, "wait")

        return jobs_mod.wait(self.session, job, policy=self.poll, clock=self.clock, cancel=cancel,
                             progress=on_status)

    def _download_all(self, record: PartRecord, tracker: _ProgressTracker, i: int,
                      cancel: CancelToken | None) -> list[Path]:
        if is_cache_record(record):
            return self._download_cache(record, tracker, i, cancel)
        record.state = DOWNLOADING
        urls = list(record.result_urls)
        base = Path(record.output_path)
        states = {d.get("url"): DownloadState.from_dict(d) for d in record.downloads if isinstance(d, dict)}
        paths: list[Path] = []
        sizes: dict[str, tuple[int, int | None]] = {}
        for n, url in enumerate(urls, start=1):
            fmt = _url_format(url, record.format)
            target = base if len(urls) == 1 and fmt == record.format else names.part_path(
                base, fmt, 0, 1, n, len(urls))
            state = states.get(url)
            if state is not None and state.complete and Path(state.target).exists():
                paths.append(Path(state.target))
                continue

            def on_state(st: DownloadState, url: str = url) -> None:
                states[url] = st
                record.downloads = [s.to_dict() for s in states.values()]
                self._save(record)

            def on_progress(p: DownloadProgress, url: str = url) -> None:
                sizes[url] = (p.bytes_done, p.total)
                done = sum(b for b, _ in sizes.values())
                totals = [t for _, t in sizes.values()]
                total = sum(t for t in totals if t) if all(totals) else None
                frac = (done / total) if total else None
                mb = f"{done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else "")
                tracker.update(i, JOB_SHARE + (1 - JOB_SHARE) * (frac or 0.0), f"Downloading {mb}",
                               "download", done, total)

            path = download(self.session, url, target, state=state,
                            presigned=record.job is not None and (record.job.get("protocol") == jobs_mod.ONLINE
                                                                  or looks_presigned(url)),
                            progress=on_progress, on_state=on_state, cancel=cancel, chunk_size=self.chunk_size)
            paths.append(path)
        record.output_paths = [str(p) for p in paths]
        record.state = DONE
        record.set_error(None)
        self._save(record)
        tracker.update(i, 1.0, "Package downloaded", "download")
        return paths

    def _download_cache(self, record: PartRecord, tracker: _ProgressTracker, i: int,
                        cancel: CancelToken | None) -> list[Path]:
        def progress(fraction: float | None, message: str, done: int, whole: int | None) -> None:
            tracker.update(i, JOB_SHARE + (1 - JOB_SHARE) * (fraction or 0.0), message, "download", done, whole)

        paths = download_cache(self.session, record, save=self._save, progress=progress, cancel=cancel,
                               chunk_size=self.chunk_size)
        tracker.update(i, 1.0, "Tile cache downloaded", "download")
        return paths

    def _resplit(self, record: PartRecord, plan: ExportPlan, exc: TooManyTilesError, tracker: _ProgressTracker,
                 i: int, cancel: CancelToken | None, depth: int) -> list[Path]:
        server_count = _to_int(exc.params.get("count"))
        limit = _to_int(exc.params.get("limit")) or plan.limit
        ours = max(1, record.tiles)
        factor = min(1.0, ours / server_count) if server_count else 0.5
        new_limit = max(1, int(limit * factor * 0.9))
        area = Area.from_esri_json(record.area)
        sub = plan_split(plan.service.tiling, area, record.levels, new_limit)
        LOG.warning("The server counted %s tiles for job %d (we counted %d); splitting it into %d jobs of at "
                    "most %d tiles", server_count, record.part_index + 1, ours, sub.part_count, new_limit)
        record.state = FAILED
        record.set_error(exc)
        self._save(record)
        paths: list[Path] = []
        base = Path(record.output_path)
        for part in sub.parts:
            params = build_export_params(plan.service, part.area, part.levels, fmt=plan.format,
                                         optimize=plan.optimize, quality=plan.quality, output_kind=plan.output_kind)
            child = PartRecord(service_url=record.service_url, service_kind=record.service_kind,
                              service_name=record.service_name, params=params,
                              area=part.area.to_esri_polygon(_sr_json(plan.service) or None),
                              levels=list(part.levels), format=record.format, tiles=part.tiles,
                              plan_id=record.plan_id, part_index=record.part_index, part_count=record.part_count,
                              output_path=str(names.resplit_path(base, part.index + 1, is_cache_record(record))))
            self._save(child)
            paths += self._run_record(child, plan, tracker, i, cancel, depth + 1)
        record.state = DONE
        record.output_paths = [str(p) for p in paths]
        record.error = f"split into {sub.part_count} smaller parts"
        self._save(record)
        return paths

    # -- resume and cancel ------------------------------------------------------------------
    def resume(self, record: PartRecord, progress: ProgressCb | None = None, cancel: CancelToken | None = None,
               service: Any = None) -> ExportResult:
        """Continue ``record``: poll its server job again, finish its download, or resubmit it.

        Pass ``service`` (its :class:`~.service.ServiceInfo`) to allow splitting it again should the
        server refuse it as too big."""
        bind_auth(self.session, record.service_url)
        if record.state == DONE and record.output_paths and all(Path(p).exists() for p in record.output_paths):
            return ExportResult([Path(p) for p in record.output_paths], record.tiles, 1, [record])
        if record.state == DONE:
            record.state = DOWNLOADING if record.result_urls else SUBMITTED
        plan = _plan_for_record(service, record) if service is not None else None
        if record.state in (FAILED, CANCELLED) and not record.result_urls:
            record.job = None  # a failed or cancelled server job cannot finish: submit again
        tracker = _ProgressTracker(progress, [record.tiles or 1])
        paths = self._run_record(record, plan, tracker, 0, cancel)
        tracker.done()
        return ExportResult(paths, record.tiles, 1, [record])

    def cancel(self, record: PartRecord, delete_partial: bool = True) -> None:
        """Abandon ``record``: cancel the server job (where possible) and drop partial downloads."""
        if record.job and record.state in (NEW, SUBMITTED, TIMED_OUT, PAUSED):
            try:
                job = Job.from_dict(record.job)
            except (ArcGISOfflineTilesError, KeyError) as exc:  # a damaged record: nothing to ask for
                LOG.warning("The server job of record %s cannot be cancelled: %s", record.id, exc)
            else:
                jobs_mod.cancel_job(self.session, job)
        if delete_partial:
            for d in record.downloads:
                state = DownloadState.from_dict(d) if isinstance(d, dict) else None
                if state is not None and state.part.exists():
                    state.part.unlink()
        record.state = CANCELLED
        self._save(record)


def _plan_for_record(service: Any, record: PartRecord) -> ExportPlan:
    """What a resumed record needs to be split again if the server refuses it as too big."""
    limit = int(getattr(service, "max_export_tiles", 0) or 100_000)
    return ExportPlan(service, Area.from_esri_json(record.area), tuple(record.levels), record.format,
                      record.params.get("optimizeTilesForSize") == "true",
                      _to_int(record.params.get("compressionQuality")) or None, {},
                      SplitPlan((), limit, record.tiles), [],
                      output_kind=TILE_CACHE if is_cache_record(record) else PACKAGE)


def _to_int(value: Any) -> int:
    try:
        return int(str(value).replace(",", ""))
    except (TypeError, ValueError):
        return 0


def _url_format(url: str, default: str) -> str:
    path = url.split("?", 1)[0].lower()
    for fmt in (VTPK, TPKX, TPK):
        if path.endswith("." + fmt):
            return fmt
    return default


class _ProgressTracker:
    """Combines the parts' progress into one overall fraction (weighted by tiles)."""

    def __init__(self, callback: ProgressCb | None, weights: list[int]) -> None:
        self.callback = callback
        total = sum(max(1, w) for w in weights) or 1
        self.weights = [max(1, w) / total for w in weights]
        self.fractions = [0.0] * len(weights)
        self.lock = threading.Lock()

    def update(self, i: int, fraction: float, message: str, stage: str, bytes_done: int = 0,
               bytes_total: int | None = None) -> None:
        with self.lock:
            self.fractions[i] = max(self.fractions[i], min(1.0, fraction))
            overall = sum(w * f for w, f in zip(self.weights, self.fractions))
        if self.callback is not None:
            parts = len(self.weights)
            prefix = f"Part {i + 1} of {parts}: " if parts > 1 else ""
            self.callback(Progress(overall, prefix + message, stage, i + 1, parts, bytes_done, bytes_total))

    def message(self, i: int, message: str) -> None:
        self.update(i, self.fractions[i], message, "submit")

    def done(self) -> None:
        if self.callback is not None:
            self.callback(Progress(1.0, "Export finished", "done", len(self.weights), len(self.weights)))
