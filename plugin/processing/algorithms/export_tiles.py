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
from qgis.PyQt.QtCore import QCoreApplication

from ...core.errors import ArcGISOfflineTilesError
from ...qgis_glue.enums import number_type
from ...qgis_glue.i18n import error_message
from .service_area import ServiceAreaAlgorithm

LOG = logging.getLogger(__name__)

FORMAT = "FORMAT"
OUTPUT_KIND = "OUTPUT_KIND"
OPTIMIZE_FOR_SIZE = "OPTIMIZE_FOR_SIZE"
COMPRESSION_QUALITY = "COMPRESSION_QUALITY"
SPLIT = "SPLIT"
MERGE = "MERGE"
OUTPUT = "OUTPUT"
FORMATS = (None, "tpkx", "tpk")  # index of the FORMAT enum → the engine's format (None = automatic)
EXPORT_SHARE = 0.85  # of the progress bar: the parts; the rest is merging and preparing the layer


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
            "SPLIT (default on) splits an export that exceeds the server's tile limit into parts, one server "
            "job each (packages named …_partNNofMM); MERGE merges their packages into one GeoPackage (raster) or "
            "MBTiles (vector) file next to OUTPUT. An OUTPUT ending in .gpkg or .mbtiles always gives "
            "that converted file, even for a single package (the package is kept next to it). "
            "An export never overwrites an earlier one: when a file of OUTPUT's name exists, it takes "
            "…name (2) and says so in the log (the dock does the same). "
            "Cancelling cancels the server job; an export that fails or is stopped during its download is "
            "kept in the plugin's list of exports, where it can be resumed.\n\n"
            "Outputs: OUTPUT (the package or tile cache folder, or the merged/converted file; the first one of a split "
            "export without MERGE), OUTPUT_FILES (every file, the merged/converted one first, separated "
            "by ';'), TILE_COUNT and JOB_COUNT (the number of parts; the name stays for models and scripts).")

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
            SPLIT, self.tr("Split into parts when over the server's tile limit"), defaultValue=True))
        self.addParameter(QgsProcessingParameterBoolean(
            MERGE, self.tr("Merge split exports into one file"), defaultValue=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            OUTPUT, self.tr("Tile package"),
            self.tr("Tile packages (*.vtpk *.tpkx *.tpk);;GeoPackage (*.gpkg);;MBTiles (*.mbtiles)")))
        self.addOutput(QgsProcessingOutputString("OUTPUT_FILES", self.tr("Output files")))
        self.addOutput(QgsProcessingOutputNumber("TILE_COUNT", self.tr("Tiles")))
        self.addOutput(QgsProcessingOutputNumber("JOB_COUNT", self.tr("Parts")))

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
        import uuid

        from ...core.export import is_vector
        from ...core.pipeline import ExportPipeline
        from ...core.request import ExportRequest
        from ...core.tilecache import OUTPUT_KINDS  # the OUTPUT_KIND enum's order
        from ...qgis_glue import engine
        from ...qgis_glue.crs import service_crs_wkt

        self.connect_cancel(feedback)
        exporter = engine.create_exporter(self.config)
        chosen = self.read_service_area(parameters, context, feedback, exporter)
        service = chosen.service
        self.requested_output = self.parameterAsFileOutput(parameters, OUTPUT, context)
        request = ExportRequest(
            service_url=self.url, authcfg=self.authcfg, area=chosen.area, levels=tuple(chosen.levels),
            fmt=None if is_vector(service) else FORMATS[self.parameterAsEnum(parameters, FORMAT, context)],
            optimize=self.parameterAsBoolean(parameters, OPTIMIZE_FOR_SIZE, context),
            quality=(self.parameterAsInt(parameters, COMPRESSION_QUALITY, context)
                     if parameters.get(COMPRESSION_QUALITY) not in (None, "") else None),
            split=self.parameterAsBoolean(parameters, SPLIT, context),
            merge=self.parameterAsBoolean(parameters, MERGE, context), output_path=self.requested_output,
            add_to_map=False, service_name=service.name, area_label=chosen.area_label,
            output_kind=OUTPUT_KINDS[self.parameterAsEnum(parameters, OUTPUT_KIND, context)])
        # Recorded in the profile's export store as the dock's exports are: an interrupted one resumes there.
        pipeline = ExportPipeline(exporter, request, uuid.uuid4().hex, listener=_FeedbackListener(self, feedback),
                                  cancel=self.cancel, crs_wkt=service_crs_wkt, service=service)
        try:
            outcome = pipeline.run()
        except ArcGISOfflineTilesError as exc:
            if pipeline.settled.can_resume:
                feedback.pushWarning(self.tr("What the export did is kept: resume it from the ArcGIS Offline "
                                             "Tiles panel's list of exports."))
            raise QgsProcessingException(error_message(exc)) from exc
        if outcome.duplicates:
            feedback.pushInfo(self.tr("{n} duplicate tile(s) skipped while merging").format(n=outcome.duplicates))
        feedback.setProgress(100.0 * EXPORT_SHARE)
        main, files = outcome.main_path, list(outcome.packages)
        self.output_path = main
        if self.open_in_project is not None or context.willLoadLayerOnCompletion(self.requested_output):
            self.layer_source = self._prepare_layer(main, files, feedback)
        feedback.setProgress(100)
        feedback.pushInfo(self.tr("Exported {tiles:,} tiles in {parts} part(s): {files}").format(
            tiles=outcome.tile_count, parts=outcome.part_count, files=", ".join(files)))
        self.results = {OUTPUT: main, "OUTPUT_FILES": ";".join(outcome.paths),
                        "TILE_COUNT": outcome.tile_count, "JOB_COUNT": outcome.part_count}
        return self.results

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


