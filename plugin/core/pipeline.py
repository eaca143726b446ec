"""The export pipeline: request → service → plan → parts → downloads → merge → outcome, in one place.

Both the dock's :class:`~..tasks.export_task.ExportTask` and Processing's ``exporttiles`` drive an
export through :class:`ExportPipeline`, each with its own :class:`PipelineListener` (progress, texts)
and cancel token::

    pipeline = ExportPipeline(exporter, request, export_id, listener=..., cancel=token, crs_wkt=...)
    outcome = pipeline.run()      # raises a typed error; pipeline.settled says what was kept

It decides every file name through :mod:`.names`:

* the output: ``request.output_path`` (a package, a ``.gpkg``/``.mbtiles`` file, a tile cache's folder,
  or a folder the export is named in after the service); an export never overwrites an earlier one: when
  a file of that name exists, the export takes ``name (2)``, ``name (3)`` … and tells the listener
  (:meth:`PipelineListener.renamed`);
* the parts: ``<name>_partNNofMM``; the packages of a ``.gpkg``/``.mbtiles`` output go beside it;
* the merged file: split packages are merged when the request asks for it, and an output ending in
  ``.gpkg``/``.mbtiles`` is always that file (a single package converted); split tile caches merge into
  the output's cache folder.

And what the export store keeps when the export ends is :func:`.records.settle`'s one rule.  The caller's
``finish(outcome)`` (e.g. preparing the layers) runs before the records are forgotten, so a cancel
there still gives the export up.  The raster merge writes the service CRS as WKT: the caller passes
``crs_wkt(service)`` (the QGIS side knows the CRS database; without it the packages' own WKT is used).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from . import names
from .errors import ArcGISOfflineTilesError, CancelledError
from .export import Exporter, ExportPlan, Progress, is_vector
from .exportstore import ExportState, PartRecord, plan_records
from .http import CancelToken, check_cancel
from .records import Settled, leaf_records, save_request, settle
from .request import ExportRequest
from .tilecache import TILE_CACHE

LOG = logging.getLogger(__name__)

MERGE_SHARE = 0.2  # of the pipeline's progress, when the parts are merged


@dataclass(frozen=True)
class ExportOutcome:
    """What a finished export produced."""

    main_path: str  # the merged (or converted) file or cache folder, else the (first) package
    packages: tuple[str, ...]  # every package downloaded
    merged: bool
    tile_count: int
    part_count: int
    size: int  # bytes of main_path
    merged_tiles: int = 0
    duplicates: int = 0  # tiles several parts held, written once
    sources: tuple = ()  # the QGIS side's layer sources, prepared for the map (empty without add to map)
    warnings: tuple[str, ...] = field(default=())

    @property
    def paths(self) -> list[str]:
        """The main file first, then the packages (when merged)."""
        return [self.main_path] + [p for p in self.packages if p != self.main_path]


class PipelineListener:
    """What the pipeline tells its caller; every method may raise :class:`CancelledError`.  Fractions
    are of the pipeline's whole work (parts, then the merge), 0..1."""

    def fetching(self, url: str) -> None:
        """The service is being read."""

    def planned(self, plan: ExportPlan | None, parts: int, merging: bool) -> None:
        """The parts are known (``plan`` is None when an interrupted export resumes its records)."""

    def renamed(self, wanted: Path, chosen: Path) -> None:
        """A file of the wanted name exists: the export writes under ``chosen`` instead."""

    def part_progress(self, progress: Progress, fraction: float, part_fraction: float) -> None:
        """A part goes on (``progress.part`` of ``progress.parts``; ``part_fraction`` of that part)."""

    def merging(self, target: Path, count: int, caches: bool, fraction: float) -> None:
        """``count`` packages (or tile caches) are being merged into ``target``."""

    def merge_progress(self, done: int, total: int, fraction: float) -> None:
        """``done`` of ``total`` tiles merged."""


