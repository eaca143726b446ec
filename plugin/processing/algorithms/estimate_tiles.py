"""``arcgisofflinetiles:estimatetiles`` — exact tile counts per level (and the server's estimate)."""
from __future__ import annotations

import json
from pathlib import Path

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
)

from ...core.errors import ArcGISOfflineTilesError, ExportNotAllowedError
from ...qgis_glue.i18n import error_message
from .service_area import ServiceAreaAlgorithm

SERVER_ESTIMATE = "SERVER_ESTIMATE"
OUTPUT = "OUTPUT"
LEVEL_TILES = "LEVEL_TILES"


class EstimateTilesAlgorithm(ServiceAreaAlgorithm):
    def name(self) -> str:
        return "estimatetiles"

    def displayName(self) -> str:
        return self.tr("Estimate tiles of an ArcGIS export")

    def shortHelpString(self) -> str:
        return self.tr(
            "Counts exactly how many tiles an export from the service at SERVICE_URL (AUTHCFG for a "
            "secured one) would hold at each level, for polygons (AREA: all features or the selected "
            "ones; supersedes EXTENT), an EXTENT or the service's full extent, and how many parts "
            "the server's tile limit requires. For map and image services it can also ask the server "
            "for its own size estimate (SERVER_ESTIMATE), which runs as a job on the server.\n\n"
            "Levels come from LEVELS (e.g. 0-5,7), else from MIN_SCALE/MAX_SCALE (a scale between two "
            "levels takes the coarser level for the minimum and the finer one for the maximum; bounds "
            "given the wrong way round are swapped), else from COARSEST_RESOLUTION/FINEST_RESOLUTION "
            "(ground resolution in the service CRS's units per pixel, e.g. metres, by the same rule), else "
            "every level the service caches.\n\n"
            "OUTPUT is a JSON file: {service, area, levels: [{level, scale, resolution, tiles}], total, "
            "max_export_tiles, jobs_needed (the parts), server_estimate}; area says what was counted (an "
            "extent, the polygon features or the full extent). The output values are TOTAL, JOBS_NEEDED "
            "(the parts needed; the name stays for models and scripts), "
            "MAX_EXPORT_TILES, SERVER_TOTAL_BYTES, SERVER_TOTAL_TILES and LEVEL_TILES (the tiles per "
            "level as a JSON object, e.g. {\"0\": 1, \"1\": 4}). Cancelling while the server "
            "estimates cancels its job.")

    def createInstance(self):
        return EstimateTilesAlgorithm()

    def initAlgorithm(self, config=None) -> None:
        self.add_service_area_parameters()
        self.addParameter(QgsProcessingParameterBoolean(
            SERVER_ESTIMATE, self.tr("Also ask the server for its size estimate (map/image services)"),
            defaultValue=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            OUTPUT, self.tr("Estimate (JSON)"), self.tr("JSON files (*.json)"), optional=True,
            createByDefault=True))
        for name, label in (("TOTAL", self.tr("Total tiles")), ("JOBS_NEEDED", self.tr("Parts needed")),
                            ("MAX_EXPORT_TILES", self.tr("Server tile limit per server job")),
                            ("SERVER_TOTAL_BYTES", self.tr("Server estimate: bytes")),
                            ("SERVER_TOTAL_TILES", self.tr("Server estimate: tiles"))):
            self.addOutput(QgsProcessingOutputNumber(name, label))
        self.addOutput(QgsProcessingOutputString(LEVEL_TILES, self.tr("Tiles per level (JSON)")))

    def prepareAlgorithm(self, parameters, context, feedback) -> bool:
        self.prepare_engine(parameters, context)
        return True

    def processAlgorithm(self, parameters, context, feedback):
        from ...core.export import is_vector
        from ...core.tilecount import count_tiles
        from ...qgis_glue import engine

        self.connect_cancel(feedback)
        exporter = engine.create_exporter(self.config)
        request = self.read_service_area(parameters, context, feedback, exporter)
        service, area, levels = request.service, request.area, request.levels
        parts_needed = None
        try:
            plan = exporter.prepare(service, area, levels, split=True)
            counts, parts_needed = plan.counts, plan.part_count
        except ExportNotAllowedError as exc:
            feedback.reportError(error_message(exc))
            counts = count_tiles(service.available_tiling, area, levels)
        except ArcGISOfflineTilesError as exc:
            raise QgsProcessingException(error_message(exc)) from exc
        server = None
        if self.parameterAsBoolean(parameters, SERVER_ESTIMATE, context):
            if is_vector(service):
                feedback.pushWarning(self.tr("Vector tile services have no server estimate; "
                                             "the exact counts are given."))
            else:
                feedback.pushInfo(self.tr("Asking the server for its estimate…"))
                try:
                    estimate = exporter.estimate(service, area, levels, cancel=self.cancel,
                                                 progress=self.progress_callback(feedback))
                except ArcGISOfflineTilesError as exc:
                    raise QgsProcessingException(error_message(exc)) from exc
                server = {"total_bytes": estimate.total_bytes, "total_tiles": estimate.total_tiles}
        lods = {lod.level: lod for lod in service.tiling.lods}
        doc = {
            "service": {"url": service.url, "name": service.name, "type": service.kind.value,
                        "crs": service.authid},
            "area": request.area_label,
            "levels": [{"level": level, "scale": lods[level].scale, "resolution": lods[level].resolution,
                        "tiles": counts[level]} for level in sorted(counts)],
            "total": sum(counts.values()),
            "max_export_tiles": service.max_export_tiles,
            "jobs_needed": parts_needed,  # the key models and scripts read
            "server_estimate": server,
        }
        for entry in doc["levels"]:
            feedback.pushInfo(self.tr("Level {level} (1:{scale:,.0f}): {tiles:,} tiles").format(**entry))
        feedback.pushInfo(self.tr("Total: {total:,} tiles, {parts} part(s)").format(
            total=doc["total"], parts=parts_needed if parts_needed is not None else "—"))
        out = self.parameterAsFileOutput(parameters, OUTPUT, context)
        if out:
            Path(out).write_text(json.dumps(doc, indent=2), encoding="utf-8")
        return {
            OUTPUT: out, "TOTAL": doc["total"], "JOBS_NEEDED": parts_needed,
            "MAX_EXPORT_TILES": service.max_export_tiles,
            "SERVER_TOTAL_BYTES": server["total_bytes"] if server else None,
            "SERVER_TOTAL_TILES": server["total_tiles"] if server else None,
            LEVEL_TILES: json.dumps({str(entry["level"]): entry["tiles"] for entry in doc["levels"]}),
        }
