"""``arcgisofflinetiles:exporttiles`` — export a tile package from an ArcGIS service (exportTiles)."""
from __future__ import annotations

import logging
from pathlib import Path

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from ...core import names
from ...core.errors import ArcGISOfflineTilesError, CancelledError
from ...core.tilecache import PACKAGE, TILE_CACHE
from ...qgis_glue.enums import number_type, wkt1_gdal
from ...qgis_glue.i18n import error_message
from .service_area import ServiceAreaAlgorithm, crs_of

LOG = logging.getLogger(__name__)

FORMAT = "FORMAT"
OUTPUT_KIND = "OUTPUT_KIND"
OUTPUT_KINDS = (PACKAGE, TILE_CACHE)  # index of the OUTPUT_KIND enum → the engine's output kind
OPTIMIZE_FOR_SIZE = "OPTIMIZE_FOR_SIZE"
COMPRESSION_QUALITY = "COMPRESSION_QUALITY"
SPLIT = "SPLIT"
MERGE = "MERGE"
OUTPUT = "OUTPUT"
FORMATS = (None, "tpkx", "tpk")  # index of the FORMAT enum → the engine's format (None = automatic)
EXPORT_SHARE = 0.85  # of the progress bar: export jobs; the rest is merging and preparing the layer


class ExportTilesAlgorithm(ServiceAreaAlgorithm):
    def name(self) -> str:
        return "exporttiles"

    def displayName(self) -> str:
        return self.tr("Export tiles from an ArcGIS service")

    def shortHelpString(self) -> str:
        return self.tr(
            "Asks an ArcGIS tiled service at SERVICE_URL (vector tile service, tiled map service or tiled "
            "image service, on ArcGIS Enterprise or ArcGIS Online; AUTHCFG signs in to a secured one) to "
            "cut a tile package for an area with its exportTiles operation, waits for the server job and "
            "downloads the package (.vtpk for vector services, "
            ".tpkx or .tpk for map and image services).\n\n"
            "AREA (polygons; all features or only the selected ones) supersedes EXTENT; with neither, the "
            "service's full extent is exported. Levels come from LEVELS (e.g. 0-5,7), else from "
            "MIN_SCALE/MAX_SCALE, else from COARSEST_RESOLUTION/FINEST_RESOLUTION (ground resolution in the "
            "service CRS's units per pixel, e.g. metres: a bound between two levels takes the level beyond "
            "it, so the levels cover the range; bounds given the wrong way round are swapped), else every "
            "level the service caches.\n\n"
            "FORMAT: automatic (.tpkx when the server supports it, else .tpk), tpkx or tpk; vector services "
            "always give .vtpk. OPTIMIZE_FOR_SIZE recompresses JPEG tiles at COMPRESSION_QUALITY (never "
            "above the service's own quality).\n\n"
            "OUTPUT_KIND (map and image services): tile package (default), or tile cache (folder): the "
            "server's cache raster dataset (tilePackage=false), a folder with conf.xml, conf.cdi and "
            "_alllayers that ArcGIS Pro and GDAL open as a raster, stored as FORMAT says (Compact V2 for "
            "tpkx, Compact V1 for tpk). The folder is OUTPUT without its package suffix (…/basemap.tpkx → "
            "…/basemap); split parts are folders …_partNNofMM and MERGE merges them tile by tile into that "
            "folder. Vector tile services export packages only.\n\n"
            "SPLIT (default on) splits an export that exceeds the server's tile limit into several jobs "
            "(packages named …_partNNofMM); MERGE merges their packages into one GeoPackage (raster) or "
            "MBTiles (vector) file next to OUTPUT. An OUTPUT ending in .gpkg or .mbtiles always gives "
            "that converted file, even for a single package (the package is kept next to it). "
            "Cancelling cancels the server job.\n\n"
            "Outputs: OUTPUT (the package or tile cache folder, or the merged/converted file; the first one of a split "
            "export without MERGE), OUTPUT_FILES (every file, the merged/converted one first, separated "
            "by ';'), TILE_COUNT and JOB_COUNT.")

    def createInstance(self):
        return ExportTilesAlgorithm()

    def initAlgorithm(self, config=None) -> None:
        self.add_service_area_parameters()
        self.addParameter(QgsProcessingParameterEnum(
            FORMAT, self.tr("Package format (map and image services)"),
            [self.tr("Automatic"), self.tr("Compact V2 (.tpkx)"), self.tr("Compact (.tpk)")], defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(
            OUTPUT_KIND, self.tr("Output kind (map and image services)"),
            [self.tr("Tile package"), self.tr("Tile cache (folder)")], defaultValue=0))
        self.addParameter(QgsProcessingParameterBoolean(
            OPTIMIZE_FOR_SIZE, self.tr("Optimize JPEG tiles for size"), defaultValue=False))
        self.addParameter(QgsProcessingParameterNumber(
            COMPRESSION_QUALITY, self.tr("Compression quality (1–100, with optimize for size)"),
            number_type("Integer"), optional=True, minValue=1, maxValue=100))
        self.addParameter(QgsProcessingParameterBoolean(
            SPLIT, self.tr("Split into several exports when over the server's tile limit"), defaultValue=True))
        self.addParameter(QgsProcessingParameterBoolean(
            MERGE, self.tr("Merge split exports into one file"), defaultValue=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            OUTPUT, self.tr("Tile package"),
            self.tr("Tile packages (*.vtpk *.tpkx *.tpk);;GeoPackage (*.gpkg);;MBTiles (*.mbtiles)")))
        self.addOutput(QgsProcessingOutputString("OUTPUT_FILES", self.tr("Output files")))
        self.addOutput(QgsProcessingOutputNumber("TILE_COUNT", self.tr("Tiles")))
        self.addOutput(QgsProcessingOutputNumber("JOB_COUNT", self.tr("Export jobs")))

    def prepareAlgorithm(self, parameters, context, feedback) -> bool:
        self.prepare_engine(parameters, context, with_store=True)  # an interrupted export resumes from the dock
        self.layer_source = None
        self.output_path = ""
        self.requested_output = ""
        self.results = {}
        # "Open output file after running" arrives as an output definition with a destination project.
        output = parameters.get(OUTPUT)
        self.open_in_project = getattr(output, "destinationProject", None) if isinstance(
            output, QgsProcessingOutputLayerDefinition) else None
        return True

    def processAlgorithm(self, parameters, context, feedback):
        from ...core.export import is_vector
        from ...qgis_glue import engine

        self.connect_cancel(feedback)
        exporter = engine.create_exporter(self.config)
        request = self.read_service_area(parameters, context, feedback, exporter)
        service = request.service
        fmt = FORMATS[self.parameterAsEnum(parameters, FORMAT, context)]
        optimize = self.parameterAsBoolean(parameters, OPTIMIZE_FOR_SIZE, context)
        quality = (self.parameterAsInt(parameters, COMPRESSION_QUALITY, context)
                   if parameters.get(COMPRESSION_QUALITY) not in (None, "") else None)
        split = self.parameterAsBoolean(parameters, SPLIT, context)
        merge = self.parameterAsBoolean(parameters, MERGE, context)
        kind = OUTPUT_KINDS[self.parameterAsEnum(parameters, OUTPUT_KIND, context)]
        self.requested_output = self.parameterAsFileOutput(parameters, OUTPUT, context)
        out = Path(self.requested_output)
        try:
            plan = exporter.prepare(service, request.area, request.levels, fmt=None if is_vector(service) else fmt,
                                    optimize=optimize, quality=quality, split=split, output_kind=kind)
        except ArcGISOfflineTilesError as exc:
            raise QgsProcessingException(error_message(exc)) from exc
        for line in plan.describe().splitlines():
            feedback.pushInfo(line)
        package_out = names.cache_output_path(out) if kind == TILE_CACHE else names.package_path(out, plan.format)

        try:
            result = exporter.run(plan, package_out, progress=self.progress_callback(feedback, EXPORT_SHARE),
                                  cancel=self.cancel)
        except CancelledError as exc:
            self._forget_records(exporter.store, plan.id)  # given up: the server job was cancelled
            raise QgsProcessingException(error_message(exc)) from exc
        except ArcGISOfflineTilesError as exc:
            self._forget_records(exporter.store, plan.id, unless_resumable=True)
            raise QgsProcessingException(error_message(exc)) from exc
        self._forget_records(exporter.store, plan.id)  # done: nothing is left to resume
        files = [str(p) for p in result.paths]
        main = files[0]
        # A .gpkg/.mbtiles OUTPUT asks for the converted form even when there is one package.
        if out.suffix.lower() in names.MERGED_SUFFIXES:
            main = self._merge(files, out, service, feedback)
        elif merge and len(files) > 1:
            main = self._merge_caches(files, out, plan.area.bbox, feedback) if kind == TILE_CACHE else \
                self._merge(files, out, service, feedback)
        feedback.setProgress(100.0 * EXPORT_SHARE)
        self.output_path = main
        if self.open_in_project is not None or context.willLoadLayerOnCompletion(self.requested_output):
            self.layer_source = self._prepare_layer(main, files, feedback)
        feedback.setProgress(100)
        feedback.pushInfo(self.tr("Exported {tiles:,} tiles in {jobs} job(s): {files}").format(
            tiles=result.tile_count, jobs=result.job_count, files=", ".join(files)))
        self.results = {OUTPUT: main, "OUTPUT_FILES": ";".join(files if main in files else [main, *files]),
                        "TILE_COUNT": result.tile_count, "JOB_COUNT": result.job_count}
        return self.results

    @staticmethod
    def _forget_records(store, plan_id: str, *, unless_resumable: bool = False) -> None:
        """Drop the export's records from the job store, unless (after a failure) the dock could resume
        it: a server job, a download under way or finished parts are kept, as the dock keeps its own."""
        from ...core.jobstore import plan_records, worth_resuming

        records = plan_records(store, plan_id)
        if unless_resumable and worth_resuming(records):
            LOG.info("Export %s failed; its records are kept for a resume from the dock", plan_id)
            return
        for record in records:
            store.delete(record.id)

    def _merge(self, files, out: Path, service, feedback) -> str:
        from ...core.export import is_vector
        from ...core.packages import merge_packages

        target = names.merged_path(out, files[0], is_vector(service))
        feedback.setProgressText(self.tr("Merging {n} package(s) into {name}…").format(n=len(files), name=target.name))
        wkt = crs_of(service).toWkt(wkt1_gdal())

        def progress(done, total) -> bool:
            if total:
                feedback.setProgress(100.0 * (EXPORT_SHARE + (1 - EXPORT_SHARE) * done / total))
            return not feedback.isCanceled()

        try:
            report = merge_packages(files, target, progress=progress, crs_wkt=wkt)
        except ArcGISOfflineTilesError as exc:
            raise QgsProcessingException(error_message(exc)) from exc
        if report.duplicates:
            feedback.pushInfo(self.tr("{n} duplicate tile(s) skipped while merging").format(n=report.duplicates))
        return str(target)

    def _merge_caches(self, caches, out: Path, bbox, feedback) -> str:
        """Split tile caches into the one cache folder OUTPUT names, tile by tile."""
        from ...core.packages.cachefolder import merge_caches

        target = names.merged_cache_folder(out, caches[0])
        feedback.setProgressText(self.tr("Merging {n} tile caches into {name}…").format(n=len(caches),
                                                                                       name=target.name))

        def progress(done, total) -> bool:
            if total:
                feedback.setProgress(100.0 * (EXPORT_SHARE + (1 - EXPORT_SHARE) * done / total))
            return not feedback.isCanceled()

        try:
            merge_caches(caches, target, progress=progress, extent=bbox)
        except ArcGISOfflineTilesError as exc:
            raise QgsProcessingException(error_message(exc)) from exc
        return str(target)

    def _prepare_layer(self, path: str, packages: list[str], feedback):
        """Convert (when needed) here in the worker thread; postProcessAlgorithm only creates the layer."""
        from ...core.packages.cachefolder import is_cache_folder
        from ...qgis_glue import layers

        try:
            if path not in packages and not is_cache_folder(path):  # a merged GeoPackage/MBTiles file
                return layers.merged_source(packages, path)
            return layers.prepare_layer_source(path)
        except ArcGISOfflineTilesError as exc:
            feedback.reportError(error_message(exc))
            return None

    def postProcessAlgorithm(self, context, feedback):
        # What this returns replaces processAlgorithm's results: always give them all back.
        if self.layer_source is None:
            return self.results
        from ...qgis_glue import layers

        # Processing would try to open the package path itself (QGIS cannot read a .tpk): load our
        # layer instead, under the details Processing registered for OUTPUT.
        pending = context.layersToLoadOnCompletion()
        details = pending.pop(self.requested_output, None)
        if details is None:
            details = QgsProcessingContext.LayerDetails("", self.open_in_project or context.project(), OUTPUT)
        try:
            layer = layers.create_layer(self.layer_source)
        except ArcGISOfflineTilesError as exc:
            feedback.reportError(error_message(exc))
            return self.results
        context.temporaryLayerStore().addMapLayer(layer)
        details.name = layer.name()
        pending[layer.id()] = details
        context.setLayersToLoadOnCompletion(pending)
        return self.results