class ExportPipeline:
    """One export from its request to its outcome (see the module doc).

    ``resume`` goes on from the records of ``export_id`` in the exporter's store (a fresh export when there
    are none).  After :meth:`run`, :attr:`settled` says whether a resume is possible and how many bytes of
    a cancelled download were kept."""

    def __init__(self, exporter: Exporter, request: ExportRequest, export_id: str, *, resume: bool = False,
                 listener: PipelineListener | None = None, cancel: CancelToken | None = None,
                 crs_wkt: Callable[[Any], str | None] | None = None, created: float | None = None,
                 finish: Callable[[ExportOutcome], ExportOutcome] | None = None, service: Any = None) -> None:
        self.exporter = exporter
        self.store = exporter.store
        self.request = request
        self.export_id = export_id
        self.resume = resume
        self.listener = listener or PipelineListener()
        self.cancel = cancel
        self.crs_wkt = crs_wkt
        self.created = created
        self.finish = finish
        self.service = service  # the ServiceInfo when the caller read it already
        self.settled = Settled()
        self._created_files: list[Path] = []
        self._parts_share = 1.0

    # -- the whole -------------------------------------------------------------------------------------
    def run(self) -> ExportOutcome:
        self._save_request()
        try:
            outcome = self._export()
            if self.finish is not None:
                outcome = self.finish(outcome)
            check_cancel(self.cancel)  # a cancel that came in the meantime still gives the export up
        except CancelledError:
            how = "paused" if getattr(self.cancel, "paused", False) else "cancelled"
            self.settled = settle(self.store, self.export_id, self.request, how, created=self._created(),
                                  exporter=self.exporter, extra_files=self._created_files)
            LOG.info("Export %s %s; %s", self.export_id, how,
                     "what it did is kept for a resume" if self.settled.can_resume else "nothing is kept")
            raise
        except BaseException:
            self.settled = settle(self.store, self.export_id, self.request, "failed", created=self._created())
            raise
        settle(self.store, self.export_id, self.request, "done", created=self._created())
        return outcome

    def _created(self) -> float:
        if self.created is None:
            self.created = time.time()
        return self.created

    def _save_request(self) -> None:
        if self.store is not None:
            save_request(self.store.folder, self.export_id, self.request, ExportState.RUNNING, self._created())

    def _export(self) -> ExportOutcome:
        service = self.service
        if service is None:
            self.listener.fetching(self.request.service_url)
            service = self.exporter.fetch(self.request.service_url, cancel=self.cancel)
        records = leaf_records(plan_records(self.store, self.export_id)) if self.resume else []
        if records:
            packages, tiles, parts = self._resume_records(service, records)
        else:
            packages, tiles, parts = self._run_plan(service)
        check_cancel(self.cancel)
        main, merged, merged_tiles, duplicates, warnings = packages[0], False, 0, 0, []
        if self._merges(len(packages)):
            if self.request.output_kind == TILE_CACHE:
                main, merged_tiles = self._merge_caches(packages)
            else:
                report = self._merge_packages(packages, service)
                main, merged_tiles, duplicates = report.output, report.tiles_written, report.duplicates
                warnings += list(report.warnings)
            merged = True
        return ExportOutcome(main_path=str(main), packages=tuple(packages), merged=merged, tile_count=tiles,
                             part_count=parts, size=_size(main), merged_tiles=merged_tiles, duplicates=duplicates,
                             warnings=tuple(warnings))

    def _merges(self, count: int) -> bool:
        """Split parts merge when the request asks for it; a ``.gpkg``/``.mbtiles`` output is always that file."""
        if self.request.output_kind == TILE_CACHE:
            return self.request.merge and count > 1
        converts = Path(self.request.output_path).suffix.lower() in names.MERGED_SUFFIXES
        return converts or (self.request.merge and count > 1)

    # -- parts -----------------------------------------------------------------------------------------
    def _run_plan(self, service: Any) -> tuple[list[str], int, int]:
        request = self.request
        plan = self.exporter.prepare(service, request.area, request.levels, fmt=request.fmt,
                                     optimize=request.optimize, quality=request.quality, split=request.split,
                                     output_kind=request.output_kind)
        plan.id = self.export_id  # the records carry the export id: a restart finds them by it
        out = self._choose_output(service, plan)
        self._announce(plan, plan.part_count)
        cache = plan.output_kind == TILE_CACHE
        target = names.cache_output_path(out) if cache else names.package_path(out, plan.format)
        weights = _weights([r.tiles for r in plan.requests])

        def progress(p: Progress) -> None:
            self._part_progress(p, weights, p.fraction or 0.0)

        result = self.exporter.run(plan, target, progress=progress, cancel=self.cancel)
        return [str(p) for p in result.paths], result.tile_count, result.part_count

    def _choose_output(self, service: Any, plan: ExportPlan) -> Path:
        """The output the export writes under: never an existing one (see the module doc).  The request
        (and its file) then carry it, so that a resume merges under the same name."""
        wanted = names.export_target(self.request.output_path or str(Path.home()),
                                     cache=plan.output_kind == TILE_CACHE, fmt=plan.format,
                                     service_name=getattr(service, "name", ""))
        chosen = names.free_output_path(wanted)
        if chosen != wanted:
            LOG.info("%s exists: exporting to %s", wanted.name, chosen.name)
            self.listener.renamed(wanted, chosen)
        if str(chosen) != self.request.output_path:
            self.request = replace(self.request, output_path=str(chosen))
            self._save_request()
        return chosen

    def _resume_records(self, service: Any, records: list[PartRecord]) -> tuple[list[str], int, int]:
        weights = _weights([r.tiles for r in records])
        self._announce(None, len(records))
        paths: list[str] = []
        for k, record in enumerate(records):
            def progress(p: Progress, k: int = k) -> None:
                overall = sum(weights[:k]) + weights[k] * (p.fraction or 0.0)
                self._part_progress(replace(p, part=k + 1, parts=len(records)), weights, overall)

            result = self.exporter.resume(record, progress=progress, cancel=self.cancel, service=service)
            paths += [str(p) for p in result.paths]
        return paths, sum(r.tiles for r in records), len({r.part_index for r in records})

    def _announce(self, plan: ExportPlan | None, parts: int) -> None:
        merging = self._merges(parts)
        self._parts_share = 1.0 - MERGE_SHARE if merging else 1.0
        self.listener.planned(plan, parts, merging)

    def _part_progress(self, p: Progress, weights: list[float], overall: float) -> None:
        i = max(0, min(len(weights) - 1, p.part - 1))
        before = sum(weights[:i])
        part = (overall - before) / weights[i] if weights[i] else 0.0
        self.listener.part_progress(p, self._parts_share * overall, max(0.0, min(1.0, part)))

    # -- merge -----------------------------------------------------------------------------------------
    def _merge_progress(self, done: int, total: int) -> bool:
        share = 1.0 - self._parts_share
        self.listener.merge_progress(done, total, self._parts_share + share * done / max(total, 1))
        return not getattr(self.cancel, "cancelled", False)

    def _merge_packages(self, packages: list[str], service: Any):
        from .packages import merge_packages  # the package code: only when merging

        vector = is_vector(service)
        target = names.merged_path(self.request.output_path, packages[0], vector)
        wkt = None
        if not vector and self.crs_wkt is not None:
            try:
                wkt = self.crs_wkt(service)
            except ArcGISOfflineTilesError:
                wkt = None  # the packages' own WKT is used
        self.listener.merging(target, len(packages), False, self._parts_share)
        self._created_files.append(target)
        return merge_packages(packages, target, progress=self._merge_progress, crs_wkt=wkt)

    def _merge_caches(self, caches: list[str]) -> tuple[str, int]:
        """Split tile caches into one cache folder (the output's), tile by tile."""
        from .packages.cachefolder import merge_caches

        target = names.merged_cache_folder(self.request.output_path, caches[0])
        self.listener.merging(target, len(caches), True, self._parts_share)
        summary = merge_caches(caches, target, progress=self._merge_progress, extent=self.request.area.bbox)
        self._created_files.append(target)
        return str(target), summary.tile_count


def _weights(tiles: list[int]) -> list[float]:
    total = sum(max(1, t) for t in tiles) or 1
    return [max(1, t) / total for t in tiles]


def _size(path: str | Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0