class _FeedbackListener:  # a core.pipeline.PipelineListener (duck-typed: the core loads when the algorithm runs)
    """The export pipeline's progress on Processing's feedback (within EXPORT_SHARE of the bar); a cancel
    there reaches the server job's cancel token even when the ``canceled`` signal cannot be delivered."""

    def __init__(self, algorithm: ExportTilesAlgorithm, feedback) -> None:
        self.algorithm = algorithm
        self.feedback = feedback

    def _check(self) -> None:
        if self.feedback.isCanceled():
            self.algorithm.cancel.cancel()

    def fetching(self, url: str) -> None:
        self._check()

    def planned(self, plan, parts: int, merging: bool) -> None:
        if plan is not None:
            for line in plan.describe().splitlines():
                self.feedback.pushInfo(line)

    def renamed(self, wanted: Path, chosen: Path) -> None:
        # the algorithm's context, spelled out so that pylupdate files the text there too
        self.feedback.pushWarning(QCoreApplication.translate("ExportTilesAlgorithm", "{wanted} exists already; the "
                                                             "export is saved as {chosen} (an export never "
                                                             "overwrites one).").format(
            wanted=wanted.name, chosen=chosen.name))

    def part_progress(self, progress, fraction: float, part_fraction: float) -> None:
        self._check()
        self.feedback.setProgress(100.0 * EXPORT_SHARE * fraction)
        if progress.message:
            self.feedback.setProgressText(progress.message)

    def merging(self, target: Path, count: int, caches: bool, fraction: float) -> None:
        text = (QCoreApplication.translate("ExportTilesAlgorithm", "Merging {n} tile caches into {name}…") if caches
                else QCoreApplication.translate("ExportTilesAlgorithm", "Merging {n} package(s) into {name}…"))
        self.feedback.setProgressText(text.format(n=count, name=target.name))
        self.feedback.setProgress(100.0 * EXPORT_SHARE * fraction)

    def merge_progress(self, done: int, total: int, fraction: float) -> None:
        self._check()
        self.feedback.setProgress(100.0 * EXPORT_SHARE * fraction)
