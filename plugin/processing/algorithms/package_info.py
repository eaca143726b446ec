"""``arcgisofflinetiles:packageinfo``: describe a tile package (levels, tiles, extent, format) as JSON."""
from __future__ import annotations

import json

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
)

from ...core.errors import ArcGISOfflineTilesError
from . import PACKAGE_FILTER, PackageAlgorithm, processing_error


class PackageInfoAlgorithm(PackageAlgorithm):
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"

    def __init__(self) -> None:
        super().__init__()
        self._path = ""
        self._output = ""

    def name(self) -> str:
        return "packageinfo"

    def displayName(self) -> str:
        return self.tr("Tile package information")

    def tags(self) -> list[str]:
        return self.tr("esri,arcgis,vtpk,tpkx,tpk,tile package,levels,tiles,describe,info").split(",")

    def shortHelpString(self) -> str:
        return self.tr(
            "Describes an Esri tile package without opening it as a layer: its kind (vtpk, tpkx, tpk or "
            "cache folder), tiling scheme (coordinate system, origin, tile size, levels), the levels "
            "that hold tiles with their tile counts, row and column ranges, resolution and tile "
            "formats (counted over every tile from its first bytes, so a mixed cache shows each "
            "format), the data extent, whether a vector package carries a style, and the formats "
            "it can be converted to.\n\n"
            "Input: a .vtpk, .tpkx or .tpk file, the conf.xml of an exploded cache folder, or a tar of "
            "one.\n"
            "Output: a JSON file with the full description. The key numbers are also returned as "
            "outputs (TILE_COUNT, LEVEL_COUNT, MIN_LEVEL, MAX_LEVEL, KIND, CRS, VECTOR, HAS_STYLE), so "
            "models and qgis_process scripts can use them directly.")

    def initAlgorithm(self, configuration=None) -> None:
        self.addParameter(QgsProcessingParameterFile(
            self.INPUT, self.tr("Tile package"), QgsProcessingParameterFile.Behavior.File,
            fileFilter=PACKAGE_FILTER))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, self.tr("Package description"), self.tr("JSON files (*.json)"),
            optional=True, createByDefault=True))
        self.addOutput(QgsProcessingOutputString("KIND", self.tr("Package kind")))
        self.addOutput(QgsProcessingOutputString("CRS", self.tr("Coordinate system")))
        self.addOutput(QgsProcessingOutputBoolean("VECTOR", self.tr("Vector tiles")))
        self.addOutput(QgsProcessingOutputBoolean("HAS_STYLE", self.tr("Has a style")))
        self.addOutput(QgsProcessingOutputNumber("TILE_COUNT", self.tr("Number of tiles")))
        self.addOutput(QgsProcessingOutputNumber("LEVEL_COUNT", self.tr("Number of levels with tiles")))
        self.addOutput(QgsProcessingOutputNumber("MIN_LEVEL", self.tr("First level with tiles")))
        self.addOutput(QgsProcessingOutputNumber("MAX_LEVEL", self.tr("Last level with tiles")))

    def prepareAlgorithm(self, parameters, context, feedback) -> bool:
        self._path = self.existing_package(self.parameterAsFile(parameters, self.INPUT, context))
        self._output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        return True

    def processAlgorithm(self, parameters, context, feedback) -> dict:
        from ...core.packages import package_info

        feedback.pushInfo(self.tr("Reading {path}").format(path=self._path))
        try:
            info = package_info(self._path)
        except ArcGISOfflineTilesError as exc:
            raise processing_error(exc) from exc
        if feedback.isCanceled():
            return {}
        levels = info["levels"]
        for entry in levels:
            feedback.pushInfo(self.tr("Level {level}: {tiles} tiles, rows {rows}, columns {cols}").format(
                level=entry["level"], tiles=entry["tiles"], rows=entry["row_range"], cols=entry["col_range"]))
        results = {
            "KIND": info["kind"],
            "CRS": (info["extent"] or {}).get("crs") or "",
            "VECTOR": bool(info["vector"]),
            "HAS_STYLE": bool(info["has_style"]),
            "TILE_COUNT": info["tile_count"],
            "LEVEL_COUNT": len(levels),
            "MIN_LEVEL": levels[0]["level"] if levels else None,
            "MAX_LEVEL": levels[-1]["level"] if levels else None,
        }
        if self._output:
            try:
                with open(self._output, "w", encoding="utf-8") as handle:
                    json.dump(info, handle, indent=2, ensure_ascii=False)
            except OSError as exc:
                raise QgsProcessingException(self.tr("The description could not be written to {path}: {error}")
                                             .format(path=self._output, error=exc)) from exc
            results[self.OUTPUT] = self._output
        feedback.setProgress(100)
        return results
